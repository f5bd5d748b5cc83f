"""The HTTP side of ``gff2rdf serve``: requests and responses, and the stdlib HTTP/1.1 server.

The application (``gff2rdf.server.App``) maps a ``Request`` to a ``Response`` and knows nothing
of sockets, so tests call it directly. This module puts it on a socket with the standard
library's ``ThreadingHTTPServer`` (one thread per connection; the real work happens in worker
processes, so the threads mostly wait on pipes): no dependency, and a few hundred microseconds
per request, well under the 2 ms budget.

Limits enforced here: header lines, header count and total header size (431), body size as the
route asks (413, before reading the body), one transfer coding (chunked; anything else 501, both
Content-Length and Transfer-Encoding 400), idle and slow clients (socket timeout), and
connections (503 with Retry-After before a thread is started).

A response body that streams (a large result) is sent with chunked transfer coding; when the
stream fails part way (timeout, ``--max-rows``, an engine error), the connection is closed
without the final empty chunk, so every HTTP/1.1 client sees an incomplete body, never a
complete-looking one.
"""

from __future__ import annotations

import contextlib
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, TYPE_CHECKING, Any, cast

from .errors import RequestError, ServerError

if TYPE_CHECKING:
    from .server import App

__all__ = ["HttpServer", "Params", "Request", "Response", "StreamAborted", "make_server", "run"]

MAX_HEADER_BYTES = 16 * 1024
IDLE_TIMEOUT = 30.0


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
        """The body in pieces; ``RequestError`` 413 once it passes ``limit`` bytes."""
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


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gff2rdf"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: HttpServer

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            sys.stderr.write(f"{self.client_address[0]} - {format % args}\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # logged after the body is sent, with the time taken

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _dispatch(self) -> None:
        started = time.perf_counter()
        headers = {k.lower(): v for k, v in self.headers.items()}
        size = sum(len(k) + len(v) + 4 for k, v in self.headers.items())
        coding = headers.get("transfer-encoding", "").strip().lower()
        length_text = headers.get("content-length")
        response: Response | None = None
        request = None
        try:
            if size > MAX_HEADER_BYTES:
                raise RequestError(f"the request headers are larger than {MAX_HEADER_BYTES:,} "
                                   "bytes", 431)
            if coding and length_text is not None:
                raise RequestError("both Content-Length and Transfer-Encoding", 400)
            if coding and coding != "chunked":
                raise RequestError(f"transfer coding {coding!r} is not supported", 501)
            length = None
            if length_text is not None:
                if not length_text.strip().isdigit():
                    raise RequestError("bad Content-Length", 400)
                length = int(length_text)
            request = Request(self.command, self.path, headers, cast(IO[bytes], self.rfile),
                              length, coding == "chunked", self.request_version == "HTTP/1.1",
                              self.client_address[0], self._client_gone)
            response = self.server.app.handle(request)
        except RequestError as exc:
            response = self.server.app.error(exc, request)
        if request is None or (request.has_body and not request.consumed):
            self.close_connection = True  # the unread body would be taken for the next request
        self._send(response, started)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _dispatch

    def _send(self, response: Response, started: float) -> None:
        head_only = self.command == "HEAD"
        streamed = 0
        try:
            self.send_response(response.status)
            for key, value in response.headers:
                self.send_header(key, value)
            if self.close_connection:
                self.send_header("Connection", "close")
            if response.stream is None:
                self.send_header("Content-Length", str(len(response.body)))
                self._headers_buffer.append(b"\r\n")  # type: ignore[attr-defined]
                if not head_only:  # one write: headers and a small body leave together
                    self._headers_buffer.append(response.body)  # type: ignore[attr-defined]
                self.flush_headers()
                streamed = len(response.body)
            elif head_only or self.request_version != "HTTP/1.1":
                self.close_connection = True
                self.send_header("Connection", "close")
                self.end_headers()
                if not head_only:
                    for piece in response.stream:
                        self.wfile.write(piece)
                        streamed += len(piece)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in response.stream:
                    if piece:
                        self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))
                        streamed += len(piece)
                self.wfile.write(b"0\r\n\r\n")
        except StreamAborted as exc:
            self.close_connection = True
            self.log_message('"%s" aborted after %d bytes: %s', self.requestline, streamed, exc)
            with contextlib.suppress(OSError):  # RST: the client cannot mistake it for an end
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            self.close_connection = True
        finally:
            response.close()
        path = self.path.split("?", 1)[0]
        self.log_message('"%s %s" %s %d %.1fms', self.command, path, response.status, streamed,
                         (time.perf_counter() - started) * 1000)


class HttpServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with a connection cap and an application object."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, max_connections: int,
                 access_log: bool = True) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.access_log = access_log
        self.max_connections = max_connections
        self._active = 0
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            full = self._active >= self.max_connections
            if not full:
                self._active += 1
        if full:
            body = b"too many connections; try again shortly\n"
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                b"Content-Type: text/plain; charset=utf-8\r\nContent-Length: "
                                + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
                                + body)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._active -= 1

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def make_server(app: App, host: str, port: int, max_connections: int,
                access_log: bool = True) -> HttpServer:
    """Bind (``port`` 0: a free port); ``ServerError`` when the address cannot be used."""
    try:
        return HttpServer((host.strip("[]"), port), app, max_connections, access_log)
    except OSError as exc:
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def run(server: HttpServer, ready: Callable[[str], None] | None = None) -> None:
    """Serve until SIGINT or SIGTERM, then stop the workers and release the store."""
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    host = str(server.server_address[0])
    shown = f"[{host}]" if ":" in host else host
    try:
        if ready is not None:
            ready(f"http://{shown}:{server.port}/")
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        server.app.close()
