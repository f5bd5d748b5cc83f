"""The HTTP side of ``gff2rdf serve``: requests and responses, and the stdlib HTTP/1.1 server.

The application (``gff2rdf.server.app.App``) maps a ``Request`` to a ``Response``
(``gff2rdf.server.messages``, re-exported here) and knows nothing of sockets, so tests call it
directly. This module puts it on a socket with the standard
library's ``ThreadingHTTPServer`` (one thread per connection; the real work happens in worker
processes, so the threads mostly wait on pipes): no dependency, and a few hundred microseconds
per request, well under the 2 ms budget.

Limits enforced here (``Limits``, from the settings table): header lines, header count and
total header size (431), body size as the route asks (413, before reading the body), one
transfer coding (chunked; anything else 501, both Content-Length and Transfer-Encoding 400).
Slow clients: the request head must arrive within ``request_timeout`` of its first byte (else
408), a body at ``min_rate`` bytes/s after the same grace (408), an idle keep-alive connection
is closed after ``idle_timeout``; so a client that trickles a byte every few seconds holds a
connection for seconds, not forever (slowloris). Connections: at most
``max_client_connections`` from one source address (429) and ``max_connections`` in all (503),
refused before a thread is started.

On SIGTERM or SIGINT, ``run`` drains: it stops accepting, answers new requests on open
connections with 503, lets the requests in progress finish for a grace period, then stops the
workers (a query still running gets 503 with Retry-After) and releases the store.

Why not uvicorn or granian: measured with the same application behind each (``ASK {}``, one
keep-alive client, p50), stdlib 0.54-0.56 ms, uvicorn + httptools 0.68-0.70 ms (the hop from
the event loop to a thread that waits on the worker), granian's WSGI 0.51-0.69 ms: the
protocol layer is not where the time goes. uvicorn has no deadline for receiving a request
(its keep-alive timer restarts on every byte); granian bounds the head (30 s) but not a slow
body; the per-address cap, the drain and the cut of a failed stream would stay ours either way.

A response body that streams (a large result) is sent with chunked transfer coding; when the
stream fails part way (timeout, ``--max-rows``, an engine error), the connection is closed
without the final empty chunk, so every HTTP/1.1 client sees an incomplete body, never a
complete-looking one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any, Protocol, cast

from ..errors import RequestError, ServerError
from .messages import Params, Request, Response, StreamAborted

__all__ = ["HttpServer", "Limits", "Params", "Request", "Response", "StreamAborted", "make_server",
           "run"]


class App(Protocol):
    """What the server needs of its application (``gff2rdf.server.app.App`` is one): an
    answer to each request, an answer to a request that could not be read, a close."""

    def handle(self, req: Request) -> Response: ...

    def error(self, exc: RequestError, req: Request | None) -> Response: ...

    def close(self) -> None: ...


MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100
_DATES: dict[int, str] = {}


@dataclass(frozen=True)
class Limits:
    """How long and how many: what a slow or greedy client may hold (the settings table)."""

    max_connections: int = 256        # in all; more: 503 before a thread is started
    max_client_connections: int = 16  # from one source address; more: 429
    idle_timeout: float = 15.0        # a keep-alive connection waiting for its next request
    request_timeout: float = 10.0     # the request head, from its first byte; the body's grace
    min_rate: int = 16 * 1024         # bytes/s a body must keep up after its grace; 0: no rate
    send_timeout: float = 30.0        # a client that stops reading its response


class _DeadlineReader(io.RawIOBase):
    """The connection's reads, each bounded by the time left before the current deadline.

    A socket timeout bounds one ``recv``, so a client that sends a byte every few seconds never
    trips it and holds its connection forever (slowloris). Here the whole request head must
    arrive before one deadline, and a body at ``min_rate`` bytes per second after a grace.
    """

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.what = "request"
        self.deadline = 0.0
        self.rate = 0.0
        self.received = 0

    def readable(self) -> bool:
        return True

    def phase(self, what: str, seconds: float, rate: float = 0.0) -> None:
        self.what, self.rate, self.received = what, rate, 0
        self.deadline = time.monotonic() + seconds

    def readinto(self, buffer: Any) -> int:
        deadline = self.deadline + (self.received / self.rate if self.rate else 0.0)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the {self.what} did not arrive in time")
        self.sock.settimeout(left)
        count = self.sock.recv_into(buffer)
        self.received += count
        return count


def _raw_response(status: int, message: str, extra: str = "") -> bytes:
    """A complete response that closes the connection, for refusals before any request."""
    body = (message + "\n").encode()
    return (f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\nContent-Type: text/plain; "
            f"charset=utf-8\r\nContent-Length: {len(body)}\r\n{extra}Connection: close\r\n"
            "\r\n").encode() + body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gff2rdf"
    sys_version = ""
    disable_nagle_algorithm = True
    server: HttpServer

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # the socket's own reader, replaced by one with deadlines
        self._reader = _DeadlineReader(self.connection)
        self.rfile = io.BufferedReader(self._reader, 64 * 1024)

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
            sys.stderr.write(f"{self.client_address[0]} - {format % args}\n")

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # logged after the body is sent, with the time taken

    def handle_one_request(self) -> None:
        limits = self.server.limits
        self._reader.phase("next request", limits.idle_timeout)
        try:
            if not cast(io.BufferedReader, self.rfile).peek(1):
                self.close_connection = True
                return
        except OSError:  # a timed-out idle keep-alive connection ends without a word
            self.close_connection = True
            return
        self._reader.phase("request head", limits.request_timeout)
        try:
            self.raw_requestline = self.rfile.readline(65537)
            if len(self.raw_requestline) > 65536:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.raw_requestline or not self.parse_request():
                self.close_connection = True
                return
        except TimeoutError:
            self._refuse(408, f"the request head did not arrive within "
                         f"{limits.request_timeout:g} s (request-timeout)")
            return
        except OSError:
            self.close_connection = True
            return
        with self.server.request():
            if self.server.draining:
                self.close_connection = True
                self._send(self.server.app.error(RequestError(
                    "the server is shutting down; try again shortly", 503,
                    {"Retry-After": "5"}), None), time.perf_counter())
            else:
                self._dispatch()

    def parse_request(self) -> bool:
        """The request line as the standard library checks it; the header fields read here,
        ten times faster than its email parser (2.4 against 22 us a request). Names are
        lower-cased, repeated fields joined with ', ' (a repeated Content-Length is refused:
        request smuggling); more than MAX_HEADERS fields, a line or a head over
        MAX_HEADER_BYTES: 431."""
        self.command = None  # type: ignore[assignment]  # as the standard library does
        self.request_version = "HTTP/1.1"  # errors get a status line (no HTTP/0.9 here)
        self.close_connection = True
        self.requestline = line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        if len(words) != 3:
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request syntax ({line[:100]!r})")
            return False
        command, path, version = words
        if version not in ("HTTP/1.1", "HTTP/1.0"):
            good = version[:5] == "HTTP/" and version[5:6].isdigit()
            self.send_error(HTTPStatus.HTTP_VERSION_NOT_SUPPORTED if good else
                            HTTPStatus.BAD_REQUEST, f"Bad request version ({version[:20]!r})")
            return False
        self.command, self.path, self.request_version = command, path, version
        if path.startswith("//"):
            self.path = "/" + path.lstrip("/")
        fields: dict[str, str] = {}
        size = 0
        while True:
            raw = self.rfile.readline(MAX_HEADER_BYTES + 1)
            size += len(raw)
            if size > MAX_HEADER_BYTES or len(fields) >= MAX_HEADERS:
                self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                                f"the request head is larger than {MAX_HEADER_BYTES:,} bytes or "
                                f"has more than {MAX_HEADERS} fields")
                return False
            if raw in (b"\r\n", b"\n", b""):
                break
            name, colon, value = str(raw, "iso-8859-1").partition(":")
            if not colon or not name or name != name.strip() or raw[:1] in b" \t":
                self.send_error(HTTPStatus.BAD_REQUEST, "bad header field (obsolete folding "
                                f"or no colon): {name[:100]!r}")
                return False
            name, value = name.lower(), value.strip()
            if name in fields:
                if name == "content-length":
                    self.send_error(HTTPStatus.BAD_REQUEST, "more than one Content-Length")
                    return False
                value = f"{fields[name]}, {value}"
            fields[name] = value
        self.fields = fields
        connection = fields.get("connection", "").lower()
        self.close_connection = (version == "HTTP/1.0" and connection != "keep-alive") or \
            connection == "close"
        if fields.get("expect", "").lower() == "100-continue" and version == "HTTP/1.1":
            self.send_response_only(HTTPStatus.CONTINUE)
            self.end_headers()
        return True

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header, formatted once a second rather than for every response."""
        now = int(time.time() if timestamp is None else timestamp)
        cached = _DATES.get(now)
        if cached is None:
            _DATES.clear()
            cached = _DATES[now] = super().date_time_string(now)
        return cached

    def _refuse(self, status: int, message: str) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.settimeout(1.0)
            self.connection.sendall(_raw_response(status, message))

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _dispatch(self) -> None:
        started = time.perf_counter()
        limits = self.server.limits
        headers = self.fields
        coding = headers.get("transfer-encoding", "").strip().lower()
        length_text = headers.get("content-length")
        response: Response | None = None
        request = None
        try:
            if coding and length_text is not None:
                raise RequestError("both Content-Length and Transfer-Encoding", 400)
            if coding and coding != "chunked":
                raise RequestError(f"transfer coding {coding!r} is not supported", 501)
            length = None
            if length_text is not None:
                if not length_text.strip().isdigit():
                    raise RequestError("bad Content-Length", 400)
                length = int(length_text)
            self._reader.phase("request body", limits.request_timeout, limits.min_rate)
            request = Request(self.command, self.path, headers, cast(IO[bytes], self.rfile),
                              length, coding == "chunked", self.request_version == "HTTP/1.1",
                              self.client_address[0], self._client_gone)
            response = self.server.app.handle(request)
        except RequestError as exc:
            response = self.server.app.error(exc, request)
        if request is None or (request.has_body and not request.consumed):
            self.close_connection = True  # the unread body would be taken for the next request
        if self.server.draining:
            self.close_connection = True
        self._send(response, started)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = _dispatch

    def _send(self, response: Response, started: float) -> None:
        head_only = self.command == "HEAD"
        streamed = 0
        if response.status == 503 and response.header("Retry-After") is None:
            response.headers.append(("Retry-After", "5"))
        try:
            self.connection.settimeout(self.server.limits.send_timeout)
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
    """ThreadingHTTPServer with connection caps (in all and per address), request deadlines,
    a drain for shutdown, and an application object."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, limits: Limits,
                 access_log: bool = True) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.app = app
        self.access_log = access_log
        self.limits = limits
        self.draining = False
        self._active = 0
        self._clients: dict[str, int] = {}
        self._requests = 0
        self._cond = threading.Condition()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        client = str(client_address[0])
        refusal = b""
        with self._cond:
            if self._active >= self.limits.max_connections:
                refusal = _raw_response(503, "too many connections; try again shortly",
                                        "Retry-After: 1\r\n")
            elif self._clients.get(client, 0) >= self.limits.max_client_connections:
                refusal = _raw_response(
                    429, f"too many connections from {client} (at most "
                    f"{self.limits.max_client_connections}: max-client-connections)",
                    "Retry-After: 1\r\n")
            else:
                self._active += 1
                self._clients[client] = self._clients.get(client, 0) + 1
        if refusal:
            with contextlib.suppress(OSError):  # never wait on a client here: this is accept's
                request.setblocking(False)     # thread, and the refusal fits the socket buffer
                request.send(refusal)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            client = str(client_address[0])
            with self._cond:
                self._active -= 1
                self._clients[client] -= 1
                if not self._clients[client]:
                    del self._clients[client]

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Count a request as in progress (the drain waits for these)."""
        with self._cond:
            self._requests += 1
        try:
            yield
        finally:
            with self._cond:
                self._requests -= 1
                self._cond.notify_all()

    def drain(self, grace: float) -> bool:
        """Stop accepting; let the requests in progress finish for up to ``grace`` seconds
        (new requests on open connections get 503). True when none is left."""
        with self._cond:
            self.draining = True
        self.server_close()
        return self.wait_idle(grace)

    def wait_idle(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        with self._cond:
            while self._requests and deadline > time.monotonic():
                self._cond.wait(deadline - time.monotonic())
            return not self._requests

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def make_server(app: App, host: str, port: int, max_connections: int,
                access_log: bool = True, limits: Limits | None = None) -> HttpServer:
    """Bind (``port`` 0: a free port); ``ServerError`` when the address cannot be used."""
    limits = dataclasses.replace(limits or Limits(), max_connections=max_connections)
    try:
        return HttpServer((host.strip("[]"), port), app, limits, access_log)
    except OSError as exc:
        raise ServerError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


def run(server: HttpServer, ready: Callable[[str], None] | None = None,
        grace: float = 5.0) -> None:
    """Serve until SIGINT or SIGTERM; then drain: stop accepting, let the requests in progress
    finish for up to ``grace`` seconds (a second signal cuts it short), stop the workers (a
    query still running gets 503 with Retry-After) and release the store."""
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    host = str(server.server_address[0])
    shown = f"[{host}]" if ":" in host else host
    try:
        try:
            if ready is not None:
                ready(f"http://{shown}:{server.port}/")
            server.serve_forever(poll_interval=0.2)
        except KeyboardInterrupt:
            pass
        with contextlib.suppress(KeyboardInterrupt):
            server.drain(grace)
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.server_close()
        server.app.close()
        server.wait_idle(2.0)  # the 503s of the queries just stopped leave before the process
