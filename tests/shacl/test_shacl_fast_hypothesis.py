"""Random mutations of a conforming genome: whenever the exact engine finds a violation (or
Oxigraph cannot even read the file), the streaming proof (gff2rdf.shacl.proof) must not say
"conforms". And what the proof computes itself, held to Oxigraph: numeric bounds, compared as
Oxigraph holds numbers, and sh:pattern, matched as Oxigraph's regular expressions match.

The mutations drop, duplicate and move triples, change literals (their text and their
datatype), IRIs, predicates and rdf:type objects, swap objects, and reorder the subjects.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.database import DirectoryBasedExampleDatabase

import gff2rdf.shacl.proof as fast
from gff2rdf.shacl.oxigraph import validate_store
from gff2rdf.shacl.proof import prove
from gff2rdf.shacl.proof_compile import Unsupported, _plan, _python_regex
from gff2rdf.shacl.shapes import load_shapes
from gff2rdf.terms import literal as sparql_literal
from tests.conftest import ROOT
from tests.shacl.shacl_constraints import XSD
from tests.shacl.shacl_mutations import Graph, conforming_base, literal

DATABASE = DirectoryBasedExampleDatabase(ROOT / ".hypothesis" / "examples")
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
OBO = "http://purl.obolibrary.org/obo/"

__all__ = ["conforming_base"]  # the fixture "base", used here

@pytest.fixture(scope="module")
def shapes() -> object:
    return load_shapes()


# -- terms ----------------------------------------------------------------------------------

DATATYPES = [None, "string", "integer", "decimal", "double", "float", "boolean", "dateTime",
             "int", "nonNegativeInteger", "normalizedString"]
LEXICAL = st.one_of(
    st.integers(-(2 ** 70), 2 ** 70).map(str),
    st.sampled_from(["0", "-0", "+5", "05", " 5", "5 ", "1.5", ".5", "5.", "1e5", "1E400",
                     "NaN", "INF", "-INF", "inf", "true", "false", "1", "yes", "",
                     "2020-01-02T03:04:05Z", "2020-01-02", "0" * 64, "A" * 64,
                     "99999999999999999999", "1.0000000000000000001"]),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12))


@st.composite
def literals(draw: st.DrawFn) -> str:
    text = draw(LEXICAL)
    datatype = draw(st.sampled_from(DATATYPES))
    if datatype is None and draw(st.booleans()):
        return f"{literal(text)}@{draw(st.sampled_from(['en', 'EN', 'en-GB']))}"
    return literal(text, XSD + datatype if datatype else None)


def iris(base: Graph) -> st.SearchStrategy[str]:
    terms = sorted({t for s, p, o in base.triples for t in (s, o) if t.startswith("<")})
    return st.one_of(st.sampled_from(terms), st.sampled_from(
        ["<urn:test:new>", "_:b1", f"<{OBO}SO_0000704x>", f"<{OBO}SO_9999999>",
         f"<{OBO}so#SO_0000704>", "<https://w3id.org/gff2rdf/vocab#Segment>",
         "<http://biohackathon.org/resource/faldo#Region>"]))


# -- mutations --------------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, base: Graph) -> Graph:
    g = base.copy()
    predicates = sorted({p for _, p, _ in base.triples})
    for _ in range(draw(st.integers(1, 3))):
        n = len(g.triples)
        i = draw(st.integers(0, n - 1))
        s, p, o = g.triples[i]
        op = draw(st.sampled_from(["drop", "duplicate", "literal", "datatype", "object",
                                   "subject", "predicate", "type", "swap"]))
        if op == "drop":
            del g.triples[i]
        elif op == "duplicate":
            g.triples.insert(draw(st.sampled_from([i, n])), (s, p, o))
        elif op in ("literal", "datatype"):
            literals_at = [j for j, t in enumerate(g.triples) if t[2].startswith('"')]
            j = draw(st.sampled_from(literals_at))
            s, p, o = g.triples[j]
            if op == "literal":
                new = draw(literals())
            else:
                text = o[1:o.rfind('"')].encode().decode("unicode_escape")
                dt = draw(st.sampled_from(DATATYPES))
                new = literal(text, XSD + dt if dt else None)
            g.triples[j] = (s, p, new)
        elif op == "object":
            g.triples[i] = (s, p, draw(st.one_of(iris(base), literals())))
        elif op == "subject":
            g.triples[i] = (draw(iris(base).filter(lambda t: not t.startswith('"'))), p, o)
        elif op == "predicate":
            g.triples[i] = (s, draw(st.sampled_from(predicates)), o)
        elif op == "type":
            typed = [j for j, t in enumerate(g.triples) if t[1] == RDF_TYPE]
            j = draw(st.sampled_from(typed))
            g.triples[j] = (g.triples[j][0], RDF_TYPE, draw(iris(base)))
        else:
            same = [j for j, t in enumerate(g.triples) if t[1] == p and j != i]
            if same:
                j = draw(st.sampled_from(same))
                (a, _, x), (b, _, y) = g.triples[i], g.triples[j]
                g.triples[i], g.triples[j] = (a, p, y), (b, p, x)
    if draw(st.booleans()):  # another order of subjects (as Oxigraph writes them)
        g.order = {s: k for k, s in enumerate(sorted(g.order))}
    return g


def _text(g: Graph, grouped: bool) -> str:
    """Each subject's triples together in file order, or the triples as they lie (a moved or
    duplicated triple may then part its subject's lines)."""
    return g.text() if grouped else "".join(f"{s} {p} {o} .\n" for s, p, o in g.triples)


