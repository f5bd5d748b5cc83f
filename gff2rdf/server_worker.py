"""A worker process of ``gff2rdf serve``: runs queries on its own view of the store.

The server (``gff2rdf.server_pool``) starts these with ``python -m gff2rdf.server_worker`` and
talks to each over its stdin and stdout in frames of ``kind (1 byte) + length (4 bytes) +
payload``:

========  ==========  =============================================================
kind      direction   payload
========  ==========  =============================================================
``C``     to worker   config (JSON): store path, mode (``read`` or ``write``), allowlist
``R``     to server   ready (JSON): the worker's pid
``Q``     to worker   one request (JSON): ``op`` is query, graph, update or graph_write
``H``     to server   the response head (JSON): status and content type
``D``     to server   response bytes
``E``     to server   the end of a response (JSON): rows written
``X``     to server   an error (JSON): status and a message safe to show a client
========  ==========  =============================================================

A ``read`` worker opens the store with ``Store.read_only`` and runs one request at a time,
forever; the server kills it at the deadline (pyoxigraph cannot be interrupted otherwise). A
``write`` worker opens the store read-write, runs one request, flushes and exits; the server
starts it only when no read worker is running (RocksDB: a read-only open while another process
writes is undefined behaviour).
"""

from __future__ import annotations

import json
import os
import re
import signal
import struct
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any, cast

__all__ = ["FRAME", "decode_frame", "encode_frame", "main", "read_frame"]

FRAME = struct.Struct(">cI")
FLUSH_AT = 64 * 1024
ROW_BATCH = 256


def encode_frame(kind: bytes, payload: bytes = b"") -> bytes:
    return FRAME.pack(kind, len(payload)) + payload


def decode_frame(buffer: bytearray) -> tuple[bytes, bytes] | None:
    """Take one complete frame off the front of ``buffer``, or None if there is none yet."""
    if len(buffer) < FRAME.size:
        return None
    kind, length = FRAME.unpack_from(buffer)
    end = FRAME.size + length
    if len(buffer) < end:
        return None
    payload = bytes(buffer[FRAME.size:end])
    del buffer[:end]
    return kind, payload


def read_frame(stream: IO[bytes]) -> tuple[bytes, bytes] | None:
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    kind, length = FRAME.unpack(head)
    payload = stream.read(length) if length else b""
    if len(payload) < length:
        return None
    return kind, payload


