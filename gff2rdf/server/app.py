"""``gff2rdf serve``: the store as a SPARQL 1.1 endpoint with a web page, safe by default.

Routes: ``/sparql`` (also ``/query``) SPARQL 1.1 Protocol queries, ``/update`` SPARQL Update,
``/store`` the Graph Store Protocol, ``/`` the page, ``/genomes`` and ``/queries`` the page's
JSON, ``/queries/NAME`` a canned query run with its parameters (planned as ``gff2rdf query``
plans it; ``/queries/NAME/sparql`` shows the SPARQL), ``/status`` the workers.

The protocols pass the W3C test suites (``tests/server/test_server_w3c.py``); what that takes is in
``server_protocol``.

Safety, in the order a request meets it:

* The server binds 127.0.0.1 unless told otherwise. On a loopback bind, a ``Host`` header other
  than localhost / 127.x / [::1] is refused (403): a DNS-rebinding page cannot reach it.
* No CORS headers unless origins are configured (``--cors-origin``), and then only for them.
* At most ``max_concurrent`` requests at once (503 with Retry-After), bodies of at most
  ``max_body`` bytes (413; uploads ``max_upload``), header limits in ``server_http``.
* Read-only unless a token file is given: every write route answers 403. With one, writes need
  ``Authorization: Bearer TOKEN`` (compared in constant time; never read from the URL or a form
  field, so a cross-site form cannot write), and a browser ``Origin`` must be this server's own.
* Queries run in worker processes (``server_pool``) and are killed at ``--timeout``; SERVICE and
  LOAD are decided by ``sparql_guard`` before evaluation, in the worker.
* A result is sent with Content-Length when it fits in 1 MiB, so any failure is an error status;
  with ``--max-rows`` the worker holds a result back up to 256 MiB, so going over the limit is
  a 422 too. A larger one streams with chunked coding, and a failure ends it with
  ``server_formats.error_tail`` and cuts the connection (never a well-formed partial result
  with 200). Error bodies carry no traceback, path or token.

Loading while serving: this process holds the store's gff2rdf lock for as long as it serves, so
``gff2rdf load --store DIR`` fails at once naming it, and RocksDB's own ``LOCK``
(``lock.DatabaseLock``, lent to each write worker), so an Oxigraph server cannot open the store
either, and a store that one has open is refused at start; loads go through this server instead
(``--update-token-file``; ``PUT /store?graph=...`` then ``POST /update``, as
``gff2rdf.store.remote``
does, with ``token_endpoint``), each write run exclusively by the write worker while the read
workers' views of the store are closed (``server_pool``).

Modules: ``server_config`` (settings), ``server_http`` (requests, responses, the socket),
``server_pool`` and ``server_worker`` (the processes), ``server_formats`` (negotiation and
serialisers), ``server_pages`` (the page, genome list and canned queries), ``server_protocol``
(request URLs, Graph Store targets, service description), ``server_upload`` (uploads),
``sparql_using`` and ``sparql_guard``.

Example (from the repository's root, as the tests run): the application without a socket
(``gff2rdf.server.http`` puts it on one), over a store with the sample loaded; with no token
it is read-only, and it answers only requests addressed to localhost:

    >>> import tempfile
    >>> from gff2rdf.store.store import GenomeStore
    >>> directory = tempfile.mkdtemp()
    >>> with GenomeStore.open(directory) as store:
    ...     _ = store.load("tests/data/tair10_chr5_mikado.gff3", species="Arabidopsis thaliana",
    ...                    assembly="TAIR10", annotation="mikado")
    >>> genes = urllib.parse.quote("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { "
    ...                            "?gene a <http://purl.obolibrary.org/obo/SO_0000704> } }")
    >>> with App(ServeConfig.from_settings(directory, workers=1)).start() as app:
    ...     answer = app.request("GET", f"/sparql?query={genes}", headers={"Accept": "text/csv"})
    ...     print(answer.status, answer.body.decode().split())
    ...     update = app.request("POST", "/update", b"CLEAR ALL",
    ...                          {"Content-Type": "application/sparql-update"})
    ...     print(update.status, update.body.decode().split(":")[0])
    ...     print(app.request("GET", "/sparql?query=ASK%7B%7D", headers={
    ...         "Host": "attacker.example"}).status)
    200 ['n', '12']
    403 this server is read-only
    403
"""

