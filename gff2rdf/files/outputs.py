"""Output files: they appear only when complete, and never in place of an input.

Every command that writes a file writes it through ``OutputFile(path, inputs=[...])``
(``convert``, ``dump``, ``validate --report``, ``load`` on its way to the store, the pipeline's
reports). Before anything is written, ``output_target`` decides what the path is:

* nothing yet, or a regular file: the output goes to a hidden temporary file in the same
  directory and ``commit()`` renames it over the path, keeping the replaced file's mode. A
  symlink is followed (the link stays, its target is replaced, as ``cp`` writes through it);
* a FIFO or a character device (a named pipe, ``/dev/null``, ``/dev/stdout``): written into
  directly, since renaming a file over it would put a regular file in place of the device;
* refused, with an ``OutputError`` naming the path: an input (the same file by any path, a
  symlink or a hard link: compared by device and inode), an existing file inside an input
  directory (the store of ``dump``), a directory or another special file, and a file that no
  one may write. Run as root, ``os.access`` allows everything, so a file with no write bit at all
  counts as write-protected too: someone protected it, and ``chmod u+w`` or removing it first
  says that replacing it is meant. There is deliberately no option to override this.

A write that fails (a full disk, ``/dev/full``, a pipe whose reader left) raises an
``OutputError`` naming the path, wherever in the conversion it happens.

A run that dies before its clean-up (``kill -9``, a power cut) leaves its temporary file and
the chunked conversion's scratch directory behind. Their names carry the host and the
process id (``.NAME.gff2rdf-HOST-PID-XXXXXXXX.part``, ``.gff2rdf-parts-HOST-PID-XXXXXXXX``),
and the next run into that directory removes those whose process no longer exists
(``remove_stale``). Files of a live run, and of runs on other hosts sharing the directory
(where a process id means nothing), are never touched.

Example:
    >>> target = Path(tempfile.mkdtemp(), "out.nt")
    >>> with OutputFile(target) as out:
    ...     _ = out.stream.write("<s> <p> <o> .\\n")
    ...     out.commit()
    >>> target.read_text()
    '<s> <p> <o> .\\n'
    >>> OutputFile(target, inputs=[target])
    Traceback (most recent call last):
    ...
    gff2rdf.errors.OutputError: ...
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import queue
import re
import shutil
import socket
import stat
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from ..errors import OutputError

__all__ = ["OutputFile", "Target", "debris_tag", "output_target", "remove_stale"]

_BUFFER = 1 << 20
_NEW_FILE_MODE = 0o644


def debris_tag() -> str:
    """``HOST-PID-``: what marks this process's temporary files (after ``.NAME.gff2rdf-`` or
    ``.gff2rdf-parts-``). HOST is a short digest of the host name, so that runs on two
    machines sharing a directory (a cluster's network file system) never take each other's
    files for those of dead processes."""
    host = hashlib.sha256(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
    return f"{host}-{os.getpid()}-"


# tempfile ends the names with 8 characters of this alphabet
_MARK = r"(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[a-z0-9_]{8}"
_PART_FILE = re.compile(r"\..+\.gff2rdf-" + _MARK + r"\.part")
_SCRATCH_DIR = re.compile(r"\.gff2rdf-parts-" + _MARK)


def remove_stale(directory: str | Path) -> list[str]:
    """Remove the temporary files and scratch directories that dead gff2rdf processes of this
    host left in ``directory``; returns their names. Best effort: what cannot be removed stays.

    >>> remove_stale(tempfile.mkdtemp())
    []
    """
    mine = debris_tag().split("-")[0]
    removed = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        is_dir = entry.is_dir(follow_symlinks=False)
        found = (_SCRATCH_DIR if is_dir else _PART_FILE).fullmatch(entry.name)
        if found is None or found["host"] != mine or _alive(int(found["pid"])):
            continue
        try:
            if is_dir:
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            continue
        removed.append(entry.name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # EPERM: it exists, under another user
        return True
    return True


@dataclass(frozen=True)
class Target:
    """Where an output goes: ``real`` is the file written (symlinks followed); ``stream`` is a
    FIFO or character device, written into directly; ``mode`` is that of the file replaced."""

    path: str
    real: str
    stream: bool = False
    mode: int | None = None


def output_target(path: str | Path, inputs: Iterable[str | Path] = ()) -> Target:
    """What ``path`` is as an output, or an ``OutputError`` that says why it may not be one.

    ``inputs`` are the files (or directories, ``-`` for stdin) the output is made from."""
    label = str(path)
    if label == "-":
        _refuse_stdout_input(inputs)
        return Target(label, label, stream=True)
    try:
        st: os.stat_result | None = os.stat(label)
    except FileNotFoundError:
        st = None
    except OSError as exc:  # a file used as a directory, a symlink loop, no search permission
        raise OutputError(f"{label}: cannot write here: {exc.strerror or exc}") from exc
    real = os.path.realpath(label)
    if st is None or not stat.S_ISCHR(st.st_mode):  # a tty may be both stdin and stdout
        _refuse_inputs(label, real, st, inputs)
    if st is None:
        return Target(label, real)
    mode = st.st_mode
    if stat.S_ISDIR(mode):
        raise OutputError(f"{label}: is a directory; expected the name of the output file")
    if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        return Target(label, label, stream=True)
    if not stat.S_ISREG(mode):
        raise OutputError(f"{label}: is a {_kind(mode)}, not a regular file, FIFO or character "
                          "device; refusing to write over it")
    if not mode & 0o222 or not os.access(label, os.W_OK):
        raise OutputError(f"{label}: is write-protected (mode {stat.S_IMODE(mode):04o}); make "
                          "it writable (chmod u+w) or remove it to replace it")
    return Target(label, real, mode=stat.S_IMODE(mode))


def _refuse_inputs(label: str, real: str, st: os.stat_result | None,
                   inputs: Iterable[str | Path]) -> None:
    for source in inputs:
        name = str(source)
        try:
            found = os.fstat(sys.stdin.fileno()) if name == "-" else os.stat(name)
        except (OSError, ValueError, io.UnsupportedOperation):
            continue  # an input that is not there is its reader's to report
        if st is not None and (found.st_dev, found.st_ino) == (st.st_dev, st.st_ino):
            what = "standard input" if name == "-" else f"the input {name}"
            raise OutputError(f"{label}: is the same file as {what}; the output would destroy "
                              "it: give another output file")
        if st is not None and stat.S_ISDIR(found.st_mode):  # new files there do no harm
            inside = os.path.realpath(name)
            if os.path.commonpath([real, inside]) == inside:
                raise OutputError(f"{label}: is a file of {name}, an input; give an output "
                                  "file outside it")


def _refuse_stdout_input(inputs: Iterable[str | Path]) -> None:
    try:
        out = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return  # not a file (a test runner's buffer)
    if not stat.S_ISREG(out.st_mode):
        return
    for source in inputs:
        name = str(source)
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            found = os.fstat(sys.stdin.fileno()) if name == "-" else os.stat(name)
            if (found.st_dev, found.st_ino) == (out.st_dev, out.st_ino):
                raise OutputError(f"standard output is the same file as the input {name}; the "
                                  "output would destroy it: give an output file with -o")


def _kind(mode: int) -> str:
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"


class _FdSink(io.RawIOBase):
    """An output's file descriptor, whose failed writes are ``OutputError``s naming the output
    (below the buffers, so that a full disk is reported the same wherever the write happens)."""

    def __init__(self, fd: int, label: str) -> None:
        super().__init__()
        self._fd = fd
        self._label = label

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: Any) -> int:
        try:
            return os.write(self._fd, data)
        except OSError as exc:
            raise _write_error(self._label, exc) from exc

    def close(self) -> None:
        if not self.closed:
            try:
                os.close(self._fd)
            finally:
                super().close()


def _write_error(label: str, exc: OSError) -> OutputError:
    return OutputError(f"{label}: cannot write: {exc.strerror or exc}")


class _Stdout:
    """Standard output (or its bytes), whose write errors are ``OutputError``s."""

    def __init__(self, stream: IO[Any]) -> None:
        self._stream = stream

    def write(self, data: Any) -> int:
        try:
            return int(self._stream.write(data))
        except OSError as exc:
            raise _write_error("standard output", exc) from exc

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise _write_error("standard output", exc) from exc

    def fileno(self) -> int:
        return self._stream.fileno()


class _GzipThreadWriter:
    """A text sink that gzips on a background thread (bounded queue, so memory stays flat)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._gz = gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0)
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="gff2rdf-gzip", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while (chunk := self._queue.get()) is not None:
                self._gz.write(chunk)
            self._gz.close()
        except BaseException as exc:  # reported on the writer's thread
            self._error = exc
            while self._queue.get() is not None:
                pass

    def write(self, text: str) -> int:
        if self._error:
            raise self._error
        self._queue.put(text.encode("utf-8"))
        return len(text)

    def flush(self) -> None:
        pass  # compressed on the thread; close() waits for it

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error:
            raise self._error


