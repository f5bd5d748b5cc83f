"""The worker processes behind ``gff2rdf serve``: a pool of read-only views, killed at deadlines.

pyoxigraph's ``Store.query`` has no timeout and cannot be cancelled, and the Oxigraph server's
own ``--timeout-s`` did not stop an aggregate or a streaming cross product (design.md). A
query that must stop therefore runs in a process that can be killed:

* ``size`` worker processes (``python -m gff2rdf.server.worker``) are started ahead, each with
  ``Store.read_only`` on the store directory, and each runs one request at a time.
* The server waits on a worker's pipe with a deadline. At the deadline, or when the worker's
  resident memory passes ``memory_limit``, or when the client has gone away, it sends SIGKILL,
  reaps the process (``kill_seconds`` records how long that took: the CPU is free once it
  returns) and starts a replacement in the background; the other workers go on serving.
* Writes are exclusive (``WorkerPool.write``). The requests in flight when a write comes end,
  or are killed at their own deadline; reads go on being served meanwhile (those that started
  after the write came get until the last of those deadlines). Then new reads wait while every
  read worker closes its read-only view (the process stays), the write worker (one process,
  kept between writes) opens the store read-write, runs the request, flushes and closes it,
  and the read workers open their views again, which see the new state. So a write waits only
  for the queries in flight, and reads wait only for the write itself. No process holds a
  read-only view while another writes (undefined behaviour in RocksDB, per Oxigraph's
  documentation); each close is checked in the worker. Reopening costs milliseconds where
  restarting every worker cost 1.4-1.8 s per write (issue 15). The write worker has its own
  memory limit (``write_memory``); past it the write is killed, and RocksDB keeps the store as
  it was (an update is one transaction, a bulk load is committed at its end).

Example: two workers over a new one-triple store; a write is seen by the same workers (their
views reopened, not restarted); a query past its deadline is killed and its worker replaced:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import pyoxigraph as ox
    >>> directory = tempfile.mkdtemp()
    >>> ox.Store(directory).update("INSERT DATA { <urn:a> <urn:b> 1 }")
    >>> pool = WorkerPool(PoolConfig(Path(directory), size=2, warm_up=False))
    >>> pool.start()
    >>> def run(query: str, seconds: float = 10) -> bytes:
    ...     worker = pool.acquire(time.monotonic() + 30)
    ...     try:
    ...         worker.send({"op": "query", "query": query, "accept": "text/csv"})
    ...         frames = [worker.read(time.monotonic() + seconds)]
    ...         while frames[-1][0] not in (b"E", b"X"):
    ...             frames.append(worker.read(time.monotonic() + seconds))
    ...     except WorkerTimeout:
    ...         pool.discard(worker)
    ...         raise
    ...     pool.release(worker)
    ...     return frames[1][1]
    >>> count = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"
    >>> try:
    ...     print(run(count).split())
    ...     pids = pool.pids()
    ...     print(pool.write({"op": "update", "update": "INSERT DATA { <urn:a> <urn:b> 2, 3 }"},
    ...                      drain=5))
    ...     print(run(count).split(), pool.pids() == pids, pool.stats.reopens)
    ...     cross = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(20))  # 3^20 rows to count
    ...     try:
    ...         run(f"SELECT (COUNT(*) AS ?n) {{ {cross} }}", seconds=0.5)
    ...     except WorkerTimeout:
    ...         print("killed:", pool.stats.killed)
    ...     for _ in range(300):  # the replacement starts in the background
    ...         if len(pool.pids()) == 2:
    ...             break
    ...         time.sleep(0.1)
    ...     print(pool.stats.started, len(set(pool.pids()) - set(pids)))
    ... finally:
    ...     pool.close()
    [b'n', b'1']
    (204, '')
    [b'n', b'3'] True 2
    killed: 1
    3 1
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from ..errors import RequestError, ServerError
from .http import Request, StreamAborted
from .lanes import Lanes, shape
from .process import (
    VIEW_TIMEOUT,
    ClientGone,
    PoolConfig,
    WorkerGone,
    WorkerProcess,
    WorkerTimeout,
)

__all__ = ["ClientGone", "PoolConfig", "ResultStream", "WorkerGone", "WorkerPool",
           "WorkerProcess", "WorkerTimeout"]

WRITE_TIMEOUT = 7 * 86400.0
KILL_GRACE = 0.5       # a write kills a request this long past its deadline (its thread did not)
ADMIT_GRACE = 1.0      # seconds a read that started while a write waited may still take
RECYCLE_GROWTH = 256 << 20  # a write worker that grew more than this is not kept


@dataclass
class PoolStats:
    started: int = 0
    killed: int = 0
    kill_seconds: list[float] = field(default_factory=list)
    writes: int = 0
    reopens: int = 0  # read views closed and opened again around a write


class WorkerPool:
    """``size`` read workers, with acquire / release / discard, and exclusive writes."""

    def __init__(self, config: PoolConfig) -> None:
        self.config = config
        self.stats = PoolStats()
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._spawning = 0  # replacements on their way (started, not yet in _idle)
        self._opening = 0   # of them, those opening their view now
        self._writing = False    # a write is on: it waits for the requests in flight, ...
        self._exclusive = False  # ... then new reads wait until it is over
        self._started = False  # start() ran: a write tops the pool up to ``size``
        self._closed = False
        self._cond = threading.Condition()
        self._write_lock = threading.Lock()
        self._writer: WorkerProcess | None = None  # kept between writes (guarded by _write_lock)
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
            for worker in workers:
                worker.command(b"O")
        except (ServerError, WorkerGone) as exc:
            for worker in workers:
                worker.kill()
            if isinstance(exc, ServerError):
                raise
            raise ServerError(f"a query worker did not start: {exc}") from exc
        with self._cond:
            self._idle.extend(workers)
            self.stats.started += len(workers)
            self._started = True
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
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.kill()

    def pids(self) -> list[int]:
        with self._cond:
            return sorted(w.pid for w in [*self._idle, *self._busy])

    @property
    def writing(self) -> bool:
        """A write is waiting for the requests in flight, or running."""
        return self._writing

    def create_store(self) -> None:
        """Create an empty store (the write worker opens it read-write and closes it)."""
        status, message = self.write({"op": "create"}, drain=0)
        if status >= 400:
            raise ServerError(f"cannot create the store: {message}")

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
                    if queue[0] is ticket and self._idle and not self._exclusive and (
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
        with self._cond:
            self._ended(worker)
            self._busy.discard(worker)
            if self._closed or worker.killed:  # killed by a write that could not wait
                worker.kill()
                return
            self._idle.append(worker)
            self._cond.notify_all()

    def discard(self, worker: WorkerProcess) -> float:
        """Kill a worker (timed out, too big, client gone, broken) and start a replacement."""
        seconds = worker.kill()
        with self._cond:
            self._ended(worker)
            if worker not in self._busy:  # a write killed it already and counted it
                return seconds
            self._busy.discard(worker)
            self.stats.killed += 1
            self.stats.kill_seconds.append(seconds)
            del self.stats.kill_seconds[:-100]
            replace = not self._closed  # (its view opens once no write is on)
            if replace:
                self._spawning += 1
            self._cond.notify_all()  # a write waits for the requests in flight
        if replace:
            self._start_replacement()
        return seconds

    def _start_replacement(self) -> None:
        threading.Thread(target=self._replace, name="gff2rdf-respawn", daemon=True).start()

    def _replace(self) -> None:
        """One new read worker (``_spawning`` counted by the caller): started at once, its view
        opened once no write is on, and idle in the same breath (a write counts on both)."""
        worker: WorkerProcess | None = None
        try:
            worker = WorkerProcess.spawn(self.config)
            worker.wait_ready()
            with self._cond:
                while self._exclusive and not self._closed:
                    self._cond.wait()
                self._opening += 1
            try:
                if not self._closed:
                    worker.command(b"O")
            except BaseException:
                with self._cond:
                    self._opening -= 1
                raise
        except (ServerError, WorkerGone, OSError) as exc:
            print(f"gff2rdf serve: cannot replace a query worker: {exc}", file=sys.stderr)
            if worker is not None:
                worker.kill()
            with self._cond:
                self._spawning -= 1
                self._cond.notify_all()
            return
        with self._cond:
            self._opening -= 1
            self._spawning -= 1
            if not self._closed:
                self._idle.append(worker)
                self.stats.started += 1
                worker = None
            self._cond.notify_all()
        if worker is not None:
            worker.kill()

    # -- writes ------------------------------------------------------------------------------

    def _drain(self, drain: float) -> None:
        """Let the requests in flight end, then close the door to new ones.

        First the requests in flight when the write came end, or are killed at their own
        deadline, while new reads are still served on the idle workers. Then new reads wait
        (``_exclusive``), and those that started meanwhile get until the last of those deadlines
        (or ``ADMIT_GRACE``) before they are killed (503, try again): a stream of reads cannot
        hold a write back.
        A request past its own deadline whose thread did not kill it (stuck sending to a slow
        client) is killed here; ``drain`` seconds is the last resort for every one.
        """
        give_up = time.monotonic() + drain
        with self._cond:  # a worker is reused: a request in flight is a worker and its count
            first = {w: w.sent for w in self._busy}
        cap = 0.0
        while True:
            with self._cond:
                now = time.monotonic()
                first = {w: n for w, n in first.items() if w in self._busy and w.sent == n}
                cap = max([cap, *(w.deadline for w in first if w.deadline is not None)])
                if not first and not self._exclusive:
                    self._exclusive = True  # the rest get a second to end, or until the cap
                    cap = max(cap, now + ADMIT_GRACE)
                if self._exclusive and not self._busy and not self._opening:
                    return
                overdue = [w for w in self._busy if now >= give_up or (
                    w.deadline is not None and now > w.deadline + KILL_GRACE) or (
                    self._exclusive and now > cap + KILL_GRACE)]
                for worker in overdue:
                    self._busy.discard(worker)
                    self.stats.killed += 1
                if not overdue:
                    ends = [w.deadline + KILL_GRACE for w in self._busy if w.deadline]
                    if self._exclusive:
                        ends.append(cap + KILL_GRACE)
                    self._cond.wait(max(0.01, min([give_up, now + 0.25, *ends]) - now))
                    continue
            for worker in overdue:
                worker.stop()  # its own thread reads a timeout (or a 503) and discards it

    def _views(self, workers: list[WorkerProcess], kind: bytes) -> list[WorkerProcess]:
        """Send ``K`` (close) or ``O`` (open) to every worker at once; those that fail are
        killed. Returns the workers that did it."""
        sent: list[WorkerProcess] = []
        for worker in workers:
            try:
                worker._send(kind, {})
                sent.append(worker)
            except WorkerGone:
                worker.kill()
        done: list[WorkerProcess] = []
        for worker in sent:
            try:
                worker.expect_ready(VIEW_TIMEOUT)
                done.append(worker)
            except WorkerGone as exc:
                what = "close" if kind == b"K" else "open"
                print(f"gff2rdf serve: a query worker failed to {what} its view of the store "
                      f"and was stopped: {exc}", file=sys.stderr)
                worker.kill()
        return done

    def write(self, request: dict[str, Any], drain: float,
              lend: Callable[[], AbstractContextManager[None]] | None = None
              ) -> tuple[int, str]:
        """Run one write request exclusively; returns its status and error message (if any).

        The requests in flight finish or are killed at their own deadline (at the latest after
        ``drain`` seconds), then new reads wait until it is over. ``lend()`` is entered while
        the write worker has the store open (RocksDB's lock lent to it); when it raises on the
        way out (another program took the store meanwhile), no view is opened again.
        """
        with self._write_lock:
            writer = self._writer
            if writer is not None and writer.proc.poll() is not None:
                writer.kill()
                writer = None
            if writer is None:  # starts while the requests in flight end
                writer = WorkerProcess.spawn(self.config, mode="write")
            with self._cond:
                self._writing = True
            closed: list[WorkerProcess] = []
            lost = False
            try:
                self._drain(drain)
                with self._cond:
                    views = list(self._idle)
                    self._idle.clear()
                closed = self._views(views, b"K")
                if not writer.ready:
                    writer.wait_ready()
                with lend() if lend is not None else contextlib.nullcontext():
                    lost = True  # until the lock is back
                    status, message, writer = self._run_write(writer, request)
                lost = False
            except ServerError as exc:
                status, message, writer = 500, f"the write failed: {exc}", None
            finally:
                self._writer = writer
                if lost:
                    for worker in closed:
                        worker.kill()
                    closed = []
                reopened = self._views(closed, b"O")
                with self._cond:
                    if self._closed:
                        for worker in reopened:
                            worker.kill()
                        reopened = []
                    self._idle.extend(reopened)
                    self.stats.reopens += len(reopened)
                    missing = self.config.size - (len(self._idle) + len(self._busy)
                                                  + self._spawning)
                    if self._closed or not self._started or lost:
                        missing = 0
                    self._spawning += max(0, missing)
                    self.stats.writes += 1
                    self._writing = self._exclusive = False
                    self._cond.notify_all()
                for _ in range(missing):
                    self._start_replacement()
                if self._closed and self._writer is not None:
                    self._writer.kill()
                    self._writer = None
        return status, message

    def _run_write(self, writer: WorkerProcess, request: dict[str, Any]
                   ) -> tuple[int, str, WorkerProcess | None]:
        """The write on the write worker: its status, its message, and the worker if it is fit
        to keep (it answered ``R``: its store is closed; its memory did not grow much)."""
        status, message, answered = 500, "the write did not finish", False
        try:
            writer.send(request)
            while not answered:
                kind, payload = writer.read(time.monotonic() + WRITE_TIMEOUT)
                if kind == b"H":
                    status = json.loads(payload)["status"]
                elif kind in (b"E", b"X"):
                    info = json.loads(payload)
                    answered, message = True, info.get("message", "")
                    status = info.get("status", status)
            writer.expect_ready(VIEW_TIMEOUT)  # the store is closed again
        except (WorkerGone, WorkerTimeout) as exc:
            if answered:  # the answer stands; the worker did not close its store cleanly
                print(f"gff2rdf serve: the write worker was stopped after a write: {exc}",
                      file=sys.stderr)
            else:
                status, message = 500, f"the write failed: {exc or 'timed out'}"
            writer.kill()
            return status, message, None
        if writer.rss() > writer.ready_rss + RECYCLE_GROWTH:
            writer.close()  # give the memory of a big load back; the next write starts one
            return status, message, None
        return status, message, writer


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
