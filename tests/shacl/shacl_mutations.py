"""Mutations of conforming N-Triples that break one constraint of the shapes (for
tests/shacl/test_shacl_fast_mutations.py, which holds the streaming proof to them).

``Mutator.mutations`` yields mutated copies of a ``Graph`` meant to violate one ``Constraint``
(``tests/shacl/shacl_constraints.py``): a focus node of its top-level shape is found in the data
and, step by step down the route from that shape to the constraint, values are changed so that the
constraint decides: a value of the wrong datatype, kind or pattern, a type removed, a value
missing or one too many, the values of a qualified shape made to fail (or new ones added that
conform), a node targeted only by the target under test. The exact engine, under the shapes
isolated to the constraint, decides which of them are violations.

A parameter without a generator raises ``NoGenerator`` with its name; so does a SPARQL
constraint without an entry in ``SPARQL``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

import pyoxigraph as ox
import pytest

from gff2rdf.conversion.api import convert
from tests.conftest import DATA
from tests.shacl.shacl_constraints import (
    CONSTRAINTS,
    FALDO,
    SH,
    TARGETS,
    XSD,
    Constraint,
    NoGenerator,
    Shapes,
    short,
)

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
Triple = tuple[str, str, str]


# -- the data ------------------------------------------------------------------------------


class Graph:
    """Triples as N-Triples terms, written back in the order of the original file: each
    subject's triples together, where the subject first was (new subjects at the end)."""

    def __init__(self, triples: list[Triple], order: dict[str, int]) -> None:
        self.triples = list(triples)
        self.order = order

    @classmethod
    def parse(cls, text: str) -> Graph:
        triples = []
        for line in text.splitlines():
            s, p, rest = line.split(" ", 2)
            assert rest.endswith(" ."), line
            triples.append((s, p, rest[:-2]))
        order: dict[str, int] = {}
        for s, _, _ in triples:
            order.setdefault(s, len(order))
        return cls(triples, order)

    def copy(self) -> Graph:
        return Graph(self.triples, self.order)

    def text(self) -> str:
        rank = dict(self.order)
        for s, _, _ in self.triples:
            rank.setdefault(s, len(rank))
        ordered = sorted(self.triples, key=lambda t: rank[t[0]])
        return "".join(f"{s} {p} {o} .\n" for s, p, o in ordered)

    def changes(self, base: Graph) -> list[str]:
        """What this graph changed in ``base``, as "- triple" and "+ triple" lines."""
        before, after = set(base.triples), set(self.triples)
        return [f"- {' '.join(t)}" for t in base.triples if t not in after] + [
            f"+ {' '.join(t)}" for t in self.triples if t not in before]

    def objects(self, s: str, p: str) -> list[str]:
        return [o for a, b, o in self.triples if a == s and b == p]

    def subjects(self, p: str, o: str | None = None) -> list[str]:
        found = [a for a, b, c in self.triples if b == p and (o is None or c == o)]
        return list(dict.fromkeys(found))

    def remove(self, s: str | None, p: str, o: str | None = None) -> None:
        self.triples = [t for t in self.triples if not (
            (s is None or t[0] == s) and t[1] == p and (o is None or t[2] == o))]

    def add(self, s: str, p: str, o: str) -> None:
        if (s, p, o) not in self.triples:
            self.triples.append((s, p, o))

    def put(self, where: Triple, o: str) -> None:
        """The object of ``where`` becomes ``o`` (``where`` with object "": a new triple)."""
        if where[2]:
            self.triples = [(t[0], t[1], o) if t == where else t for t in self.triples]
        else:
            self.add(where[0], where[1], o)



