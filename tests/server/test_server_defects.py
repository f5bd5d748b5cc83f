"""Defects of ``gff2rdf serve`` (issue 15, item 6), one test or more each.

* A store that another program (an Oxigraph server) has open is refused, and a store that
  gff2rdf serves cannot be opened by an Oxigraph server (RocksDB's LOCK).
* ``--max-rows`` on a result over 1 MiB: a 422 before the first byte, not a 200 cut mid-row;
  past the hold limit, the stream ends at a row boundary with a line no parser accepts.
* ``PUT`` of an empty graph keeps the graph (201, then 200 on GET).
* The dataset metadata records the input file relative to where the load ran, never as an
  absolute path of the server's disk.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from gff2rdf.errors import StoreLockedError
from gff2rdf.server.app import App
from gff2rdf.server.worker import Worker, _Out, decode_frame
from gff2rdf.store.lock import DatabaseLock
from gff2rdf.store.metadata import recorded_path
from gff2rdf.store.store import GenomeStore
from tests.server.test_server_support import (
    ENDLESS_ROWS,
    ENSEMBL,
    TOKEN,
    copy_store,
    make_app,
    store_template,
)
from tests.servers import free_port

__all__ = ["store_template"]

AUTH = {"Authorization": f"Bearer {TOKEN}"}
NTRIPLES = {"Content-Type": "application/n-triples", **AUTH}


# -- a store held by another program -----------------------------------------------------------


def _oxigraph() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not os.path.exists(found):
        pytest.fail("the oxigraph server is not installed: pip install -e '.[dev]'")
    return found


def _oxigraph_serve(store: Path) -> subprocess.Popen[bytes]:
    """``oxigraph serve`` on ``store``: running once it answers, or exited (it was refused)."""
    port = free_port()
    proc = subprocess.Popen([_oxigraph(), "serve", "--location", str(store), "--bind",
                             f"127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while proc.poll() is None and time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        pytest.fail("oxigraph serve neither started nor stopped")
    return proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if proc.stderr is not None:
        proc.stderr.close()


def test_a_store_an_oxigraph_server_has_open_is_refused(store_template: Path,
                                                        tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    other = _oxigraph_serve(store)
    try:
        assert other.poll() is None, "oxigraph serve did not start"
        with pytest.raises(StoreLockedError) as caught:
            make_app(store, token=TOKEN)
        message = str(caught.value)
        assert caught.value.pid == other.pid and "oxigraph serve" in message
        assert str(store) in message and "database lock" in message
    finally:
        _stop(other)
    with make_app(store) as app:  # once it has stopped, the store is served
        assert app.request("GET", "/sparql?query=ASK%7B%7D").status == 200


def test_an_oxigraph_server_cannot_open_a_store_gff2rdf_serves(store_template: Path,
                                                               tmp_path: Path) -> None:
    store = copy_store(store_template, tmp_path / "store")
    with make_app(store, token=TOKEN, workers=1) as app:
        refused = _oxigraph_serve(store)
        assert refused.returncode not in (None, 0)
        assert refused.stderr is not None and b"lock" in refused.stderr.read().lower()
        _stop(refused)
        # a write lends the lock to the write worker and takes it back
        put = app.request("PUT", "/store?graph=http%3A%2F%2Fexample.org%2Fg",
                          b"<http://a/> <http://b/> \"c\" .\n", NTRIPLES)
        assert put.status == 201, put.body
        again = _oxigraph_serve(store)
        assert again.returncode not in (None, 0)
        _stop(again)
        assert app.request("GET", "/store?graph=http%3A%2F%2Fexample.org%2Fg").status == 200
    after = _oxigraph_serve(store)  # released with the server
    try:
        assert after.poll() is None
    finally:
        _stop(after)


def _hold_lock(path: Path) -> subprocess.Popen[bytes]:
    """Another process that takes the POSIX lock on ``path`` (as RocksDB does) and keeps it."""
    proc = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, os, sys, time\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
        "fcntl.lockf(fd, fcntl.LOCK_EX)\n"
        "print('locked', flush=True)\n"
        "time.sleep(60)\n"), str(path)], stdout=subprocess.PIPE)
    assert proc.stdout is not None
    return proc


def _end(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def test_a_lock_taken_while_lent_is_reported(tmp_path: Path) -> None:
    lock = DatabaseLock(tmp_path).acquire()
    other = None
    try:
        with pytest.raises(StoreLockedError, match="database lock") as caught, \
                lock.lent(wait=0.3):
            other = _hold_lock(tmp_path / "LOCK")
            assert other.stdout is not None and other.stdout.readline() == b"locked\n"
        assert caught.value.pid == other.pid and not lock.held
    finally:
        if other is not None:
            _end(other)
    assert lock.acquire().held  # free again once the other process is gone
    lock.release()


def test_a_server_whose_store_is_taken_during_a_write_stops_serving_it(
        store_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = copy_store(store_template, tmp_path / "store")
    monkeypatch.setattr(DatabaseLock, "RETAKE_WAIT", 0.3)
    others: list[subprocess.Popen[bytes]] = []
    with make_app(store, token=TOKEN, workers=1) as app:
        run_write = app.pool._run_write

        def write_then_lose_the_lock(writer: Any, request: dict[str, Any]) -> Any:
            result = run_write(writer, request)
            others.append(_hold_lock(store / "LOCK"))  # the write worker has let go
            assert others[0].stdout is not None and others[0].stdout.readline() == b"locked\n"
            return result

        monkeypatch.setattr(app.pool, "_run_write", write_then_lose_the_lock)
        try:
            put = app.request("PUT", "/store?graph=http%3A%2F%2Fexample.org%2Fg",
                              b"<http://a/> <http://b/> \"c\" .\n", NTRIPLES)
            assert put.status == 503 and b"another program opened" in put.body
            assert str(store).encode() not in put.body and b"python" not in put.body
            after = app.request("GET", "/sparql?query=ASK%7B%7D")
            assert after.status == 503 and b"no longer serves it" in after.body
        finally:
            for proc in others:
                _end(proc)


# -- --max-rows and results over 1 MiB ---------------------------------------------------------


@pytest.fixture(scope="module")
def limited(store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    store = copy_store(store_template, tmp_path_factory.mktemp("limited") / "store")
    with make_app(store, timeout=20.0, max_rows=20_000, workers=1) as app:
        yield app


@pytest.mark.parametrize("media", ["application/sparql-results+json", "text/csv",
                                   "application/sparql-results+xml"])
def test_over_max_rows_past_1_mib_is_422_not_a_cut_200(limited: App, media: str) -> None:
    query = "/sparql?" + urllib.parse.urlencode({"query": ENDLESS_ROWS})
    response = limited.request("GET", query, headers={"Accept": media})
    assert response.status == 422, response.body[:200]  # 20,000 rows are well over 1 MiB
    assert b"more than 20,000 rows" in response.body
    at_limit = limited.request("GET", "/sparql?" + urllib.parse.urlencode(
        {"query": ENDLESS_ROWS + " LIMIT 20000"}), headers={"Accept": media})
    assert at_limit.status == 200 and len(at_limit.body) > 1 << 20
    construct = limited.request("GET", "/sparql?" + urllib.parse.urlencode(
        {"query": "CONSTRUCT { ?a <http://example.org/p> ?d } WHERE { GRAPH ?g { ?a ?b ?c . "
                  "?d ?e ?f } }"}))  # distinct triples: CONSTRUCT drops repeated ones
    assert construct.status == 422 and b"triples" in construct.body


def _frames(request: dict[str, Any], store: ox.Store) -> list[tuple[bytes, bytes]]:
    """Run one request in a Worker in this process and read back its frames."""
    read, write = os.pipe()
    data = bytearray()

    def drain() -> None:
        while chunk := os.read(read, 1 << 20):
            data.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        Worker(store, {"store": "/nowhere", "mode": "read"}, _Out(write)).handle(request)
    finally:
        os.close(write)
        reader.join()
        os.close(read)
    frames = []
    while (frame := decode_frame(data)) is not None:
        frames.append(frame)
    return frames


@pytest.fixture(scope="module")
def memory_store() -> ox.Store:
    store = ox.Store()
    store.extend(ox.Quad(ox.NamedNode(f"http://example.org/s{i}"),
                         ox.NamedNode("http://example.org/p"), ox.Literal(f"value {i}" * 3))
                 for i in range(3000))
    return store


@pytest.mark.parametrize(("media", "parse"), [
    ("application/sparql-results+json", json.loads),
    ("text/csv", lambda text: list(csv.reader(io.StringIO(text), strict=True))),
    ("application/sparql-results+xml", lambda text: __import__(
        "xml.etree.ElementTree", fromlist=["fromstring"]).fromstring(text)),
])
def test_past_the_hold_limit_the_stream_ends_with_an_error_line(
        memory_store: ox.Store, media: str, parse: Any) -> None:
    """A result bigger than the hold limit leaves before its rows are counted; going past
    --max-rows then ends it at a row boundary with a line its format's parsers reject."""
    query = "SELECT ?s ?o WHERE { ?s ?p ?o }"
    held = _frames({"op": "query", "query": query, "accept": media, "max_rows": 2000,
                    "hold": 1 << 30}, memory_store)
    assert [kind for kind, _ in held] == [b"X"]  # held back: the error is all there is
    assert json.loads(held[0][1])["status"] == 422
    frames = _frames({"op": "query", "query": query, "accept": media, "max_rows": 2000,
                      "hold": 16 << 10}, memory_store)
    kinds = [kind for kind, _ in frames]
    assert kinds[0] == b"H" and kinds[-1] == b"X" and b"E" not in kinds
    body = b"".join(payload for kind, payload in frames if kind == b"D").decode()
    head, _, tail = body.rpartition("\n")
    assert tail == "" and "!gff2rdf-error: the result has more than 2,000 rows" in \
        head.rsplit("\n", 1)[-1]
    complete = head.rsplit("\n", 1)[0]
    if media == "text/csv":
        assert complete.endswith("\r\n") and complete.count("\r\n") > 100  # whole rows only
    else:
        assert complete.endswith(("}", ">"))
    with pytest.raises(Exception):  # noqa: B017 - each format's own parser error
        parse(body)
    under = _frames({"op": "query", "query": query + " LIMIT 2000", "accept": media,
                     "max_rows": 2000, "hold": 16 << 10}, memory_store)
    assert under[-1][0] == b"E"
    parse(b"".join(payload for kind, payload in under if kind == b"D").decode())