from __future__ import annotations

import functools
import hmac
import ipaddress
import json
import re
import sys
import threading
import time
import traceback
import urllib.parse
import uuid
from typing import Any

from ..errors import RequestError, ServerError, StoreLockedError
from ..store.lock import DatabaseLock, StoreLock
from ..store.metadata import listing_query
from .config import ServeConfig, parse_size, read_token
from .http import Params, Request, Response, StreamAborted
from .pages import CannedRoutes, genome_rows, static_file
from .pool import (
    ClientGone,
    PoolConfig,
    ResultStream,
    WorkerGone,
    WorkerPool,
    WorkerProcess,
    WorkerTimeout,
)
from .protocol import graph_target, iri, request_url, service_description
from .rdfxml import check_entities
from .upload import Upload
from .using import with_using

# deferred: the imports inside functions load multiprocessing only when the call needs them,
# to keep this module's import (and start-up) light

__all__ = ["App", "ServeConfig", "parse_size", "read_token", "token_endpoint"]

STREAM_AFTER = 1 << 20     # bytes of result buffered before streaming (then errors cut)
HTTP10_BUFFER = 64 << 20   # an HTTP/1.0 client cannot be streamed to safely: buffer this much
FORM = "application/x-www-form-urlencoded"
SECURITY_HEADERS = [
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
    ("X-Frame-Options", "DENY"),
]
PAGE_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(status, [("Content-Type", "text/plain; charset=utf-8"),
                             *(headers or {}).items()], (message.rstrip() + "\n").encode())


def _json(obj: Any, status: int = 200) -> Response:
    return Response(status, [("Content-Type", "application/json"),
                             ("Cache-Control", "no-store")], json.dumps(obj).encode())


