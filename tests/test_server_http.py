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
    make_app,
    store_template,
)

from conftest import DATA
from gff2rdf.server.lanes import shape
from gff2rdf.store.store import GenomeStore

__all__ = ["store_template"]

TOKEN = "soak-token-0123456789abcdefghij"
# the installed command, as a user runs it (python -m gff2rdf where it is not installed)
_SCRIPT = Path(sys.executable).parent / "gff2rdf"
GFF2RDF = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "gff2rdf"]
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
    assert _gone(workers, 5), "worker processes outlived a killed server"


# -- slow clients and connection caps (issue 15, item 4) ----------------------------------------


def _trickle(port: int, source: str, data: bytes, every: float, out: dict[str, object]) -> None:
    """Send ``data`` a byte at a time from ``source``; record the answer and when it came."""
    started = time.monotonic()
    answer = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30,
                                      source_address=(source, 0)) as sock:
            sock.settimeout(every)
            for byte in data:
                try:
                    sock.sendall(bytes([byte]))
                except OSError:
                    break  # the server closed the connection
                try:
                    answer = sock.recv(200)
                except TimeoutError:
                    continue
                break
            if not answer:
                sock.settimeout(10)
                with contextlib.suppress(OSError):
                    answer = sock.recv(200)
    except OSError as exc:
        answer = repr(exc).encode()
    out["answer"], out["seconds"] = answer, time.monotonic() - started


def _ask(port: int) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", q("ASK {}"))
        return connection.getresponse().status
    finally:
        connection.close()


def test_trickling_clients_are_cut_and_capped_while_others_are_served(
        store_template: Path, tmp_path: Path) -> None:
    """Slowloris: 12 connections from one address send a byte every 0.25 s. Four are taken
    (max-client-connections), the rest get 429 at once; the four get 408 once their head has
    taken request-timeout, though they keep sending; a client from another address gets 200
    from start to end."""
    store = copy_store(store_template, tmp_path / "store")
    running = Server(store, "--request-timeout", "1.5", "--max-client-connections", "4")
    try:
        head = (b"GET " + q("ASK {}").encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + b"X: y\r\n" * 40)
        results = [dict[str, object]() for _ in range(12)]
        threads = [threading.Thread(target=_trickle, args=(running.port, "127.0.0.2", head,
                                                            0.25, out)) for out in results]
        for thread in threads:
            thread.start()
            time.sleep(0.02)
        statuses = []
        while any(thread.is_alive() for thread in threads):
            statuses.append(_ask(running.port))
            time.sleep(0.1)
        for thread in threads:
            thread.join()
    finally:
        running.stop()
    answers = [bytes(r["answer"]).split(b"\r\n")[0] for r in results]  # type: ignore[arg-type]
    assert answers.count(b"HTTP/1.1 429 Too Many Requests") == 8, answers
    assert answers.count(b"HTTP/1.1 408 Request Timeout") == 4, answers
    cut = [float(r["seconds"])  # type: ignore[arg-type]
           for r, a in zip(results, answers, strict=True) if a.endswith(b"408 Request Timeout")]
    assert all(1.4 < s < 4 for s in cut), cut  # the head takes 40 * 0.25 = 10 s to send
    assert len(statuses) >= 5 and set(statuses) == {200}, statuses


def test_trickling_clients_from_many_addresses_do_not_lock_others_out(
        store_template: Path, tmp_path: Path) -> None:
    """The issue's slowloris: 70 connections trickling a byte every 0.5 s, here one from each of
    70 addresses (so the per-address cap does not apply). max-connections leaves room, and
    each is cut with 408 at request-timeout; a client from another address gets 200 all along."""
    store = copy_store(store_template, tmp_path / "store")
    running = Server(store, "--request-timeout", "2")
    try:
        head = (b"GET " + q("ASK {}").encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + b"X: y\r\n" * 40)
        results = [dict[str, object]() for _ in range(70)]
        threads = [threading.Thread(target=_trickle, args=(running.port, f"127.0.1.{k + 1}",
                                                            head, 0.5, out))
                   for k, out in enumerate(results)]
        for thread in threads:
            thread.start()
        statuses = []
        while any(thread.is_alive() for thread in threads):
            statuses.append(_ask(running.port))
            time.sleep(0.1)
        for thread in threads:
            thread.join()
    finally:
        running.stop()
    answers = {bytes(r["answer"]).split(b"\r\n")[0] for r in results}  # type: ignore[arg-type]
    assert answers == {b"HTTP/1.1 408 Request Timeout"}, answers
    assert max(float(r["seconds"]) for r in results) < 6  # type: ignore[arg-type]
    assert len(statuses) >= 10 and set(statuses) == {200}, statuses


