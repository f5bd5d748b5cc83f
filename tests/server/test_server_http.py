"""``gff2rdf serve`` as a real subprocess on 127.0.0.1: clients, limits, loading, a soak test,
and how it stops (SIGKILL, SIGTERM drains). Slow clients and the fast lane are in
``test_server_slow_clients.py``.

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
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gff2rdf.store.store import GenomeStore
from tests.conftest import DATA
from tests.server.test_server_support import (
    ENDLESS_COUNT,
    ENDLESS_ROWS,
    GENE_BY_ID,
    REGION,
    Server,
    copy_store,
    gone,
    q,
    slow_endpoint,
    store_template,
)

__all__ = ["store_template"]

TOKEN = "soak-token-0123456789abcdefghij"
SOAK_SECONDS = float(os.environ.get("GFF2RDF_SOAK_SECONDS", "15"))


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
    assert isinstance(workers, list) and gone(workers, 5)
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
    assert killed and gone(list(killed), 0.1)
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


def test_header_fields_that_could_smuggle_a_request_are_refused(server: Server) -> None:
    def raw(request: bytes) -> bytes:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(request)
            return sock.recv(200)

    ask = b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
    assert raw(ask + b"Content-Length: 6\r\nContent-Length: 60\r\n\r\nASK {}").startswith(
        b"HTTP/1.1 400")
    assert raw(ask + b"Content-Length: 6\r\nX-Folded: a\r\n b\r\n\r\nASK {}").startswith(
        b"HTTP/1.1 400")
    assert raw(ask + b"Content-Length : 6\r\n\r\nASK {}").startswith(b"HTTP/1.1 400")
    assert raw(b"GET / HTTP/2.0\r\n\r\n").startswith(b"HTTP/1.1 505")
    assert raw(b"GET /\r\n\r\n").startswith(b"HTTP/1.1 400")
    continued = raw(ask + b"Content-Length: 6\r\nExpect: 100-continue\r\n\r\n")
    assert continued.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    fine = raw(ask + b"Content-Length: 6\r\nAccept: text/csv\r\nACCEPT: application/json\r\n"
               b"\r\nASK {}")
    assert fine.startswith(b"HTTP/1.1 200"), fine  # repeated fields are joined


def test_loading_through_the_server_while_it_serves(server: Server,
                                                    store_template: Path) -> None:
    """The store is held by the server; a load goes through its authenticated endpoint.
    Readers wait while a write runs; one that waits longer than --timeout gets 503 with
    Retry-After, never a wrong or partial answer."""
    from gff2rdf.errors import StoreLockedError
    from gff2rdf.server.app import token_endpoint
    from gff2rdf.store.remote import load_remote

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

    from gff2rdf.cli.commands import main

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
    assert gone(workers, 5), "worker processes outlived a killed server"


# -- SIGTERM drains (issue 15, item 6) ----------------------------------------------------------


def _in_flight(running: Server, query: str, out: dict[str, object]) -> threading.Thread:
    def send() -> None:
        started = time.monotonic()
        out["status"], out["headers"], out["body"] = running.get(q(query), timeout=30)
        out["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_sigterm_lets_a_query_in_flight_finish(store_template: Path, tmp_path: Path) -> None:
    slow = slow_endpoint(1.5)
    endpoint = slow.url + "sparql"
    store = copy_store(store_template, tmp_path / "store")
    running = Server(store, "--allow-service", endpoint, "--shutdown-grace", "5")
    try:
        out: dict[str, object] = {}
        thread = _in_flight(running, f"SELECT ?x WHERE {{ SERVICE <{endpoint}> {{ ?x ?y ?z }} }}",
                            out)
        time.sleep(0.5)
        workers = running.status()["workers"]
        started = time.monotonic()
        code = running.stop(signal.SIGTERM)
        stopped = time.monotonic() - started
        thread.join()
    finally:
        slow.close()
    assert out["status"] == 200 and b"slow" in bytes(out["body"]), out  # type: ignore[arg-type]
    assert code == 0 and stopped < 4.5, stopped
    assert isinstance(workers, list) and gone(workers, 5)


def test_sigterm_answers_503_to_a_query_past_the_grace(store_template: Path,
                                                       tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    running = Server(store, "--timeout", "60", "--shutdown-grace", "1")
    out: dict[str, object] = {}
    thread = _in_flight(running, ENDLESS_COUNT, out)
    time.sleep(0.5)
    started = time.monotonic()
    code = running.stop(signal.SIGTERM)
    stopped = time.monotonic() - started
    thread.join()
    assert out["status"] == 503, out
    assert out["headers"].get("Retry-After")  # type: ignore[attr-defined]
    assert b"shutting down" in bytes(out["body"])  # type: ignore[arg-type]
    assert code == 0 and 0.9 < stopped < 4, stopped
    with GenomeStore.open(store, create=False, collect=False):  # the lock was released
        pass