@functools.lru_cache(maxsize=256)  # per request: ipaddress parses in about 10 us
def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class App:
    """The server application: ``handle(Request) -> Response``, no socket needed."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.pool = WorkerPool(PoolConfig(config.store, config.workers, config.allow_service,
                                          config.worker_memory, config.warm_up,
                                          config.write_memory,
                                          light_seconds=config.light_ms / 1000))
        self._lock: StoreLock | None = None
        self._database: DatabaseLock | None = None
        self._write_turn = threading.Lock()
        self._lost: str | None = None  # why the store is no longer served (another program)
        self._slots = threading.BoundedSemaphore(config.max_concurrent)
        self._loopback = _loopback(config.host)
        self.canned = CannedRoutes(lambda: self.pool.stats.writes)

    # -- life cycle --------------------------------------------------------------------------

    def start(self) -> App:
        """Take the store's lock and start the workers (``ServerError`` if impossible)."""
        directory = self.config.store
        fresh = not (directory / "CURRENT").exists()
        if fresh and not self.config.token:
            raise ServerError(f"no store at {directory}; load a genome version first: "
                              f"gff2rdf load FILE --store {directory}")
        if fresh:
            directory.mkdir(parents=True, exist_ok=True)
        self._lock = StoreLock(directory).acquire()
        try:
            if fresh:
                self.pool.create_store()
            # RocksDB's own lock: refuse a store another program (an Oxigraph server) has open,
            # and keep such a program out for as long as this one serves
            self._database = DatabaseLock(directory).acquire()
            self.pool.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        self.pool.close()
        if self._database is not None:
            self._database.release()
            self._database = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> App:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(self, method: str, target: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> Response:
        """Handle a request in-process and read its whole body (for tests and scripts)."""
        import io

        request = Request(method, target, {k.lower(): v for k, v in (headers or {}).items()},
                          io.BytesIO(body), len(body) if body else None)
        response = self.handle(request)
        try:
            response.body = response.read()
        except StreamAborted:
            response.body, response.status = b"", -1  # what a client sees: a broken stream
        finally:
            response.stream = None
            response.close()
        return response

    # -- dispatch ----------------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        try:
            self._check_host(req)
            if req.method == "OPTIONS":
                return self._decorate(self._preflight(req), req)
            if not self._slots.acquire(blocking=False):
                raise RequestError("too many requests at once; try again shortly", 503,
                                   {"Retry-After": "1"})
            try:
                response = self._route(req)
            except BaseException:
                self._slots.release()
                raise
            response.on_close.append(self._slots.release)
        except RequestError as exc:
            return self.error(exc, req)
        except Exception:
            traceback.print_exc(file=sys.stderr)  # the details stay in the server's log
            return self.error(RequestError("internal server error", 500), req)
        return self._decorate(response, req)

    def error(self, exc: RequestError, req: Request | None) -> Response:
        return self._decorate(_text(exc.status, str(exc), exc.headers), req)

    def _decorate(self, response: Response, req: Request | None) -> Response:
        response.headers.extend(SECURITY_HEADERS)
        origin = req.header("origin") if req is not None else ""
        if origin and origin in self.config.cors_origins:
            response.headers += [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        return response

    def _check_host(self, req: Request) -> None:
        host = req.header("host").strip().lower()
        if not self._loopback or not host:
            return
        name = host[1:host.find("]")] if host.startswith("[") else host.rsplit(":", 1)[0]
        if not _loopback(name):
            raise RequestError(f"Host {host[:100]!r} is not allowed: this server listens on a "
                               "loopback address and answers only to localhost, 127.0.0.1 and "
                               "[::1] (DNS rebinding)", 403)

    def _preflight(self, req: Request) -> Response:
        origin = req.header("origin")
        if origin not in self.config.cors_origins:
            return Response(204, [("Allow", "GET, HEAD, POST, OPTIONS")])
        return Response(204, [("Access-Control-Allow-Methods", "GET, HEAD, POST"),
                              ("Access-Control-Allow-Headers", "Accept, Content-Type"),
                              ("Access-Control-Max-Age", "600")])

    def _route(self, req: Request) -> Response:
        if self._lost:
            raise RequestError(self._lost, 503)
        path = req.path
        if path in ("/sparql", "/query"):
            return self._sparql(req)
        if path == "/update":
            return self._update(req)
        if path == "/store" or path.startswith("/store/"):
            return self._graph_store(req)
        self._methods(req, "GET", "HEAD")
        if path in ("/", "/index.html"):
            return self._static("index.html", PAGE_CSP)
        if path.startswith("/web/"):
            return self._static(path[5:])
        if path == "/genomes":
            return _json(self.genomes())
        if path == "/queries":
            return _json(self.canned.listing())
        if path.startswith("/queries/"):
            return self._canned(req, urllib.parse.unquote(path[9:]))
        if path == "/status":
            stats = self.pool.stats
            return _json({"workers": self.pool.pids(), "killed": stats.killed,
                          "kill_seconds": stats.kill_seconds[-10:], "writes": stats.writes,
                          "read_only": self.config.token is None,
                          "timeout": self.config.timeout, "max_rows": self.config.max_rows})
        raise RequestError(f"no such page: {path[:200]}", 404)

    @staticmethod
    def _methods(req: Request, *allowed: str) -> None:
        if req.method not in allowed:
            raise RequestError(f"{req.method} is not allowed here", 405,
                               {"Allow": ", ".join(allowed)})

    def _static(self, name: str, csp: str | None = None) -> Response:
        body, content_type = static_file(name)
        headers = [("Content-Type", content_type), ("Cache-Control", "no-cache")]
        if csp:
            headers.append(("Content-Security-Policy", csp))
        return Response(200, headers, body)

    # -- SPARQL queries ----------------------------------------------------------------------

    def _sparql(self, req: Request) -> Response:
        url = Params.parse(req.query_string)
        if req.method in ("GET", "HEAD"):
            if not url.values:
                return self._service_description(req)
            if url.all("update"):
                return self._update(req)
            params, query = url, url.one("query")
        elif req.method == "POST":
            kind = req.content_type
            if kind == "application/sparql-update":
                return self._update(req)
            if kind == FORM:
                form = url.merge(Params.parse(self._body_text(req)))
                if form.all("update"):
                    return self._write_update(req, form)
                params, query = form, form.one("query")
            elif kind == "application/sparql-query":
                params, query = url, self._body_text(req)
            else:
                raise RequestError(f"a query is sent as {FORM} or application/sparql-query, "
                                   f"not {kind or 'no content type'}", 415)
        else:
            raise RequestError(f"{req.method} is not allowed here", 405,
                               {"Allow": "GET, HEAD, POST"})
        if query is None or not query.strip():
            raise RequestError("no query: send one in the 'query' parameter", 400)
        request = {"op": "query", "query": query, "accept": req.header("accept"),
                   "default_graphs": [iri(g, "default-graph-uri")
                                      for g in params.all("default-graph-uri")],
                   "named_graphs": [iri(g, "named-graph-uri")
                                    for g in params.all("named-graph-uri")],
                   "union": self.config.union_default_graph, "max_rows": self.config.max_rows,
                   "base_iri": self._url(req)}
        return self._run(request, req)

    def _body_text(self, req: Request) -> str:
        charset = re.search(r";\s*charset\s*=\s*\"?([\w.:-]+)", req.header("content-type"), re.I)
        if charset and charset.group(1).lower() not in ("utf-8", "utf8", "us-ascii"):
            raise RequestError(f"the request body must be UTF-8, not {charset.group(1)[:40]}",
                               415)
        try:
            return req.read_body(self.config.max_body).decode("utf-8")
        except UnicodeDecodeError:
            raise RequestError("the request body is not UTF-8", 400) from None

    def _url(self, req: Request, path: str | None = None) -> str:
        return request_url(req, self.config, path)

    def _run(self, request: dict[str, Any], req: Request) -> Response:
        """Send a request to a worker and turn its frames into a response."""
        return self._exchange(request, req, time.monotonic() + self.config.timeout)[0]

    def _exchange(self, request: dict[str, Any], req: Request, deadline: float,
                  whole: bool = False) -> tuple[Response, int | None]:
        """``_run`` with a deadline, and the rows (None: streamed; ``whole``: after 64 MB)."""
        timeout = self.config.timeout
        worker = self.pool.acquire(deadline, request)
        owned = True
        try:
            worker.send(request)
            kind, payload = worker.read(deadline, req.gone)
            if kind == b"X":
                info = json.loads(payload)
                self.pool.release(worker)
                owned = False
                raise RequestError(info["message"], info["status"])
            head = json.loads(payload)
            headers = [("Content-Type", head["content_type"])] if head["content_type"] else []
            headers.append(("Cache-Control", "no-store"))
            chunks: list[bytes] = []
            size = 0
            limit = STREAM_AFTER if req.http11 and not whole else HTTP10_BUFFER
            while True:
                kind, payload = worker.read(deadline, req.gone)
                if kind == b"D":
                    chunks.append(payload)
                    size += len(payload)
                    if size > limit:
                        if not req.http11:
                            raise RequestError(f"the result is larger than {limit >> 20} MB; "
                                               "an HTTP/1.1 client can receive it", 500)
                        owned = False
                        return Response(head["status"], headers, stream=self._stream(
                            worker, chunks, deadline, req)), None
                elif kind == b"E":
                    self.pool.release(worker)
                    owned = False
                    rows = json.loads(payload).get("rows")
                    return Response(head["status"], headers, b"".join(chunks)), rows
                else:
                    info = json.loads(payload)
                    self.pool.release(worker)
                    owned = False
                    raise RequestError(info["message"], info["status"])
        except WorkerTimeout:
            raise RequestError(f"the query ran longer than {timeout:g} s and was stopped "
                               "(--timeout)", 504) from None
        except WorkerGone as exc:
            raise RequestError(str(exc), exc.status,
                               {"Retry-After": "1"} if exc.status == 503 else None) from None
        except ClientGone:
            raise RequestError("the client went away", 400) from None
        finally:
            if owned:
                self.pool.discard(worker)

    def _stream(self, worker: WorkerProcess, chunks: list[bytes], deadline: float,
                req: Request) -> ResultStream:
        return ResultStream(self.pool, worker, b"".join(chunks), deadline, req,
                             self.config.timeout)

    def _service_description(self, req: Request) -> Response:
        return service_description(self._url(req), self.config, req.header("accept"))

    # -- writes ------------------------------------------------------------------------------

    def _authorize(self, req: Request) -> None:
        if not self.config.token:
            raise RequestError("this server is read-only: writes are disabled (start it with "
                               "--update-token-file to enable them)", 403)
        origin = req.header("origin")
        own = {f"http://{req.header('host')}", *self.config.cors_origins}
        if origin and origin != "null" and origin not in own:
            raise RequestError("writes from another site's page are not allowed", 403)
        scheme, _, token = req.header("authorization").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
                token.strip().encode(), self.config.token.encode()):
            raise RequestError("this write needs the server's token: Authorization: Bearer "
                               "TOKEN", 401, {"WWW-Authenticate": 'Bearer realm="gff2rdf"'})

    def _update(self, req: Request) -> Response:
        self._authorize(req)
        if req.method != "POST":
            raise RequestError("updates are sent with POST", 405, {"Allow": "POST"})
        url = Params.parse(req.query_string)
        if req.content_type == "application/sparql-update":
            return self._write_update(req, url, self._body_text(req))
        if req.content_type == FORM:
            return self._write_update(req, url.merge(Params.parse(self._body_text(req))))
        raise RequestError("an update is sent as application/sparql-update or "
                           f"{FORM}", 415)

    def _write_update(self, req: Request, params: Params, text: str | None = None) -> Response:
        self._authorize(req)
        text = params.one("update") if text is None else text
        if not text or not text.strip():
            raise RequestError("no update: send one in the 'update' parameter", 400)
        update = with_using(text, [iri(g, "using-graph-uri")
                                   for g in params.all("using-graph-uri")],
                            [iri(g, "using-named-graph-uri")
                             for g in params.all("using-named-graph-uri")])
        return self._locked_write({"op": "update", "update": update,
                                   "base_iri": self._url(req)})

    def _write(self, request: dict[str, Any]) -> Response:
        status, message = self.pool.write(request, drain=self.config.timeout + 5)
        if message:
            return _text(status, message)
        return Response(status)

    def _locked_write(self, request: dict[str, Any]) -> Response:
        """A write, with RocksDB's lock lent to the write worker while it has the store open
        (not while the write waits for the queries in flight)."""
        if self._database is None:
            return self._write(request)
        with self._write_turn:
            try:
                status, message = self.pool.write(request, drain=self.config.timeout + 5,
                                                  lend=self._database.lent)
            except StoreLockedError as exc:
                # another program opened the store while the write worker had the lock: its
                # writes and our readers must not meet, so stop serving (details in the log)
                print(f"gff2rdf serve: {exc}; no longer serving the store", file=sys.stderr)
                self._lost = ("another program opened this server's store during a write; "
                              "the server no longer serves it (see its log)")
                self.pool.close()
                raise RequestError(self._lost, 503) from None
        return _text(status, message) if message else Response(status)

    def _graph_store(self, req: Request) -> Response:
        target = graph_target(req, self.config)
        if req.method in ("GET", "HEAD"):
            return self._run({"op": "graph", "graph": target, "accept": req.header("accept"),
                              "head": req.method == "HEAD"}, req)
        if req.method not in ("PUT", "POST", "DELETE"):
            raise RequestError(f"{req.method} is not allowed here", 405,
                               {"Allow": "GET, HEAD, PUT, POST, DELETE"})
        self._authorize(req)
        if req.method == "DELETE" or (req.method == "PUT" and target is None):
            if target is None:
                raise RequestError(f"name the graph to {req.method}: ?graph=IRI, ?default or "
                                   "a path under /store/", 400)
            if req.method == "DELETE":
                return self._locked_write({"op": "graph_write", "method": "DELETE",
                                           "graph": target})
        location = None
        with Upload(self.config.max_upload) as upload:
            parts = upload.receive(req)
            for part in parts:  # before any parser sees them, outside the exclusive write
                check_entities(part.path, part.media_type)
            if target is None and not all(part.dataset for part in parts):
                target = location = self._url(req, f"/store/{uuid.uuid4().hex}")
            response = self._locked_write({
                "op": "graph_write", "method": req.method, "graph": target,
                "parts": [part.to_json() for part in parts], "created": location is not None,
                "base_iri": target or self._url(req)})
        if location is not None and response.status == 201:
            response.headers.append(("Location", location))
        return response

    # -- the page's data ---------------------------------------------------------------------

    def select(self, query: str) -> list[dict[str, str]]:
        """Rows of a SELECT run by a worker, as ``{variable: value}``."""
        req = Request("GET", "/sparql")
        response = self._run({"op": "query", "query": query,
                              "accept": "application/sparql-results+json"}, req)
        doc = json.loads(response.read())
        return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]

    def genomes(self) -> list[dict[str, Any]]:
        return genome_rows(self.select(listing_query()))

    def _canned(self, req: Request, name: str) -> Response:
        deadline = time.monotonic() + self.config.timeout  # for every query of the request

        def submit(text: str, accept: str, own: bool, whole: bool) -> tuple[Response, int | None]:
            return self._exchange({"op": "query", "query": text, "accept": accept, "union":
                                   self.config.union_default_graph, "max_rows": 0 if own else
                                   self.config.max_rows}, req, deadline, whole)

        return self.canned.respond(req, name, submit)  # planned as gff2rdf query plans


