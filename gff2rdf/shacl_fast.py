"""A streaming proof that N-Triples / N-Quads conform to the shapes: the fast path of validation.

Loading a genome's 20 M triples into Oxigraph and running the compiled shapes there
(``gff2rdf.shacl_chunks``) costs about 6 us of CPU a triple, most of it parsing and indexing;
reading the lines in Python and checking each subject's triples as they stream by costs about
2 us. So ``prove`` reads the file once and answers one question: does the data conform? It
answers yes only when it has checked every constraint on every focus node; as soon as anything
fails or cannot be decided here, it stops and says why (``Proof.reason``), and the caller runs
the exact engine, which finds and reports the violations. It is sound, not complete: it never
reports conformance that the exact engine would deny (``tests/test_shacl_fast.py`` mutates a
conforming genome once per rule, alone and all at once, and checks that each mutation is
handed over).

How a pass works, and what sends the file to the exact engine:

* Lines are grouped by subject (the converter writes each subject's triples together); a subject
  that comes back after other subjects hands the file over. Subjects are remembered by their
  64-bit hash for that check only, about 60 bytes each.
* When a subject's group ends, the shapes that target it by class or by predicate are checked
  with all its triples, in the way worked out once for each kind of node (its predicates and
  types: ``_Role``, ``_Kind``). Constraints that read other nodes (``sh:class`` and nested
  shapes on values, ``sh:targetObjectsOf`` targets, the FALDO rules) look those nodes up in a
  window of the last ``WINDOW`` subjects; a node not seen yet is checked when it comes (at the
  end: as a node without triples); one that has left the window hands the file over.
* ``sh:sparql`` constraints run as Python equivalents (``_NATIVE``), bound to a fingerprint of
  their query text; shapes with any other SPARQL constraint, or with SHACL features that
  ``_Compiler`` does not know, are handed over whole (``Proof.reason`` says which).
* Lines must be what Oxigraph's parser surely accepts (``_term_ok``: each distinct IRI is
  checked once); ``rdfs:subClassOf`` triples, IRIs with escapes and anything unusual hand the
  file over.
* A plain file is read in ``jobs`` parts at once, cut between subjects; what one part needs of
  nodes in another (the sequences at the end of the file) is asked of the others in a second
  round (``_prove_parts``). The cyclic garbage collector is off during a pass.

Terms are compared as their N-Triples text. Two spellings of one term (``"a"`` and
``"a"^^xsd:string``) can only make the pass count more values or miss an equality, and either
hands the file over.

Example:
    >>> prove("genome.nt").conforms                                     # doctest: +SKIP
    True
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cached_property, partial
from pathlib import Path
from typing import IO, Any, NamedTuple

from .errors import ShapesError

__all__ = ["WINDOW", "Proof", "prove"]

# Subjects kept for look-ups from later lines (only the predicates that look-ups read). The
# converter writes a node's positions and region just before it, and a parent within its gene
# model. Keeping all their triples instead measured 5 % slower and 25 % more memory.
WINDOW = 200_000
PENDING_LIMIT = 1_000_000  # deferred checks before the pass gives up (memory bound)

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
FALDO = "http://biohackathon.org/resource/faldo#"
RDF_TYPE = f"<{RDF}type>".encode()
SUBCLASS_OF = b"<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
XSD_STRING = f"<{XSD}string>".encode()
XSD_INTEGER = f"<{XSD}integer>".encode()
LANG_STRING = f"<{RDF}langString>".encode()
_NUMERIC = {f"<{XSD}{n}>".encode() for n in ("integer", "decimal", "double", "float")}


class Unsure(Exception):
    """The pass cannot prove conformance; the message says why."""


class Unsupported(ShapesError):
    """The shapes use something the pass does not evaluate."""


@dataclass
class Proof:
    """The outcome of a pass: ``conforms`` is True only when proven; else ``reason``."""

    conforms: bool
    reason: str = ""
    triples: int = 0
    subjects: int = 0
    seconds: float = 0.0


# -- terms -----------------------------------------------------------------------------------


_ECHAR = {b"t": "\t", b"b": "\b", b"n": "\n", b"r": "\r", b"f": "\f", b'"': '"', b"'": "'",
          b"\\": "\\"}
_UCHAR = re.compile(rb"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", re.S)


def _unescape(raw: bytes) -> str:
    def one(m: re.Match[bytes]) -> str:
        code = m.group(1)
        if code[:1] in (b"u", b"U") and len(code) > 1:
            return chr(int(code[1:], 16))
        if code in _ECHAR:
            return _ECHAR[code]
        raise Unsure(f"bad escape in a literal: {raw[:60]!r}")

    parts = []
    last = 0
    for m in _UCHAR.finditer(raw):
        parts.append(raw[last:m.start()].decode("utf-8"))
        parts.append(one(m))
        last = m.end()
    parts.append(raw[last:].decode("utf-8"))
    return "".join(parts)


def _lexical_and_type(term: bytes) -> tuple[bytes, bytes]:
    """(raw lexical form, datatype term) of a literal term."""
    end = term.rfind(b'"')
    suffix = term[end + 1:]
    if not suffix:
        return term[1:end], XSD_STRING
    if suffix[:1] == b"@":
        return term[1:end], LANG_STRING
    return term[1:end], suffix[2:]


def _string(term: bytes) -> str | None:
    """STR() of a term (None for a blank node)."""
    if term[:1] == b"<":
        return term[1:-1].decode("utf-8")
    if term[:1] == b'"':
        raw = _lexical_and_type(term)[0]
        return _unescape(raw) if b"\\" in raw else raw.decode("utf-8")
    return None


def _number(term: bytes) -> Decimal | float | None:
    """The value of a well-formed numeric literal, or None (a comparison would be an error)."""
    if term[:1] != b'"':
        return None
    raw, datatype = _lexical_and_type(term)
    if datatype not in _NUMERIC or not _WELL_FORMED_B[datatype].match(raw):
        return None
    text = raw.decode("ascii")
    try:
        return Decimal(text) if datatype in (XSD_INTEGER, f"<{XSD}decimal>".encode()) \
            else float(text)
    except (InvalidOperation, ValueError):
        return None


def _well_formed() -> dict[bytes, re.Pattern[bytes]]:
    from .shacl_sparql import _WELL_FORMED

    return {f"<{k}>".encode(): re.compile(v.encode()) for k, v in _WELL_FORMED.items()}


_WELL_FORMED_B = _well_formed()


# -- facts about a node ------------------------------------------------------------------------


class _Facts:
    """A node's triples: predicate term -> object terms (``types`` = its rdf:type objects)."""

    __slots__ = ("props", "types")

    def __init__(self, props: dict[bytes, list[bytes]]) -> None:
        self.props = props
        self.types = props.get(RDF_TYPE, ())


