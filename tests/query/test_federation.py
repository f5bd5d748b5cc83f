"""Federated canned queries against stand-in endpoints on 127.0.0.1 (never the internet), and
every canned query through a served store (``oxigraph serve-read-only``) with ``--endpoint``.

The stand-in is a small SPARQL 1.1 protocol server over a pyoxigraph store that records the
queries it is sent. Its data is shaped like the real endpoints': UniProt's core vocabulary
(``up:Protein``, ``up:encodedBy`` a gene with ``up:locusName "At5g66600"``,
``up:classifiedWith obo:GO_...``) and Ubergraph's default graph (the reflexive-transitive
``rdfs:subClassOf`` closure and ``obo:BFO_0000050`` part-of links of the GO plant slim, computed
here from the OBO file without gff2rdf).
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.errors import QueryError
from gff2rdf.obo.load import load_ontology
from gff2rdf.query.canned import get_query, list_queries
from gff2rdf.store.store import GenomeStore
from tests.conftest import SHARED, mikado_and_itag_store
from tests.gff3.gff3_facts import OBO, Ontology, model, read_features
from tests.servers import free_port, oxigraph_server

MIKADO = SHARED / "gff3" / "mikado__reference_TAIR10_Chr5.gff3"
ITAG = SHARED / "gff3" / "biofmt__tomato_test_ITAG2.3.gff3"
SLIM = SHARED / "ontologies" / "goslim_plant.obo"
G_MIKADO = "arabidopsis_thaliana/TAIR10/mikado"
G_ITAG = "solanum_lycopersicum/SL2.40/ITAG2.3"
UP = "http://purl.uniprot.org/core/"
RDFS_SUB = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
# UniProt entries of the stand-in: accession, ordered locus name as UniProt spells it, GO terms
ENTRIES = [
    ("Q9FJ57", "At5g66600", ["GO:0005634", "GO:0003700"]),
    ("Q8LDN2", "At5g66610", ["GO:0005737"]),
    ("P00000", "At5g00000", ["GO:0008150"]),  # a locus the queries do not ask for
]


class _StandIn(BaseHTTPRequestHandler):
    store: ox.Store
    received: list[str]

    def _answer(self, query: str) -> None:
        self.received.append(query)
        try:
            result = self.store.query(query)
        except SyntaxError as exc:
            self.send_error(400, str(exc))
            return
        body = result.serialize(format=ox.QueryResultsFormat.JSON)  # type: ignore[union-attr]
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query).get("query")
        if not query:
            self.send_error(400, "no query")
            return
        self._answer(query[0])

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode("utf-8")
        kind = self.headers.get("Content-Type", "")
        if kind.startswith("application/sparql-query"):
            self._answer(body)
        else:
            self._answer(urllib.parse.parse_qs(body)["query"][0])

    def log_message(self, *args: object) -> None:
        pass


def _stand_in_data() -> ox.Store:
    store = ox.Store()
    a = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    for accession, locus, terms in ENTRIES:
        protein = ox.NamedNode(f"http://purl.uniprot.org/uniprot/{accession}")
        gene = ox.NamedNode(f"http://purl.uniprot.org/uniprot/{accession}#gene")
        store.add(ox.Quad(protein, a, ox.NamedNode(UP + "Protein")))
        store.add(ox.Quad(protein, ox.NamedNode(UP + "encodedBy"), gene))
        store.add(ox.Quad(gene, ox.NamedNode(UP + "locusName"), ox.Literal(locus)))
        for term in terms:
            store.add(ox.Quad(protein, ox.NamedNode(UP + "classifiedWith"),
                              ox.NamedNode(OBO + term.replace(":", "_"))))
    slim = Ontology.read(SLIM)
    terms = set(slim.names.values())
    for term in terms:
        for ancestor in terms:
            if term in slim.descendants(ancestor):
                store.add(ox.Quad(ox.NamedNode(OBO + term.replace(":", "_")),
                                  ox.NamedNode(RDFS_SUB),
                                  ox.NamedNode(OBO + ancestor.replace(":", "_"))))
            if term in slim.descendants(ancestor, part_of=True) - slim.descendants(ancestor):
                store.add(ox.Quad(ox.NamedNode(OBO + term.replace(":", "_")),
                                  ox.NamedNode(OBO + "BFO_0000050"),
                                  ox.NamedNode(OBO + ancestor.replace(":", "_"))))
    return store


@pytest.fixture(scope="module")
def stand_in() -> Iterator[tuple[str, list[str]]]:
    for path in (MIKADO, ITAG, SLIM):
        if not path.exists():
            pytest.skip(f"shared corpus not found at {path} (set GFF2RDF_SHARED_DATA)")
    received: list[str] = []
    handler = type("Handler", (_StandIn,), {"store": _stand_in_data(), "received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, stand_in: tuple[str, list[str]]) -> Path:
    return mikado_and_itag_store(tmp_path_factory.mktemp("fed") / "store")


@pytest.fixture
def endpoints(stand_in: tuple[str, list[str]], monkeypatch: pytest.MonkeyPatch) -> str:
    url, received = stand_in
    received.clear()
    monkeypatch.setenv("GFF2RDF_UNIPROT_ENDPOINT", url)
    monkeypatch.setenv("GFF2RDF_UBERGRAPH_ENDPOINT", url)
    return url


def test_uniprot_go_by_locus_names(store_dir: Path, endpoints: str,
                                   stand_in: tuple[str, list[str]]) -> None:
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        result = get_query("uniprot-go").run(
            store, {"genome": G_MIKADO, "ids": "AT5G66600,AT5G66610,AT5G99999"})
    found = {(r["ids"], r["protein"].rsplit("/", 1)[1], r["go"], r["also_local"])
             for r in result.values()}
    expected = {(locus.upper(), accession, OBO + term.replace(":", "_"), "false")
                for accession, locus, terms in ENTRIES[:2] for term in terms}
    assert found == expected
    remote = [q for q in stand_in[1] if "locusName" in q]
    assert len(remote) == 1
    # the remote part is selective: the locus names travel inside the SERVICE call
    assert '"At5g66600"' in remote[0] and "VALUES" in remote[0]
    assert "At5g00000" not in remote[0]


def test_uniprot_go_finds_provider_prefixed_ids(tmp_path: Path, endpoints: str,
                                               stand_in: tuple[str, list[str]]) -> None:
    """Identifiers keep the ID as written (Ensembl's gene:X, NCBI's gene-X): the locus name
    still finds them."""
    source = tmp_path / "prefixed.gff3"
    source.write_text("##gff-version 3\n"
                      "Chr5\tx\tgene\t100\t900\t.\t+\t.\tID=gene:AT5G66600\n"
                      "Chr5\tx\tgene\t1000\t1900\t.\t+\t.\tID=gene-AT5G66610\n",
                      encoding="utf-8")
    with GenomeStore.open(tmp_path / "store") as store:
        store.load(source, species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10",
                   annotation="prefixed")
        result = get_query("uniprot-go").run(
            store, {"genome": "arabidopsis_thaliana/TAIR10/prefixed",
                    "ids": "AT5G66600,AT5G66610"})
    genes = {r["gene"].rsplit("/", 1)[1] for r in result.values()}
    assert genes == {"gene:AT5G66600", "gene-AT5G66610"}


def _genes_with(slim_terms: set[str]) -> set[tuple[str, str]]:
    features = read_features(ITAG)
    pairs = set()
    for gene in features:
        if gene.type != "gene" or not gene.id:
            continue
        for f in model(features, gene.id):
            for term in f.attrs.get("Ontology_term", []):
                if term in slim_terms:
                    pairs.add((gene.id, OBO + term.replace(":", "_")))
    return pairs


def test_genes_by_term_with_descendants_from_ubergraph(store_dir: Path, endpoints: str,
                                                      stand_in: tuple[str, list[str]]) -> None:
    slim = Ontology.read(SLIM)
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        for term in ("GO:0003676", "GO:0003674"):
            result = get_query("genes-by-term-ubergraph").run(
                store, {"genome": G_ITAG, "term": term})
            found = {(r["id"], r["annotated_term"]) for r in result.values()}
            assert found == _genes_with(slim.descendants(term, part_of=True)), term
    remote = [q for q in stand_in[1] if "subClassOf" in q]
    assert remote and all("GO_0003676" in q or "GO_0003674" in q for q in remote)


def test_ubergraph_and_the_local_closure_agree(store_dir: Path, endpoints: str,
                                               tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store_dir, copy)
    with GenomeStore.open(copy, create=False, collect=False) as store:
        load_ontology(store, SLIM)
        for term in ("GO:0003676", "GO:0005488", "GO:0003674"):
            params = {"genome": G_ITAG, "term": term}
            local = get_query("genes-by-term").run(store, params).values()
            remote = get_query("genes-by-term-ubergraph").run(store, params).values()
            assert local == remote, term


@pytest.fixture(scope="module")
def served(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The test store behind ``oxigraph serve-read-only`` (the real server binary)."""
    copy = tmp_path_factory.mktemp("served") / "store"
    shutil.copytree(store_dir, copy, ignore=shutil.ignore_patterns("gff2rdf.lock"))
    with oxigraph_server(copy, read_only=True) as (url, _):
        yield f"{url}/query"


