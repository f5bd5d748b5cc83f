"""Helpers for the server tests: a small real store, a canary HTTP listener, queries.

(No tests here; the test_server_*.py modules import it.)
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import DATA
from gff2rdf.server.app import App, ServeConfig

ENSEMBL = DATA / "arabidopsis_TAIR10_40_small.gff3"
GENOME = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/Araport11"
SEQ1 = "https://w3id.org/gff2rdf/data/assembly/TAIR10/1"
TOKEN = "test-token-0123456789abcdef"

GENE_BY_ID = """PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?p ?o WHERE { GRAPH ?g { ?f dcterms:identifier "gene:AT1G01010" ; ?p ?o } }"""

REGION = f"""PREFIX faldo: <http://biohackathon.org/resource/faldo#>
PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>
SELECT ?feature ?start ?end WHERE {{
  GRAPH ?meta {{ <{GENOME}> g2r:currentBuild ?g }}
  GRAPH ?g {{
    ?feature faldo:location ?r . ?r faldo:begin ?b ; faldo:end ?e .
    ?b faldo:position ?bp ; faldo:reference <{SEQ1}> . ?e faldo:position ?ep .
    BIND(IF(?bp < ?ep, ?bp, ?ep) AS ?start) BIND(IF(?bp < ?ep, ?ep, ?bp) AS ?end)
    FILTER(?start <= 30000 && ?end >= 20000)
  }}
}} ORDER BY ?start ?feature"""

# A 5-way cross product: never finishes on 11k triples; COUNT sends nothing until the end
ENDLESS_COUNT = ("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?a ?b ?c . ?d ?e ?f . "
                 "?g1 ?h ?i . ?j ?k ?l . ?m ?n1 ?o } }")
# A streaming cross product: 121 M rows, sent as they come
ENDLESS_ROWS = "SELECT * WHERE { GRAPH ?g { ?a ?b ?c . ?d ?e ?f } }"


def build_store(directory: Path) -> Path:
    from gff2rdf.store.store import GenomeStore

    with GenomeStore.open(directory) as store:
        store.load(ENSEMBL, species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10",
                   annotation="Araport11")
    return directory


@pytest.fixture(scope="session")
def store_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_store(tmp_path_factory.mktemp("template") / "store")


def copy_store(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, ignore=shutil.ignore_patterns("gff2rdf.lock"))
    return target


def make_app(store: Path, **options: object) -> App:
    options.setdefault("workers", 2)
    options.setdefault("timeout", 5.0)
    options.setdefault("max_rows", 1000)
    options.setdefault("access_log", False)
    options.setdefault("allow_service", ())
    return App(ServeConfig(store=store, **options)).start()  # type: ignore[arg-type]


class Canary:
    """An HTTP listener on 127.0.0.1 that counts every request it gets (SERVICE targets)."""

    RESULT = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
        {"x": {"type": "literal", "value": "from the canary"}}]}}).encode()

    def __init__(self) -> None:
        self.hits: list[str] = []
        canary = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                canary.hits.append(f"{self.command} {self.path}")
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(Canary.RESULT)))
                self.end_headers()
                self.wfile.write(Canary.RESULT)

            do_GET = do_POST = do_PUT = do_HEAD = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def canary() -> Iterator[Canary]:
    listener = Canary()
    yield listener
    listener.close()
