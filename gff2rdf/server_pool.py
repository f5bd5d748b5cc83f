"""The worker processes behind ``gff2rdf serve``: a pool of read-only views, killed at deadlines.

pyoxigraph's ``Store.query`` has no timeout and cannot be cancelled, and the Oxigraph server's
own ``--timeout-s`` did not stop an aggregate or a streaming cross product (design.md). A
query that must stop therefore runs in a process that can be killed:

* ``size`` worker processes (``python -m gff2rdf.server_worker``) are started ahead, each with
  ``Store.read_only`` on the store directory, and each runs one request at a time.
* The server waits on a worker's pipe with a deadline. At the deadline, or when the worker's
  resident memory passes ``memory_limit``, or when the client has gone away, it sends SIGKILL,
  reaps the process (``kill_seconds`` records how long that took: the CPU is free once it
  returns) and starts a replacement in the background; the other workers go on serving.
* Writes are exclusive (``WorkerPool.write``): new requests wait, running ones finish, every
  read worker exits, one write worker opens the store read-write, runs the request, flushes and
  exits, then fresh read workers open the new state. No process ever holds a read-only view
  while another writes (undefined behaviour in RocksDB, per Oxigraph's documentation).

Example:
    >>> pool = WorkerPool(PoolConfig(Path("store"), size=2))   # doctest: +SKIP
    >>> pool.start()                                            # doctest: +SKIP
    >>> worker = pool.acquire(time.monotonic() + 30)            # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import RequestError, ServerError
from .server_http import Request, StreamAborted
from .server_lanes import Lanes, shape
from .server_worker import decode_frame, encode_frame

__all__ = ["ClientGone", "PoolConfig", "ResultStream", "WorkerGone", "WorkerPool",
           "WorkerProcess", "WorkerTimeout"]

TICK = 0.1  # seconds between memory and client checks while a worker computes
READ_SIZE = 256 * 1024
START_TIMEOUT = 120.0
PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class WorkerTimeout(Exception):
    """The deadline passed while the worker was still working."""


class WorkerGone(Exception):
    """The worker died, or was killed for using too much memory; ``status`` for the client."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.status = status


class ClientGone(Exception):
    """The client closed its connection while the worker was working."""


@dataclass(frozen=True)
class PoolConfig:
    store: Path
    size: int = 2
    allow_service: tuple[str, ...] = ()
    memory_limit: int = 0  # bytes of resident memory per worker; 0: no limit
    warm_up: bool = True   # import rdflib's SPARQL parser at start, not at the first SERVICE
    light_seconds: float = 0.05  # a query shape faster than this is light (server_lanes)
    reserve: int = 2       # workers that only light queries may take (at most size - 1)


@dataclass
class PoolStats:
    started: int = 0
    killed: int = 0
    kill_seconds: list[float] = field(default_factory=list)
    writes: int = 0


