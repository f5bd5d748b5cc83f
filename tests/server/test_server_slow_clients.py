"""Slow clients and slow queries do not hold others up (issue 15, item 4).

Against ``gff2rdf serve`` as a subprocess: connections that trickle their request a byte at a
time are capped per address and cut at the request timeout (slowloris), and a body sent below
the minimum rate is cut; meanwhile another client is served. In-process: the fast lane keeps a
query of a shape known to be light from queueing behind heavy ones.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import socket
import threading
import time
import urllib.parse
from pathlib import Path

from gff2rdf.server.lanes import shape
from tests.server.test_server_support import (
    GENE_BY_ID,
    Server,
    copy_store,
    make_app,
    q,
    slow_endpoint,
    store_template,
)

__all__ = ["store_template"]

# a request head of 40 header lines (trickled a byte at a time: 40 * 0.25 s = 10 s)
HEAD = b"GET " + q("ASK {}").encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X: y\r\n" * 40


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


def _trickle_from(port: int, sources: list[str], every: float, stagger: float = 0.0
                  ) -> tuple[list[dict[str, object]], list[int]]:
    """``HEAD`` trickled on one connection from each of ``sources`` (started ``stagger`` s
    apart), while another client asks every 0.1 s until they are done: what each trickle got
    (``_trickle``), and the other client's statuses."""
    results = [dict[str, object]() for _ in sources]
    threads = [threading.Thread(target=_trickle, args=(port, source, HEAD, every, out))
               for source, out in zip(sources, results, strict=True)]
    for thread in threads:
        thread.start()
        if stagger:
            time.sleep(stagger)
    statuses = []
    while any(thread.is_alive() for thread in threads):
        statuses.append(_ask(port))
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    return results, statuses


def test_trickling_clients_are_cut_and_capped_while_others_are_served(
        store_template: Path, tmp_path: Path) -> None:
    """Slowloris: 12 connections from one address send a byte every 0.25 s. Four are taken
    (max-client-connections), the rest get 429 at once; the four get 408 once their head has
    taken request-timeout, though they keep sending; a client from another address gets 200
    from start to end."""
    store = copy_store(store_template, tmp_path / "store")
    running = Server(store, "--request-timeout", "1.5", "--max-client-connections", "4")
    try:
        results, statuses = _trickle_from(running.port, ["127.0.0.2"] * 12, 0.25, stagger=0.02)
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
        results, statuses = _trickle_from(running.port,
                                          [f"127.0.1.{k + 1}" for k in range(70)], 0.5)
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


# -- the fast lane (issue 15, item 4) -----------------------------------------------------------


def test_a_light_query_is_not_queued_behind_heavy_ones(store_template: Path,
                                                       tmp_path: Path) -> None:
    """Two workers, one kept for light queries. Two slow queries (a SERVICE to an endpoint that
    answers after 2 s: a new shape, so heavy) run one after the other in the heavy lane, and a
    gene lookup whose shape ran fast before gets its answer at once meanwhile."""
    slow = slow_endpoint(2.0)
    endpoint = slow.url + "sparql"
    store = copy_store(store_template, tmp_path / "store")
    heavy = f"SELECT ?x WHERE {{ SERVICE <{endpoint}> {{ ?x ?y ?z }} }}"
    try:
        with make_app(store, workers=2, light_ms=1000, allow_service=(endpoint,)) as app:
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
    slow = slow_endpoint(1.0)
    endpoint = slow.url + "sparql"
    store = copy_store(store_template, tmp_path / "store")
    query = f"SELECT ?x WHERE {{ SERVICE <{endpoint}> {{ ?x ?y ?z }} }}"
    key = shape({"op": "query", "query": query})
    try:
        with make_app(store, workers=3, light_ms=200, allow_service=(endpoint,)) as app:
            app.pool.lanes.record(key, 0.01)  # as if it had been fast
            assert app.pool.lanes.light(key)
            assert app.request("GET", q(query)).status == 200
            assert not app.pool.lanes.light(key)
    finally:
        slow.close()