# -- PUT of an empty graph, and a PUT that fails -------------------------------------------------


@pytest.fixture(scope="module")
def writable(store_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    store = copy_store(store_template, tmp_path_factory.mktemp("writable") / "store")
    with make_app(store, token=TOKEN, workers=1) as app:
        yield app


def test_put_of_an_empty_graph_keeps_the_graph(writable: App) -> None:
    for media, body in [("application/n-triples", b""),
                        ("text/turtle", b"@prefix ex: <http://example.org/> .\n")]:
        target = "/store?graph=" + urllib.parse.quote(f"http://example.org/empty/{media}")
        created = writable.request("PUT", target, body, {"Content-Type": media, **AUTH})
        assert created.status == 201, created.body
        got = writable.request("GET", target, headers={"Accept": "application/n-triples"})
        assert got.status == 200 and got.body == b""
        assert writable.request("HEAD", target).status == 200
    rows = writable.request("GET", "/sparql?" + urllib.parse.urlencode(
        {"query": "SELECT ?g WHERE { GRAPH ?g { } FILTER(STRSTARTS(STR(?g), "
                  "'http://example.org/empty/')) }"}))
    assert len(json.loads(rows.body)["results"]["bindings"]) == 2


def test_a_put_with_bad_data_changes_nothing(writable: App) -> None:
    target = "/store?graph=" + urllib.parse.quote("http://example.org/kept")
    good = b"<http://a/> <http://b/> \"c\" .\n"
    assert writable.request("PUT", target, good, NTRIPLES).status == 201
    bad = writable.request("PUT", target, good + b"<http://a/> oops .\n", NTRIPLES)
    assert bad.status == 400 and b"the request body" in bad.body
    assert b"gff2rdf-upload" not in bad.body and b"body-" not in bad.body  # no temp file names
    assert writable.request("GET", target, headers={"Accept": "application/n-triples"}
                            ).body == good


# -- where the input file was ------------------------------------------------------------------


def test_recorded_path_is_relative_or_a_file_name(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert recorded_path(home / "data" / "a.gff3", cwd=str(home)) == "data/a.gff3"
    assert recorded_path("data/a.gff3", cwd=str(home)) == "data/a.gff3"
    assert recorded_path(tmp_path / "elsewhere" / "b.gff3", cwd=str(home)) == "b.gff3"
    assert recorded_path(str(home / ".." / "c.gff3"), cwd=str(home)) == "c.gff3"


def test_metadata_and_the_server_show_no_absolute_path(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_template: Path) -> None:
    (tmp_path / "data").mkdir()
    shutil.copy(ENSEMBL, tmp_path / "data" / "annotation.gff3")
    monkeypatch.chdir(tmp_path)
    with GenomeStore.open(tmp_path / "store", create=True) as store:
        store.load("data/annotation.gff3", species="Arabidopsis thaliana", assembly="TAIR10",
                   annotation="Araport11")
        [entry] = store.genomes()
    assert entry.input_path == "data/annotation.gff3"
    with make_app(tmp_path / "store") as app:
        genomes = json.loads(app.request("GET", "/genomes").body)
        assert [g["input_path"] for g in genomes] == ["data/annotation.gff3"]
        paths = json.loads(app.request("GET", "/sparql?" + urllib.parse.urlencode(
            {"query": "SELECT ?o WHERE { GRAPH ?g { ?s <https://w3id.org/gff2rdf/vocab#path> "
                      "?o } }"})).body)["results"]["bindings"]
        assert [r["o"]["value"] for r in paths] == ["data/annotation.gff3"]
        absolute = json.loads(app.request("GET", "/sparql?" + urllib.parse.urlencode(
            {"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o FILTER(isLiteral(?o)"
                      f" && (STRSTARTS(STR(?o), '/') || CONTAINS(STR(?o), '{tmp_path.name}')))"
                      " } }"})).body)["results"]["bindings"]
        assert absolute == [{"n": {"type": "literal", "value": "0", "datatype":
                                   "http://www.w3.org/2001/XMLSchema#integer"}}]