def _params() -> dict[str, dict[str, str]]:
    return {
        "gene": {"genome": G_MIKADO, "id": "AT5G66600"},
        "region": {"genome": G_MIKADO, "seqid": "Chr5", "start": "26575000", "end": "26590000"},
        "nearest-genes": {"genome": G_MIKADO, "seqid": "Chr5", "position": "26600000"},
        "genes-by-term": {"genome": G_ITAG, "term": "GO:0003676"},
        "type-counts": {"genome": G_ITAG},
        "version-diff": {"genome": G_ITAG, "other": G_MIKADO},
        "genome-versions": {},
        "trace": {"iri": "https://w3id.org/gff2rdf/data/genome/" + G_MIKADO
                  + "/feature/AT5G66600"},
        "qc-missing-parents": {"genome": G_MIKADO},
        "qc-transcripts-without-exons": {"genome": G_ITAG},
        "uniprot-go": {"genome": G_MIKADO, "ids": "AT5G66600"},
        "genes-by-term-ubergraph": {"genome": G_ITAG, "term": "GO:0003676"},
    }


def test_every_canned_query_gives_the_same_rows_on_a_served_store(
        store_dir: Path, served: str, endpoints: str) -> None:
    params = _params()
    assert set(params) == {q.name for q in list_queries()}
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        for q in list_queries():
            local = q.run(store, params[q.name]).values()
            remote = q.run(served, params[q.name]).values()
            assert remote == local, q.name
            assert local or q.name in ("qc-missing-parents", "qc-transcripts-without-exons"), \
                q.name


