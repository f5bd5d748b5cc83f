"""The shapes compiled into SPARQL, evaluated in an Oxigraph store: the fast path of validation.

``compile_checks`` turns the shapes graph into ``Check`` objects, one SELECT query per
constraint, each returning the focus nodes (and value nodes) that violate it, with the same
focus node, source shape, constraint component, path and value that pySHACL reports (the
differential tests in ``tests/shacl/test_shacl.py`` hold the two engines to that). ``run_checks``
runs them in a pyoxigraph ``Store``: a whole in-memory graph, a loaded genome version in the
store, or one chunk of a genome (``gff2rdf.shacl.chunked``).

Supported SHACL (anything else in the shapes raises ``ShapesError``, never a silent pass):
targets ``sh:targetClass`` (with ``rdfs:subClassOf*`` when the data has subclass triples),
``sh:targetSubjectsOf``, ``sh:targetObjectsOf``, ``sh:targetNode``; paths: predicates, inverse,
sequence and alternative paths; ``sh:minCount``, ``sh:maxCount``, ``sh:datatype`` (with the
lexical form checked for numbers, booleans and dateTime), ``sh:nodeKind``, ``sh:class``,
``sh:pattern``, ``sh:in``, ``sh:hasValue``, ``sh:min/maxInclusive``, ``sh:min/maxExclusive``,
``sh:min/maxLength``, ``sh:node``, ``sh:or``, ``sh:and``, ``sh:not``, ``sh:xone``,
``sh:qualifiedValueShape`` with min/max counts, and ``sh:sparql`` SELECT constraints on node
shapes. Nested shapes may use counts of 0 or 1 only.

Each check also says what data it reads beyond the focus node's own triples (``Check.kind``),
which tells the chunked evaluation what it can decide inside one chunk:

``local``       the focus node's own triples (and the terms they point to);
``value``       plus the ``rdf:type`` of value nodes (``sh:class`` and the like);
``relational``  anything else: SPARQL constraints, inverse or longer paths, deeper nesting.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from ..errors import ShapesError
from ..terms import iri, literal
from ..vocab import RDF, RDFS, XSD
from .check import LOCAL, RELATIONAL, VALUE, Check, oxigraph_term
from .shapes import SH, load_shapes, rdflib_path, rdflib_term, shape_name

__all__ = ["LOCAL", "RELATIONAL", "VALUE", "Check", "compile_checks", "oxigraph_term"]

TYPE = f"<{RDF}type>"

_KIND_ORDER = {LOCAL: 0, VALUE: 1, RELATIONAL: 2}

# Lexical forms, so that "abc"^^xsd:integer fails sh:datatype in both engines
_DOUBLE = r"^([+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?|[+-]?INF|NaN)$"
_WELL_FORMED = {
    XSD + "integer": r"^[+-]?[0-9]+$",
    XSD + "decimal": r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$",
    XSD + "double": _DOUBLE,
    XSD + "float": _DOUBLE,
    XSD + "boolean": r"^(true|false|1|0)$",
    XSD + "dateTime": (r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                       r"(Z|[+-][0-9]{2}:[0-9]{2})?$"),
}
_NODE_KINDS = {
    "IRI": "isIRI({v})", "BlankNode": "isBlank({v})", "Literal": "isLiteral({v})",
    "BlankNodeOrIRI": "(isIRI({v}) || isBlank({v}))",
    "BlankNodeOrLiteral": "(isBlank({v}) || isLiteral({v}))",
    "IRIOrLiteral": "(isIRI({v}) || isLiteral({v}))",
}
_COMPARISONS = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">",
                "maxExclusive": "<"}
# Parameters that belong to constraints handled elsewhere, or that carry no constraint
_NOT_VALUE_PARAMETERS = {
    "path", "property", "sparql", "targetClass", "targetNode", "targetSubjectsOf",
    "targetObjectsOf", "minCount", "maxCount", "qualifiedValueShape", "qualifiedMinCount",
    "qualifiedMaxCount", "qualifiedValueShapesDisjoint", "message", "severity", "name",
    "description", "order", "group", "defaultValue", "deactivated", "flags", "closed",
    "ignoredProperties", "declare", "prefixes",
}


def compile_checks(shapes: Any = None, subclasses: bool = False) -> list[Check]:
    """The checks of every shape with targets. ``subclasses``: follow ``rdfs:subClassOf*`` in
    the data for ``sh:targetClass`` and ``sh:class`` (needed only if the data has subclass
    triples, and slower)."""
    return _Compiler(shapes if shapes is not None else load_shapes(), subclasses).compile()


class _Compiler:
    def __init__(self, graph: Any, subclasses: bool) -> None:
        import rdflib

        self.g = graph
        self.rdflib = rdflib
        self.sh = rdflib.Namespace(SH)
        self.type_path = f"{TYPE}/<{RDFS}subClassOf>*" if subclasses else TYPE
        self.counter = 0

    # -- helpers ------------------------------------------------------------------------------

    def fresh(self) -> str:
        self.counter += 1
        return f"?v{self.counter}"

    def one(self, node: Any, name: str) -> Any:
        return self.g.value(node, self.sh[name])

    def term(self, node: Any) -> str:
        return rdflib_term(node)

    def items(self, node: Any) -> list[Any]:
        from rdflib.collection import Collection

        return list(Collection(self.g, node))

    def path(self, node: Any) -> str:
        return rdflib_path(self.g, self.one(node, "path"))

    def severity(self, shape: Any) -> str:
        value = self.one(shape, "severity")
        return str(value) if value is not None else SH + "Violation"

    def message(self, shape: Any) -> str | None:
        value = self.one(shape, "message")
        return str(value) if value is not None else None

    def deactivated(self, shape: Any) -> bool:
        value = self.one(shape, "deactivated")
        return value is not None and value.toPython() is True

    def parameters(self, shape: Any) -> list[tuple[str, Any]]:
        found = []
        for p, o in self.g.predicate_objects(shape):
            name = str(p)
            if name.startswith(SH):
                found.append((name[len(SH):], o))
        return sorted(found, key=lambda po: (po[0], str(po[1])))

    # -- conditions on one term ------------------------------------------------------------

    def conditions(self, shape: Any, var: str) -> list[tuple[str, str, int, bool, str]]:
        """(component, SPARQL condition true when ``var`` satisfies it, data depth, types
        only, parameter text) for each value constraint of ``shape``. Depth 0 reads only the
        term, 1 its own triples, 2 the triples of the nodes those point to."""
        out = []
        for name, o in self.parameters(shape):
            if name in _NOT_VALUE_PARAMETERS:
                if name == "closed" and o.toPython() is True:
                    raise ShapesError(f"{shape}: closed shapes are not supported (gff2rdf's "
                                      "shapes are open so that unmodelled attributes pass)")
                continue
            component = f"{SH}{name[0].upper()}{name[1:]}ConstraintComponent"
            out.append((component, *self.condition(name, o, var, shape), self.detail(o)))
        return out

    def detail(self, o: Any) -> str:
        if isinstance(o, self.rdflib.BNode):
            if self.g.value(o, self.rdflib.RDF.first) is not None:
                return "(" + " ".join(self.detail(i) for i in self.items(o)) + ")"
            return "a nested shape"
        return str(o)

    def condition(self, name: str, o: Any, v: str, shape: Any) -> tuple[str, int, bool]:
        if name == "class":
            return f"EXISTS {{ {v} {self.type_path} {self.term(o)} }}", 1, True
        if name == "datatype":
            dt = str(o)
            lexical = (f" && REGEX(STR({v}), {literal(_WELL_FORMED[dt])})"
                       if dt in _WELL_FORMED else "")
            return f"(isLiteral({v}) && datatype({v}) = {iri(dt)}{lexical})", 0, True
        if name == "nodeKind":
            kind = str(o)[len(SH):]
            if kind not in _NODE_KINDS:
                raise ShapesError(f"{shape}: unknown sh:nodeKind {o}")
            return _NODE_KINDS[kind].format(v=v), 0, True
        if name == "pattern":
            flags = self.one(shape, "flags")
            extra = f", {literal(str(flags))}" if flags is not None else ""
            return f"(!isBlank({v}) && REGEX(STR({v}), {literal(str(o))}{extra}))", 0, True
        if name == "in":
            members = [f"sameTerm({v}, {self.term(t)})" for t in self.items(o)]
            return "(" + (" || ".join(members) or "false") + ")", 0, True
        if name == "hasValue":
            return f"sameTerm({v}, {self.term(o)})", 0, True
        if name in _COMPARISONS:
            return f"COALESCE({v} {_COMPARISONS[name]} {self.term(o)}, false)", 0, True
        if name in ("minLength", "maxLength"):
            op = ">=" if name == "minLength" else "<="
            return f"(!isBlank({v}) && STRLEN(STR({v})) {op} {int(o)})", 0, True
        if name == "node":
            return self.conforms(o, v)
        if name in ("or", "and", "xone"):
            parts = [self.conforms(s, v) for s in self.items(o)]
            depth = max((p[1] for p in parts), default=0)
            types_only = all(p[2] for p in parts)
            if name == "xone":
                total = " + ".join(f"IF({p[0]}, 1, 0)" for p in parts) or "0"
                return f"(({total}) = 1)", 2 if depth else 0, types_only
            joiner = " || " if name == "or" else " && "
            empty = "false" if name == "or" else "true"
            return "(" + (joiner.join(p[0] for p in parts) or empty) + ")", depth, types_only
        if name == "not":
            expr, depth, types_only = self.conforms(o, v)
            # more data can make a negation fail: not decidable from what one chunk holds
            return f"(!{expr})", 2 if depth else 0, types_only
        raise ShapesError(f"{shape}: sh:{name} is not supported by gff2rdf's SPARQL engine")

    def conforms(self, shape: Any, v: str) -> tuple[str, int, bool]:
        """A condition true when ``v`` conforms to the nested ``shape``."""
        parts: list[str] = []
        depth, types_only = 0, True
        for _, expr, d, t, _ in self.conditions(shape, v):
            parts.append(expr)
            depth, types_only = max(depth, d), types_only and t
        for prop in self.g.objects(shape, self.sh.property):
            if self.deactivated(prop):
                continue
            expr, d, t = self.nested_property(prop, v)
            parts.append(expr)
            depth, types_only = max(depth, d), types_only and t
        return "(" + (" && ".join(parts) or "true") + ")", depth, types_only

    def nested_property(self, prop: Any, v: str) -> tuple[str, int, bool]:
        path = self.path(prop)
        on_types = path == TYPE
        parts: list[str] = []
        depth = 1
        for name in ("minCount", "maxCount"):
            n = self.one(prop, name)
            if n is None:
                continue
            n = int(n)
            a, b = self.fresh(), self.fresh()
            if name == "minCount" and n == 1:
                parts.append(f"EXISTS {{ {v} {path} {a} }}")
            elif name == "maxCount" and n == 0:
                parts.append(f"NOT EXISTS {{ {v} {path} {a} }}")
            elif name == "maxCount" and n == 1:
                parts.append(f"NOT EXISTS {{ {v} {path} {a} . {v} {path} {b} "
                             f"FILTER (!sameTerm({a}, {b})) }}")
            elif not (name == "minCount" and n == 0):
                raise ShapesError(f"{prop}: nested sh:{name} {n} is not supported")
        qualified = self.one(prop, "qualifiedValueShape")
        if qualified is not None:
            a, b = self.fresh(), self.fresh()
            ca, d, _ = self.conforms(qualified, a)
            cb, _, _ = self.conforms(qualified, b)
            depth = max(depth, d + 1)
            qmin, qmax = self.one(prop, "qualifiedMinCount"), self.one(prop, "qualifiedMaxCount")
            if qmin is not None and int(qmin) == 1:
                parts.append(f"EXISTS {{ {v} {path} {a} FILTER ({ca}) }}")
            elif qmin is not None and int(qmin) != 0:
                raise ShapesError(f"{prop}: nested sh:qualifiedMinCount {qmin} is not supported")
            if qmax is not None and int(qmax) == 0:
                parts.append(f"NOT EXISTS {{ {v} {path} {a} FILTER ({ca}) }}")
            elif qmax is not None and int(qmax) == 1:
                parts.append(f"NOT EXISTS {{ {v} {path} {a} . {v} {path} {b} FILTER "
                             f"(!sameTerm({a}, {b}) && {ca} && {cb}) }}")
            elif qmax is not None:
                raise ShapesError(f"{prop}: nested sh:qualifiedMaxCount {qmax} is not supported")
        value = self.fresh()
        for _, expr, d, _, _ in self.conditions(prop, value):
            parts.append(f"NOT EXISTS {{ {v} {path} {value} FILTER (!({expr})) }}")
            depth = max(depth, d + 1)
        types_only = on_types and depth <= 1
        return "(" + (" && ".join(parts) or "true") + ")", depth, types_only

    # -- top-level shapes -------------------------------------------------------------------

    def target_parts(self, shape: Any) -> list[str]:
        """One group pattern per target, each binding (or testing a bound) ``?this``."""
        parts = []
        for c in sorted(self.g.objects(shape, self.sh.targetClass)):
            parts.append(f"{{ ?this {self.type_path} {self.term(c)} }}")
        rdfs_class = self.rdflib.URIRef(RDFS + "Class")
        if (shape, self.rdflib.RDF.type, rdfs_class) in self.g:
            parts.append(f"{{ ?this {self.type_path} {self.term(shape)} }}")
        for p in sorted(self.g.objects(shape, self.sh.targetSubjectsOf)):
            parts.append(f"{{ ?this {self.term(p)} [] }}")
        for p in sorted(self.g.objects(shape, self.sh.targetObjectsOf)):
            parts.append(f"{{ [] {self.term(p)} ?this }}")
        nodes = sorted(self.g.objects(shape, self.sh.targetNode))
        if nodes:
            parts.append("{ VALUES ?this { " + " ".join(self.term(n) for n in nodes) + " } }")
        return parts

    def compile(self) -> list[Check]:
        checks: list[Check] = []
        sh = self.sh
        shapes = set(self.g.subjects(sh.targetClass, None)) | set(
            self.g.subjects(sh.targetSubjectsOf, None)) | set(
            self.g.subjects(sh.targetObjectsOf, None)) | set(self.g.subjects(sh.targetNode, None))
        for shape in sorted(shapes, key=str):
            if self.deactivated(shape):
                continue
            if self.one(shape, "path") is not None:
                raise ShapesError(f"{shape}: property shapes with their own targets are not "
                                  "supported; give them a node shape")
            checks.extend(self.node_shape(shape))
        return checks

    # Query forms. Violations are rare, so each form first finds the candidates cheaply and only
    # then tests whether the candidate is a focus node of the shape (``test``); a subquery keeps
    # Oxigraph from testing targets first. Only "at least" constraints must enumerate targets.

    def node_shape(self, shape: Any) -> list[Check]:
        name = shape_name(self.g, shape)
        parts = self.target_parts(shape)
        targets = "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(parts) + " } }"
        test = "EXISTS { " + " UNION ".join(parts) + " }"
        severity, message = self.severity(shape), self.message(shape)
        checks = []
        for component, expr, depth, _, detail in self.conditions(shape, "?this"):
            query = f"SELECT DISTINCT ?this WHERE {{ {targets} FILTER (!({expr})) }}"
            kind = LOCAL if depth <= 1 else RELATIONAL
            checks.append(Check(name, name, component, query, kind, message=message,
                                severity=severity, value_is_focus=True,
                                batch=("focus", name), ok=expr, detail=detail))
        for constraint in sorted(self.g.objects(shape, self.sh.sparql), key=str):
            checks.append(self.sparql(shape, name, constraint, test))
        for prop in sorted(self.g.objects(shape, self.sh.property), key=str):
            if not self.deactivated(prop):
                checks.extend(self.property_shape(prop, name, targets, test))
        classes = frozenset(str(c) for c in self.g.objects(shape, self.sh.targetClass))
        return [replace(check, targets=targets, test=test, target_classes=classes)
                for check in checks]

    def property_shape(self, prop: Any, node_name: str, targets: str, test: str) -> list[Check]:
        name = shape_name(self.g, prop)
        if self.one(prop, "sparql") is not None:
            raise ShapesError(f"{prop}: sh:sparql on property shapes is not supported")
        path = self.path(prop)
        simple = re.fullmatch(r"<[^>]*>", path) is not None
        base = LOCAL if simple else RELATIONAL
        follows = frozenset(re.findall(r"<([^>]+)>", path))
        common: dict[str, Any] = {"path": path, "message": self.message(prop),
                                  "severity": self.severity(prop), "follows": follows}
        checks = []
        for count in ("minCount", "maxCount"):
            n = self.one(prop, count)
            if n is None:
                continue
            n = int(n)
            component = f"{SH}{count[0].upper()}{count[1:]}ConstraintComponent"
            if count == "minCount" and n == 0:
                continue
            if count == "minCount" and n == 1:
                query = (f"SELECT DISTINCT ?this WHERE {{ {targets} "
                         f"FILTER NOT EXISTS {{ ?this {path} ?value }} }}")
                checks.append(Check(name, node_name, component, query, base, **common,
                                    batch=("focus", node_name), detail=str(n),
                                    ok=f"EXISTS {{ ?this {path} ?value }}"))
                continue
            if count == "minCount":
                query = (f"SELECT ?this WHERE {{ {targets} OPTIONAL {{ ?this {path} ?value }} }}"
                         f" GROUP BY ?this HAVING (COUNT(DISTINCT ?value) < {n})")
            else:
                query = (f"SELECT ?this WHERE {{ {{ SELECT ?this WHERE {{ ?this {path} ?value }}"
                         f" GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {n}) }} "
                         f"FILTER ({test}) }}")
            checks.append(Check(name, node_name, component, query, base, **common,
                                detail=str(n), batch=("max", path, str(n))))
        qualified = self.one(prop, "qualifiedValueShape")
        if qualified is not None:
            cond, depth, types_only = self.conforms(qualified, "?value")
            # counting conforming values: a value judged in another chunk changes the count
            kind = base if depth == 0 else RELATIONAL
            for count in ("qualifiedMinCount", "qualifiedMaxCount"):
                n = self.one(prop, count)
                if n is None:
                    continue
                n = int(n)
                component = f"{SH}{count[0].upper()}{count[1:]}ConstraintComponent"
                if count == "qualifiedMinCount":
                    query = (f"SELECT ?this WHERE {{ {targets} OPTIONAL {{ ?this {path} ?value "
                             f"FILTER ({cond}) }} }} GROUP BY ?this "
                             f"HAVING (COUNT(DISTINCT ?value) < {n})")
                else:
                    query = (f"SELECT ?this WHERE {{ {{ SELECT ?this WHERE {{ ?this {path} "
                             f"?value FILTER ({cond}) }} GROUP BY ?this "
                             f"HAVING (COUNT(DISTINCT ?value) > {n}) }} FILTER ({test}) }}")
                checks.append(Check(name, node_name, component, query, kind, **common,
                                    detail=str(n)))
        for component, expr, depth, types_only, detail in self.conditions(prop, "?value"):
            query = (f"SELECT DISTINCT ?this ?value WHERE {{ {{ SELECT ?this ?value WHERE {{ "
                     f"?this {path} ?value FILTER (!({expr})) }} }} FILTER ({test}) }}")
            kind = _join(base, LOCAL if depth == 0 else VALUE if types_only and depth == 1
                         else RELATIONAL)
            checks.append(Check(name, node_name, component, query, kind, has_value=True,
                                value_condition=expr if kind == VALUE else None, detail=detail,
                                batch=("values", path), ok=expr, **common))
        return checks

    def sparql(self, shape: Any, name: str, constraint: Any, test: str) -> Check:
        select = self.g.value(constraint, self.sh.select)
        if select is None:
            raise ShapesError(f"{constraint}: only sh:select SPARQL constraints are supported")
        text = str(select)
        if re.search(r"\$(PATH|shapesGraph|currentShape)\b", text):
            raise ShapesError(f"{constraint}: $PATH, $shapesGraph and $currentShape are not "
                              "supported")
        prefixes = self.prefixes(constraint)
        inner = re.sub(r"\$this\b", "?this", text.strip())
        projected = re.match(r"SELECT\s+(?:DISTINCT\s+)?(.*?)\s+WHERE", inner, re.S | re.I)
        if projected is None or "?this" not in projected.group(1):
            raise ShapesError(f"{constraint}: the SELECT must project $this")
        query = f"{prefixes}SELECT * WHERE {{ {{ {inner} }} FILTER ({test}) }}"
        follows = frozenset(self.expand_all(text, constraint))
        message = self.message(constraint) or self.message(shape)
        has_value = re.search(r"\?value\b", projected.group(1)) is not None
        return Check(name, name, SH + "SPARQLConstraintComponent", query, RELATIONAL,
                     constraint=str(constraint), message=message,
                     severity=self.severity(shape), has_value=has_value,
                     value_is_focus=not has_value, follows=follows)

    def prefixes(self, constraint: Any) -> str:
        lines = []
        for source in self.g.objects(constraint, self.sh.prefixes):
            for decl in self.g.objects(source, self.sh.declare):
                prefix, namespace = self.one(decl, "prefix"), self.one(decl, "namespace")
                lines.append(f"PREFIX {prefix}: <{namespace}>\n")
        return "".join(sorted(set(lines)))

    def expand_all(self, text: str, constraint: Any) -> set[str]:
        """Every IRI a SPARQL constraint mentions, prefixed names expanded."""
        found = set(re.findall(r"<([^>\s]+)>", text))
        declared = {}
        for source in self.g.objects(constraint, self.sh.prefixes):
            for decl in self.g.objects(source, self.sh.declare):
                declared[str(self.one(decl, "prefix"))] = str(self.one(decl, "namespace"))
        for prefix, local in re.findall(r"\b([A-Za-z][\w-]*):([A-Za-z_][\w-]*)", text):
            if prefix in declared:
                found.add(declared[prefix] + local)
        return found


def _join(a: str, b: str) -> str:
    return a if _KIND_ORDER[a] >= _KIND_ORDER[b] else b