EMPTY = _Facts({})


# -- the plan compiled from the shapes ---------------------------------------------------------

Cond = Callable[[bytes, Any], bool]  # (value term, facts of the value or None) -> holds
# A SPARQL constraint in Python: (focus node, its facts, facts of the nodes it links to)
Native = Callable[[bytes, "_Facts", dict[bytes, "_Facts"]], None]


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
        import rdflib

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
        from .shacl import rdflib_term

        return rdflib_term(node).encode("utf-8")

    def deactivated(self, node: Any) -> bool:
        value = self.one(node, "deactivated")
        return value is not None and value.toPython() is True

    def name(self, node: Any) -> str:
        from .shacl import shape_name

        if isinstance(node, self.rdflib.BNode) and self.one(node, "path") is None:
            return "a nested shape"
        return shape_name(self.g, node)

    def compile(self) -> _Plan:
        sh = self.sh
        if any(self.g.subjects(sh.targetNode, None)):
            raise Unsupported("sh:targetNode")
        rdfs_class = self.rdflib.URIRef("http://www.w3.org/2000/01/rdf-schema#Class")
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
            regex = re.compile(str(value))

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
            if bound is None:
                raise Unsupported(f"sh:{name} with a non-numeric bound")
            compare = _COMPARE[name]

            def ranged(v: bytes, f: Any) -> bool:
                number = _number(v)
                return number is not None and bool(compare(number, bound))
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


def _types_only(shape: _Shape) -> bool:
    """Whether conforming to ``shape`` depends on a node's rdf:type objects alone."""
    return all(c.types_only for c in shape.conditions) and all(
        p.path == RDF_TYPE and not p.inverse and not p.with_facts and
        (p.qualified is None or not p.qualified.needs_facts) for p in shape.props)


