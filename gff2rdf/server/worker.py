"""A worker process of ``gff2rdf serve``: runs queries on its own view of the store.

The server (``gff2rdf.server.pool``) starts these with ``python -m gff2rdf.server.worker`` and
talks to each over its stdin and stdout in frames of ``kind (1 byte) + length (4 bytes) +
payload``:

========  ==========  =============================================================
kind      direction   payload
========  ==========  =============================================================
``C``     to worker   config (JSON): store path, mode (``read`` or ``write``), allowlist
``R``     to server   ready (JSON): the worker's pid; also the answer to ``O`` and ``K``
``O``     to worker   open the store (a read worker: ``Store.read_only``)
``K``     to worker   close the store (every RocksDB file of it closed, checked)
``Q``     to worker   one request (JSON): ``op`` is query, graph, update or graph_write
``H``     to server   the response head (JSON): status and content type
``D``     to server   response bytes
``E``     to server   the end of a response (JSON): rows written
``X``     to server   an error (JSON): status and a message safe to show a client
========  ==========  =============================================================

A worker starts with no store open (imports and warm-up only), so the server decides when a
view exists. A ``read`` worker opens its read-only view on ``O``, runs one request at a time,
and closes the view on ``K``: before a write the server closes every view, after it they are
opened again and see the new state (a ``Store.read_only`` view is a snapshot). The server
kills a read worker at the deadline (pyoxigraph cannot be interrupted otherwise). A ``write``
worker opens the store read-write for each request, runs it, flushes, closes the store and
answers ``R``: the server runs it only while no read view is open (RocksDB: a read-only open
while another process writes is undefined behaviour), and the process stays for the next
write. Closing is checked: when a file of the store is still open afterwards (a pyoxigraph
object kept alive), the worker says so and the server kills it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any, cast

from ..errors import RequestError
from .guard import SERVICE_FAILED, guard_query, guard_update, warm_up
from .store import close_store, open_store

# deferred: the imports inside functions load pyoxigraph only when the call needs them,
# to keep this module's import (and start-up) light

if TYPE_CHECKING:
    from .guard import Guarded

__all__ = ["FRAME", "decode_frame", "encode_frame", "main", "read_frame"]

FRAME = struct.Struct(">cI")
FLUSH_AT = 64 * 1024
ROW_BATCH = 256
# With --max-rows, a result is held back until it ends or passes HOLD bytes, so that one over
# the limit is a 422 rather than a 200 cut part way: in memory up to HOLD_IN_MEMORY, then in a
# temporary file. A bigger result streams, and passing the limit then ends it with
# server_formats.error_tail (per format) and a cut connection.
HOLD = 256 << 20
HOLD_IN_MEMORY = 4 << 20


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
        self.content_type: str | None = None
        self.committed = False  # a head has left: an error can no longer change the status
        self._hold = 0          # bytes of response kept back before the head leaves (0: none)
        self._held: IO[bytes] | None = None
        self._held_size = 0

    def _write(self, data: bytes | bytearray) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]

    def hold(self, limit: int) -> None:
        """Keep the response back until it ends or passes ``limit`` bytes, so that an error
        found meanwhile (``--max-rows``) still gets its own status: nothing has left yet."""
        self._hold, self._held_size = limit, 0

    def head(self, status: int, content_type: str | None = None, **extra: Any) -> None:
        info = {"status": status, "content_type": content_type, **extra}
        self.content_type = content_type
        self.pending += encode_frame(b"H", json.dumps(info).encode())

    def write(self, data: bytes) -> int:  # also the file object pyoxigraph serialises into
        self.data += data
        if len(self.data) >= FLUSH_AT:
            self.flush()
        return len(data)

    def flush(self) -> None:
        if self._hold:
            if self.data:
                if self._held is None:
                    self._held = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed in
                        HOLD_IN_MEMORY, prefix="gff2rdf-")           # _release and error)
                self._held.write(self.data)
                self._held_size += len(self.data)
                self.data.clear()
            if self._held_size <= self._hold:
                return
            self._release()
        if self.data:
            self.pending += encode_frame(b"D", bytes(self.data))
            self.data.clear()
        if self.pending:
            self._write(self.pending)
            self.committed = True
            self.pending.clear()

    def _release(self) -> None:
        """Send what was held (the head first): the response is committed from here on."""
        self._hold, self._held_size = 0, 0
        held, self._held = self._held, None
        if held is not None:
            held.seek(0)
            while piece := held.read(FLUSH_AT * 16):
                self.pending += encode_frame(b"D", piece)
                self._write(self.pending)
                self.committed = True
                self.pending.clear()
            held.close()

    def end(self, rows: int | None = 0) -> None:
        self._release()
        if self.data:
            self.pending += encode_frame(b"D", bytes(self.data))
            self.data.clear()
        self.pending += encode_frame(b"E", json.dumps({"rows": rows}).encode())
        self._write(self.pending)
        self.pending.clear()
        self.committed = False

    def error(self, status: int, message: str) -> None:
        self.data.clear()
        if self.committed:  # mid-stream: end at a boundary with a line no parser accepts
            from .formats import error_tail

            self._write(encode_frame(b"D", error_tail(self.content_type, message)))
        self.pending.clear()  # a head not yet sent is dropped: the client gets the error status
        self._hold, self._held_size = 0, 0
        if self._held is not None:
            self._held.close()
            self._held = None
        self.committed = False
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
        self.service_in_flight = False

    def handle(self, request: dict[str, Any]) -> None:
        from .rows import TooManyRows

        op = request.get("op")
        if op == "query" and request.get("max_rows"):
            self.out.hold(int(request.get("hold") or HOLD))
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
        except (_TooManyRows, TooManyRows) as exc:
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


        guarded = guard_query(request["query"], self.allow, request.get("base_iri"))
        kwargs: dict[str, Any] = {}
        if request.get("base_iri"):  # relative IRIs resolve against the endpoint's URL
            kwargs["base_iri"] = request["base_iri"]
        if request.get("default_graphs"):
            kwargs["default_graph"] = [ox.NamedNode(g) for g in request["default_graphs"]]
        elif request.get("union"):
            kwargs["use_default_graph_as_union"] = True
        if request.get("named_graphs"):
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in request["named_graphs"]]
        with self._engine(guarded):
            self._answer(self.store.query(guarded.text, **kwargs), request)

    def _answer(self, result: Any, request: dict[str, Any]) -> None:
        import pyoxigraph as ox

        from .formats import (
            ASK_FORMATS,
            GRAPH_FORMATS,
            SELECT_FORMATS,
            ask_bytes,
            negotiate,
        )
        from .rows import RESULT_FORMATS, CountingOutput

        accept = request.get("accept")
        limit = int(request.get("max_rows") or 0)
        out = self.out
        if isinstance(result, ox.QueryBoolean):
            fmt = negotiate(accept, ASK_FORMATS)
            out.head(200, fmt.content_type, form="ask")
            out.write(ask_bytes(fmt, bool(result)))
            out.end(1)
        elif isinstance(result, ox.QuerySolutions):
            from .gff3 import GFF3, write_selected

            fmt = negotiate(accept, (*SELECT_FORMATS, GFF3))
            if fmt is GFF3:  # the features of the first column, as GFF3 (gff2rdf.export.api)
                out.head(200, fmt.content_type, form="gff3")
                out.end(write_selected(self.store, result, out, limit).lines)
                return
            out.head(200, fmt.content_type, form="select")
            counting = CountingOutput(out, fmt.name, limit)  # pyoxigraph's serialiser, counted
            result.serialize(cast(IO[bytes], counting), RESULT_FORMATS[fmt.name])
            out.end(counting.rows)
        else:
            fmt = negotiate(accept, GRAPH_FORMATS)
            out.head(200, fmt.content_type, form="graph")
            counter = _Counter(result, limit)
            ox.serialize(counter, cast(IO[bytes], out), fmt.rdf)
            out.end(counter.rows)

    @contextlib.contextmanager
    def _engine(self, guarded: Guarded) -> Iterator[None]:
        """The engine runs ``guarded``'s text in this block: ``service_in_flight`` says whether
        a SERVICE call may be under way, and its failures become ``_engine_failed``'s."""
        self.service_in_flight = bool(guarded.services)
        try:
            yield
        except Exception as exc:
            failure = self._engine_failed(guarded, exc)
            if failure is None:
                raise
            # no frame of the engine's result may stay reachable from a reference cycle: the
            # GC would then free pyoxigraph's objects on another thread, which pyo3 refuses
            exc.__traceback__ = None
            raise failure from None
        finally:
            self.service_in_flight = False

    @staticmethod
    def _engine_failed(guarded: Guarded, exc: Exception) -> Exception | None:
        """What to raise instead of an exception of the engine on a guarded text (None: the
        exception itself). Its syntax errors point into the client's text; when a SERVICE call
        may have been in flight, any failure is one fixed message, whatever the remote
        answered or whether its port is open."""
        from .rows import TooManyRows

        if isinstance(exc, (_TooManyRows, TooManyRows, _Refused, RequestError)):
            return None
        return guarded.engine_error(exc)

    def graph(self, request: dict[str, Any]) -> None:
        from .graphs import read_graph

        read_graph(self.store, request, self.out)

    # -- writing (a write worker only) -------------------------------------------------------

    def update(self, request: dict[str, Any]) -> None:
        guarded = guard_update(request["update"], self.allow, request.get("base_iri"))
        with self._engine(guarded):
            if request.get("base_iri"):
                self.store.update(guarded.text, base_iri=request["base_iri"])
            else:
                self.store.update(guarded.text)
        self.store.flush()
        self.out.head(204)
        self.out.end()

    def graph_write(self, request: dict[str, Any]) -> None:
        from .graphs import write_graph

        write_graph(self.store, request, self.out)


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