class OutputFile:
    """A text output that appears at ``path`` only when committed.

    ``-`` is stdout, and a FIFO or character device is written into directly: both are
    streamed, so they cannot be taken back (errors are reported after the fact). ``inputs``
    are the files the output is made from, which it may not replace (``output_target``).
    With ``binary=True`` the caller writes bytes to ``binary`` (gzip members included) instead
    of text to ``stream``.
    Use as a context manager: leaving the block with an exception discards the file.
    """

    def __init__(self, path: str | Path, binary: bool = False, *,
                 inputs: Iterable[str | Path] = ()) -> None:
        self.path = str(path)
        self._tmp: str | None = None
        self._fd_out: io.BufferedWriter | None = None
        self._text: io.TextIOWrapper | None = None  # the stream, when it writes to _fd_out
        self.stream: IO[str]
        self.binary: IO[bytes]
        target = output_target(self.path, inputs)
        self._target = target
        self.directory: str | None = None  # where scratch files of this output go
        if self.path == "-":
            self.stream = cast(IO[str], _Stdout(sys.stdout))
            self.binary = cast(IO[bytes], _Stdout(sys.stdout.buffer))
            return
        if target.stream:
            try:
                fd = os.open(target.real, os.O_WRONLY | os.O_NOCTTY)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot open: {exc.strerror or exc}") from exc
        else:
            self.directory = os.path.dirname(target.real)
            remove_stale(self.directory)
            try:
                name = os.path.basename(target.real)
                fd, self._tmp = tempfile.mkstemp(prefix=f".{name}.gff2rdf-{debris_tag()}",
                                                 suffix=".part", dir=self.directory)
            except OSError as exc:
                raise OutputError(f"{self.path}: cannot write here: {exc.strerror or exc}") \
                    from exc
        self._fd_out = io.BufferedWriter(_FdSink(fd, self.path), _BUFFER)
        self.binary = self._fd_out
        if binary:  # the caller writes bytes (and gzip members) itself
            self.stream = open(os.devnull, "w")  # noqa: SIM115
        elif self.path.endswith(".gz"):
            self.stream = _GzipThreadWriter(self._fd_out)  # type: ignore[assignment]
        else:
            self._text = io.TextIOWrapper(self._fd_out, encoding="utf-8")
            self.stream = self._text

    def scratch_dir(self) -> str:
        """A new directory for pieces of this output, removed by the caller: beside it (one
        file system, so pieces are appended in the kernel), else in the system's temporary
        directory (stdout, a pipe, a device). Its name marks it as this process's debris."""
        prefix = f".gff2rdf-parts-{debris_tag()}"
        if self.directory is not None:
            with contextlib.suppress(OSError):
                return tempfile.mkdtemp(prefix=prefix, dir=self.directory)
        remove_stale(tempfile.gettempdir())
        return tempfile.mkdtemp(prefix=prefix)

    def commit(self) -> None:
        if self._fd_out is None:
            self.stream.flush()
            self.binary.flush()
            return
        out = self._fd_out
        try:
            if self._text is not None:
                self._text.flush()  # not close(): that would close the file under it
            else:
                self.stream.close()  # the gzip trailer, or the unused text stream
            out.flush()
            if self._tmp is not None:
                os.fsync(out.fileno())
            out.close()
            if self._tmp is not None:
                os.chmod(self._tmp, _NEW_FILE_MODE if self._target.mode is None
                         else self._target.mode)
                os.replace(self._tmp, self._target.real)
        except OSError as exc:
            self.discard()
            raise _write_error(self.path, exc) from exc
        except BaseException:
            self.discard()
            raise
        self._tmp = None
        self._fd_out = None

    def discard(self) -> None:
        if self._fd_out is None:
            return
        for closer in (self.stream.close, self._fd_out.close):
            # the output is being thrown away: its close errors (a full disk) do not matter
            with contextlib.suppress(Exception):
                closer()
        if self._tmp is not None:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._tmp)
        self._tmp = None
        self._fd_out = None

    def __enter__(self) -> OutputFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