def _run_natives(natives: list[Native],
                 node: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    for native in natives:
        native(node, facts, found)


def _all_of(tests: list[Cond]) -> Callable[[bytes], bool] | None:
    if not tests:
        return None
    if len(tests) == 1:
        test = tests[0]
        return lambda v: test(v, None)
    if len(tests) == 2:
        first, second = tests
        return lambda v: first(v, None) and second(v, None)
    if len(tests) == 3:
        first, second, third = tests
        return lambda v: first(v, None) and second(v, None) and third(v, None)
    return lambda v: all(t(v, None) for t in tests)


def _exactly_one(results: Iterable[bool]) -> bool:
    return sum(results) == 1


def fingerprint(query: str) -> str:
    """Identifies a SPARQL constraint's query text, whitespace aside."""
    return hashlib.sha256(" ".join(query.split()).encode("utf-8")).hexdigest()[:16]


# -- checking one node -----------------------------------------------------------------------

_CURRENT: list[_Pass] = []  # the running pass, for nested shapes that look up deeper nodes


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


# -- the pass --------------------------------------------------------------------------------


@dataclass(eq=False)
class _Kind:
    """What checking a node of given predicates against given shapes takes."""

    missing: str | None  # a required property the node lacks: the rule it breaks
    conditions: list[tuple[str, _Condition]]  # on the node itself
    work: list[_PathWork]  # per predicate, what the properties that constrain it check
    inverse: list[tuple[_Prop, str]]
    natives: list[_Shape]

    @classmethod
    def make(cls, shapes: Iterable[_Shape], predicates: Iterable[bytes]) -> _Kind:
        present = set(predicates)
        kind = cls(None, [], [], [], [])
        work: dict[bytes, list[_Prop]] = {}
        for shape in shapes:
            kind.conditions.extend((shape.name, c) for c in shape.conditions)
            for prop in shape.required:
                if prop.path not in present and kind.missing is None:
                    kind.missing = prop.name
            kind.inverse.extend((prop, shape.name) for prop in shape.inverse_props)
            for path, props in shape.by_path.items():
                if path in present:
                    work.setdefault(path, []).extend(props)
            if shape.natives:
                kind.natives.append(shape)
        kind.work = [_PathWork.make(path, props) for path, props in work.items()]
        return kind


@dataclass(eq=False)
class _PathWork:
    """The constraints of several shapes on one predicate, merged: the lowest sh:maxCount,
    one test for every term-only condition, the checks that read linked nodes."""

    path: bytes
    name: str  # the properties, for the reason
    max_count: int | None
    ok: Callable[[bytes], bool] | None
    cache: set[bytes] | None  # values that passed ``ok`` (None: not worth a look-up)
    with_facts: list[tuple[_Condition, str]]
    qualified: list[_Prop]
    counts: bool = False  # whether the number of distinct values matters

    @classmethod
    def make(cls, path: bytes, props: list[_Prop]) -> _PathWork:
        counts = [p.max_count for p in props if p.max_count is not None]
        tests = [c for p in props for c in p.term_only]
        qualified = [p for p in props if p.qualified is not None]
        return cls(path, ", ".join(p.name for p in props), min(counts) if counts else None,
                   _all_of([c.test for c in tests]),
                   set() if not all(c.cheap for c in tests) else None,
                   [(c, p.name) for p in props for c in p.with_facts], qualified,
                   bool(counts or qualified))


@dataclass(eq=False)
class _Role:
    """What a subject of given predicates and types is to the shapes: the shapes that target
    it (as a ``_Kind``), the objects its predicates make targets, what the window keeps."""

    kind: _Kind | None
    objects: list[tuple[bytes, tuple[tuple[_Shape, frozenset[bytes]], ...]]]
    incoming: list[bytes]
    kept: list[bytes]
    keep_all: bool = False  # the window keeps all of such a node's triples (no copy)

    @classmethod
    def make(cls, plan: _Plan, predicates: tuple[bytes, ...], types: Iterable[bytes]) -> _Role:
        targeted: list[_Shape] = []
        for t in types:
            targeted.extend(plan.by_class.get(t, ()))
        for p in predicates:
            targeted.extend(plan.by_subject_of.get(p, ()))
        kind = _Kind.make(dict.fromkeys(targeted), predicates) if targeted else None
        kept = [p for p in predicates if p in plan.kept]
        return cls(kind,
                   [(p, plan.by_object_of[p]) for p in predicates if p in plan.by_object_of],
                   [p for p in predicates if p in plan.inverse], kept,
                   len(kept) == len(predicates))


class _Pass:
    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.window: dict[bytes, _Facts] = {}
        self.order: deque[bytes] = deque()  # the window's keys, oldest first
        self.seen: set[int] = set()
        self.pending: dict[bytes, list[Callable[[_Facts], None]]] = {}
        self.pending_keys: set[tuple[int, bytes]] = set()
        self.pending_count = 0
        self.incoming: dict[bytes, set[bytes]] = {p: set() for p in plan.inverse}
        self.inverse_checks: list[tuple[_Prop, bytes, str]] = []
        self.subjects = 0
        self.triples = 0
        self.roles: dict[tuple[tuple[bytes, ...], tuple[bytes, ...]], _Role] = {}
        self.kinds: dict[tuple[tuple[_Shape, ...], tuple[bytes, ...]], _Kind] = {}

    # -- look-ups --

    def facts_now(self, node: bytes) -> _Facts:
        facts = self.window.get(node)
        if facts is not None:
            return facts
        if hash(node) in self.seen:
            raise Unsure(f"{node.decode('utf-8', 'replace')} is needed more than {WINDOW:,} "
                         "subjects after its triples")
        raise Unsure(f"{node.decode('utf-8', 'replace')} is needed before its triples")

    def when_known(self, node: bytes, then: Callable[[_Facts], None],
                   key: tuple[int, bytes] | None = None) -> None:
        """Call ``then`` with the node's facts: now, or when its triples come, or at the end
        (a node without triples). ``key``: a check that depends on the node only, done once."""
        if node[:1] == b'"':
            then(EMPTY)
            return
        facts = self.window.get(node)
        if facts is not None:
            then(facts)
            return
        if hash(node) in self.seen:
            raise Unsure(f"{node.decode('utf-8', 'replace')} is needed more than {WINDOW:,} "
                         "subjects after its triples")
        if key is not None:
            if key in self.pending_keys:
                return
            self.pending_keys.add(key)
        self.pending.setdefault(node, []).append(then)
        self.pending_count += 1
        if self.pending_count > PENDING_LIMIT:
            raise Unsure(f"more than {PENDING_LIMIT:,} checks wait for nodes further down")

    def when_all_known(self, nodes: list[bytes], then: Callable[[dict[bytes, _Facts]], None]
                       ) -> None:
        found: dict[bytes, _Facts] = {}
        missing: list[bytes] = []
        for node in nodes:
            facts = EMPTY if node[:1] == b'"' else self.window.get(node)
            if facts is None:
                missing.append(node)
            else:
                found[node] = facts
        if not missing:
            then(found)
            return
        left = [len(set(missing))]

        def got(node: bytes, facts: _Facts) -> None:
            if node in found:
                return
            found[node] = facts
            left[0] -= 1
            if left[0] == 0:
                then(found)
        for node in set(missing):
            self.when_known(node, partial(got, node))

    # -- checks --

    def check(self, shape: _Shape, node: bytes, facts: _Facts) -> None:
        """Check ``node`` (with all the triples the shape reads) against a top-level shape."""
        key = ((shape,), tuple(facts.props))
        kind = self.kinds.get(key)
        if kind is None:
            kind = self.kinds[key] = _Kind.make([shape], key[1])
        self.run(kind, node, facts)

    def run(self, kind: _Kind, node: bytes, facts: _Facts) -> None:
        """Check ``node`` against the shapes of ``kind`` (a node of its predicates)."""
        if kind.missing is not None:
            raise Unsure(f"{kind.missing}: {node.decode('utf-8', 'replace')}")
        for name, c in kind.conditions:
            if not c.test(node, facts):
                raise Unsure(f"{name}: {node.decode('utf-8', 'replace')}")
        for prop, name in kind.inverse:
            self.inverse_checks.append((prop, node, name))
        props = facts.props
        window = self.window
        for work in kind.work:
            values = props[work.path]
            if len(values) > 1:
                if work.counts:  # distinct values only where they are counted
                    values = list(dict.fromkeys(values))
                    if work.max_count is not None and len(values) > work.max_count:
                        raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
            elif work.max_count == 0:
                raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
            ok = work.ok
            if ok is not None:
                cache = work.cache
                if cache is None:
                    for v in values:
                        if not ok(v):
                            raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
                else:
                    for v in values:
                        if v not in cache:
                            if not ok(v):
                                raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
                            if len(cache) > 50_000:  # values that hardly repeat (positions)
                                work.cache = None
                            cache.add(v)
            for c, name in work.with_facts:
                for v in values:
                    known = EMPTY if v[:1] == b'"' else window.get(v)
                    if known is not None:
                        if not c.test(v, known):
                            raise Unsure(f"{name}: value {v.decode('utf-8', 'replace')}")
                    elif (id(c), v) not in self.pending_keys:
                        self.when_known(v, self._value_check(c, v, name), (id(c), v))
            for prop in work.qualified:
                qualified = prop.qualified
                assert qualified is not None
                if qualified.needs_facts:
                    self.when_all_known(values, self._qualified(prop, node, values))
                else:
                    count = 0
                    for v in values:
                        if _conforms(qualified, v, None):
                            count += 1
                    if count < prop.qmin or (prop.qmax is not None and count > prop.qmax):
                        raise Unsure(f"{prop.name}: {node.decode('utf-8', 'replace')}")
        for shape in kind.natives:
            nodes: list[bytes] = []
            for predicate in shape.native_reads:
                nodes.extend(props.get(predicate, ()))
            linked: dict[bytes, _Facts] = {}
            for v in nodes:
                known = window.get(v)
                if known is None:
                    self.when_all_known(list(dict.fromkeys(nodes)),
                                        partial(_run_natives, shape.natives, node, facts))
                    break
                linked[v] = known
            else:
                for native in shape.natives:
                    native(node, facts, linked)

    def _value_check(self, c: _Condition, v: bytes, name: str) -> Callable[[_Facts], None]:
        def run(facts: _Facts) -> None:
            if not c.test(v, facts):
                raise Unsure(f"{name}: value {v.decode('utf-8', 'replace')}")
        return run

    def _qualified(self, prop: _Prop, node: bytes, values: list[bytes]
                   ) -> Callable[[dict[bytes, _Facts]], None]:
        def run(found: dict[bytes, _Facts]) -> None:
            shape = prop.qualified
            assert shape is not None
            n = sum(1 for v in values if _conforms(shape, v, found.get(v)))
            if n < prop.qmin or (prop.qmax is not None and n > prop.qmax):
                raise Unsure(f"{prop.name}: {node.decode('utf-8', 'replace')}")
        return run

    def close(self, subject: bytes, props: dict[bytes, list[bytes]]) -> None:
        """The subject's triples are all here: check it, remember it, settle what waited."""
        h = hash(subject)
        if h in self.seen:
            raise Unsure(f"the triples of {subject.decode('utf-8', 'replace')} are not "
                         "together")
        self.seen.add(h)
        self.subjects += 1
        facts = _Facts(props)
        # nodes with the same predicates and types are checked the same way: what to check
        # is worked out once per such kind of node
        key = (tuple(props), tuple(facts.types))
        role = self.roles.get(key)
        if role is None:
            if len(self.roles) > 100_000:
                self.roles.clear()
            role = self.roles[key] = _Role.make(self.plan, key[0], facts.types)
        window = self.window
        for p, reached in role.objects:
            for o in props[p]:
                known = EMPTY if o[:1] == b'"' else window.get(o)
                for shape, classes in reached:
                    if known is not None:
                        if classes.isdisjoint(known.types):
                            self.check(shape, o, known)
                    elif (id(shape), o) not in self.pending_keys:
                        self.when_known(o, self._object_target(shape, o), (id(shape), o))
        for p in role.incoming:
            nodes = self.incoming[p]
            nodes.update(props[p])
            if len(nodes) > PENDING_LIMIT:
                raise Unsure("too many nodes reached by inverse paths")
        window[subject] = facts if role.keep_all else _Facts({p: props[p] for p in role.kept})
        order = self.order
        order.append(subject)
        if len(order) > WINDOW:
            del window[order.popleft()]
        if role.kind is not None:
            self.run(role.kind, subject, facts)
        if self.pending:
            waiting = self.pending.pop(subject, None)
            if waiting:
                self.pending_count -= len(waiting)
                kept_facts = window[subject]
                for then in waiting:
                    then(kept_facts)

    def _object_target(self, shape: _Shape, node: bytes) -> Callable[[_Facts], None]:
        def run(facts: _Facts) -> None:
            if any(c in facts.types for c in shape.classes):
                return  # checked as a member of its class, with all its triples
            self.check(shape, node, facts)
        return run

    def finish(self) -> None:
        """End of the data: nodes still awaited have no triples."""
        while self.pending:
            node, waiting = self.pending.popitem()
            for then in waiting:
                then(EMPTY)
        for prop, node, name in self.inverse_checks:
            if prop.min_count and node not in self.incoming.get(prop.path, ()):
                raise Unsure(f"{name}: {node.decode('utf-8', 'replace')}")


# -- SPARQL constraints as Python --------------------------------------------------------------

_BEGIN = f"<{FALDO}begin>".encode()
_END = f"<{FALDO}end>".encode()
_POSITION = f"<{FALDO}position>".encode()
_REFERENCE = f"<{FALDO}reference>".encode()
_FORWARD = f"<{FALDO}ForwardStrandPosition>".encode()
_REVERSE = f"<{FALDO}ReverseStrandPosition>".encode()
_STRANDS = (_FORWARD, _REVERSE, f"<{FALDO}BothStrandsPosition>".encode(),
            f"<{FALDO}StrandedPosition>".encode())


def _pairs(facts: _Facts, found: dict[bytes, _Facts]
           ) -> Iterable[tuple[_Facts, _Facts]]:
    """(begin facts, end facts) for every begin and end of a region."""
    ends = facts.props.get(_END, ())
    for b in facts.props.get(_BEGIN, ()):
        for e in ends:
            yield found[b], found[e]


def _integers(facts: _Facts) -> list[int]:
    out = []
    for v in facts.props.get(_POSITION, ()):
        if v[:1] == b'"':
            raw, datatype = _lexical_and_type(v)
            if datatype == XSD_INTEGER and _WELL_FORMED_B[XSD_INTEGER].match(raw):
                out.append(int(raw))
    return out


def _region_order(region: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    """g2rs:RegionOrder: begin <= end on the forward strand, >= on the reverse strand. A
    region in the wrong order may still be exempt (a circular sequence): the exact engine
    decides."""
    for fb, fe in _pairs(facts, found):
        forward, reverse = _FORWARD in fb.types, _REVERSE in fb.types
        if forward or reverse:
            for start in _integers(fb):
                for stop in _integers(fe):
                    if (forward and start > stop) or (reverse and start < stop):
                        raise Unsure(f"RegionOrder: {region.decode('utf-8', 'replace')}")


def _region_one_strand(region: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    """g2rs:RegionOneStrand: begin and end carry the same strand classes."""
    for fb, fe in _pairs(facts, found):
        for strand in _STRANDS:
            if (strand in fb.types) != (strand in fe.types):
                raise Unsure(f"RegionOneStrand: {region.decode('utf-8', 'replace')}")


def _region_one_reference(region: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    """g2rs:RegionOneReference: begin and end lie on the same sequence."""
    for fb, fe in _pairs(facts, found):
        for rb in fb.props.get(_REFERENCE, ()):
            for re_ in fe.props.get(_REFERENCE, ()):
                if rb != re_:
                    raise Unsure(f"RegionOneReference: {region.decode('utf-8', 'replace')}")


for _native in (_region_order, _region_one_strand, _region_one_reference):
    # what they read: of the region (``follows``: whose objects are looked up), of those
    _native.follows = (_BEGIN, _END)  # type: ignore[attr-defined]
    _native.reads = frozenset({_BEGIN, _END, _POSITION, _REFERENCE, RDF_TYPE})  # type: ignore[attr-defined]

# The fingerprints of the sh:select texts in shapes/faldo.ttl. A changed query has another
# fingerprint, so the pass hands such shapes to the exact engine until its equivalent here is
# brought in line (tests/test_shacl_fast.py fails meanwhile).
_NATIVE: dict[str, Native] = {
    "d24c31b52bc31fa7": _region_order,  # g2rs:RegionOrder
    "65418afeb2035fb3": _region_one_strand,  # g2rs:RegionOneStrand
    "7f325f833188a327": _region_one_reference,  # g2rs:RegionOneReference
}


# -- reading the lines -----------------------------------------------------------------------

_REST = re.compile(rb'[ \t]*(<[^>\s]*>|_:[^\s.]+(?:\.[^\s.]+)*|"(?:[^"\\\n\r]|\\.)*"'
                   rb'(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^<[^>\s]*>)?)'
                   rb'(?:[ \t]+(<[^>\s]*>|_:[^\s.]+(?:\.[^\s.]+)*))?[ \t]*\.[ \t]*\r?\n?$')
_SUFFIX = re.compile(rb"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^<[^>\s]*>)?")


def _object(rest: bytes, quads: bool) -> bytes:
    """The object term of a line, from what follows the predicate."""
    if not quads and rest.endswith(b" .\n"):
        o = rest[:-3]
        first = o[:1]
        if first == b"<":
            if o.find(b">") == len(o) - 1 and b" " not in o and b"\\" not in o:
                return o
        elif first == b'"':
            end = o.rfind(b'"')
            if end > 0 and b'"' not in o[1:end] and b"\\" not in o[1:end] and \
                    b"\r" not in o and _SUFFIX.fullmatch(o, end + 1) is not None:
                return o
    m = _REST.match(rest)
    if m is None or (m.group(2) is not None and not quads):
        raise Unsure(f"not a plain N-{'Quads' if quads else 'Triples'} line: {rest[:80]!r}")
    o = m.group(1)
    if o[:1] == b"<" and b"\\" in o:
        raise Unsure("an IRI with escapes")
    graph = m.group(2)
    if graph is not None and not _term_ok(graph, subject=True):
        raise Unsure(f"a graph name the pass does not check: {graph[:80]!r}")
    return o


def _plan(shapes: Any = None) -> _Plan:
    from .shacl import load_shapes

    return _Compiler(shapes if shapes is not None else load_shapes()).compile()


class _Part(io.RawIOBase):
    """The bytes of ``stream`` from its position on, ``size`` of them (None: to the end).
    Lines are read through a ``BufferedReader`` over it: iterating one is about 7x faster
    than cutting 32 MB blocks with ``splitlines`` (0.3 s against 2.4 s for 4 M lines)."""

    def __init__(self, stream: IO[bytes], size: int | None,
                 report: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._left = size
        self._report = report  # called with the bytes read so far, once a read
        self._done = 0
        self._plain = [True, True]  # the last two reads: ASCII without a backslash
        self.plain = True  # a line returned now comes from those two reads: is it plain?

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._left is not None:
            if self._left <= 0:
                return 0
            view = view[:self._left]
        n = self._stream.readinto(view)  # type: ignore[attr-defined]
        if not n:
            return 0
        if self._left is not None:
            self._left -= n
        if self._report is not None:
            self._done += n
            self._report(self._done)
        # one look at each 1 MB read instead of two per literal (about 4 % of a pass)
        read = view[:n].tobytes()
        self._plain = [self._plain[1], read.isascii() and b"\\" not in read]
        self.plain = self._plain[0] and self._plain[1]
        return int(n)


@contextmanager
def _lines(path: str, start: int = 0, end: int | None = None,
           report: Callable[[int], None] | None = None) -> Iterator[IO[bytes]]:
    """The file's lines from byte ``start`` to ``end`` (both at line starts); ``report`` is
    called with the bytes read so far from ``start``."""
    from .ntchunks import open_lines

    with open_lines(path) as stream:
        if start:
            stream.seek(start)
        part = _Part(stream, None if end is None else end - start, report)
        reader = io.BufferedReader(part, 1 << 20)
        reader.part = part  # type: ignore[attr-defined]
        yield reader


def _scan(state: _Pass, lines: Iterable[bytes], fmt: str) -> None:
    """Read the lines, group them by subject and close each group (``_Pass.close``), with
    the cyclic garbage collector off: the window and the remembered subjects are millions of
    objects that it would scan again and again, and the pass makes no reference cycles
    (measured on 2 M triples: 4.9 s with it, 4.25 s with ``convert.gc_tuned``, 3.9 s off)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        _scan_lines(state, lines, fmt)
    finally:
        if enabled:
            gc.enable()


def _scan_lines(state: _Pass, lines: Iterable[bytes], fmt: str) -> None:
    """The lines the converter writes are checked for form with a few C-level searches, and
    each distinct IRI once (``_term_ok``: what Oxigraph's parser would refuse must not be
    proven to conform); anything else goes through ``_object``'s regular expression."""
    current = b""
    props: dict[bytes, list[bytes]] = {}
    close = state.close
    quads = fmt == "nq"
    checked: set[bytes] = set()  # predicates already checked
    valid: set[bytes] = set()  # IRIs and blank nodes already checked (bounded)
    part = getattr(lines, "part", None) or _Part(io.BytesIO(), 0)
    part.plain = part.plain and isinstance(lines, io.BufferedReader)
    n = 0
    try:
        for line in lines:
            n += 1
            try:
                s, p, rest = line.split(b" ", 2)
            except ValueError:
                if not line.strip() or line.lstrip()[:1] == b"#":
                    n -= 1
                    continue
                raise Unsure(f"not a plain N-Triples / N-Quads line: {line[:80]!r}") \
                    from None
            if s != current:
                if s not in valid:
                    if s[:1] == b"#":
                        n -= 1
                        continue
                    if not _term_ok(s, subject=True):
                        raise Unsure(f"not a plain N-Triples / N-Quads line, or an IRI "
                                     f"the pass does not check: {line[:80]!r}")
                    _remember(valid, s)
                if props:
                    close(current, props)
                current, props = s, {}
            o = rest[:-3]
            last = rest[-4:]
            if quads:
                o = _object(rest, True)
                _check_object(o, valid)
            elif last == b"> .\n":
                if o[:1] == b"<":  # an IRI
                    if o not in valid:
                        _check_object(o, valid)
                else:  # a typed literal
                    j = o.find(b'"', 1)
                    if o[:1] != b'"' or o.find(b'"^^<', j) != j:
                        o = _object(rest, False)
                        _check_object(o, valid)
                    else:
                        datatype = o[j + 3:]
                        if datatype not in valid:
                            _check_object(datatype, valid)
                        if not part.plain and (b"\\" in o or not o.isascii()):
                            _check_object(o, valid)
            elif last == b'" .\n' and o[:1] == b'"' and o.find(b'"', 1) == len(o) - 1:
                if not part.plain and (b"\\" in o or not o.isascii()):
                    _check_object(o, valid)
            else:
                o = _object(rest, False)
                _check_object(o, valid)
            values = props.get(p)
            if values is not None:
                values.append(o)
                continue
            if p not in checked:
                if not _SAFE_IRI.fullmatch(p):
                    raise Unsure(f"not a plain N-Triples / N-Quads line, or an IRI the "
                                 f"pass does not check: {line[:80]!r}")
                if p == SUBCLASS_OF:
                    raise Unsure("the data has rdfs:subClassOf triples")
                checked.add(p)
            props[p] = [o]
        if props:
            close(current, props)
    finally:
        state.triples += n


# Terms that Oxigraph's parser surely accepts; valid terms outside these (IRIs with non-ASCII
# characters, user information or IPv6 hosts, \U escapes) only send the file to the exact
# engine, which parses them itself. An IRI check costs about 0.5 us, so each distinct term is
# checked once (``valid``).
_IRI_CHARS = rb"A-Za-z0-9\-._~!$&'()*+,;=:@/"
_SAFE_IRI = re.compile(
    rb"<[A-Za-z][A-Za-z0-9+.\-]*+:"
    rb"(?://[A-Za-z0-9\-._~]*+(?::[0-9]*+)?(?=[/?#>])|(?!//))"
    rb"(?:[" + _IRI_CHARS + rb"]++|%[0-9A-Fa-f]{2})*+"
    rb"(?:\?(?:[" + _IRI_CHARS + rb"?]++|%[0-9A-Fa-f]{2})*+)?"
    rb"(?:#(?:[" + _IRI_CHARS + rb"?]++|%[0-9A-Fa-f]{2})*+)?>")
_BLANK = re.compile(rb"_:[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_\-])?")
_LITERAL = re.compile(rb'"(?:[^"\\\n\r]++|\\[tbnrf"\'\\]|\\u(?![dD][89a-fA-F])[0-9A-Fa-f]{4})*+"'
                      rb"(?:@[A-Za-z]+(?:-[A-Za-z0-9]+)*|\^\^(<[^>]*>))?")


def _term_ok(term: bytes, subject: bool = False) -> bool:
    if term[:1] == b"<":
        return _SAFE_IRI.fullmatch(term) is not None
    if term[:1] == b"_":
        return _BLANK.fullmatch(term) is not None
    if subject:
        return False
    m = _LITERAL.fullmatch(term)
    if m is None or (m.group(1) is not None and _SAFE_IRI.fullmatch(m.group(1)) is None):
        return False
    try:
        term.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_object(term: bytes, valid: set[bytes]) -> None:
    if not _term_ok(term):
        raise Unsure(f"a term the pass does not check: {term[:80]!r}")
    if term[:1] != b'"':
        _remember(valid, term)


def _remember(valid: set[bytes], term: bytes) -> None:
    if len(valid) > 300_000:
        valid.clear()
    valid.add(term)


def prove(path: str | Path, fmt: str = "nt", shapes: Any = None, jobs: int = 1,
          progress: Callable[[int], None] | None = None) -> Proof:
    """Read an N-Triples (``fmt="nt"``) or N-Quads (``"nq"``) file, plain or gzipped, once,
    and prove that it conforms to the shapes; see the module docstring. ``jobs`` > 1 reads
    a plain file larger than ``PART_MIN`` in that many parts at once (``_prove_parts``).
    ``progress`` is called now and then with the number of bytes read so far (of all parts;
    uncompressed bytes for a gzipped file)."""
    started = time.perf_counter()
    path = str(path)
    try:
        plan = _plan(shapes)
    except Unsupported as exc:
        return Proof(False, f"the shapes use {exc}, which only the exact engine evaluates")
    if jobs > 1 and os.path.getsize(path) >= PART_MIN and not _gzipped(path):
        proof = _prove_parts(plan, path, fmt, jobs, progress)
    else:
        state = _Pass(plan)
        _CURRENT.append(state)
        try:
            with _lines(path, report=progress) as lines:
                _scan(state, lines, fmt)
            state.finish()
            proof = Proof(True, "", state.triples, state.subjects)
        except Unsure as exc:
            proof = Proof(False, str(exc), state.triples, state.subjects)
        finally:
            _CURRENT.pop()
    proof.seconds = time.perf_counter() - started
    return proof


# -- in parts, on several cores -----------------------------------------------------------------

PART_MIN = 64 << 20  # smaller files are read in one part


def _gzipped(path: str) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def _part_starts(path: str, parts: int) -> list[int]:
    """Byte offsets that cut the file into ``parts`` parts between two subjects."""
    size = os.path.getsize(path)
    starts = [0]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            fh.seek(max(size * k // parts, starts[-1]))
            fh.readline()  # to a line start
            previous = None
            while True:
                at = fh.tell()
                line = fh.readline()
                if not line:
                    return starts
                subject = line.split(b" ", 1)[0]
                if previous is not None and subject != previous:
                    starts.append(at)
                    break
                previous = subject
    return starts


class _Scanned(NamedTuple):
    """A part's first reply: how its scan went, and what the other parts must settle."""

    reason: str  # empty when the part found nothing against conformance
    triples: int
    subjects: int
    pending: list[bytes]  # nodes it needs from other parts
    seen: set[int]  # hashes of its subjects
    incoming: dict[bytes, set[bytes]]  # objects of inverse-path predicates
    inverse: list[tuple[str, bytes, bytes]]  # (rule, predicate, node) to check

    @classmethod
    def failed(cls, reason: str, state: _Pass) -> _Scanned:
        return cls(reason, state.triples, state.subjects, [], set(), {}, [])


def _prove_parts(plan: _Plan, path: str, fmt: str, jobs: int,
                 progress: Callable[[int], None] | None = None) -> Proof:
    """Each part is read by a process of its own; what one part needs of nodes in another
    (the sequences at the end of the file, a parent just before the cut) is asked of the
    others in a second round, from the windows they end with. Each part counts the bytes it
    has read in shared memory, for ``progress``."""
    import multiprocessing

    starts = _part_starts(path, jobs)
    ends = [*starts[1:], None]
    context = multiprocessing.get_context("fork")
    done = context.RawArray("q", len(starts))  # bytes read by each part
    workers = []
    finished = [False]
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        here, there = context.Pipe()
        process = context.Process(target=_part_worker,
                                  args=(os.getpid(), plan, path, fmt, start, end, there,
                                        partial(done.__setitem__, k)),
                                  daemon=True)
        process.start()
        there.close()
        workers.append((process, here))
    try:
        def tick() -> None:
            if progress is not None:
                progress(sum(done))

        _await([conn for _, conn in workers], tick)
        first: list[_Scanned] = [conn.recv() for _, conn in workers]
        triples = sum(r.triples for r in first)
        subjects = sum(r.subjects for r in first)
        for reply in first:
            if reply.reason:
                return Proof(False, reply.reason, triples, subjects)
        seen_sets = [reply.seen for reply in first]
        for i, a in enumerate(seen_sets):
            for b in seen_sets[i + 1:]:
                if not a.isdisjoint(b):
                    return Proof(False, "the triples of a subject are in two parts of the file")
        wanted = sorted({node for reply in first for node in reply.pending})
        for _, conn in workers:
            conn.send(wanted)
        answers = [conn.recv() for _, conn in workers]
        facts: dict[bytes, dict[bytes, list[bytes]] | None] = {}
        for answer in answers:
            for node, props in answer.items():
                if props is None:
                    return Proof(False, f"{node.decode('utf-8', 'replace')} is needed more "
                                 f"than {WINDOW:,} subjects after its triples")
                facts[node] = props
        for _, conn in workers:
            conn.send(facts)
        last: list[str] = [conn.recv() for _, conn in workers]  # why not, or ""
        finished[0] = True
        for reason in last:
            if reason:
                return Proof(False, reason, triples, subjects)
        incoming: dict[bytes, set[bytes]] = {}
        for reply in first:
            for predicate, nodes in reply.incoming.items():
                incoming.setdefault(predicate, set()).update(nodes)
        for reply in first:
            for name, predicate, node in reply.inverse:
                if node not in incoming.get(predicate, ()):
                    return Proof(False, f"{name}: {node.decode('utf-8', 'replace')}",
                                 triples, subjects)
        return Proof(True, "", triples, subjects)
    except (EOFError, OSError) as exc:  # a part's process died (killed, out of memory)
        return Proof(False, f"a part of the pass ended early ({type(exc).__name__})")
    finally:
        # a worker still waiting for the next round is not needed any more (it would not see
        # its pipe close: the other workers hold copies of it)
        for process, conn in workers:
            conn.close()
            process.join(timeout=1 if finished[0] else 0)
            if process.is_alive():
                process.kill()
                process.join()


def _await(conns: list[Any], tick: Callable[[], None], every: float = 0.25) -> None:
    """Wait until each connection has a reply (or is closed), calling ``tick`` meanwhile."""
    from multiprocessing.connection import wait

    waiting = list(conns)
    while waiting:
        tick()
        ready = wait(waiting, timeout=every)
        waiting = [conn for conn in waiting if conn not in ready]
    tick()


def _part_worker(parent: int, plan: _Plan, path: str, fmt: str, start: int, end: int | None,
                 conn: Any, report: Callable[[int], None] | None = None) -> None:
    """One part: scan it, report what it needs of other parts, answer what they need of it,
    then settle its own checks with the answers."""
    from .forked import worker_setup

    worker_setup(parent)
    state = _Pass(plan)
    _CURRENT.append(state)
    try:
        try:
            with _lines(path, start, end, report) as lines:
                _scan(state, lines, fmt)
        except Unsure as exc:
            conn.send(_Scanned.failed(str(exc), state))
            return
        except Exception as exc:  # a fault here must not cost the user the verdict
            conn.send(_Scanned.failed(f"the pass failed ({type(exc).__name__}: {exc})", state))
            return
        inverse = [(name, prop.path, node) for prop, node, name in state.inverse_checks]
        conn.send(_Scanned("", state.triples, state.subjects, list(state.pending), state.seen,
                           state.incoming, inverse))
        wanted = conn.recv()
        answer: dict[bytes, dict[bytes, list[bytes]] | None] = {}
        for node in wanted:
            facts = state.window.get(node)
            if facts is not None:
                answer[node] = facts.props
            elif hash(node) in state.seen:
                answer[node] = None  # seen, but no longer in the window
        conn.send(answer)
        known = conn.recv()
        try:
            for node in list(state.pending):
                waiting = state.pending.pop(node)
                props = known.get(node)
                facts = _Facts(props) if props is not None else EMPTY
                for then in waiting:
                    then(facts)
            if state.pending:
                raise Unsure("a check needs a node that another part of the file holds")
            conn.send("")
        except Unsure as exc:
            conn.send(str(exc))
    finally:
        _CURRENT.pop()
        conn.close()
        # the parent has every answer: leave without freeing millions of objects one by one
        # (about 0.2 s a part)
        os._exit(0)