def _write(worker: Worker, request: dict[str, Any], config: dict[str, Any]) -> None:
    """A write worker's request: open read-write, run it, close; the response then ``R``."""
    out = worker.out
    try:
        worker.store = open_store(config)
    except OSError as exc:
        out.error(500, f"cannot open the store: {_safe(str(exc), worker.path)}")
    else:
        try:
            if request.get("op") == "create":  # an empty store: opening created it
                worker.store.flush()
                out.head(204)
                out.end()
            else:
                worker.handle(request)
        finally:
            close_store(worker)
    out._write(encode_frame(b"R", json.dumps({"pid": os.getpid()}).encode()))


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
    import pyoxigraph  # noqa: F401  (imported before the worker says it is ready)

    if config.get("warm_up", True):
        warm_up()
    worker = Worker(None, config, out)
    ready = encode_frame(b"R", json.dumps({"pid": os.getpid()}).encode())
    out._write(ready)
    while True:
        frame = read_frame(inp)
        if frame is None:
            break
        kind, payload = frame
        try:
            if kind == b"O" and not worker.writer:
                if worker.store is None:
                    worker.store = open_store(config)
                out._write(ready)
            elif kind == b"K":
                close_store(worker)
                out._write(ready)
            elif kind == b"Q" and worker.writer:
                _write(worker, json.loads(payload), config)
            elif kind == b"Q" and worker.store is not None:
                worker.handle(json.loads(payload))
            else:
                out.error(500, f"unexpected frame {kind!r}")
                return 1
        except (KeyboardInterrupt, SystemExit):
            raise
        except OSError as exc:  # the store cannot be opened
            out.error(500, "cannot open the store: " + _safe(str(exc), config["store"]))
            return 1
        except BaseException as exc:  # a pyoxigraph panic, a store left open: start afresh
            if worker.service_in_flight:
                out.error(502, SERVICE_FAILED)
            else:
                out.error(500, "internal error in the query engine: "
                          + _safe(f"{type(exc).__name__}: {exc}", config["store"]))
            return 1
    worker.store = None  # closes RocksDB before the process ends
    return 0


if __name__ == "__main__":
    sys.exit(main())
