"""What the application of ``gff2rdf serve`` sees of HTTP: a ``Request``, its ``Params``, and
the ``Response`` it returns (a body, or a stream of pieces that may fail: ``StreamAborted``).

No sockets here (``gff2rdf.server.http`` puts these on one), so the application and its tests
build requests directly.

Example:
    >>> import io
    >>> req = Request("POST", "/sparql?x=1", {"content-type": "text/plain"}, io.BytesIO(b"hi"), 2)
    >>> req.path, Params.parse(req.query_string).one("x"), req.read_body(10)
    ('/sparql', '1', b'hi')
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from ..errors import RequestError

__all__ = ["Params", "Request", "Response", "StreamAborted"]


class StreamAborted(Exception):
    """A streamed body failed part way; the connection must be cut, not ended normally."""


@dataclass
class Request:
    """One HTTP request, as the application sees it."""

    method: str
    target: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    stream: IO[bytes] | None = None
    length: int | None = None
    chunked: bool = False
    http11: bool = True
    client: str = "127.0.0.1"
    gone: Callable[[], bool] | None = None
    consumed: bool = False

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.target)
        self.path = parts.path or "/"
        self.query_string = parts.query

    def header(self, name: str, default: str = "") -> str:
        return self.headers.get(name.lower(), default)

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    @property
    def has_body(self) -> bool:
        return self.chunked or bool(self.length)

    def _chunks(self, limit: int) -> Iterator[bytes]:
        """The body in pieces; ``RequestError`` 413 once it passes ``limit`` bytes, 408 when it
        arrives too slowly."""
        try:
            yield from self._pieces(limit)
        except TimeoutError:
            raise RequestError("the request body arrived too slowly (request-timeout, "
                               "request-min-rate)", 408) from None
        except OSError:
            raise RequestError("the connection broke while the request body was read",
                               400) from None

    def _pieces(self, limit: int) -> Iterator[bytes]:
        if self.length is not None and self.length > limit:
            raise RequestError(f"the request body is larger than {limit:,} bytes", 413)
        stream = self.stream
        if stream is None:
            self.consumed = True
            return
        total = 0
        if not self.chunked:
            left = self.length or 0
            while left:
                data = stream.read(min(left, 1 << 20))
                if not data:
                    raise RequestError("the request body ended early", 400)
                left -= len(data)
                yield data
            self.consumed = True
            return
        while True:
            line = stream.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise RequestError("bad chunked request body", 400) from None
            if size == 0:
                while stream.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                self.consumed = True
                return
            total += size
            if total > limit:
                raise RequestError(f"the request body is larger than {limit:,} bytes", 413)
            data = stream.read(size)
            stream.readline(1024)
            if len(data) < size:
                raise RequestError("the request body ended early", 400)
            yield data

    def read_body(self, limit: int) -> bytes:
        return b"".join(self._chunks(limit))

    def save_body(self, limit: int, out: IO[bytes]) -> int:
        written = 0
        for data in self._chunks(limit):
            out.write(data)
            written += len(data)
        return written


@dataclass
class Params:
    """Request parameters (the URL's query string or a form body): ``one`` and ``all``."""

    values: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Params:
        try:
            return cls(urllib.parse.parse_qs(text, keep_blank_values=True,
                                             errors="strict", max_num_fields=500))
        except (ValueError, UnicodeDecodeError) as exc:
            raise RequestError(f"bad request parameters: {exc}", 400) from None

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def one(self, name: str) -> str | None:
        found = self.values.get(name, [])
        if len(found) > 1:
            raise RequestError(f"more than one {name!r} parameter", 400)
        return found[0] if found else None

    def merge(self, other: Params) -> Params:
        merged = {k: list(v) for k, v in self.values.items()}
        for key, values in other.values.items():
            merged.setdefault(key, []).extend(values)
        return Params(merged)


@dataclass
class Response:
    """A status, headers, and either a body or a stream of body pieces."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: Iterator[bytes] | None = None
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def read(self) -> bytes:
        """The whole body (streams consumed); ``StreamAborted`` if the stream failed."""
        if self.stream is None:
            return self.body
        return b"".join(self.stream)

    def close(self) -> None:
        if self.stream is not None:
            close = getattr(self.stream, "close", None)
            if close is not None:
                close()
        callbacks, self.on_close = self.on_close, []
        for callback in callbacks:
            callback()