def token_endpoint(url: str, token: str) -> Any:
    """A ``gff2rdf.store.remote.Endpoint`` for a write-enabled ``gff2rdf serve`` (``.../store``)
    that sends the bearer token, so ``load_remote`` loads a genome version while the server
    serves.

    Example (from the repository's root, as the tests run): a server on a free port of
    127.0.0.1 with a new store, which only a request with the token may write to:

        >>> import tempfile
        >>> from gff2rdf.errors import EndpointError
        >>> from gff2rdf.store.remote import Endpoint, load_remote
        >>> from gff2rdf.server.http import make_server
        >>> config = ServeConfig.from_settings(tempfile.mkdtemp(), workers=1, token="s3cret")
        >>> app = App(config).start()
        >>> server = make_server(app, "127.0.0.1", 0, 16, access_log=False)
        >>> thread = threading.Thread(target=server.serve_forever)
        >>> thread.start()
        >>> url = f"http://127.0.0.1:{server.port}/store"
        >>> kw = dict(species="Arabidopsis thaliana", assembly="TAIR10", annotation="mikado")
        >>> try:  # doctest: +ELLIPSIS +NORMALIZE_WHITESPACE
        ...     try:  # without the token, even a small update is refused
        ...         Endpoint.for_url(url).update("CLEAR ALL")
        ...     except EndpointError as exc:
        ...         print(exc)
        ...     endpoint = token_endpoint(url, "s3cret")
        ...     print(load_remote(endpoint, "tests/data/tair10_chr5_mikado.gff3",
        ...                       **kw).summary())
        ...     print(load_remote(endpoint, "tests/data/tair10_chr5_mikado.gff3", **kw).status)
        ... finally:
        ...     server.shutdown()
        ...     thread.join()
        ...     server.server_close()
        ...     app.close()
        POST http://127.0.0.1:.../update: HTTP 401 Unauthorized:
            this write needs the server's token: Authorization: Bearer TOKEN
        arabidopsis_thaliana/TAIR10/mikado: loaded (new genome version): 2,575 triples in ... s
        unchanged
    """
    from ..store.remote import Endpoint

    class _TokenEndpoint(Endpoint):
        def _request(self, method: str, url: str, body: Any = None,
                     headers: dict[str, str] | None = None) -> bytes:
            headers = {**(headers or {}), "Authorization": f"Bearer {token}"}
            return super()._request(method, url, body, headers)

    base = Endpoint.for_url(url)
    return _TokenEndpoint(base.store_url, base.query_url, base.update_url)