class WorkerProcess:
    """One worker process and the server's end of its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], memory_limit: int) -> None:
        self.proc = proc
        self.pid = proc.pid
        assert proc.stdin is not None and proc.stdout is not None
        self._in = proc.stdin.fileno()
        self._out = proc.stdout.fileno()
        self._buffer = bytearray()
        self._chunk = bytearray(READ_SIZE)
        self._view = memoryview(self._chunk)
        self._poll = select.poll()
        self._poll.register(self._out, select.POLLIN | select.POLLHUP | select.POLLERR)
        self.memory_limit = memory_limit
        self.stopping = False  # killed because the server stops: its client gets 503
        self.job: tuple[int | None, bool, float] = (None, False, 0.0)  # shape, light, start

    @classmethod
    def spawn(cls, config: PoolConfig, mode: str = "read") -> WorkerProcess:
        env = dict(os.environ)
        env["GFF2RDF_SERVER_PID"] = str(os.getpid())
        proc = subprocess.Popen(
            [sys.executable, "-m", "gff2rdf.server_worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=None, close_fds=True, env=env, bufsize=0)
        worker = cls(proc, config.memory_limit if mode == "read" else 0)
        worker._send(b"C", {"store": str(config.store), "mode": mode,
                            "allow_service": list(config.allow_service),
                            "warm_up": config.warm_up})
        return worker

    def _send(self, kind: bytes, obj: dict[str, Any]) -> None:
        data = memoryview(encode_frame(kind, json.dumps(obj).encode()))
        try:
            while data:
                data = data[os.write(self._in, data):]
        except OSError as exc:  # BrokenPipe: it died
            raise WorkerGone("the query engine stopped unexpectedly") from exc

    def send(self, request: dict[str, Any]) -> None:
        self._send(b"Q", request)

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        try:
            kind, payload = self.read(time.monotonic() + timeout)
        except (WorkerGone, WorkerTimeout) as exc:
            self.kill()
            raise ServerError(f"a query worker did not start: {exc or 'timed out'}") from exc
        if kind != b"R":
            self.kill()
            message = json.loads(payload).get("message", "") if kind == b"X" else ""
            raise ServerError(f"a query worker did not start: {message}")

    def read(self, deadline: float, gone: Callable[[], bool] | None = None
             ) -> tuple[bytes, bytes]:
        """The next frame; ``WorkerTimeout`` at the deadline, ``WorkerGone`` if the worker
        died or grew past its memory limit, ``ClientGone`` when ``gone()`` says so."""
        while True:
            frame = decode_frame(self._buffer)
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout()
            if self._poll.poll(max(1, int(min(left, TICK) * 1000))):
                # into a buffer kept for the purpose: os.read(fd, 1 MiB) allocates and frees
                # 1 MiB each call, 45 us against 3.5 us for the same 100 bytes
                count = os.readv(self._out, [self._chunk])
                data = self._view[:count]
                if not data and self.stopping:
                    raise WorkerGone("the server is shutting down; try again shortly", 503)
                if not data:
                    raise WorkerGone("the query engine stopped unexpectedly")
                self._buffer += data
                continue
            if self.memory_limit and self.rss() > self.memory_limit:
                raise WorkerGone(f"the query needed more than {self.memory_limit >> 20:,} MB "
                                 "of memory (worker-memory setting)")
            if gone is not None and gone():
                raise ClientGone()

    def rss(self) -> int:
        try:
            with open(f"/proc/{self.pid}/statm", "rb") as f:
                return int(f.read().split()[1]) * PAGE
        except (OSError, ValueError, IndexError):
            return 0

    def kill(self) -> float:
        """SIGKILL and reap; returns the seconds until the process was gone."""
        started = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait()
        self._close_pipes()
        return time.perf_counter() - started

    def close(self, wait: float = 10.0) -> None:
        """Let the worker finish: it closes its store when its stdin closes."""
        with contextlib.suppress(OSError):
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        try:
            self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError, ValueError):
                if pipe is not None:
                    pipe.close()


class WorkerPool:
    """``size`` read workers, with acquire / release / discard, and exclusive writes."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.stats = PoolStats()
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._spawning = 0
        self._writing = False
        self._closed = False
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self.lanes = Lanes(config.light_seconds)
        self._light_queue: deque[object] = deque()
        self._heavy_queue: deque[object] = deque()
        reserve = min(config.reserve, config.size - 1) if config.light_seconds > 0 else 0
        self._heavy_cap = max(1, config.size - reserve)

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> None:
        """Start every worker and wait until each has opened the store."""
        workers = [WorkerProcess.spawn(self.config) for _ in range(self.config.size)]
        try:
            for worker in workers:
                worker.wait_ready()
        except ServerError:
            for worker in workers:
                worker.kill()
            raise
        with self._cond:
            self._idle.extend(workers)
            self.stats.started += len(workers)
            self._cond.notify_all()

    def close(self) -> None:
        """Stop every worker. A busy one is only sent SIGKILL: the thread waiting on it sees
        it end, answers 503 and reaps it (``discard``); closing its pipes under that thread
        would turn the 503 into an error on a closed file."""
        with self._cond:
            self._closed = True
            idle = list(self._idle)
            busy = list(self._busy)
            self._idle.clear()
            self._cond.notify_all()
        for worker in busy:
            worker.stopping = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.pid, signal.SIGKILL)
        for worker in idle:
            worker.kill()

    def pids(self) -> list[int]:
        with self._cond:
            return sorted(w.pid for w in [*self._idle, *self._busy])

    def create_store(self) -> None:
        """Create an empty store (a write worker that opens it read-write and exits)."""
        worker = WorkerProcess.spawn(self.config, mode="write")
        worker.wait_ready()
        worker.close()

    # -- reads -------------------------------------------------------------------------------

    def acquire(self, deadline: float, request: dict[str, Any] | None = None
                ) -> WorkerProcess:
        """An idle worker, waiting for one until ``deadline`` (then 503 with Retry-After).

        A ``request`` not known to be light (``server_lanes``) waits while ``size - reserve``
        workers run heavy ones, so light requests always find a worker kept for them; and it
        leaves a freed worker to a light request that waits. Each lane is first come, first
        served.
        """
        key = shape(request)
        light = self.lanes.light(key)
        queue, ticket = (self._light_queue if light else self._heavy_queue), object()
        with self._cond:
            queue.append(ticket)
            try:
                while True:
                    if self._closed:
                        raise RequestError("the server is shutting down", 503,
                                           {"Retry-After": "5"})
                    if queue[0] is ticket and self._idle and not self._writing and (
                            light or (len(self._idle) > len(self._light_queue)
                                      and self._heavy() < self._heavy_cap)):
                        worker = self._idle.pop()
                        self._busy.add(worker)
                        worker.job = (key, light, time.monotonic())
                        return worker
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise RequestError("every query worker is busy; try again shortly",
                                           503, {"Retry-After": "2"})
                    self._cond.wait(left)
            finally:
                queue.remove(ticket)
                self._cond.notify_all()  # the next in line may go now

    def _heavy(self) -> int:
        """Busy workers running heavy queries (light ones that overran included)."""
        now = time.monotonic()
        return sum(1 for w in self._busy if self.lanes.overran(w.job[1], now - w.job[2]))

    def _ended(self, worker: WorkerProcess) -> None:
        key, _, started = worker.job
        if started:
            self.lanes.record(key, time.monotonic() - started)
            worker.job = (None, False, 0.0)

    def release(self, worker: WorkerProcess) -> None:
        self._ended(worker)
        with self._cond:
            self._busy.discard(worker)
            if self._closed:
                worker.kill()
                return
            self._idle.append(worker)
            self._cond.notify_all()

    def discard(self, worker: WorkerProcess) -> float:
        """Kill a worker (timed out, too big, client gone, broken) and start a replacement."""
        self._ended(worker)
        seconds = worker.kill()
        with self._cond:
            self._busy.discard(worker)
            self.stats.killed += 1
            self.stats.kill_seconds.append(seconds)
            del self.stats.kill_seconds[:-100]
            replace = not self._closed and not self._writing
            if replace:
                self._spawning += 1
        if replace:
            threading.Thread(target=self._replace, name="gff2rdf-respawn", daemon=True).start()
        return seconds

    def _replace(self) -> None:
        worker = None
        try:
            worker = WorkerProcess.spawn(self.config)
            worker.wait_ready()
        except (ServerError, OSError) as exc:
            print(f"gff2rdf serve: cannot replace a query worker: {exc}", file=sys.stderr)
            worker = None
        with self._cond:
            self._spawning -= 1
            if worker is not None and not self._closed and not self._writing:
                self._idle.append(worker)
                self.stats.started += 1
                worker = None
            self._cond.notify_all()
        if worker is not None:
            worker.close()

    # -- writes ------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self, drain: float) -> Iterator[None]:
        with self._write_lock:
            with self._cond:
                self._writing = True
                deadline = time.monotonic() + drain
                while (self._busy or self._spawning) and time.monotonic() < deadline:
                    self._cond.wait(max(0.01, deadline - time.monotonic()))
                stragglers = list(self._busy)
                idle = list(self._idle)
                self._idle.clear()
                self._busy.clear()
            for worker in stragglers:  # past their own deadlines: they would be killed anyway
                worker.kill()
            for worker in idle:
                worker.close()
            with self._cond:  # a replacement started just before the write began
                while self._spawning:
                    self._cond.wait(0.05)
                leftover = list(self._idle)
                self._idle.clear()
            for worker in leftover:
                worker.close()
            try:
                yield
            finally:
                fresh: list[WorkerProcess] = []
                try:
                    fresh = [WorkerProcess.spawn(self.config) for _ in range(self.config.size)]
                    for worker in fresh:
                        worker.wait_ready()
                finally:
                    with self._cond:
                        self._idle.extend(w for w in fresh if w.proc.poll() is None)
                        self.stats.started += len(fresh)
                        self._writing = False
                        self._cond.notify_all()

    def write(self, request: dict[str, Any], drain: float) -> tuple[int, str]:
        """Run one write request exclusively; returns its status and error message (if any).

        Running read requests get ``drain`` seconds to finish; new ones wait meanwhile.
        """
        with self._exclusive(drain):
            worker = WorkerProcess.spawn(self.config, mode="write")
            try:
                worker.wait_ready()
                worker.send(request)
                status, message = 500, "the write did not finish"
                while True:
                    kind, payload = worker.read(time.monotonic() + 7 * 86400)
                    if kind == b"H":
                        status = json.loads(payload)["status"]
                    elif kind == b"E":
                        message = ""
                        break
                    elif kind == b"X":
                        info = json.loads(payload)
                        status, message = info["status"], info["message"]
                        break
            except (WorkerGone, WorkerTimeout) as exc:
                status, message = 500, f"the write failed: {exc}"
            finally:
                worker.close(wait=600)
            with self._cond:
                self.stats.writes += 1
        return status, message


