"""A remote SPARQL 1.1 server over HTTP (httpx): its query, update and Graph Store URLs, and how
to talk to it.

* **Queries** go as ``POST application/x-www-form-urlencoded`` (``query=...``), the form of the
  SPARQL 1.1 Protocol every server answers: Virtuoso 7.2 never answers
  ``POST application/sparql-query`` (the request waits until the client gives up, holding one of
  its HTTP threads). Updates go as ``POST application/sparql-update``.
* **Timeouts**: a connection must be made within ``connect_timeout`` (5 s), a write sent and an
  answer started within ``timeout`` (600 s; big loads take long). Each failure says what
  happened: no connection, no answer, or the HTTP status with the start of the server's text.
* **Authentication**: ``Credentials`` come from a file (one line ``user:password``) or the
  environment variable ``GFF2RDF_ENDPOINT_CREDENTIALS``, never from the command line; the scheme
  is HTTP basic, digest, or ``auto`` (whatever the server's ``WWW-Authenticate`` asks for;
  Virtuoso's ``/sparql-auth`` and ``/sparql-graph-crud-auth`` ask for digest).
* **Graph Store bodies** are sent in pieces of ``piece_bytes`` (64 MiB, cut at line ends): the
  first piece ``PUT`` (replacing the graph), the others ``POST`` (added to it). Memory stays
  bounded for any file size, and each piece can be sent again when the server answers with an
  authentication challenge (a streamed body could not). N-Triples without blank nodes, as the
  converter writes, mean the same split or whole.

Known layouts (``Endpoint.for_url``): Oxigraph (``/store``, ``/query``, ``/update``), Fuseki
(``/ds/data``, ``/ds/query``, ``/ds/update``) and Virtuoso (``/sparql-graph-crud-auth`` with
``/sparql-auth`` for queries and updates; ``/sparql-graph-crud`` with ``/sparql``).

Example: credentials from the environment; none when it is not set:

    >>> import os
    >>> os.environ["GFF2RDF_ENDPOINT_CREDENTIALS"] = "loader:s3cret:with:colons"
    >>> Credentials.find(None)
    Credentials(user='loader', password=***)
    >>> del os.environ["GFF2RDF_ENDPOINT_CREDENTIALS"]
    >>> Credentials.find(None) is None
    True
    >>> Endpoint.for_url("http://127.0.0.1:8890/sparql-graph-crud-auth").query_url
    'http://127.0.0.1:8890/sparql-auth'
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..errors import EndpointError
from ..settings import env_name

__all__ = ["AUTH_SCHEMES", "NTRIPLES", "Credentials", "Endpoint"]

NTRIPLES = "application/n-triples"
AUTH_SCHEMES = ("auto", "basic", "digest")
CREDENTIALS_ENV = env_name("endpoint-credentials")
PIECE_BYTES = 64 << 20


@dataclass(frozen=True)
class Credentials:
    """A user name and password for HTTP authentication (the password is never shown)."""

    user: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password=***)"

    @classmethod
    def parse(cls, text: str, where: str) -> Credentials:
        line = text.strip()
        user, sep, password = line.partition(":")
        if not sep or not user or not password or "\n" in line:
            raise EndpointError(f"{where}: expected one line 'user:password'")
        return cls(user, password)

    @classmethod
    def find(cls, path: str | Path | None) -> Credentials | None:
        """From the file ``path``, else from ``GFF2RDF_ENDPOINT_CREDENTIALS``, else None."""
        if path:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise EndpointError(f"cannot read the credentials file: {exc}") from exc
            return cls.parse(text, "the credentials file")
        value = os.environ.get(CREDENTIALS_ENV)
        return cls.parse(value, CREDENTIALS_ENV) if value else None

    def auth(self, scheme: str = "auto") -> httpx.Auth:
        if scheme == "basic":
            return httpx.BasicAuth(self.user, self.password)
        if scheme == "digest":
            return httpx.DigestAuth(self.user, self.password)
        if scheme == "auto":
            return _ChallengeAuth(self.user, self.password)
        raise EndpointError(f"authentication scheme {scheme!r}: expected one of "
                            + ", ".join(AUTH_SCHEMES))


class _ChallengeAuth(httpx.Auth):
    """Basic or digest, as the server's first ``WWW-Authenticate`` challenge asks."""

    def __init__(self, user: str, password: str) -> None:
        self._basic = httpx.BasicAuth(user, password)
        self._digest = httpx.DigestAuth(user, password)
        self._chosen: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._chosen is None:
            response = yield request
            if response.status_code != 401:
                return
            scheme = response.headers.get("www-authenticate", "").split(" ", 1)[0].lower()
            self._chosen = self._digest if scheme == "digest" else self._basic
        yield from self._chosen.auth_flow(request)


def _pieces(path: str | Path, length: int, size: int) -> Iterator[bytes]:
    """The first ``length`` bytes of a file in pieces of about ``size`` bytes, cut after a
    newline (a line longer than ``size`` makes a longer piece)."""
    with open(path, "rb") as f:
        left, carry = length, b""
        while left > 0 or carry:
            data = f.read(min(size, left)) if left > 0 else b""
            left = left - len(data) if data else 0  # a file shorter than ``length`` ends it
            data = carry + data
            if left > 0 and not data.endswith(b"\n"):
                cut = data.rfind(b"\n") + 1
                data, carry = (data[:cut], data[cut:]) if cut else (b"", data)
            else:
                carry = b""
            if data:
                yield data
            if not data and left <= 0:
                break


