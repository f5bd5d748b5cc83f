"""One process at a time on a store: a lock file with ``fcntl.flock`` and the holder's name.

``StoreLock(directory).acquire()`` takes an exclusive, non-blocking ``flock`` on
``{directory}/gff2rdf.lock`` and writes the holder (pid, command line, start time) into it, so
that a second process fails at once with a message naming the first one. The kernel drops the
lock when its process dies (``kill -9`` included); the stale text left in the file is simply
overwritten by the next holder.

Processes that do not use this lock (``oxigraph serve --location DIR``) are kept out by
RocksDB's own ``{directory}/LOCK``: a POSIX ``fcntl`` lock that the process with the store open
read-write holds; ``holder_of`` finds who holds it in ``/proc/locks`` so that errors name the
process too. ``gff2rdf serve`` never opens the store read-write itself (its workers do, one
write at a time), so it takes that lock with ``DatabaseLock``: at start, to find out that
another program has the store open (an Oxigraph server writing while our workers read would be
undefined behaviour), and for as long as it serves, so that such a program cannot open it.
It lends the lock to its write worker for the length of each write.

Example:
    >>> import tempfile
    >>> store = tempfile.mkdtemp()
    >>> lock = StoreLock(store).acquire()
    >>> StoreLock(store).acquire()
    Traceback (most recent call last):
    ...
    gff2rdf.errors.StoreLockedError: store ... is in use by process ...
    >>> lock.release()
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ..errors import StoreError, StoreLockedError

__all__ = ["DATABASE_LOCK", "LOCK_NAME", "TMP_DIR", "DatabaseLock", "Holder", "StoreLock",
           "holder_of"]

LOCK_NAME = "gff2rdf.lock"
TMP_DIR = "gff2rdf-tmp"  # the store's temporary directory, emptied when it opens
DATABASE_LOCK = "LOCK"  # RocksDB's


@dataclass(frozen=True)
class Holder:
    """The process that holds a lock, as far as it can be found out."""

    pid: int | None
    command: str | None = None
    since: str | None = None

    def describe(self) -> str:
        if self.pid is None:
            return "another process"
        text = f"process {self.pid}"
        if self.command:
            text += f" ({self.command})"
        if self.since:
            text += f", since {self.since}"
        return text


def _command_of(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode("utf-8", "replace") for w in raw.split(b"\0") if w]
    return " ".join(words) or None


def holder_of(path: str | Path) -> Holder:
    """Who holds a POSIX or flock lock on ``path``, from ``/proc/locks`` (Linux); else unknown."""
    try:
        st = os.stat(path)
        table = Path("/proc/locks").read_text("ascii", "replace")
    except OSError:
        return Holder(None)
    wanted = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    for line in table.splitlines():
        # "1: POSIX  ADVISORY  WRITE 12345 fd:01:1234567 0 EOF"
        fields = line.split()
        if "->" in fields:  # a waiter, not the holder
            continue
        for i, field in enumerate(fields):
            if field == wanted and i > 0 and fields[i - 1].isdigit():
                pid = int(fields[i - 1])
                return Holder(pid, _command_of(pid))
    return Holder(None)


_HELD: set[int] = set()  # lock fds of this process


def _drop_inherited_locks() -> None:
    # A forked child (the converter's worker processes) shares the parent's open lock file;
    # the lock lives as long as any copy, so a child outliving a killed parent would keep the
    # store locked. Closing the child's copies leaves the parent's lock as it is.
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)
    _HELD.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_drop_inherited_locks)


class StoreLock:
    """An exclusive lock on a store directory, held from ``acquire()`` to ``release()``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> StoreLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.directory}: cannot create the lock file: "
                             f"{exc.strerror or exc}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._recorded_holder(fd)
            os.close(fd)
            raise StoreLockedError(
                f"store {self.directory} is in use by {holder.describe()}; wait for it to "
                "finish (one process at a time)", holder.pid, holder.command) from None
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"{self.path}: cannot lock: {exc.strerror or exc}") from exc
        info = {"pid": os.getpid(), "command": " ".join(sys.argv) or sys.executable,
                "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode("utf-8"), 0)
        self._fd = fd
        _HELD.add(fd)
        return self

    def _recorded_holder(self, fd: int) -> Holder:
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace")
            info = json.loads(text) if text.strip() else {}
        except (OSError, ValueError):
            info = {}
        pid = info.get("pid") if isinstance(info.get("pid"), int) else None
        if pid is None:  # the holder has not written its name yet: ask the kernel
            return holder_of(self.path)
        return Holder(pid, info.get("command") or _command_of(pid), info.get("since"))

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        _HELD.discard(fd)
        try:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self) -> StoreLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


class DatabaseLock:
    """RocksDB's own lock on ``{directory}/LOCK``, held by a process that does not open the
    store read-write itself (``gff2rdf serve``), so that no other program can open it.

    A POSIX record lock belongs to a process, and closing *any* descriptor of the file in that
    process drops it: the holder must never open the store read-write in the same process
    (read-only opens do not touch ``LOCK``). ``lent()`` gives it up for a write done by a child
    process and takes it back afterwards.
    """

    RETAKE_WAIT = 10.0  # seconds lent() retries while the child that had the lock exits

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / DATABASE_LOCK
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> DatabaseLock:
        """Take the lock; ``StoreLockedError`` naming the holder when another process has it."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open the database lock: "
                             f"{exc.strerror or exc}") from exc
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise StoreError(f"{self.path}: cannot lock: {exc.strerror or exc}") from exc
            holder = holder_of(self.path)
            raise StoreLockedError(
                f"store {self.directory} is open in {holder.describe()}, which holds its "
                "database lock (LOCK); stop that program first: gff2rdf serve does not serve a "
                "store that another program can write", holder.pid, holder.command) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.lockf(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def lent(self, wait: float | None = None) -> Iterator[None]:
        """Release the lock for a child process that opens the store read-write, then take it
        back (retrying for ``wait`` seconds while the child exits); ``StoreLockedError`` naming
        the holder if another program took it meanwhile."""
        held = self.held
        self.release()
        try:
            yield
        finally:
            if held:
                deadline = time.monotonic() + (self.RETAKE_WAIT if wait is None else wait)
                while True:
                    try:
                        self.acquire()
                        break
                    except StoreLockedError:
                        if time.monotonic() >= deadline:
                            raise
                        time.sleep(0.05)

    def __enter__(self) -> DatabaseLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
