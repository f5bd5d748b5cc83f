"""A worker process of ``gff2rdf serve`` seen from the server: its pipes, deadline, memory.

``WorkerProcess`` starts ``python -m gff2rdf.server.worker``, speaks its frames (documented
there), waits on its pipe with a deadline while it computes (``WorkerTimeout``), watches its
resident memory and the client (``WorkerGone``, ``ClientGone``), and kills it. The pool of them
is ``gff2rdf.server.pool``.

Example: a worker over a new three-triple store answers a query in frames (head, data, end);
a query still running at its deadline is killed:

    >>> import tempfile
    >>> import pyoxigraph as ox
    >>> directory = tempfile.mkdtemp()
    >>> ox.Store(directory).update("INSERT DATA { <urn:a> <urn:b> 1, 2, 3 }")
    >>> worker = WorkerProcess.spawn(PoolConfig(Path(directory), warm_up=False))
    >>> worker.wait_ready(); worker.command(b"O")  # started; its read-only view opened
    >>> worker.send({"op": "query", "query": "SELECT (SUM(?o) AS ?n) { ?s ?p ?o }",
    ...              "accept": "text/csv"})
    >>> frames = [worker.read(time.monotonic() + 10)]
    >>> while frames[-1][0] not in (b"E", b"X"):
    ...     frames.append(worker.read(time.monotonic() + 10))
    >>> [kind for kind, _ in frames], frames[1][1].split()
    ([b'H', b'D', b'E'], [b'n', b'6'])
    >>> cross = " . ".join(f"?s{i} ?p{i} ?o{i}" for i in range(20))  # 3^20 rows to count
    >>> worker.send({"op": "query", "query": f"SELECT (COUNT(*) AS ?n) {{ {cross} }}",
    ...              "accept": "text/csv"})
    >>> try:
    ...     worker.read(time.monotonic() + 0.5)
    ... except WorkerTimeout:
    ...     print("killed:", worker.kill() < 5, worker.proc.returncode == -signal.SIGKILL)
    killed: True True
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ServerError
from .worker import decode_frame, encode_frame

__all__ = ["ClientGone", "PoolConfig", "WorkerGone", "WorkerProcess", "WorkerTimeout"]

TICK = 0.1  # seconds between memory and client checks while a worker computes
READ_SIZE = 256 * 1024
START_TIMEOUT = 120.0
VIEW_TIMEOUT = 60.0    # seconds a worker may take to close or open its view of the store
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
    write_memory: int = 0  # bytes of resident memory of the write worker; 0: no limit
    light_seconds: float = 0.05  # a query shape faster than this is light (server_lanes)
    reserve: int = 2       # workers that only light queries may take (at most size - 1)


class WorkerProcess:
    """One worker process and the server's end of its pipes."""

    def __init__(self, proc: subprocess.Popen[bytes], memory_limit: int,
                 mode: str = "read") -> None:
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
        self.mode = mode
        self.deadline: float | None = None  # of the request in progress (set by read)
        self.sent = 0                       # requests sent so far
        self.killed = False                 # by a write that could not wait for it (stop)
        self.ready = False                  # answered its first R
        self.ready_rss = 0                  # resident memory then
        self.stopping = False  # killed because the server stops: its client gets 503
        self.job: tuple[int | None, bool, float] = (None, False, 0.0)  # shape, light, start

    @classmethod
    def spawn(cls, config: PoolConfig, mode: str = "read") -> WorkerProcess:
        """Start a worker; it imports, warms up and answers ``R`` with no store open."""
        env = dict(os.environ)
        env["GFF2RDF_SERVER_PID"] = str(os.getpid())
        proc = subprocess.Popen(
            [sys.executable, "-m", "gff2rdf.server.worker"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=None, close_fds=True, env=env, bufsize=0)
        worker = cls(proc, config.memory_limit if mode == "read" else config.write_memory, mode)
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
        self.sent += 1
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
        self.ready, self.ready_rss = True, self.rss()

    def command(self, kind: bytes, timeout: float = START_TIMEOUT) -> None:
        """Send ``O`` (open the store) or ``K`` (close it) and wait for ``R``; ``WorkerGone``
        (with the worker's message) when it cannot."""
        self._send(kind, {})
        self.expect_ready(timeout)

    def expect_ready(self, timeout: float) -> None:
        try:
            answer, payload = self.read(time.monotonic() + timeout)
        except WorkerTimeout:
            raise WorkerGone("the query engine did not answer") from None
        if answer != b"R":
            message = json.loads(payload).get("message", "") if answer == b"X" else ""
            raise WorkerGone(message or "the query engine stopped unexpectedly")

    def read(self, deadline: float, gone: Callable[[], bool] | None = None
             ) -> tuple[bytes, bytes]:
        """The next frame; ``WorkerTimeout`` at the deadline, ``WorkerGone`` if the worker
        died or grew past its memory limit, ``ClientGone`` when ``gone()`` says so."""
        self.deadline = deadline
        while True:
            frame = decode_frame(self._buffer)
            if frame is not None:
                if frame[0] in (b"E", b"X"):  # the request is over: nothing left to kill
                    self.deadline = None
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
                if not data and self.killed:
                    raise WorkerGone("the query was stopped to let a write to the store run; "
                                     "try again", 503)
                if not data:
                    raise WorkerGone("the query engine stopped unexpectedly")
                self._buffer += data
                continue
            if self.memory_limit and self.rss() > self.memory_limit:
                what, setting = (("query", "worker-memory") if self.mode == "read" else
                                 ("write", "write-memory"))
                raise WorkerGone(f"the {what} needed more than {self.memory_limit >> 20:,} MB "
                                 f"of memory ({setting} setting)")
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

    def stop(self) -> None:
        """SIGKILL and reap, leaving the pipes to the thread that owns the request (it reads
        the end of file, or its deadline, and discards the worker)."""
        self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        self.proc.wait()

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
