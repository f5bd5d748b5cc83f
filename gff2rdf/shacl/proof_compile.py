"""The shapes compiled for the streaming proof (``gff2rdf.shacl.proof``): a ``_Plan``.

``_Compiler`` walks the shapes graph (rdflib) once and turns each top-level shape into a
``_Shape``: the conditions on the focus node, its properties (``_Prop``: a predicate or its
inverse, counts, a qualified shape, conditions on the values) and its SPARQL constraints as
Python equivalents (``gff2rdf.shacl.proof_natives``). Each condition is a test on a value's
N-Triples term, and, when it reads the value's triples (``sh:class``, nested shapes), on its
facts. Anything the proof does not evaluate raises ``Unsupported``: the proof then hands the
whole file to the exact engine, so a feature the shapes begin to use is never skipped.

Nested shapes (``sh:node``, ``sh:or``...) are checked by ``_conforms``, which looks up the
facts of deeper nodes in the running pass (``_CURRENT``).

    >>> plan = _plan()
    >>> sorted(s.name.split("#")[1] for s in plan.by_class[b"<http://www.w3.org/ns/dcat#Dataset>"])
    ['GenomeMetadataShape', 'GenomeVersionShape']
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from ..errors import ShapesError
from ..vocab import RDFS, SH
from .proof_natives import _NATIVE, Native, fingerprint
from .proof_terms import (
    _WELL_FORMED_B,
    EMPTY,
    RDF_TYPE,
    XSD_STRING,
    Unsure,
    _compared,
    _Facts,
    _lexical_and_type,
    _number,
    _string,
)
from .shapes import load_shapes, rdflib_term, shape_name


class Unsupported(ShapesError):
    """The shapes use something the pass does not evaluate."""


Cond = Callable[[bytes, Any], bool]  # (value term, facts of the value or None) -> holds


@dataclass(eq=False)
class _Condition:
    test: Cond
    needs_facts: bool  # reads the value's triples (sh:class, nested shapes)
    reads: frozenset[bytes] = frozenset()  # predicates it reads from the value
    types_only: bool = False  # its verdict follows from the value's rdf:type objects alone
    cheap: bool = False  # a test cheaper than looking its verdict up

    def __post_init__(self) -> None:
        if self.types_only:  # many nodes share their types: decide once per set of types
            test = self.test
            verdicts: dict[tuple[bytes, ...], bool] = {}

            def cached(v: bytes, f: Any) -> bool:
                key = tuple(f.types)
                verdict = verdicts.get(key)
                if verdict is None:
                    verdict = verdicts[key] = test(v, f)
                return verdict
            self.test = cached


@dataclass(eq=False)
class _Prop:
    name: str
    path: bytes
    inverse: bool = False
    min_count: int = 0
    max_count: int | None = None
    qualified: _Shape | None = None
    qmin: int = 0
    qmax: int | None = None
    conditions: list[_Condition] = field(default_factory=list)
    term_only: list[_Condition] = field(default_factory=list)
    with_facts: list[_Condition] = field(default_factory=list)


@dataclass(eq=False)
class _Shape:
    name: str
    conditions: list[_Condition] = field(default_factory=list)
    props: list[_Prop] = field(default_factory=list)
    natives: list[Native] = field(default_factory=list)
    classes: list[bytes] = field(default_factory=list)
    subjects_of: list[bytes] = field(default_factory=list)
    objects_of: list[bytes] = field(default_factory=list)
    # for top-level shapes, set by _Compiler.compile
    required: list[_Prop] = field(default_factory=list)
    inverse_props: list[_Prop] = field(default_factory=list)
    by_path: dict[bytes, list[_Prop]] = field(default_factory=dict)
    native_reads: list[bytes] = field(default_factory=list)

    @cached_property
    def needs_facts(self) -> bool:
        return bool(self.props) or any(c.needs_facts for c in self.conditions)

    def reads(self) -> set[bytes]:
        """The predicates of a node that checking it against this shape reads."""
        found: set[bytes] = set()
        for c in self.conditions:
            found |= c.reads
        for p in self.props:
            found.add(p.path)
        return found


@dataclass
class _Plan:
    shapes: list[_Shape]
    by_class: dict[bytes, tuple[_Shape, ...]]
    by_subject_of: dict[bytes, tuple[_Shape, ...]]
    by_object_of: dict[bytes, tuple[tuple[_Shape, frozenset[bytes]], ...]]
    inverse: set[bytes]  # predicates read backwards (sh:inversePath)
    kept: frozenset[bytes]  # predicates kept in the window (what look-ups read)


_IGNORED = {"message", "severity", "name", "description", "order", "group", "defaultValue",
            "deactivated", "declare", "prefixes", "ignoredProperties", "targetClass",
            "targetSubjectsOf", "targetObjectsOf", "property", "sparql", "path", "minCount",
            "maxCount", "qualifiedValueShape", "qualifiedMinCount", "qualifiedMaxCount",
            "qualifiedValueShapesDisjoint"}
_NODE_KINDS: dict[str, Cond] = {
    "IRI": lambda v, f: v[:1] == b"<",
    "BlankNode": lambda v, f: v[:2] == b"_:",
    "Literal": lambda v, f: v[:1] == b'"',
    "BlankNodeOrIRI": lambda v, f: v[:1] == b"<" or v[:2] == b"_:",
    "BlankNodeOrLiteral": lambda v, f: v[:2] == b"_:" or v[:1] == b'"',
    "IRIOrLiteral": lambda v, f: v[:1] in (b"<", b'"'),
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "minInclusive": lambda a, b: a >= b, "maxInclusive": lambda a, b: a <= b,
    "minExclusive": lambda a, b: a > b, "maxExclusive": lambda a, b: a < b}


class _Compiler:
    def __init__(self, graph: Any) -> None:
        import rdflib  # only when shapes are compiled: its import takes 0.1 to 0.3 s

        self.g = graph
        self.rdflib = rdflib
        self.sh = rdflib.Namespace(SH)
        self.nested: dict[Any, _Shape] = {}
        self.compiling: set[Any] = set()

    def one(self, node: Any, name: str) -> Any:
        return self.g.value(node, self.sh[name])

    def items(self, node: Any) -> list[Any]:
        from rdflib.collection import Collection

        return list(Collection(self.g, node))

    def term(self, node: Any) -> bytes:
        return rdflib_term(node).encode("utf-8")

    def deactivated(self, node: Any) -> bool:
        value = self.one(node, "deactivated")
        return value is not None and value.toPython() is True

    def name(self, node: Any) -> str:
        if isinstance(node, self.rdflib.BNode) and self.one(node, "path") is None:
            return "a nested shape"
        return shape_name(self.g, node)

    def compile(self) -> _Plan:
        sh = self.sh
        if any(self.g.subjects(sh.targetNode, None)):
            raise Unsupported("sh:targetNode")
        rdfs_class = self.rdflib.URIRef(f"{RDFS}Class")
        tops = set(self.g.subjects(sh.targetClass, None)) | set(
            self.g.subjects(sh.targetSubjectsOf, None)) | set(
            self.g.subjects(sh.targetObjectsOf, None))
        shapes = []
        for node in sorted(tops, key=str):
            if self.deactivated(node):
                continue
            if self.one(node, "path") is not None:
                raise Unsupported("a property shape with targets of its own")
            shape = self.shape(node, top=True)
            shape.classes = [self.term(c) for c in self.g.objects(node, sh.targetClass)]
            if (node, self.rdflib.RDF.type, rdfs_class) in self.g:
                shape.classes.append(self.term(node))
            shape.subjects_of = [self.term(p) for p in self.g.objects(node, sh.targetSubjectsOf)]
            shape.objects_of = [self.term(p) for p in self.g.objects(node, sh.targetObjectsOf)]
            shapes.append(shape)
        kept = {RDF_TYPE}
        for shape in shapes:  # a node reached from another is checked from the window
            if shape.objects_of:
                kept |= shape.reads()
        for nested in self.nested.values():
            kept |= nested.reads()
        for shape in shapes:
            for native in shape.natives:
                kept |= getattr(native, "reads", frozenset())
            for prop in shape.props:
                for c in prop.with_facts:
                    kept |= c.reads
        def index(attr: str) -> dict[bytes, tuple[_Shape, ...]]:
            table: dict[bytes, list[_Shape]] = {}
            for shape in shapes:
                for key in getattr(shape, attr):
                    table.setdefault(key, []).append(shape)
            return {k: tuple(v) for k, v in table.items()}

        for shape in shapes:
            shape.required = [p for p in shape.props
                              if not p.inverse and (p.min_count or p.qmin)]
            shape.inverse_props = [p for p in shape.props if p.inverse]
            for p in shape.props:
                if not p.inverse:
                    shape.by_path.setdefault(p.path, []).append(p)
            shape.native_reads = sorted({r for n in shape.natives
                                         for r in getattr(n, "follows", ())})
        objects = {k: tuple((s, frozenset(s.classes)) for s in v)
                   for k, v in index("objects_of").items()}
        inverse = {p.path for s in shapes for p in s.props if p.inverse}
        return _Plan(shapes, index("classes"), index("subjects_of"), objects,
                     inverse, frozenset(kept))

    def shape(self, node: Any, top: bool = False) -> _Shape:
        shape = _Shape(self.name(node))
        for name, value in self.parameters(node):
            if name == "closed" and value.toPython() is True:
                raise Unsupported("sh:closed")
            if name == "sparql":
                if not top:
                    raise Unsupported("sh:sparql in a nested shape")
                shape.natives.append(self.native(value))
            elif name not in _IGNORED and name != "closed":
                shape.conditions.append(self.condition(name, value, node))
        for prop in self.g.objects(node, self.sh.property):
            if not self.deactivated(prop):
                shape.props.append(self.prop(prop, top))
        return shape

    def parameters(self, node: Any) -> list[tuple[str, Any]]:
        found = []
        for p, o in self.g.predicate_objects(node):
            if str(p).startswith(SH):
                found.append((str(p)[len(SH):], o))
        return sorted(found, key=lambda po: (po[0], str(po[1])))

    def prop(self, node: Any, top: bool) -> _Prop:
        path = self.one(node, "path")
        inverse = False
        if not isinstance(path, self.rdflib.URIRef):
            inner = self.g.value(path, self.sh.inversePath)
            if not isinstance(inner, self.rdflib.URIRef):
                raise Unsupported("a property path other than a predicate or its inverse")
            path, inverse = inner, True
        prop = _Prop(self.name(node), self.term(path), inverse)
        for name in ("minCount", "qualifiedMinCount"):
            value = self.one(node, name)
            if value is not None and int(value) > 1:
                raise Unsupported(f"sh:{name} above 1")  # two spellings of one term
        prop.min_count = int(self.one(node, "minCount") or 0)
        max_count = self.one(node, "maxCount")
        prop.max_count = int(max_count) if max_count is not None else None
        qualified = self.one(node, "qualifiedValueShape")
        disjoint = self.one(node, "qualifiedValueShapesDisjoint")
        if disjoint is not None and disjoint.toPython() is not False:
            raise Unsupported("sh:qualifiedValueShapesDisjoint")  # counts fewer values
        if qualified is not None:
            prop.qualified = self.nested_shape(qualified)
            prop.qmin = int(self.one(node, "qualifiedMinCount") or 0)
            qmax = self.one(node, "qualifiedMaxCount")
            prop.qmax = int(qmax) if qmax is not None else None
        for name, value in self.parameters(node):
            if name in ("closed", "sparql"):
                raise Unsupported(f"sh:{name} on a property shape")
            if name not in _IGNORED:
                prop.conditions.append(self.condition(name, value, node))
        if inverse and (prop.conditions or prop.qualified or prop.max_count is not None
                        or not top):
            raise Unsupported("an inverse path with more than sh:minCount")
        prop.term_only = [c for c in prop.conditions if not c.needs_facts]
        prop.with_facts = [c for c in prop.conditions if c.needs_facts]
        return prop

    def nested_shape(self, node: Any) -> _Shape:
        if node in self.nested:
            return self.nested[node]
        if node in self.compiling:
            raise Unsupported("recursive shapes")
        if self.one(node, "path") is not None:  # its constraints are on the path's values
            raise Unsupported("a property shape as the value of sh:node, sh:or and the like")
        self.compiling.add(node)
        shape = self.shape(node)
        self.compiling.discard(node)
        self.nested[node] = shape
        return shape

    def condition(self, name: str, value: Any, shape: Any) -> _Condition:
        if name == "class":
            c = self.term(value)
            return _Condition(lambda v, f: c in f.types, True, frozenset({RDF_TYPE}),
                              types_only=True)
        if name == "datatype":
            return self.datatype(self.term(value))
        if name == "nodeKind":
            kind = str(value)[len(SH):]
            if kind not in _NODE_KINDS:
                raise Unsupported(f"sh:nodeKind {value}")
            return _Condition(_NODE_KINDS[kind], False, cheap=True)
        if name == "pattern":
            if self.one(shape, "flags") is not None:
                raise Unsupported("sh:flags")
            regex = _python_regex(str(value))

            def pattern(v: bytes, f: Any) -> bool:
                text = _string(v)
                if text is not None and "\n" in text:
                    raise Unsure("a newline in a value checked by sh:pattern")
                return text is not None and regex.search(text) is not None
            return _Condition(pattern, False)
        if name == "in":
            members = frozenset(self.term(t) for t in self.items(value))
            return _Condition(lambda v, f: v in members, False)
        if name in _COMPARE:
            bound = _number(self.term(value))
            if bound is None or _compared(bound, bound) is None:
                raise Unsupported(f"sh:{name} with a bound that is not a number: {value}")
            compare = _COMPARE[name]
            exact = not isinstance(bound, float)

            def ranged(v: bytes, f: Any) -> bool:
                number = _number(v)
                if number is None:
                    return False
                if exact and not isinstance(number, float):  # integers and decimals
                    return bool(compare(number, bound))
                pair = _compared(number, bound)
                return pair is not None and bool(compare(*pair))
            return _Condition(ranged, False)
        if name in ("minLength", "maxLength"):
            n = int(value)
            longest = name == "maxLength"

            def length(v: bytes, f: Any) -> bool:
                text = _string(v)
                return text is not None and (len(text) <= n if longest else len(text) >= n)
            return _Condition(length, False)
        if name == "node":
            return self.nested_condition([self.nested_shape(value)], all)
        if name in ("or", "and", "xone"):
            shapes = [self.nested_shape(s) for s in self.items(value)]
            combine: Callable[[Iterable[bool]], bool] = {
                "or": any, "and": all, "xone": _exactly_one}[name]
            return self.nested_condition(shapes, combine)
        if name == "not":
            return self.nested_condition([self.nested_shape(value)],
                                         lambda bs: not all(bs))
        raise Unsupported(f"sh:{name}")

    def datatype(self, dt: bytes) -> _Condition:
        well_formed = _WELL_FORMED_B.get(dt)

        plain = dt == XSD_STRING

        def datatype(v: bytes, f: Any) -> bool:
            if v[:1] != b'"':
                return False
            if plain and v[-1:] == b'"':
                return True
            raw, actual = _lexical_and_type(v)
            return actual == dt and (well_formed is None or well_formed.match(raw) is not None)
        return _Condition(datatype, False, cheap=plain)

    def nested_condition(self, members: list[_Shape],
                         combine: Callable[[Iterable[bool]], bool]) -> _Condition:
        needs = any(m.needs_facts for m in members)
        reads: set[bytes] = set()
        for m in members:
            reads |= m.reads()

        def nested(v: bytes, f: Any) -> bool:
            return combine(_conforms(m, v, f) for m in members)
        # the pass (global) gives nested checks of deeper nodes their facts
        return _Condition(nested, needs, frozenset(reads),
                          types_only=needs and all(_types_only(m) for m in members))

    def native(self, constraint: Any) -> Native:
        select = self.g.value(constraint, self.sh.select)
        if select is None:
            raise Unsupported("a SPARQL constraint without sh:select")
        key = fingerprint(str(select))
        if key not in _NATIVE:
            raise Unsupported(f"the SPARQL constraint {constraint} (no Python equivalent for "
                              f"fingerprint {key})")
        return _NATIVE[key]


# sh:pattern is evaluated by Oxigraph with Rust's regex crate and here with Python's re. Only
# the syntax on which both agree is compiled: literal characters and escaped metacharacters,
# ., anchors, groups, alternation, quantifiers, and classes without nesting or set operations.
# Anything else (\d and \w: their Unicode tables differ between versions; \p{L}, \Z,
# lookarounds, inline flags, POSIX classes, [a-z&&[^x]]) is handed over with the shapes.
_META = r"\\[.\\/\-+*?()\[\]{}|^$]"
_PATTERN_SYNTAX = re.compile(
    rf"(?:{_META}|\[\^?(?:{_META}|(?!--)[^\\\[\]&~])+\]|\{{\d+(?:,\d*)?\}}\??"
    r"|[*+?]\??|\(\?:|\((?!\?)|[)|^$.]|[^\\\[\]{}()*+?|^$.])*")


def _python_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled by Python's re, where it means what it means to Oxigraph."""
    if _PATTERN_SYNTAX.fullmatch(pattern) is None:
        raise Unsupported(f"sh:pattern {pattern!r} (syntax that Python and Oxigraph may read "
                          "differently)")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise Unsupported(f"sh:pattern {pattern!r} ({exc})") from None