@dataclass
class Endpoint:
    """A Graph Store Protocol URL and, when the server has them, its query and update URLs."""

    store_url: str
    query_url: str | None = None
    update_url: str | None = None
    timeout: float = 600.0
    connect_timeout: float = 5.0
    auth: httpx.Auth | None = field(default=None, repr=False)
    piece_bytes: int = PIECE_BYTES
    _client: httpx.Client | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def for_url(cls, url: str, query_url: str | None = None, update_url: str | None = None,
                direct: bool = False, auth: httpx.Auth | None = None) -> Endpoint:
        """Guess the query and update URLs of well-known layouts: Oxigraph, Fuseki, Virtuoso."""
        stem, _, last = url.rstrip("/").rpartition("/")
        guessed = {"store": ("query", "update"), "data": ("query", "update"),
                   "sparql-graph-crud-auth": ("sparql-auth", "sparql-auth"),
                   "sparql-graph-crud": ("sparql", "sparql")}.get(last)
        if guessed:
            query_url = query_url or f"{stem}/{guessed[0]}"
            update_url = update_url or f"{stem}/{guessed[1]}"
        return cls(url, query_url, None if direct else update_url, auth=auth)

    # -- HTTP --------------------------------------------------------------------------------

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                auth=self.auth, follow_redirects=False, trust_env=False,
                timeout=httpx.Timeout(self.timeout, connect=self.connect_timeout))
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __del__(self) -> None:  # an endpoint not closed does not leave its sockets open
        self.close()

    def __enter__(self) -> Endpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, url: str, body: Any = None,
                 headers: dict[str, str] | None = None) -> bytes:
        try:
            response = self._http().request(method, url, content=body, headers=headers or {})
        except httpx.ConnectTimeout as exc:
            raise EndpointError(f"{method} {url}: cannot reach the server: no connection "
                                f"within {self.connect_timeout:g} s") from exc
        except httpx.TimeoutException as exc:
            raise EndpointError(f"{method} {url}: the server took the connection but did not "
                                f"answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            raise EndpointError(f"{method} {url}: cannot reach the server: {exc}") from exc
        if response.status_code >= 400:
            detail = " ".join(response.text[:300].split())
            hint = ""
            challenge = response.headers.get("www-authenticate", "").split(" ", 1)[0].lower()
            if response.status_code == 401 and self.auth is not None:
                hint = " (the credentials were refused)"
            elif response.status_code == 401 and challenge in ("basic", "digest"):
                hint = (" (this server wants credentials: --auth-file FILE or "
                        f"{CREDENTIALS_ENV}, one line user:password)")
            raise EndpointError(f"{method} {url}: HTTP {response.status_code} "
                                f"{response.reason_phrase}{hint}"
                                + (f": {detail}" if detail else ""))
        return response.content

    def _graph_url(self, graph: str) -> str:
        sep = "&" if "?" in self.store_url else "?"
        return f"{self.store_url}{sep}graph={urllib.parse.quote(graph, safe='')}"

    def select(self, query: str) -> list[dict[str, str]]:
        if not self.query_url:
            raise EndpointError("no query endpoint (--query-endpoint)")
        body = urllib.parse.urlencode({"query": query}).encode("ascii")
        data = self._request("POST", self.query_url, body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json"})
        try:
            doc = json.loads(data)
            return [{k: v["value"] for k, v in b.items()} for b in doc["results"]["bindings"]]
        except (ValueError, KeyError, TypeError) as exc:
            # Oxigraph appends an error to a 200 response when it fails while streaming
            raise EndpointError(f"{self.query_url}: not a SPARQL JSON result: "
                                f"{data[-300:].decode('utf-8', 'replace')}") from exc

    def update(self, text: str) -> None:
        if not self.update_url:
            raise EndpointError("no update endpoint (--update-endpoint)")
        self._request("POST", self.update_url, text.encode("utf-8"),
                      {"Content-Type": "application/sparql-update"})

    def put_graph(self, graph: str, path: str | Path, length: int | None = None,
                  content_type: str = NTRIPLES) -> None:
        """Replace a graph with the first ``length`` bytes (default: all) of a file, in pieces
        of ``piece_bytes``: the first PUT, the others POST (N-Triples only: cut at lines)."""
        size = os.path.getsize(path) if length is None else length
        pieces = (_pieces(path, size, self.piece_bytes) if content_type == NTRIPLES
                  else _pieces(path, size, max(size, 1)))
        method = "PUT"
        for piece in pieces:
            self._request(method, self._graph_url(graph), piece, {"Content-Type": content_type})
            method = "POST"
        if method == "PUT":  # an empty body: the graph is replaced by nothing
            self._request("PUT", self._graph_url(graph), b"", {"Content-Type": content_type})

    def get_graph(self, graph: str) -> bytes:
        """A graph as N-Triples; empty when the server does not have it."""
        try:
            return self._request("GET", self._graph_url(graph), None, {"Accept": NTRIPLES})
        except EndpointError as exc:
            if "HTTP 404" in str(exc):
                return b""
            raise