def test_a_trickled_body_is_cut_at_the_minimum_rate(store_template: Path,
                                                    tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    os.environ["GFF2RDF_REQUEST_MIN_RATE"] = "100"
    try:
        running = Server(store, "--request-timeout", "1")
    finally:
        del os.environ["GFF2RDF_REQUEST_MIN_RATE"]
    try:
        body = b"query=" + urllib.parse.quote("ASK { ?s ?p ?o }" + " " * 300).encode()
        head = (b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/"
                b"x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n" % len(body))
        out: dict[str, object] = {}
        with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
            sock.sendall(head + body[:50])  # 50 bytes at once, then 10 bytes a second
            _trickle_rest = threading.Thread(target=_trickle_on, args=(sock, body[50:], 0.1, out))
            _trickle_rest.start()
            _trickle_rest.join()
        assert bytes(out["answer"]).startswith(b"HTTP/1.1 408"), out  # type: ignore[arg-type]
        # allowed: 1 s of grace, then 100 bytes/s: about 2 s for the 100-odd bytes it sent
        assert 1.0 < float(out["seconds"]) < 5, out  # type: ignore[arg-type]
        assert _ask(running.port) == 200
    finally:
        running.stop()


def _trickle_on(sock: socket.socket, data: bytes, every: float, out: dict[str, object]) -> None:
    started = time.monotonic()
    answer = b""
    sock.settimeout(every)
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
            answer = sock.recv(200)
            break
        except TimeoutError:
            continue
        except OSError:
            break
    out["answer"], out["seconds"] = answer, time.monotonic() - started


# -- SIGTERM drains (issue 15, item 6) ----------------------------------------------------------


class _SlowEndpoint:
    """A SPARQL endpoint on 127.0.0.1 that answers after ``delay`` seconds (SERVICE target):
    a query that waits on it is in flight for a known time, whatever the machine's load."""

    def __init__(self, delay: float) -> None:
        import http.server

        body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
            {"x": {"type": "literal", "value": "slow"}}]}}).encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                time.sleep(delay)
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _any

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sparql"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _in_flight(running: Server, query: str, out: dict[str, object]) -> threading.Thread:
    def send() -> None:
        started = time.monotonic()
        out["status"], out["headers"], out["body"] = running.get(q(query), timeout=30)
        out["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_sigterm_lets_a_query_in_flight_finish(store_template: Path, tmp_path: Path) -> None:
    slow = _SlowEndpoint(1.5)
    store = copy_store(store_template, tmp_path / "store")
    running = Server(store, "--allow-service", slow.url, "--shutdown-grace", "5")
    try:
        out: dict[str, object] = {}
        thread = _in_flight(running, f"SELECT ?x WHERE {{ SERVICE <{slow.url}> {{ ?x ?y ?z }} }}",
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
    assert isinstance(workers, list) and _gone(workers, 5)


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


# -- the fast lane (issue 15, item 4) -----------------------------------------------------------


def test_a_light_query_is_not_queued_behind_heavy_ones(store_template: Path,
                                                       tmp_path: Path) -> None:
    """Two workers, one kept for light queries. Two slow queries (a SERVICE to an endpoint that
    answers after 2 s: a new shape, so heavy) run one after the other in the heavy lane, and a
    gene lookup whose shape ran fast before gets its answer at once meanwhile."""
    slow = _SlowEndpoint(2.0)
    store = copy_store(store_template, tmp_path / "store")
    heavy = f"SELECT ?x WHERE {{ SERVICE <{slow.url}> {{ ?x ?y ?z }} }}"
    try:
        with make_app(store, workers=2, light_ms=1000, allow_service=(slow.url,)) as app:
            assert app.request("GET", q(GENE_BY_ID)).status == 200  # the shape is now known
            outs: list[tuple[int, float]] = []

            def run_heavy() -> None:
                started = time.monotonic()
                status = app.request("GET", q(heavy)).status
                outs.append((status, time.monotonic() - started))

            threads = [threading.Thread(target=run_heavy) for _ in range(2)]
            for thread in threads:
                thread.start()
            time.sleep(0.5)
            started = time.monotonic()
            other_gene = GENE_BY_ID.replace("gene:AT1G01010", "gene:AT1G01020")
            response = app.request("GET", q(other_gene))
            light_took = time.monotonic() - started
            for thread in threads:
                thread.join()
    finally:
        slow.close()
    assert response.status == 200 and light_took < 1.0, light_took
    assert sorted(s for s, _ in outs) == [200, 200]
    first, second = sorted(t for _, t in outs)
    assert first >= 1.9 and second >= 3.9, outs  # the second waited for the heavy slot


def test_a_light_shape_that_turns_slow_is_heavy_from_then_on(store_template: Path,
                                                            tmp_path: Path) -> None:
    slow = _SlowEndpoint(1.0)
    store = copy_store(store_template, tmp_path / "store")
    query = f"SELECT ?x WHERE {{ SERVICE <{slow.url}> {{ ?x ?y ?z }} }}"
    key = shape({"op": "query", "query": query})
    try:
        with make_app(store, workers=3, light_ms=200, allow_service=(slow.url,)) as app:
            app.pool.lanes.record(key, 0.01)  # as if it had been fast
            assert app.pool.lanes.light(key)
            assert app.request("GET", q(query)).status == 200
            assert not app.pool.lanes.light(key)
    finally:
        slow.close()