def _types_only(shape: _Shape) -> bool:
    """Whether conforming to ``shape`` depends on a node's rdf:type objects alone."""
    return all(c.types_only for c in shape.conditions) and all(
        p.path == RDF_TYPE and not p.inverse and not p.with_facts and
        (p.qualified is None or not p.qualified.needs_facts) for p in shape.props)


def _exactly_one(results: Iterable[bool]) -> bool:
    return sum(results) == 1


def _plan(shapes: Any = None) -> _Plan:
    """The plan of the shapes (by default the shipped ones,
    ``gff2rdf.shacl.shapes.load_shapes``)."""
    return _Compiler(shapes if shapes is not None else load_shapes()).compile()


# -- checking a value against a nested shape -------------------------------------------------


class _Lookup(Protocol):
    def facts_now(self, node: bytes) -> _Facts: ...


_CURRENT: list[_Lookup] = []  # the running pass, for nested shapes that look up deeper nodes


def _facts_now(value: bytes) -> _Facts:
    """Facts of a node needed right now (inside a nested shape)."""
    if value[:1] == b'"':
        return EMPTY
    return _CURRENT[-1].facts_now(value)


def _conforms(shape: _Shape, v: bytes, f: _Facts | None) -> bool:
    """Whether ``v`` (with facts ``f``, when the shape reads any) conforms to a nested shape."""
    if f is None and shape.needs_facts:
        f = _facts_now(v)
    for c in shape.conditions:
        if not c.test(v, f):
            return False
    for prop in shape.props:
        assert f is not None
        values = f.props.get(prop.path, ())
        distinct = set(values)
        if len(distinct) < prop.min_count:
            return False
        if prop.max_count is not None and len(distinct) > prop.max_count:
            return False
        if prop.qualified is not None:
            n = sum(1 for x in distinct if _conforms(prop.qualified, x, None))
            if n < prop.qmin or (prop.qmax is not None and n > prop.qmax):
                return False
        for c in prop.conditions:
            for x in distinct:
                if not c.test(x, _facts_now(x) if c.needs_facts else None):
                    return False
    return True