class _TooManyRows(Exception):
    pass


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Out:
    """Frames to the server; small responses leave in one write, large ones every 64 KiB."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pending = bytearray()
        self.data = bytearray()

    def _write(self, data: bytes | bytearray) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def head(self, status: int, content_type: str | None = None, **extra: Any) -> None:
        info = {"status": status, "content_type": content_type, **extra}
        self.pending += encode_frame(b"H", json.dumps(info).encode())

    def write(self, data: bytes) -> int:  # also the file object pyoxigraph serialises into
        self.data += data
        if len(self.data) >= FLUSH_AT:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self.data:
            self.pending += encode_frame(b"D", bytes(self.data))
            self.data.clear()
        if self.pending:
            self._write(self.pending)
            self.pending.clear()

    def end(self, rows: int = 0) -> None:
        if self.data:
            self.pending += encode_frame(b"D", bytes(self.data))
            self.data.clear()
        self.pending += encode_frame(b"E", json.dumps({"rows": rows}).encode())
        self._write(self.pending)
        self.pending.clear()

    def error(self, status: int, message: str) -> None:
        self.pending.clear()  # a head not yet sent is dropped: the client gets the error status
        self.data.clear()
        self._write(encode_frame(b"X", json.dumps({"status": status,
                                                   "message": message}).encode()))


_PATHS = re.compile(r"(?<![\w<])/(?:[\w.@%+=-]+/)+[\w.@%+=-]*")


def _safe(message: str, store_path: str) -> str:
    """An error message without file paths (a client must not learn the server's layout)."""
    text = message.replace(store_path, "<store>")
    text = _PATHS.sub("<path>", text)
    return text[:600]


class Worker:
    def __init__(self, store: Any, config: dict[str, Any], out: _Out) -> None:
        self.store = store
        self.path = str(config["store"])
        self.allow = list(config.get("allow_service", []))
        self.writer = config.get("mode") == "write"
        self.out = out

    def handle(self, request: dict[str, Any]) -> None:
        from .errors import RequestError

        op = request.get("op")
        try:
            if op == "query":
                self.query(request)
            elif op == "graph":
                self.graph(request)
            elif op == "update" and self.writer:
                self.update(request)
            elif op == "graph_write" and self.writer:
                self.graph_write(request)
            else:
                raise _Refused(400, f"unknown operation {op!r}")
        except RequestError as exc:
            self.out.error(exc.status, str(exc))
        except _Refused as exc:
            self.out.error(exc.status, str(exc))
        except _TooManyRows as exc:
            self.out.error(422, str(exc))
        except SyntaxError as exc:
            self.out.error(400, "bad " + ("update" if op == "update" else "query" if op ==
                                          "query" else "data") + ": " + _safe(str(exc),
                                                                              self.path))
        except (OSError, RuntimeError, ValueError, TypeError, KeyError) as exc:
            self.out.error(500, "query failed: " + _safe(str(exc), self.path))

    # -- reading -----------------------------------------------------------------------------

    def query(self, request: dict[str, Any]) -> None:
        import pyoxigraph as ox

        from .server_formats import (
            ASK_FORMATS,
            GRAPH_FORMATS,
            SELECT_FORMATS,
            ask_bytes,
            negotiate,
            select_writer,
        )
        from .sparql_guard import check_query

        text = request["query"]
        check_query(text, self.allow)
        kwargs: dict[str, Any] = {}
        if request.get("default_graphs"):
            kwargs["default_graph"] = [ox.NamedNode(g) for g in request["default_graphs"]]
        elif request.get("union"):
            kwargs["use_default_graph_as_union"] = True
        if request.get("named_graphs"):
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"]]
        if request.get("substitutions"):
            kwargs["substitutions"] = {ox.Variable(k): _term(v)
                                       for k, v in request["substitutions"].items()}
        result = self.store.query(text, **kwargs)
        accept = request.get("accept")
        limit = int(request.get("max_rows") or 0)
        out = self.out
        if isinstance(result, ox.QueryBoolean):
            fmt = negotiate(accept, ASK_FORMATS)
            out.head(200, fmt.content_type, form="ask")
            out.write(ask_bytes(fmt, bool(result)))
            out.end(1)
        elif isinstance(result, ox.QuerySolutions):
            from .export_serve import GFF3, write_selected

            fmt = negotiate(accept, (*SELECT_FORMATS, GFF3))
            if fmt is GFF3:  # the features of the first column, as GFF3 (gff2rdf.export)
                out.head(200, fmt.content_type, form="gff3")
                out.end(write_selected(self.store, result, out, limit).lines)
                return
            writer = select_writer(fmt, [v.value for v in result.variables])
            out.head(200, fmt.content_type, form="select")
            batch = [writer.head()]
            rows = 0
            for solution in result:
                rows += 1
                if limit and rows > limit:
                    raise _TooManyRows(f"the result has more than {limit:,} rows (--max-rows); "
                                       "add a LIMIT, or page with LIMIT and OFFSET")
                batch.append(writer.row(solution))
                if len(batch) >= ROW_BATCH:
                    out.write("".join(batch).encode())
                    batch.clear()
            batch.append(writer.tail())
            out.write("".join(batch).encode())
            out.end(rows)
        else:
            fmt = negotiate(accept, GRAPH_FORMATS)
            out.head(200, fmt.content_type, form="graph")
            counter = _Counter(result, limit)
            ox.serialize(counter, cast(IO[bytes], out), fmt.rdf)
            out.end(counter.rows)

    def graph(self, request: dict[str, Any]) -> None:
        import pyoxigraph as ox

        from .server_formats import DATASET_FORMATS, GRAPH_FORMATS, negotiate

        graph = request.get("graph")
        if graph is None:  # the whole dataset
            fmt = negotiate(request.get("accept"), DATASET_FORMATS)
            self.out.head(200, fmt.content_type)
            if not request.get("head"):
                self.store.dump(self.out, fmt.rdf)
            self.out.end()
            return
        node = ox.DefaultGraph() if graph == "" else ox.NamedNode(graph)
        if graph and not self.store.contains_named_graph(node):
            raise _Refused(404, f"no graph <{graph}> in this store")
        fmt = negotiate(request.get("accept"), GRAPH_FORMATS)
        self.out.head(200, fmt.content_type)
        if not request.get("head"):
            self.store.dump(self.out, fmt.rdf, from_graph=node)
        self.out.end()

    # -- writing (a write worker only) -------------------------------------------------------

    def update(self, request: dict[str, Any]) -> None:
        from .sparql_guard import check_update

        check_update(request["update"], self.allow)
        self.store.update(request["update"])
        self.store.flush()
        self.out.head(204)
        self.out.end()

    def graph_write(self, request: dict[str, Any]) -> None:
        import pyoxigraph as ox

        graph = request.get("graph") or ""
        node = ox.NamedNode(graph) if graph else ox.DefaultGraph()
        existed = not graph or self.store.contains_named_graph(node)
        method = request["method"]
        if method == "DELETE":
            if not existed:
                raise _Refused(404, f"no graph <{graph}> in this store")
            if graph:
                self.store.remove_graph(node)
            else:
                self.store.clear_graph(node)
        else:
            fmt = ox.RdfFormat.from_media_type(request["content_type"])
            if fmt is None or fmt.supports_datasets:
                raise _Refused(415, f"cannot load {request['content_type']} into a graph; send "
                               "text/turtle, application/n-triples or application/rdf+xml")
            if method == "PUT" and existed:
                self.store.clear_graph(node)
            # bulk_load is atomic in pyoxigraph 0.5: a failure leaves the graph as it was
            self.store.bulk_load(path=request["path"], format=fmt, to_graph=node,
                                 base_iri=graph or None)
        self.store.flush()
        self.out.head(204 if existed else 201)
        self.out.end()


class _Counter:
    """Iterates triples, counting them, and stops past ``limit`` (0: no limit)."""

    def __init__(self, triples: Any, limit: int) -> None:
        self._triples = iter(triples)
        self.limit = limit
        self.rows = 0

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        triple = next(self._triples)
        self.rows += 1
        if self.limit and self.rows > self.limit:
            raise _TooManyRows(f"the result has more than {self.limit:,} triples (--max-rows)")
        return triple


def _term(spec: dict[str, str]) -> Any:
    """A pyoxigraph term from ``{"type": "uri"|"literal", "value", "datatype"?, "lang"?}``."""
    import pyoxigraph as ox

    if spec.get("type") == "uri":
        return ox.NamedNode(spec["value"])
    if spec.get("lang"):
        return ox.Literal(spec["value"], language=spec["lang"])
    if spec.get("datatype"):
        return ox.Literal(spec["value"], datatype=ox.NamedNode(spec["datatype"]))
    return ox.Literal(spec["value"])


def _die_with_parent(parent: int) -> None:
    """Exit when the server dies, even in the middle of a query (no orphan burns CPU).

    A thread that polls the parent pid, not ``PR_SET_PDEATHSIG``: Linux sends that signal when
    the *thread* that started the worker ends, and workers are started from short-lived threads.
    pyoxigraph releases the GIL while it evaluates, so this thread runs during long queries.
    """
    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> int:
    _die_with_parent(int(os.environ.get("GFF2RDF_SERVER_PID") or os.getppid()))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle
    inp = sys.stdin.buffer
    out = _Out(os.dup(sys.stdout.fileno()))
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # a stray print cannot break the frames
    first = read_frame(inp)
    if first is None or first[0] != b"C":
        return 1
    config = json.loads(first[1])
    import pyoxigraph as ox

    try:
        store = (ox.Store(config["store"]) if config.get("mode") == "write"
                 else ox.Store.read_only(config["store"]))
    except OSError as exc:
        out.error(500, f"cannot open the store: {_safe(str(exc), config['store'])}")
        return 1
    if config.get("warm_up", True):
        from .sparql_guard import warm_up

        warm_up()
    worker = Worker(store, config, out)
    out._write(encode_frame(b"R", json.dumps({"pid": os.getpid()}).encode()))
    while True:
        frame = read_frame(inp)
        if frame is None or frame[0] != b"Q":
            break
        try:
            worker.handle(json.loads(frame[1]))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a pyoxigraph panic: report it, then start afresh
            out.error(500, "internal error in the query engine: "
                      + _safe(f"{type(exc).__name__}: {exc}", config["store"]))
            return 1
        if worker.writer:
            break
    del worker, store  # closes RocksDB before the process ends
    return 0


if __name__ == "__main__":
    sys.exit(main())
