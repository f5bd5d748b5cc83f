"""Graph Store Protocol uploads: the request body saved to temporary files, one per RDF document.

A plain body is one document with the request's ``Content-Type``. A ``multipart/form-data``
body (SPARQL 1.1 Graph Store HTTP Protocol, section 5.5: "each part ... is RDF to be merged
into the graph") is split as it arrives by ``python-multipart``'s streaming parser, each part
into its own file, typed by the part's ``Content-Type`` or else by its file name's extension.
The write worker then parses every file before it changes the store, so that a bad part leaves
the graph as it was.

Limits: the whole body at most ``max_upload`` bytes (413), at most ``MAX_PARTS`` parts, part
headers as ``python-multipart`` bounds them; a body that ends before its closing boundary is a
400.

Example:
    >>> import io
    >>> body = b"<http://a/> <http://b/> <http://c/> ."
    >>> request = Request("PUT", "/store?default", {"content-type": "application/n-triples"},
    ...                   io.BytesIO(body), len(body))
    >>> with Upload(1 << 20) as upload:
    ...     [(part.media_type, part.name) for part in upload.receive(request)]
    [('application/n-triples', 'the request body')]
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from typing import IO, Any

import pyoxigraph as ox

from ..errors import RequestError
from .http import Request

__all__ = ["MAX_PARTS", "Part", "Upload"]

MAX_PARTS = 1000
ACCEPTED = "text/turtle, application/n-triples, application/rdf+xml"


@dataclass(frozen=True)
class Part:
    """One RDF document of an upload: its file, media type and name (for messages)."""

    path: str
    media_type: str
    name: str

    @property
    def dataset(self) -> bool:
        """True for a format that names graphs (N-Quads, TriG)."""
        fmt = ox.RdfFormat.from_media_type(self.media_type)
        return fmt is not None and fmt.supports_datasets

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "content_type": self.media_type, "name": self.name}


def _media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def _rdf_type(media_type: str, filename: str, where: str) -> str:
    """``media_type`` when it is an RDF format, else the format of ``filename``'s extension."""
    if media_type and media_type not in ("application/octet-stream", "text/plain"):
        if ox.RdfFormat.from_media_type(media_type) is None:
            raise RequestError(f"{where}: cannot load {media_type}; send {ACCEPTED} (or "
                               "application/n-quads, application/trig for a whole dataset)", 415)
        return media_type
    extension = os.path.splitext(filename)[1].lstrip(".").lower()
    fmt = ox.RdfFormat.from_extension(extension) if extension else None
    if fmt is None:
        raise RequestError(f"{where}: give its Content-Type ({ACCEPTED})", 415)
    return str(fmt.media_type)


class _Splitter:
    """A writable file that feeds ``python-multipart`` and writes each part to its own file."""

    def __init__(self, boundary: bytes, directory: str) -> None:
        from python_multipart import MultipartParser

        self.directory = directory
        self.parts: list[Part] = []
        self._headers: dict[str, str] = {}
        self._field = bytearray()
        self._value = bytearray()
        self._out: IO[bytes] | None = None
        self._path = ""
        self.ended = False
        callbacks: Any = {
            "on_part_begin": self._begin, "on_header_field": self._on_field,
            "on_header_value": self._on_value, "on_header_end": self._header_end,
            "on_headers_finished": self._headers_done, "on_part_data": self._data,
            "on_part_end": self._part_end, "on_end": self._end}
        self.parser = MultipartParser(boundary, callbacks)

    def write(self, data: bytes) -> int:
        try:
            self.parser.write(data)
        except RequestError:
            raise
        except Exception as exc:  # python-multipart's errors: a malformed body
            raise RequestError(f"bad multipart/form-data body: {exc}", 400) from None
        return len(data)

    def _begin(self) -> None:
        self._headers = {}
        if len(self.parts) >= MAX_PARTS:
            raise RequestError(f"more than {MAX_PARTS} parts in a multipart body", 400)

    def _on_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _on_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        name = self._field.decode("latin-1").strip().lower()
        self._headers[name] = self._value.decode("utf-8", "replace").strip()
        self._field.clear()
        self._value.clear()

    def _headers_done(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(self._headers.get("content-disposition", ""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        filename = options.get(b"filename", b"").decode("utf-8", "replace")
        where = f"part {len(self.parts) + 1}" + (f" ({name[:100]!r})" if name else "")
        media = _rdf_type(_media_type(self._headers.get("content-type", "")), filename, where)
        fd, self._path = tempfile.mkstemp(prefix="part-", dir=self.directory)
        self._out = os.fdopen(fd, "wb")
        self.parts.append(Part(self._path, media, where))

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._out is not None:
            self._out.write(data[start:end])

    def _part_end(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None

    def _end(self) -> None:
        self.ended = True

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


class Upload:
    """The RDF documents of one request body, in a temporary directory removed on exit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.directory: str | None = None

    def __enter__(self) -> Upload:
        self.directory = tempfile.mkdtemp(prefix="gff2rdf-upload-")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def receive(self, req: Request) -> list[Part]:
        """Save the body; ``RequestError`` 415 for a type that is not RDF, 400 for a broken
        multipart body, 413 past the limit."""
        assert self.directory is not None, "use Upload as a context manager"
        media = req.content_type
        if not media:
            raise RequestError(f"give the data's Content-Type ({ACCEPTED}, or "
                               "multipart/form-data with one of them per part)", 415)
        if media != "multipart/form-data":
            media = _rdf_type(media, "", "the request body")
            fd, path = tempfile.mkstemp(prefix="body-", dir=self.directory)
            with os.fdopen(fd, "wb") as out:
                req.save_body(self.limit, out)
            return [Part(path, media, "the request body")]
        from python_multipart.multipart import parse_options_header

        _, options = parse_options_header(req.header("content-type"))
        boundary = options.get(b"boundary")
        if not boundary:
            raise RequestError("multipart/form-data without a boundary parameter", 400)
        splitter = _Splitter(boundary, self.directory)
        try:
            req.save_body(self.limit, splitter)  # type: ignore[arg-type]
        finally:
            splitter.close()
        if not splitter.ended:
            raise RequestError("the multipart/form-data body ended before its closing "
                               "boundary", 400)
        return splitter.parts
