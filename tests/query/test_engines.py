"""Same answers everywhere: canned queries on the embedded store, the Oxigraph server and
Virtuoso 7.2 holding the same genome versions (issue 19).

The embedded store is loaded from two shared-corpus genomes (with their bin indexes); every
graph of it is then written, unchanged, into an ``oxigraph serve`` and into the tests' own
Virtuoso (tests/virtuoso.py) over the Graph Store Protocol, so the three hold identical quads.
Each query runs with several parameter sets and the rows must be equal as multisets (the
queries' ORDER BY leaves ties in engine order).

What Virtuoso 7.2 needs (issue 19, item 2), found by running pieces of the queries on it:

* a property path (``*``, ``+``, even ``?``) must have its free end projected by the
  (sub-)query that holds it, and must not sit in an aggregated group: ``SELECT ?gene WHERE {
  ?gene dcterms:identifier "X" . ?f so:part_of* ?gene }`` is refused ("Query contains a
  transitive derived table but neither end of it is bound"), ``SELECT ?f ...`` answers; with
  parameter ``VALUES`` blocks around, the same query may instead never answer and hold the
  server (no ASK answered after it). So ``gene`` finds the model in a ``SELECT DISTINCT``
  sub-query projecting every path end, and groups around it;
* ``GROUP_CONCAT`` over no values gives ``""`` on Virtuoso, unbound on Oxigraph: ``gene``
  turns ``""`` into unbound.

Not yet here, because Virtuoso evaluates them differently (rewriting them must keep the
embedded store's answers and speed): ``nearest-genes``
without a bin index (no answer within 20 s; the issue reports
forward-strand genes missing; its index plan, tested here, agrees once Virtuoso's
MaxQueryCostEstimationTime is 0, else it is refused by a wrong estimate), ``genes-by-term``
(no rows on Virtuoso with goslim_plant loaded, e.g. GO:0003676 on ITAG2.3, 2 rows elsewhere;
its pieces agree on their own: the term-or-descendant UNION joined to up:classifiedWith, and
the ``*`` path from the annotated feature; projecting the zero-or-one paths' ends from a
sub-query, as ``gene`` does, still gives no rows, so the cause is in the remaining filters,
``FILTER EXISTS { ?gene a ?gene_class }`` with the classes' VALUES, or the IF/BIND),
``version-diff`` (Virtuoso refuses its transitive path: "neither end of it is bound"), and the
federated ``uniprot-go`` and ``genes-by-term-ubergraph``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from gff2rdf.query.canned import get_query
from gff2rdf.store.endpoint import Credentials, Endpoint
from gff2rdf.store.store import GenomeStore
from tests.conftest import mikado_and_itag_store
from tests.servers import oxigraph_server
from tests.virtuoso import VirtuosoServer

G_MIKADO = "arabidopsis_thaliana/TAIR10/mikado"
G_ITAG = "solanum_lycopersicum/SL2.40/ITAG2.3"

CASES: list[tuple[str, dict[str, str]]] = [
    ("genome-versions", {}),
    ("type-counts", {"genome": G_MIKADO}),
    ("type-counts", {"genome": G_ITAG}),
    ("region", {"genome": G_MIKADO, "seqid": "Chr5", "start": "26575000", "end": "26590000"}),
    ("region", {"genome": G_MIKADO, "seqid": "Chr5", "start": "26583500", "end": "26583520"}),
    ("region", {"genome": G_ITAG, "seqid": "SL2.40ch01", "start": "81000000",
                "end": "81007000"}),
    ("region", {"genome": G_ITAG, "seqid": "SL2.40ch02", "start": "1", "end": "100"}),
    # the bin-index plan (the graphs copied include the indexes)
    ("nearest-genes", {"genome": G_MIKADO, "seqid": "Chr5", "position": "26600000"}),
    ("nearest-genes", {"genome": G_MIKADO, "seqid": "Chr5", "position": "26583500",
                       "n": "3"}),
    ("nearest-genes", {"genome": G_ITAG, "seqid": "SL2.40ch01", "position": "81004400"}),
    # a gene by ID, by Name, and through a provider prefix (gene:) and an Alias
    ("gene", {"genome": G_MIKADO, "id": "AT5G66600"}),
    ("gene", {"genome": G_MIKADO, "id": "AT5G66610"}),
    ("gene", {"genome": G_ITAG, "id": "Solyc01g098840"}),
    ("qc-missing-parents", {"genome": G_MIKADO}),
    ("qc-missing-parents", {"genome": G_ITAG}),
    ("qc-transcripts-without-exons", {"genome": G_MIKADO}),
    ("qc-transcripts-without-exons", {"genome": G_ITAG}),
]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return mikado_and_itag_store(tmp_path_factory.mktemp("engines") / "store")


def _copy(store_dir: Path, endpoint: Endpoint, work: Path) -> int:
    """Write every named graph of the store into the endpoint; the number of quads."""
    raw = ox.Store.read_only(str(store_dir))
    total = 0
    for graph in raw.named_graphs():
        quads = list(raw.quads_for_pattern(None, None, None, graph))
        total += len(quads)
        nt = work / "graph.nt"
        ox.serialize((ox.Triple(q.subject, q.predicate, q.object) for q in quads), str(nt),
                     ox.RdfFormat.N_TRIPLES)
        endpoint.put_graph(graph.value, nt)
    return total


@pytest.fixture(scope="module")
def served_by_oxigraph(store_dir: Path, tmp_path_factory: pytest.TempPathFactory
                       ) -> Iterator[str]:
    location = tmp_path_factory.mktemp("oxigraph-server")
    with oxigraph_server(location) as (url, _):
        with Endpoint.for_url(f"{url}/store") as endpoint:
            _copy(store_dir, endpoint, location)
        yield f"{url}/query"


@pytest.fixture(scope="module")
def virtuoso_loaded(store_dir: Path, virtuoso: VirtuosoServer) -> str:
    auth = Credentials(virtuoso.user, virtuoso.password).auth()
    with Endpoint.for_url(f"{virtuoso.url}/sparql-graph-crud-auth", auth=auth) as endpoint:
        copied = _copy(store_dir, endpoint, virtuoso.directory)
        graphs = " ".join(f"<{g.value}>" for g in
                          ox.Store.read_only(str(store_dir)).named_graphs())
        rows = endpoint.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {graphs} }} "
                               "GRAPH ?g { ?s ?p ?o } }")
        assert int(rows[0]["n"]) == copied > 5_000  # the same quads as the embedded store
    return f"{virtuoso.url}/sparql"


def _rows(result: list[dict[str, str]]) -> Counter[tuple[tuple[str, str], ...]]:
    return Counter(tuple(sorted(row.items())) for row in result)


@pytest.mark.parametrize(("name", "params"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_canned_queries_agree_on_three_engines(
        name: str, params: dict[str, str], store_dir: Path, served_by_oxigraph: str,
        virtuoso_loaded: str) -> None:
    query = get_query(name)
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        local = query.run(store, params).values()
    assert local or name.startswith("qc-") or params.get("end") == "100", name  # not vacuous
    served = query.run(served_by_oxigraph, params, timeout=60).values()
    on_virtuoso = query.run(virtuoso_loaded, params, timeout=60).values()
    assert _rows(served) == _rows(local)
    assert _rows(on_virtuoso) == _rows(local)