@pytest.fixture(scope="module", name="base")
def conforming_base(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    """The fixture ``base``: a conforming graph, the plastome (circular, segments, Dbxrefs)
    and the PASA file (linear, column 3 kept as written, derives_from), converted as two
    genomes. The test modules that mutate it import it."""
    tmp = tmp_path_factory.mktemp("base")
    text = ""
    for name, assembly in (("plastome_rps12_trans_spliced.gff3", "TAIR10"),
                           ("type_case.gff3", "PASA-test")):
        out = tmp / (name + ".nt")
        convert(DATA / name, out, species="Arabidopsis thaliana", taxon="3702",
                assembly=assembly, annotation="test")
        text += out.read_text("utf-8")
    return Graph.parse(text)


# -- the mutations -------------------------------------------------------------------------


def literal(text: str, datatype: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"' + (f"^^<{datatype}>" if datatype else "")


def lexical(term: str) -> tuple[str, str | None]:
    """(lexical form, datatype IRI or None) of a literal term; the IRI of an IRI."""
    if term.startswith("<"):
        return term[1:-1], None
    if not term.startswith('"'):
        return term, None
    end = term.rfind('"')
    text = term[1:end].encode().decode("unicode_escape") if "\\" in term[1:end] else term[1:end]
    suffix = term[end + 1:]
    return text, suffix[3:-1] if suffix.startswith("^^") else None


def spread(items: list[str], n: int = 3) -> list[str]:
    """Up to ``n`` items from the start, the middle and the end."""
    picks = [items[0], items[len(items) // 2], items[-1]] if items else []
    return list(dict.fromkeys(picks))[:n]


# values that break a numeric bound for the exact engine: below or above it, not a number,
# or a number Oxigraph cannot hold (64-bit integers, 18 decimal places)
def _numbers(bound: float, below: bool) -> list[str]:
    step = -1 if below else 1
    whole = int(bound) + step
    sign = "-" if below else ""
    return [literal(str(whole), XSD + "integer"), literal(f"{bound + step / 2}", XSD + "decimal"),
            literal(f"{sign}INF", XSD + "double"), literal("NaN", XSD + "double"),
            literal(str(int(bound)), None), literal("99999999999999999999", XSD + "integer"),
            literal("-99999999999999999999", XSD + "integer"),
            literal("1.0000000000000000001", XSD + "decimal"),
            literal("1e39", XSD + "float"), literal("0.1", XSD + "float")]


_WELL_FORMED_EXAMPLES = {"integer": "7", "decimal": "7.5", "double": "7.5E0", "float": "7.5",
                         "boolean": "true", "dateTime": "2020-01-02T03:04:05Z", "string": "x"}


class Mutator:
    """Mutated copies of ``base`` meant to violate one constraint (see the module docstring)."""

    def __init__(self, shapes: Shapes, base: Graph) -> None:
        self.shapes = shapes
        self.base = base
        self.fresh = 0

    def new_iri(self, what: str) -> str:
        self.fresh += 1
        return f"<urn:test:{what}-{self.fresh}>"

    # the nodes a top-level shape targets in the data
    def foci(self, g: Graph, top: Any, only: tuple[str, Any] | None = None) -> list[str]:
        found: list[str] = []
        for t in TARGETS:
            for o in self.shapes.g.objects(top, self.shapes.sh[t]):
                if only is not None and (t, o) != only:
                    continue
                term = f"<{o}>"
                if t == "targetClass":
                    found += g.subjects(RDF_TYPE, term)
                elif t == "targetSubjectsOf":
                    found += g.subjects(term)
                elif t == "targetObjectsOf":
                    found += [c for a, b, c in g.triples if b == term]
                else:
                    found.append(term)
        return list(dict.fromkeys(found))

    def mutations(self, c: Constraint) -> Iterator[Graph]:
        node = self.shapes.label.node(c.shape)
        route = self.shapes.routes.get(node)
        if route is None:
            raise NoGenerator(f"{c.shape} is not reached from any shape with targets")
        top = route[0][0]
        if c.parameter in TARGETS:
            yield from self.target(top, c)
            return
        if c.parameter not in CONSTRAINTS:
            raise NoGenerator(f"sh:{c.parameter}")
        value = self.shapes.value(c)
        foci = self.foci(self.base, top)
        for focus in dict.fromkeys([*spread(foci), *foci]):
            yield from self.route(self.base.copy(), focus, None, top, route[1:], c.parameter,
                                  value)

    def target(self, top: Any, c: Constraint) -> Iterator[Graph]:
        """A node targeted by this target alone (made so if the data has none) breaks any
        constraint of the shape."""
        target = (c.parameter, self.shapes.value(c))
        g = self.base.copy()
        foci = self.foci(g, top, target)
        if not foci:
            others = self.foci(g, top) or [s for s, p, _ in g.triples if p == RDF_TYPE]
            foci = spread(others, 2)
            term = f"<{target[1]}>"
            for focus in foci:
                if c.parameter == "targetClass":
                    g.add(focus, RDF_TYPE, term)
                elif c.parameter == "targetSubjectsOf":
                    g.add(focus, term, literal("x"))
                elif c.parameter == "targetObjectsOf":
                    g.add(self.new_iri("holder"), term, focus)
                else:
                    raise NoGenerator(f"sh:{c.parameter}")
        for focus in spread(foci):
            yield from self.any(g.copy(), focus, None, top)

    # -- down the route to the constraint --

    def route(self, g: Graph, v: str, where: Triple | None, shape: Any,
              steps: list[tuple[Any, str]], parameter: str, value: Any) -> Iterator[Graph]:
        """Make ``v`` (held by ``where``) fail ``shape`` through ``steps``, at last by breaking
        ``parameter`` = ``value`` of the last shape of the route."""
        if not steps:
            yield from self.constraint(g, v, where, shape, parameter, value)
            return
        (child, edge), rest = steps[0], steps[1:]
        if edge == "property":
            if not rest:
                yield from self.constraint(g, v, where, child, parameter, value)
            elif rest[0][1] == "qualifiedValueShape":
                yield from self.qualified(g, v, child, rest[1:], parameter, value)
            else:
                for w, held in self.values(g, v, child, 1):
                    h, w, held = self.held(g, w, held)
                    yield from self.route(h, w, held, child, rest, parameter, value)
        elif edge in ("node", "and"):
            yield from self.route(g, v, where, child, rest, parameter, value)
        elif edge == "or":
            lists = [o for o in self.shapes.g.objects(shape, self.shapes.sh["or"])
                     if child in self.shapes.members(o)]
            others = [m for m in self.shapes.members(lists[0]) if m != child]
            for first in islice(self.route(g, v, where, child, rest, parameter, value), 3):
                yield from self.fail_all(first, v, where, others)
        else:
            raise NoGenerator(f"a constraint inside sh:{edge}")

    def values(self, g: Graph, v: str, prop: Any, missing: int) -> list[tuple[str, Triple]]:
        """The values of a property shape's path at ``v`` (or ``missing`` new ones: "")."""
        predicate, inverse = self.shapes.path(prop)
        if inverse:
            raise NoGenerator(f"a value constraint on the inverse path of "
                              f"{self.shapes.label(prop)}")
        found = [(o, (v, predicate, o)) for o in g.objects(v, predicate)]
        return found or [("", (v, predicate, ""))] * missing

    def held(self, g: Graph, w: str, held: Triple) -> tuple[Graph, str, Triple]:
        """A copy of ``g`` with the value ``w``: a new node without triples if ``w`` is ""."""
        h = g.copy()
        if not w:
            w = self.new_iri("value")
            held = (held[0], held[1], w)
            h.add(*held)
        return h, w, held

    def fail_all(self, g: Graph, v: str, where: Triple | None, members: list[Any]
                 ) -> Iterator[Graph]:
        if not members:
            yield g
            return
        for first in islice(self.any(g, v, where, members[0]), 2):
            yield from self.fail_all(first, v, where, members[1:])

    def any(self, g: Graph, v: str, where: Triple | None, shape: Any) -> Iterator[Graph]:
        """Make ``v`` fail ``shape`` by breaking any one of its constraints."""
        for name, value in self.shapes.constraints_of(shape):
            try:
                yield from self.constraint(g, v, where, shape, name, value)
            except NoGenerator:
                continue
        for prop in sorted(self.shapes.g.objects(shape, self.shapes.sh.property), key=str):
            for name, value in self.shapes.constraints_of(prop):
                try:
                    yield from self.constraint(g, v, where, prop, name, value)
                except NoGenerator:
                    continue

    def qualified(self, g: Graph, v: str, prop: Any, rest: list[tuple[Any, str]],
                  parameter: str, value: Any) -> Iterator[Graph]:
        """Too few values of ``prop`` conform to its qualified shape (every one made to fail,
        through ``rest`` when the constraint lies inside it), or too many (new ones)."""
        shape = self.shapes.one(prop, "qualifiedValueShape")
        if self.shapes.one(prop, "qualifiedMinCount") is not None:
            values = self.values(g, v, prop, 1)

            def fail(h: Graph, w: str, held: Triple) -> Iterator[Graph]:
                h, w, held = self.held(h, w, held)
                if rest or (parameter, value) in self.shapes.constraints_of(shape):
                    return self.route(h, w, held, shape, rest, parameter, value)
                return self.any(h, w, held, shape)
            yield from self.each(g, values, fail)
            return
        most = self.shapes.one(prop, "qualifiedMaxCount")
        if most is None or rest:
            raise NoGenerator(f"the qualified shape of {self.shapes.label(prop)}")
        predicate, _ = self.shapes.path(prop)
        good = self.conforming(shape)
        if len(good) <= int(most):
            raise NoGenerator(f"values conforming to the qualified shape of "
                              f"{self.shapes.label(prop)}")
        h = g.copy()
        for term in good:  # all of them: more than the most allowed
            h.add(v, predicate, term)
        yield h

    def each(self, g: Graph, values: list[tuple[str, Triple]],
             fail: Callable[[Graph, str, Triple], Iterator[Graph]]) -> Iterator[Graph]:
        """``fail`` applied to every value in turn (the first ways of each)."""
        if not values:
            yield g
            return
        (w, held), rest = values[0], values[1:]
        for first in islice(fail(g, w, held), 2):
            yield from self.each(first, rest, fail)

    def conforming(self, shape: Any) -> list[str]:
        """Terms that conform to a nested shape (only ``sh:in`` ones are made here)."""
        for name, value in self.shapes.constraints_of(shape):
            if name == "in":
                from gff2rdf.shacl.shapes import rdflib_term

                return [rdflib_term(t) for t in self.shapes.members(value)]
        raise NoGenerator(f"a term conforming to {self.shapes.label(shape)}")

    # -- one constraint --

    def constraint(self, g: Graph, v: str, where: Triple | None, shape: Any, name: str,
                   value: Any) -> Iterator[Graph]:
        """Make ``v`` fail ``name`` = ``value`` of ``shape`` (a node or a property shape)."""
        is_property = self.shapes.one(shape, "path") is not None
        if is_property and name in ("minCount", "maxCount", "qualifiedMinCount",
                                    "qualifiedMaxCount"):
            yield from self.count(g, v, shape, name, int(value))
            return
        if is_property:
            for w, held in self.values(g, v, shape, 1):
                h, w, held = self.held(g, w, held)
                yield from self.term(h, w, held, shape, name, value)
            return
        yield from self.term(g, v, where, shape, name, value)

    def count(self, g: Graph, v: str, prop: Any, name: str, n: int) -> Iterator[Graph]:
        predicate, inverse = self.shapes.path(prop)
        if name == "minCount":
            h = g.copy()
            if inverse:
                h.remove(None, predicate, v)
            else:
                h.remove(v, predicate)
            yield h
        elif name == "maxCount":
            if inverse:
                raise NoGenerator("sh:maxCount on an inverse path")
            have = g.objects(v, predicate)
            elsewhere = [o for s, p, o in g.triples if p == predicate and o not in have]
            made = [literal(f"extra value {i}") for i in range(n + 1)]
            for extra in (list(dict.fromkeys(elsewhere)), self.good(prop, n + 1), made):
                if len(have) + len(extra) > n:
                    h = g.copy()
                    for o in extra[:n + 1 - len(have)]:
                        h.add(v, predicate, o)
                    yield h
        else:  # the qualified counts: the route's own qualified()
            yield from self.qualified(g, v, prop, [], "", None)

    def good(self, prop: Any, n: int) -> list[str]:
        """``n`` distinct values that a property shape's datatype or class allows."""
        datatype = self.shapes.one(prop, "datatype")
        if datatype is not None:
            example = _WELL_FORMED_EXAMPLES.get(str(datatype).rsplit("#", 1)[-1], "x")
            dt = None if str(datatype) == XSD + "string" else str(datatype)
            return [literal(example if i == 0 or dt != XSD + "integer" else str(i + 7), dt)
                    if dt != XSD + "boolean" else literal(["true", "false", "1"][i % 3], dt)
                    for i in range(n)]
        cls = self.shapes.one(prop, "class")
        if cls is not None:
            return self.base.subjects(RDF_TYPE, f"<{cls}>")[:n]
        return [self.new_iri("value") for _ in range(n)]

    def term(self, g: Graph, w: str, where: Triple | None, shape: Any, name: str,
             value: Any) -> Iterator[Graph]:
        """Make the term ``w`` (held by ``where``) fail ``name`` = ``value``."""
        if name == "class":
            cls = f"<{value}>"
            if cls in g.objects(w, RDF_TYPE):
                h = g.copy()
                h.remove(w, RDF_TYPE, cls)
                yield h
            elif w:
                yield g.copy()  # not one already (an sh:or's other member)
            if where is not None:
                others = [s for s in dict.fromkeys(s for s, p, _ in g.triples if p == RDF_TYPE)
                          if cls not in g.objects(s, RDF_TYPE)]
                for other in [self.new_iri("untyped"), *others[:1]]:
                    h = g.copy()
                    h.put(where, other)
                    yield h
        elif name == "node":
            yield from self.any(g, w, where, value)
        elif name == "or":
            yield from self.fail_all(g, w, where, self.shapes.members(value))
        elif name == "and":
            for member in self.shapes.members(value):
                yield from self.any(g, w, where, member)
        elif name == "sparql":
            local = str(value).rsplit("#", 1)[-1]
            if local not in SPARQL:
                raise NoGenerator(f"the SPARQL constraint {short(value)}")
            yield from SPARQL[local](self, g, w)
        elif name in _BAD_TERMS:
            if where is None:
                raise NoGenerator(f"sh:{name} on a focus node itself")
            for bad in _BAD_TERMS[name](value, w):
                h = g.copy()
                h.put(where, bad)
                yield h
        else:
            raise NoGenerator(f"sh:{name}")


def _bad_datatype(value: Any, w: str) -> list[str]:
    text = lexical(w)[0] if w else _WELL_FORMED_EXAMPLES.get(str(value).rsplit("#")[-1], "7")
    dt = str(value)
    if dt == XSD + "string":
        return [f"{literal(text)}@en", literal(text, XSD + "normalizedString"),
                "<urn:test:iri>"]
    other = XSD + ("decimal" if dt == XSD + "integer" else "string")
    return [literal(text, other), literal(text + "x", dt), literal(" " + text, dt),
            literal(text + "\n", dt), literal(text, None), "_:notLiteral"]


def _bad_node_kind(value: Any, w: str) -> list[str]:
    kinds = {"<urn:test:iri>": ("IRI", "BlankNodeOrIRI", "IRIOrLiteral"),
             "_:node": ("BlankNode", "BlankNodeOrIRI", "BlankNodeOrLiteral"),
             literal("text"): ("Literal", "BlankNodeOrLiteral", "IRIOrLiteral")}
    kind = str(value)[len(SH):]
    return [term for term, allowed in kinds.items() if kind not in allowed]


def _bad_pattern(value: Any, w: str) -> list[str]:
    text, dt = lexical(w) if w else ("x", None)
    out = []
    for changed in (text + "!", "!" + text, text.swapcase(), text[:-1], text + "\n"):
        if re.search(str(value), changed) is not None:
            continue
        if not w.startswith("<"):
            out.append(literal(changed, dt))
        elif _iri_ok(changed):
            out.append(f"<{changed}>")
    return [*out, "_:noText"]


def _iri_ok(text: str) -> bool:
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def _bad_member(value: Any, w: str) -> list[str]:
    return ["<urn:test:not-listed>", literal("not listed")]


def _bad_value(value: Any, w: str) -> list[str]:
    return ["<urn:test:other-value>", literal("other value")]


def _bound(below: bool) -> Callable[[Any, str], list[str]]:
    def bad(value: Any, w: str) -> list[str]:
        return _numbers(float(value), below)
    return bad


def _length(shorter: bool) -> Callable[[Any, str], list[str]]:
    def bad(value: Any, w: str) -> list[str]:
        n = int(value) + (-1 if shorter else 1)
        return [literal("x" * max(n, 0)), "_:noText"]
    return bad


_BAD_TERMS: dict[str, Callable[[Any, str], list[str]]] = {
    "datatype": _bad_datatype, "nodeKind": _bad_node_kind, "pattern": _bad_pattern,
    "in": _bad_member, "hasValue": _bad_value, "minInclusive": _bound(True),
    "minExclusive": _bound(True), "maxInclusive": _bound(False), "maxExclusive": _bound(False),
    "minLength": _length(True), "maxLength": _length(False)}


# -- the SPARQL constraints, one generator each (by the constraint's local name) -------------

BEGIN, END = f"<{FALDO}begin>", f"<{FALDO}end>"
FORWARD, REVERSE = f"<{FALDO}ForwardStrandPosition>", f"<{FALDO}ReverseStrandPosition>"


def _region_order(m: Mutator, g: Graph, region: str) -> Iterator[Graph]:
    """Begin and end swapped: the 5' end after the 3' end."""
    for b in g.objects(region, BEGIN):
        for e in g.objects(region, END):
            h = g.copy()
            h.remove(region, BEGIN, b)
            h.remove(region, END, e)
            h.add(region, BEGIN, e)
            h.add(region, END, b)
            yield h


def _end_copy(m: Mutator, g: Graph, region: str,
              change: Callable[[Graph, str], None]) -> Iterator[Graph]:
    """The region's end replaced by a copy of it, changed."""
    for e in g.objects(region, END):
        h = g.copy()
        new = m.new_iri("end")
        for s, p, o in g.triples:
            if s == e:
                h.add(new, p, o)
        change(h, new)
        h.remove(region, END, e)
        h.add(region, END, new)
        yield h


def _region_one_strand(m: Mutator, g: Graph, region: str) -> Iterator[Graph]:
    def flip(h: Graph, node: str) -> None:
        types = h.objects(node, RDF_TYPE)
        h.remove(node, RDF_TYPE, FORWARD)
        h.remove(node, RDF_TYPE, REVERSE)
        h.add(node, RDF_TYPE, REVERSE if FORWARD in types else FORWARD)
    yield from _end_copy(m, g, region, flip)


def _region_one_reference(m: Mutator, g: Graph, region: str) -> Iterator[Graph]:
    reference = f"<{FALDO}reference>"
    sequences = list(dict.fromkeys(o for _, p, o in g.triples if p == reference))

    def move(h: Graph, node: str) -> None:
        now = h.objects(node, reference)
        h.remove(node, reference)
        h.add(node, reference, next((s for s in sequences if s not in now),
                                    "<urn:test:other-sequence>"))
    yield from _end_copy(m, g, region, move)


SPARQL: dict[str, Callable[[Mutator, Graph, str], Iterator[Graph]]] = {
    "RegionOrder": _region_order, "RegionOneStrand": _region_one_strand,
    "RegionOneReference": _region_one_reference}
