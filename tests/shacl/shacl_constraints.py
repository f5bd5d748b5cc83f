"""The constraints of the shapes files, each with a shapes graph of its own (for the tests of
the streaming proof: tests/shacl/shacl_mutations.py breaks each one).

Every SHACL parameter of every file of ``shapes/`` is a ``Constraint``: the constraint
parameters (``sh:datatype``, ``sh:minCount``, ``sh:or``, ``sh:sparql``...) and the targets, on
top-level, property and nested shapes alike, named by ``Labels`` (blank nodes by where they
hang). ``Shapes`` knows the route from a shape with targets down to each shape, and
``Shapes.isolate`` builds a shapes graph that holds only what one constraint needs: its top
shape's targets, the path down to it, the whole of an ``sh:or`` it sits in. Under such shapes,
any violation the exact engine finds is a violation of that constraint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import rdflib
from rdflib.collection import Collection

from gff2rdf.shacl.shapes import SH, load_shapes, shapes_files

XSD = "http://www.w3.org/2001/XMLSchema#"
FALDO = "http://biohackathon.org/resource/faldo#"
PREFIXES = {"g2rs": "https://w3id.org/gff2rdf/shapes#", "g2r": "https://w3id.org/gff2rdf/vocab#",
            "sh": SH, "obo": "http://purl.obolibrary.org/obo/", "faldo": FALDO, "xsd": XSD,
            "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#"}
TARGETS = ("targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode")
CONSTRAINTS = frozenset({
    "class", "datatype", "nodeKind", "minCount", "maxCount", "minInclusive", "maxInclusive",
    "minExclusive", "maxExclusive", "minLength", "maxLength", "pattern", "languageIn",
    "uniqueLang", "in", "hasValue", "node", "or", "and", "xone", "not", "qualifiedMinCount",
    "qualifiedMaxCount", "closed", "sparql", "equals", "disjoint", "lessThan",
    "lessThanOrEquals"})
# what carries no constraint of its own (parts of one, names, messages, prefixes)
STRUCTURE = frozenset({
    "property", "path", "inversePath", "alternativePath", "zeroOrMorePath", "oneOrMorePath",
    "zeroOrOnePath", "qualifiedValueShape", "qualifiedValueShapesDisjoint", "flags", "select",
    "ask", "prefixes", "declare", "prefix", "namespace", "message", "severity", "name",
    "description", "order", "group", "defaultValue", "deactivated", "ignoredProperties"})
NESTING = ("property", "node", "or", "and", "xone", "not", "qualifiedValueShape")
LISTS = ("or", "and", "xone")


class NoGenerator(Exception):
    """No mutation is known for this kind of constraint: the message names it."""


# -- the shapes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Constraint:
    """One SHACL parameter of one shapes file: ``shape`` and ``value`` are ``Labels``."""

    file: str
    shape: str
    parameter: str
    value: str

    @property
    def id(self) -> str:
        return f"{self.file}:{self.shape}:{self.parameter}={self.value}"[:160]


def short(node: Any) -> str:
    if isinstance(node, rdflib.URIRef):
        for prefix, namespace in PREFIXES.items():
            if str(node).startswith(namespace):
                return f"{prefix}:{str(node)[len(namespace):]}"
        return f"<{node}>"
    return str(node)


class Labels:
    """Stable names for the nodes of a shapes graph: blank nodes are named by where they hang
    (``g2rs:RegionShape-begin/or[2]``), the same in one file and in the merged graph."""

    def __init__(self, graph: Any) -> None:
        self.g = graph
        self.names: dict[Any, str] = {}

    def __call__(self, node: Any) -> str:
        if not isinstance(node, rdflib.BNode):
            return short(node)
        if node not in self.names:
            self.names[node] = self._name(node)
        return self.names[node]

    def _name(self, node: Any) -> str:
        for parent, predicate in sorted(self.g.subject_predicates(node)):
            if predicate == rdflib.RDF.first:
                index, cell = 0, parent
                while (previous := self.g.value(None, rdflib.RDF.rest, cell)) is not None:
                    index, cell = index + 1, previous
                owner, how = next(iter(sorted(self.g.subject_predicates(cell))))
                return f"{self(owner)}/{str(how).rsplit('#', 1)[-1]}[{index}]"
            if str(predicate).startswith(SH):
                return f"{self(parent)}/{str(predicate)[len(SH):]}"
        return f"_:{len(self.names)}"

    def node(self, name: str) -> Any:
        for subject in set(self.g.subjects()):
            if self(subject) == name:
                return subject
        for prefix, namespace in PREFIXES.items():
            if name.startswith(prefix + ":"):
                return rdflib.URIRef(namespace + name[len(prefix) + 1:])
        return rdflib.URIRef(name[1:-1])


def parameters(path: Any) -> tuple[list[Constraint], list[str]]:
    """The constraints of one shapes file, and the sh: terms it uses that are unknown here."""
    graph = rdflib.Graph().parse(path)
    label = Labels(graph)
    found, unknown = [], []
    for s, p, o in graph:
        if not str(p).startswith(SH):
            continue
        name = str(p)[len(SH):]
        if name in STRUCTURE or (name == "closed" and not o.toPython()):
            continue
        if name not in CONSTRAINTS and name not in TARGETS:
            unknown.append(f"{path.name}: sh:{name}")
            continue
        value = label(o) if not isinstance(o, rdflib.Literal) else str(o)
        found.append(Constraint(path.name, label(s), name, value))
    return sorted(found, key=lambda c: c.id), unknown


def every_constraint() -> list[Constraint]:
    return [c for path in shapes_files() for c in parameters(path)[0]]


class Shapes:
    """The merged shapes graph, with the route from a top-level shape to each shape."""

    def __init__(self) -> None:
        self.g = load_shapes()
        self.label = Labels(self.g)
        self.sh = rdflib.Namespace(SH)
        tops = sorted({s for t in TARGETS for s in self.g.subjects(self.sh[t], None)}, key=str)
        self.routes: dict[Any, list[tuple[Any, str]]] = {}
        queue = [(t, [(t, "")]) for t in tops]
        while queue:
            node, route = queue.pop(0)
            if node in self.routes:
                continue
            self.routes[node] = route
            for edge in NESTING:
                for o in sorted(self.g.objects(node, self.sh[edge]), key=str):
                    for child in self.members(o) if edge in LISTS else [o]:
                        queue.append((child, [*route, (child, edge)]))

    def members(self, node: Any) -> list[Any]:
        return list(Collection(self.g, node))

    def one(self, node: Any, name: str) -> Any:
        return self.g.value(node, self.sh[name])

    def value(self, c: Constraint) -> Any:
        node = self.label.node(c.shape)
        for o in self.g.objects(node, self.sh[c.parameter]):
            if (str(o) if isinstance(o, rdflib.Literal) else self.label(o)) == c.value:
                return o
        raise LookupError(f"{c.id} is not in the merged shapes")

    def constraints_of(self, shape: Any) -> list[tuple[str, Any]]:
        return sorted(((str(p)[len(SH):], o) for p, o in self.g.predicate_objects(shape)
                       if str(p).startswith(SH) and str(p)[len(SH):] in CONSTRAINTS),
                      key=lambda po: (po[0], str(po[1])))

    def path(self, prop: Any) -> tuple[str, bool]:
        """(predicate, inverse) of a property shape."""
        path = self.one(prop, "path")
        if isinstance(path, rdflib.BNode):
            inner = self.g.value(path, self.sh.inversePath)
            if not isinstance(inner, rdflib.URIRef):
                raise NoGenerator(f"the path of {self.label(prop)}")
            return f"<{inner}>", True
        return f"<{path}>", False

    def closure(self, node: Any, out: Any) -> None:
        """Copy what hangs from ``node`` (nested shapes, lists, paths, prefixes), no targets."""
        todo, seen = [node], set()
        while todo:
            n = todo.pop()
            if n in seen or isinstance(n, rdflib.Literal):
                continue
            seen.add(n)
            for p, o in self.g.predicate_objects(n):
                if p in {self.sh[t] for t in TARGETS}:
                    continue
                out.add((n, p, o))
                todo.append(o)

    def isolate(self, c: Constraint) -> Any:
        """A shapes graph with only what ``c`` needs (with the shipped prefixes)."""
        out = rdflib.Graph()
        shape = self.label.node(c.shape)
        route = self.routes.get(shape)
        if route is None:
            raise NoGenerator(f"{c.shape} is not reached from any shape with targets")
        top = route[0][0]
        if c.parameter in TARGETS:
            out.add((top, self.sh[c.parameter], self.value(c)))
            self.closure(top, out)
            return out
        for t in TARGETS:
            for o in self.g.objects(top, self.sh[t]):
                out.add((top, self.sh[t], o))
        parent = top
        for node, edge in route[1:]:
            if edge == "property":
                out.add((parent, self.sh.property, node))
                out.add((node, self.sh.path, self.one(node, "path")))
                self.closure(self.one(node, "path"), out)
                parent = node
                continue
            for o in self.g.objects(parent, self.sh[edge]):  # the whole nested constraint
                if node == o or (edge in LISTS and node in self.members(o)):
                    out.add((parent, self.sh[edge], o))
                    self.closure(o, out)
            if edge == "qualifiedValueShape":
                for count in ("qualifiedMinCount", "qualifiedMaxCount"):
                    if self.one(parent, count) is not None:
                        out.add((parent, self.sh[count], self.one(parent, count)))
            return out
        value = self.value(c)
        out.add((shape, self.sh[c.parameter], value))
        self.closure(value, out)
        extra = {"pattern": ["flags"], "qualifiedMinCount": ["qualifiedValueShape"],
                 "qualifiedMaxCount": ["qualifiedValueShape"]}
        for name in extra.get(c.parameter, []):
            if self.one(shape, name) is not None:
                out.add((shape, self.sh[name], self.one(shape, name)))
                self.closure(self.one(shape, name), out)
        return out
