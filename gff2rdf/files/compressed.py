"""Reading input that may be gzipped; a damaged or cut-short gzip file is an ``InputError``.

gzip raises ``EOFError`` when the data stops before its end-of-stream marker (an interrupted
download or copy), which reached the user as click's bare ``Aborted!``, and ``BadGzipFile``
or ``zlib.error`` for damaged data. ``open_input`` reads a file's bytes, gunzipped when it is
gzip (by its magic bytes, not its name), and turns those into an ``InputError`` that names the
file and says what to do. (The GFF3 reader reports the same as a problem on the line where
the data stops: ``gff2rdf.gff3.reader``.)

Example:
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp(), "cut.nt.gz")
    >>> _ = path.write_bytes(gzip.compress(b"<s> <p> <o> .\\n" * 1000)[:-20])
    >>> with open_input(path) as data:
    ...     try:
    ...         _ = data.read()
    ...     except InputError as exc:
    ...         print(str(exc).split(": ", 1)[1])
    the compressed file ends early (cut short by an interrupted download or copy?); fetch it again
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path
from typing import IO, cast

from ..errors import InputError

__all__ = ["open_input"]


def open_input(path: str | Path, buffering: int = -1) -> IO[bytes]:
    """The file's bytes, gunzipped when it is gzip; ``InputError`` when it cannot be opened."""
    try:
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        if gzipped:
            return cast(IO[bytes], _Gunzipped(str(path)))
        return open(path, "rb", buffering=buffering)
    except OSError as exc:
        raise InputError(f"{path}: cannot open: {exc.strerror or exc}") from exc


def _damaged(path: str, exc: Exception) -> InputError:
    if isinstance(exc, EOFError):
        return InputError(f"{path}: the compressed file ends early (cut short by an "
                          "interrupted download or copy?); fetch it again")
    return InputError(f"{path}: the compressed data is damaged ({exc}); fetch the file again")


class _Gunzipped(gzip.GzipFile):
    """A gzip file whose read errors name it (``readinto`` and iteration go through
    these methods)."""

    def __init__(self, path: str) -> None:
        super().__init__(path, "rb")
        self._label = path

    def read(self, size: int | None = -1) -> bytes:
        try:
            return super().read(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _damaged(self._label, exc) from exc

    def read1(self, size: int = -1) -> bytes:
        try:
            return super().read1(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _damaged(self._label, exc) from exc

    def peek(self, n: int) -> bytes:
        try:
            return super().peek(n)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _damaged(self._label, exc) from exc

    def readline(self, size: int | None = -1) -> bytes:
        try:
            return super().readline(size)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise _damaged(self._label, exc) from exc