@settings(max_examples=150, deadline=None, database=DATABASE,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_whatever_the_exact_engine_rejects_is_never_proven(
        base: Graph, shapes: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        data: st.DataObject) -> None:
    g = data.draw(mutated(base))
    jobs = data.draw(st.sampled_from([1, 1, 1, 2]))
    monkeypatch.setattr(fast, "PART_MIN", 0)
    path = tmp_path / "mutated.nt"
    text = _text(g, data.draw(st.booleans()))
    path.write_text(text, "utf-8")
    proof = prove(path, shapes=shapes, jobs=jobs)
    store = ox.Store()
    try:
        store.load(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    except SyntaxError:
        event("not N-Triples")
        assert not proof.conforms, g.changes(base)
        return
    report = validate_store(store)
    event("a violation" if not report.conforms else "conforms")
    event(f"proven: {proof.conforms}")
    if not report.conforms:
        assert not proof.conforms, (report.summary(3), g.changes(base))


# -- numbers ----------------------------------------------------------------------------------

NUMERIC = ["integer", "decimal", "double", "float"]


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """A numeric literal, mostly well formed, often at the edges of Oxigraph's ranges."""
    datatype = draw(st.sampled_from(NUMERIC))
    sign = draw(st.sampled_from(["", "-", "+"]))
    whole = draw(st.one_of(st.integers(0, 10), st.integers(0, 2 ** 130))).__str__()
    if datatype == "integer":
        text = sign + whole
    elif datatype == "decimal":
        places = draw(st.text("0123456789", max_size=22))
        text = sign + whole + draw(st.sampled_from([".", ""])) + places
    else:
        text = draw(st.one_of(
            st.floats(allow_nan=True, allow_infinity=True, width=draw(st.sampled_from(
                [32, 64]))).map(lambda x: repr(x).replace("inf", "INF").replace("nan", "NaN")),
            st.sampled_from(["INF", "-INF", "+INF", "NaN", "1e39", "3.4028235e38", "0.1",
                             "1.0000001", ".5", "5.", "1E-50"]),
            st.just(sign + whole)))
    return literal(text, XSD + datatype)


@settings(max_examples=300, deadline=None, database=DATABASE)
@given(value=numbers(), bound=numbers(),
       name=st.sampled_from(["minInclusive", "maxInclusive", "minExclusive", "maxExclusive"]))
def test_a_bound_holds_for_the_proof_only_if_it_holds_for_oxigraph(value: str, bound: str,
                                                                  name: str) -> None:
    shapes = rdflib.Graph().parse(data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        <urn:s> sh:targetClass <urn:C> ; sh:property [ sh:path <urn:p> ; sh:{name} {bound} ] .
        """, format="turtle")
    try:
        plan = _plan(shapes)
    except Exception as exc:  # a bound the proof does not compare: it hands such shapes over
        assert "not a number" in str(exc)
        return
    (condition,) = plan.shapes[0].props[0].conditions
    op = {"minInclusive": ">=", "maxInclusive": "<=", "minExclusive": ">",
          "maxExclusive": "<"}[name]
    query = f"SELECT (COALESCE({value} {op} {bound}, false) AS ?ok) WHERE {{}}"
    exact = next(iter(ox.Store().query(query)))["ok"].value == "true"
    if condition.test(value.encode("utf-8"), None):
        assert exact, (value, op, bound)


# -- patterns ---------------------------------------------------------------------------------

ALPHABET = "ab0-.é _"


ATOMS = [*"ab0é_ ", ".", "\\.", "\\-", "\\\\", "\\$", "[ab]", "[^ab]", "[a-c]", "[0-9é]", "[\\]a]",
         "[-a]", "[^a-]", "[.]"]
BEYOND = ["\\d", "\\w", "\\s", "[[:alpha:]]", "[a&&b]", "[a--b]", "(?i)a", "a{,2}"]


@st.composite
def patterns(draw: st.DrawFn, depth: int = 0) -> str:
    """Regular expressions of the syntax the proof compiles (and, less often, beyond it)."""
    pieces = []
    for _ in range(draw(st.integers(1, 4))):
        atom = draw(st.one_of(
            st.sampled_from(ATOMS * 4 + BEYOND),
            *([patterns(depth + 1).map(lambda p: f"({p})"),
               patterns(depth + 1).map(lambda p: f"(?:{p}|b)")] if depth < 1 else [])))
        quantifier = draw(st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,2}", "{0,}", "*?"]))
        pieces.append(atom + quantifier)
    anchors = draw(st.sampled_from([("", ""), ("^", ""), ("", "$"), ("^", "$")]))
    return anchors[0] + "".join(pieces) + anchors[1]


@settings(max_examples=300, deadline=None, database=DATABASE)
@given(pattern=patterns(), text=st.text(ALPHABET + "\n", max_size=8))
def test_a_pattern_the_proof_compiles_matches_as_in_oxigraph(pattern: str, text: str) -> None:
    try:
        regex = _python_regex(pattern)
    except Unsupported:
        event("handed over")
        return
    event("compiled")
    query = f"SELECT (REGEX({sparql_literal(text)}, {sparql_literal(pattern)}) AS ?m) WHERE {{}}"
    found = next(iter(ox.Store().query(query)))["m"]
    if "\n" in text:  # the proof hands such values over
        return
    assert found is not None, pattern  # Oxigraph compiles it too
    assert (regex.search(text) is not None) == (found.value == "true"), (pattern, text)