class ResultStream:
    """The rest of a large result, read from its worker as the client takes it.

    Not a generator: ``close()`` must give the worker back (or kill it) even when the body was
    never iterated (a client that went away before the first byte).
    """

    def __init__(self, pool: WorkerPool, worker: WorkerProcess, first: bytes, deadline: float,
                 req: Request, timeout: float) -> None:
        self._pool: WorkerPool | None = pool
        self._worker = worker
        self._first: bytes | None = first
        self._deadline = deadline
        self._req = req
        self._timeout = timeout

    def __iter__(self) -> ResultStream:
        return self

    def __next__(self) -> bytes:
        if self._pool is None:
            raise StopIteration
        if self._first is not None:
            first, self._first = self._first, None
            return first
        try:
            kind, payload = self._worker.read(self._deadline, self._req.gone)
        except WorkerTimeout:
            self._finish(healthy=False)
            raise StreamAborted(f"timed out after {self._timeout:g} s") from None
        except (WorkerGone, ClientGone) as exc:
            self._finish(healthy=False)
            raise StreamAborted(str(exc) or "the client went away") from None
        if kind == b"D":
            return payload
        self._finish(healthy=True)  # the worker is fine: it ended or reported the error itself
        if kind == b"E":
            raise StopIteration
        raise StreamAborted(json.loads(payload)["message"])

    def _finish(self, healthy: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            if healthy:
                pool.release(self._worker)
            else:
                pool.discard(self._worker)

    def close(self) -> None:
        """Stop early: the worker is still sending, so it is killed and replaced."""
        self._finish(healthy=False)
