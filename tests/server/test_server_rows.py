"""Row counts read from pyoxigraph's serialised results (``gff2rdf.server.rows``): exact for every
format, whatever the terms hold and wherever the pieces are cut."""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gff2rdf.server.rows import KEEP, RESULT_FORMATS, CountingOutput, TooManyRows, _Counter

# Text that looks like the structure of each format: row starts, escapes, quotes, line breaks
NASTY = st.text(alphabet=st.sampled_from([*',{}[]"\\\r\n\t<>/result&;: ', "é", "\u2028"]),
                max_size=12)
TERMS = st.one_of(
    st.none(),
    NASTY.map(ox.Literal),
    st.tuples(NASTY, st.sampled_from(["en", "fr-be"])).map(
        lambda t: ox.Literal(t[0], language=t[1])),
    st.integers(-5, 5).map(ox.Literal),
    st.sampled_from(["http://e/a", "http://e/b?x=1#f", "urn:x"]).map(ox.NamedNode),
    st.sampled_from(["b0", "b1"]).map(ox.BlankNode),
)


def _result(rows: list[list[ox.Literal | ox.NamedNode | ox.BlankNode | None]],
            fmt: str) -> bytes:
    """The rows as pyoxigraph serialises a SELECT of them (a VALUES clause)."""
    store = ox.Store()
    if not rows:
        query = "SELECT ?a ?b WHERE { FILTER(false) }"
        return bytes(store.query(query).serialize(format=RESULT_FORMATS[fmt]) or b"")
    names = ["a", "b"]
    values = " ".join("(" + " ".join("UNDEF" if t is None else
                                     (f"<{t.value}>" if isinstance(t, ox.NamedNode) else str(t))
                                     for t in row) + ")" for row in rows)
    blanks = any(isinstance(t, ox.BlankNode) for row in rows for t in row)
    if blanks:  # VALUES cannot hold blank nodes: bind them from strings
        values = values.replace("_:b0", '"_:b0"').replace("_:b1", '"_:b1"')
        query = (f"SELECT ?a ?b WHERE {{ VALUES (?a0 ?b0) {{ {values} }} "
                 "BIND(IF(STRSTARTS(STR(?a0), '_:'), BNODE(STR(?a0)), ?a0) AS ?a) "
                 "BIND(IF(STRSTARTS(STR(?b0), '_:'), BNODE(STR(?b0)), ?b0) AS ?b) }")
    else:
        query = f"SELECT ?{names[0]} ?{names[1]} WHERE {{ VALUES (?a ?b) {{ {values} }} }}"
    return bytes(store.query(query).serialize(format=RESULT_FORMATS[fmt]) or b"")


def _count(data: bytes, fmt: str, cuts: list[int]) -> int:
    counter = _Counter(fmt)
    last = 0
    for cut in [*sorted({min(c, len(data)) for c in cuts}), len(data)]:
        counter.feed(data[last:cut])
        last = cut
    return counter.rows


@settings(max_examples=300, deadline=None)
@given(rows=st.lists(st.lists(TERMS, min_size=2, max_size=2), max_size=8),
       fmt=st.sampled_from(sorted(RESULT_FORMATS)),
       cuts=st.lists(st.integers(0, 2000), max_size=12))
def test_the_count_is_exact_wherever_the_pieces_are_cut(
        rows: list[list[ox.Literal | None]], fmt: str, cuts: list[int]) -> None:
    data = _result(rows, fmt)
    assert _count(data, fmt, cuts) == len(rows), data


@pytest.mark.parametrize("fmt", sorted(RESULT_FORMATS))
def test_every_byte_a_piece(fmt: str) -> None:
    rows = [[ox.Literal('a,{"b\\\r\n<result>'), ox.NamedNode("http://e/x")],
            [None, ox.Literal("")], [ox.Literal("\\"), None]]
    data = _result(rows, fmt)
    assert _count(data, fmt, list(range(len(data)))) == 3


@pytest.mark.parametrize("fmt", sorted(RESULT_FORMATS))
def test_the_limit_stops_the_serialiser(fmt: str) -> None:
    store = ox.Store()
    query = "SELECT ?x ?y WHERE { VALUES ?x { 1 2 3 4 5 6 7 8 9 10 } VALUES ?y { 1 2 3 } }"
    out = io.BytesIO()
    counting = CountingOutput(out, fmt, limit=30)
    store.query(query).serialize(counting, RESULT_FORMATS[fmt])  # type: ignore[union-attr, arg-type]
    assert out.getvalue() == store.query(query).serialize(  # type: ignore[union-attr]
        format=RESULT_FORMATS[fmt])
    with pytest.raises(TooManyRows, match="more than 29 rows"):
        store.query(query).serialize(  # type: ignore[union-attr]
            CountingOutput(io.BytesIO(), fmt, limit=29), RESULT_FORMATS[fmt])  # type: ignore[arg-type]


def test_a_result_far_below_the_limit_is_not_counted() -> None:
    store = ox.Store()
    counting = CountingOutput(io.BytesIO(), "json", limit=100_000)
    store.query("SELECT * { VALUES ?x { 1 2 } }").serialize(  # type: ignore[union-attr]
        counting, RESULT_FORMATS["json"])  # type: ignore[arg-type]
    assert counting.rows is None


def test_a_large_result_is_counted_from_the_start_once_kept_bytes_run_out() -> None:
    rows = KEEP // 40 + 1000  # more than KEEP bytes of TSV, fewer rows than the limit
    store = ox.Store()
    query = f"SELECT ?x WHERE {{ VALUES ?y {{ {' '.join(map(str, range(rows // 10)))} }} " \
            "VALUES ?z { 0 1 2 3 4 5 6 7 8 9 } BIND(CONCAT('some padding here ', STR(?y)) AS ?x) }"
    counting = CountingOutput(io.BytesIO(), "tsv", limit=10 * rows)
    store.query(query).serialize(counting, RESULT_FORMATS["tsv"])  # type: ignore[union-attr, arg-type]
    assert counting.rows == (rows // 10) * 10
