"""Helpers for the server and guard tests: a small real store, queries, a canary HTTP
listener, one request through a worker in-process, and ``gff2rdf serve`` as a subprocess.

(No tests here; the test_server_*.py and test_guard_*.py modules import it.)
"""

from __future__ import annotations

import gc
import http.server
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from gff2rdf.server.app import App, ServeConfig
from gff2rdf.server.worker import Worker, _Out, decode_frame
from tests.conftest import DATA

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
RESULT = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
    {"x": {"type": "literal", "value": "from the canary"}}]}})


def q(query: str, **extra: str) -> str:
    """The path of a GET of ``query`` (and ``extra`` parameters) on /sparql."""
    return "/sparql?" + urllib.parse.urlencode({"query": query, **extra})


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


@dataclass
class Reply:
    """What a canary answers: status, Content-Type (none when empty), body, Location."""

    status: int = 200
    content_type: str = "application/sparql-results+json"
    body: str = RESULT
    location: str = ""


class Canary:
    """An HTTP listener on 127.0.0.1 that records every request (``"POST /path"``; SERVICE
    and LOAD targets). The first segment of the path picks the reply from ``replies``
    (else ``default``: one SPARQL result row, "from the canary"), sent after ``delay`` s."""

    RESULT = RESULT.encode()

    def __init__(self, replies: dict[str, Reply] | None = None, default: Reply | None = None,
                 delay: float = 0.0) -> None:
        self.hits: list[str] = []
        self.replies = dict(replies or {})
        canary = self
        fallback = default or Reply()

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                canary.hits.append(f"{self.command} {self.path}")
                if delay:
                    time.sleep(delay)
                reply = canary.replies.get(self.path.strip("/").split("/")[0].split("?")[0],
                                           fallback)
                body = reply.body.encode()
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                if reply.location:
                    self.send_header("Location", reply.location)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_HEAD = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def paths(self) -> list[str]:
        """The path of each request, without its method."""
        return [hit.split(" ", 1)[1] for hit in self.hits]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Canary:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def canary_fixture(name: str, replies: dict[str, Reply] | None = None) -> Any:
    """A module-scoped fixture ``name``: a ``Canary(replies)``, closed after the module.
    A test module takes one by importing it (or by ``x = canary_fixture("x")``)."""

    def listening() -> Iterator[Canary]:
        with Canary(replies) as listener:
            yield listener

    return pytest.fixture(scope="module", name=name)(listening)


def slow_endpoint(delay: float) -> Canary:
    """A SPARQL endpoint on 127.0.0.1 (its ``url + "sparql"``) that answers after ``delay``
    seconds: a query whose SERVICE waits on it is in flight for a known time, whatever the
    machine's load. Its one row is "slow"."""
    return Canary(default=Reply(body=RESULT.replace("from the canary", "slow")), delay=delay)


canary = canary_fixture("canary")
# the guard tests: only an endpoint on canary A is allowlisted; canary B must never be reached
canary_a = canary_fixture("canary_a")
canary_b = canary_fixture("canary_b")


# -- one request through a worker, in-process --------------------------------------------------


class _Capture(_Out):
    """A worker's output frames, kept in memory."""

    def __init__(self) -> None:
        super().__init__(-1)
        self.buffer = bytearray()

    def _write(self, data: bytes | bytearray) -> None:
        self.buffer += data


@dataclass
class Answer:
    status: int
    body: str


def small_store() -> ox.Store:
    """An in-memory store of one triple in the default graph and one in a named graph."""
    store = ox.Store()
    store.update("INSERT DATA { <http://example.org/s> <http://example.org/p> 'o' . "
                 "GRAPH <http://example.org/g> { <http://example.org/s> <http://example.org/p> "
                 "'o' } }")
    return store


def run(op: str, text: str, allow: tuple[str, ...], base_iri: str | None = None,
        accept: str = "application/sparql-results+json, text/turtle",
        **extra: Any) -> Answer:
    """One request through the worker's code (guard, engine, error mapping), as ``gff2rdf
    serve`` runs it, on a ``small_store``; ``extra`` goes into the request."""
    out = _Capture()
    worker = Worker(small_store(), {"store": "/srv/gff2rdf/store", "mode": "write",
                                    "allow_service": list(allow)}, out)
    request: dict[str, Any] = {"op": op, op: text, "accept": accept, **extra}
    if base_iri:
        request["base_iri"] = base_iri
    worker.handle(request)
    # A failed query leaves pyoxigraph objects in reference cycles (exception, traceback,
    # frame); collected on a canary server's thread they abort with "unsendable, dropped on
    # another thread". The real worker is a process of one thread; here, collect them now.
    del worker
    gc.collect(1)  # the young generations: what this request made (a full collection: 0.5 s)
    frames = []
    while (frame := decode_frame(out.buffer)) is not None:
        frames.append(frame)
    for kind, payload in frames:
        if kind == b"X":
            info = json.loads(payload)
            return Answer(info["status"], info["message"])
    head = json.loads(frames[0][1])
    return Answer(head["status"], b"".join(p for k, p in frames if k == b"D").decode())


def unguarded(op: str, text: str, base_iri: str | None = None) -> None:
    """The text straight into pyoxigraph, as the server ran it before the guard existed,
    every result read (the engine's own refusals ignored)."""
    store = small_store()
    try:
        if op == "update":
            store.update(text, base_iri=base_iri)
        else:
            result = store.query(text, base_iri=base_iri)
            if not isinstance(result, ox.QueryBoolean):
                list(result)
    except (SyntaxError, OSError, RuntimeError, ValueError):
        pass


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- gff2rdf serve as a subprocess -------------------------------------------------------------

# the installed command, as a user runs it (python -m gff2rdf where it is not installed)
_SCRIPT = Path(sys.executable).parent / "gff2rdf"
GFF2RDF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "gff2rdf"]


class Server:
    """``gff2rdf serve --port 0`` in its own process; the URL is its first line of output."""

    def __init__(self, store: Path, *args: str) -> None:
        command = [*GFF2RDF, "serve", "--store", str(store), "--port", "0", "--quiet", *args]
        self.stderr = open(store.parent / "serve.err", "w+b")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.stderr)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.proc.kill()
            self.stderr.seek(0)
            raise AssertionError(f"no URL on the first line: {line!r} "
                                 f"{self.stderr.read().decode()}")
        self.url = line
        self.port = int(line.rsplit(":", 1)[1].strip("/"))

    def get(self, path: str, headers: dict[str, str] | None = None,
            timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path.lstrip("/"), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers), exc.read()

    def status(self) -> dict[str, object]:
        return json.loads(self.get("/status")[2])

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.stderr.close()
            assert self.proc.stdout is not None
            self.proc.stdout.close()
        return code


def gone(pids: list[int], within: float) -> bool:
    """Whether every process of ``pids`` has ended within ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.05)
    return False