def test_cli_query_on_an_endpoint_and_json(served: str, endpoints: str) -> None:
    result = CliRunner().invoke(main, [
        "query", "uniprot-go", "--endpoint", served, "-p", f"genome={G_MIKADO}",
        "-p", "ids=AT5G66610", "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["head"]["vars"] == ["gene", "ids", "protein", "go", "also_local"]
    assert [b["go"]["value"] for b in data["results"]["bindings"]] == [OBO + "GO_0005737"]


def test_an_unreachable_endpoint_is_an_error_not_a_traceback(store_dir: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setenv("GFF2RDF_UNIPROT_ENDPOINT", f"http://127.0.0.1:{free_port()}/sparql")
    result = CliRunner().invoke(main, [
        "query", "uniprot-go", "--store", str(store_dir), "-p", f"genome={G_MIKADO}",
        "-p", "ids=AT5G66600"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: uniprot-go: the query failed")
    result = CliRunner().invoke(main, [
        "query", "genome-versions", "--endpoint", f"http://127.0.0.1:{free_port()}/q"],
        catch_exceptions=False)
    assert result.exit_code == 1 and "Error: genome-versions: cannot reach" in result.stderr


def test_an_endpoint_that_takes_the_query_and_never_answers_is_named_so() -> None:
    """Not 'cannot reach': the server is up (Virtuoso on a query it cannot finish)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/sparql"
        started = time.monotonic()
        with pytest.raises(QueryError) as caught:
            get_query("genome-versions").run(url, {}, timeout=1)
        assert time.monotonic() - started < 10
    assert str(caught.value) == (f"genome-versions: {url} took the query but did not answer "
                                 "within 1 s (the query-timeout setting)")
