"""``gff2rdf serve`` as a real subprocess on 127.0.0.1: clients, limits, loading, a soak test.

The soak runs 16 clients for 15 s by default; ``GFF2RDF_SOAK_SECONDS=60`` gives the full run.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_server_support import (
    ENDLESS_COUNT,
    ENDLESS_ROWS,
    GENE_BY_ID,
    REGION,
    copy_store,
    store_template,
)

from conftest import DATA
from gff2rdf.store import GenomeStore

__all__ = ["store_template"]

TOKEN = "soak-token-0123456789abcdefghij"
# the installed command, as a user runs it (python -m gff2rdf.cli where it is not installed)
_SCRIPT = Path(sys.executable).parent / "gff2rdf"
GFF2RDF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "gff2rdf.cli"]
SOAK_SECONDS = float(os.environ.get("GFF2RDF_SOAK_SECONDS", "15"))


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


def _gone(pids: list[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.05)
    return False


def q(query: str) -> str:
    return "/sparql?" + urllib.parse.urlencode({"query": query})


@pytest.fixture(scope="module")
def server(store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("serve")
    token_file = root / "token"
    token_file.write_text(TOKEN + "\n")
    store = copy_store(store_template, root / "store")
    running = Server(store, "--timeout", "3", "--max-rows", "0", "--update-token-file",
                     str(token_file), "--allow-service", "none")
    yield running
    workers = running.status()["workers"]
    assert running.stop(signal.SIGTERM) == 0
    assert isinstance(workers, list) and _gone(workers, 5)
    with GenomeStore.open(store, create=False, collect=False):  # the lock was released
        pass


def test_first_line_is_the_url_and_the_endpoint_answers(server: Server) -> None:
    status, _, body = server.get(q("ASK {}"))
    assert status == 200 and json.loads(body) == {"head": {}, "boolean": True}
    assert server.get("/")[0] == 200


def test_sparqlwrapper_client(server: Server) -> None:
    from SPARQLWrapper import CSV, JSON, XML, SPARQLWrapper

    client = SPARQLWrapper(server.url + "sparql")
    client.setQuery(GENE_BY_ID)
    for fmt in (JSON, XML, CSV):
        client.setReturnFormat(fmt)
        result = client.query().convert()
        assert result
    client.setReturnFormat(JSON)
    rows = client.query().convert()["results"]["bindings"]  # type: ignore[index]
    assert {"type": "literal", "value": "NAC001"} in [r["o"] for r in rows]
    client.setMethod("POST")
    client.setQuery(REGION)
    assert client.query().convert()["results"]["bindings"]  # type: ignore[index]


def test_rdflib_sparqlstore_client(server: Server) -> None:
    from rdflib import Graph
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    graph = Graph(store=SPARQLStore(server.url + "sparql", returnFormat="xml"))
    rows = list(graph.query(REGION))
    assert rows and all(len(row) == 3 for row in rows)
    asked = graph.query("ASK { GRAPH ?g { ?s ?p ?o } }")
    assert asked.askAnswer is True


def test_other_engines_federate_into_it_with_service(server: Server) -> None:
    import pyoxigraph as ox
    from rdflib import Graph

    federated = ("PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?o WHERE { SERVICE "
                 f"<{server.url}sparql> {{ GRAPH ?g {{ ?f dcterms:identifier \"gene:AT1G01010\" ; "
                 "?p ?o } } }")
    by_oxigraph = {str(row["o"].value) for row in ox.Store().query(federated)}  # type: ignore
    assert "NAC001" in by_oxigraph
    by_rdflib = {str(row[0]) for row in Graph().query(federated)}  # type: ignore[union-attr]
    assert "NAC001" in by_rdflib


def test_a_failing_stream_is_cut_for_a_real_client(server: Server) -> None:
    """A result that fails after streaming began is not a complete-looking 200."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", q(ENDLESS_ROWS), headers={"Accept": "text/csv"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    received = 0
    with pytest.raises((http.client.IncompleteRead, ConnectionError)):
        while True:
            piece = response.read(1 << 20)
            if not piece:
                break
            received += len(piece)
    connection.close()
    assert received > 1 << 20
    assert server.get(q("ASK {}"))[0] == 200


def test_timeout_is_a_504_and_the_cpu_is_freed(server: Server) -> None:
    before = server.status()
    started = time.monotonic()
    status, _, body = server.get(q(ENDLESS_COUNT))
    took = time.monotonic() - started
    assert status == 504 and b"stopped" in body
    assert 3 <= took < 4.5
    after = server.status()
    killed = set(before["workers"]) - set(after["workers"])  # type: ignore[arg-type]
    assert killed and _gone(list(killed), 0.1)
    assert server.get(q(GENE_BY_ID))[0] == 200


def test_header_limits(server: Server) -> None:
    def raw(request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(request)
            return sock.recv(200)

    many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    assert raw(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n").startswith(
        b"HTTP/1.1 431")
    big = b"X-Big: " + b"a" * 20000 + b"\r\n"
    assert raw(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + big + b"\r\n").startswith(
        b"HTTP/1.1 431")
    long_line = b"GET /sparql?query=" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n"
    assert raw(long_line).startswith(b"HTTP/1.1 414")
    smuggle = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert raw(smuggle).startswith(b"HTTP/1.1 400")
    huge = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/sparql-query\r\nContent-Length: 999999999\r\n\r\nASK {}")
    assert raw(huge).startswith(b"HTTP/1.1 413")
    rebinding = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: evil.example:80\r\n\r\n"
    assert raw(rebinding).startswith(b"HTTP/1.1 403")


def test_loading_through_the_server_while_it_serves(server: Server,
                                                    store_template: Path) -> None:
    """The store is held by the server; a load goes through its authenticated endpoint.
    Readers wait while a write runs; one that waits longer than --timeout gets 503 with
    Retry-After, never a wrong or partial answer."""
    from gff2rdf.errors import StoreLockedError
    from gff2rdf.gsp import load_remote
    from gff2rdf.server import token_endpoint

    store_dir = Path(server.proc.args[server.proc.args.index("--store") + 1])  # type: ignore
    with pytest.raises(StoreLockedError, match=r"in use by process \d+ \(.*gff2rdf.* serve"):
        GenomeStore.open(store_dir)
    results: list[int] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            status, headers, body = server.get(q(GENE_BY_ID))
            results.append(status)
            assert status == 200 or (status == 503 and headers.get("Retry-After")), body

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        endpoint = token_endpoint(server.url + "store", TOKEN)
        result = load_remote(endpoint, DATA / "tair10_chr5_mikado.gff3",
                             species="Arabidopsis thaliana", assembly="TAIR10",
                             annotation="mikado")
    finally:
        stop.set()
        thread.join()
    assert result.status == "loaded" and result.triples > 0
    assert results.count(200) and set(results) <= {200, 503}
    assert server.get(q(GENE_BY_ID))[0] == 200
    genomes = json.loads(server.get("/genomes")[2])
    assert {g["annotation"] for g in genomes} == {"Araport11", "mikado"}
    assert server.status()["writes"] >= 2  # type: ignore[operator]


def test_serve_on_a_store_in_use_says_who_holds_it(server: Server) -> None:
    from click.testing import CliRunner

    from gff2rdf.cli import main

    store_dir = server.proc.args[server.proc.args.index("--store") + 1]  # type: ignore
    result = CliRunner().invoke(main, ["serve", "--store", store_dir, "--port", "0"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: store {store_dir} is in use by process "
                                    f"{server.proc.pid}")


def test_soak(server: Server) -> None:
    """16 clients for SOAK_SECONDS: no failures, p99 under 2 s."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SOAK_SECONDS
    paths = [q(GENE_BY_ID), q(REGION)]

    def client(k: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        i = k
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", paths[i % 2],
                                   headers={"Accept": "application/sparql-results+json"})
                response = connection.getresponse()
                body = response.read()
                ok = response.status == 200 and body.endswith(b"]}}")
                if not ok:
                    with lock:
                        failures.append(f"{response.status} {body[:100]!r}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(repr(exc))
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            with lock:
                latencies.append(time.perf_counter() - started)
            i += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    latencies.sort()
    p50 = statistics.median(latencies)
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(f"\nsoak: 16 clients, {SOAK_SECONDS:g} s, {len(latencies)} requests "
          f"({len(latencies) / SOAK_SECONDS:.0f}/s), p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms, {len(failures)} failures")
    assert not failures, failures[:5]
    assert p99 < 2.0


def test_workers_die_with_a_killed_server(store_template: Path, tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    running = Server(store, "--timeout", "60")
    workers = running.status()["workers"]
    assert isinstance(workers, list) and len(workers) >= 2

    def long_query() -> None:
        with contextlib.suppress(OSError):  # the server is killed under it
            running.get(q(ENDLESS_COUNT), timeout=10)

    threading.Thread(target=long_query, daemon=True).start()
    time.sleep(0.5)  # a worker is now deep inside pyoxigraph
    running.stop(signal.SIGKILL)
    assert _gone(workers, 5), "worker processes outlived a killed server"
