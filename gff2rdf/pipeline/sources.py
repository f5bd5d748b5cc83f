"""Source GFF3 files of catalogue entries: local files read in place, URLs downloaded once.

A local source is used where it is; its sha256 is its data version. A URL is downloaded into
the pipeline directory (``source/NAME`` of the genome version), hashed while it streams, and
renamed into place only when complete; a download that does not match the catalogue's
``sha256`` is removed and is an error naming the entry. A pinned download already on disk with
the right sha256 is not fetched again.

Example: the tomato entry of the example catalogue is a local file, used in place:

    >>> import dataclasses
    >>> import tempfile
    >>> from gff2rdf.pipeline.catalogue import load_catalogue
    >>> catalogue = load_catalogue("examples/catalogue.yaml")
    >>> genome = catalogue.genome("solanum_lycopersicum/SL2.40/ITAG2.3")
    >>> layout = Layout.for_store(Path(tempfile.mkdtemp()) / "store")
    >>> found = materialise_source(genome, layout)
    >>> found.path == Path(genome.source), found.fetched, found.sha256 == sha256_file(found.path)
    (True, False, True)

    A source that does not have the catalogue's ``sha256`` is an error naming the entry (printed
    here one part a line):

    >>> pinned = dataclasses.replace(genome, sha256="0" * 64)
    >>> try:
    ...     materialise_source(pinned, layout)
    ... except CatalogueError as exc:
    ...     print(*str(exc).split(": "), sep="\\n")  # doctest: +ELLIPSIS
    examples/catalogue.yaml:...
    genomes[2] (Solanum lycopersicum SL2.40 ITAG2.3)
    sha256
    /.../tests/data/tomato_ITAG2.3_test.gff3 has sha256 ..., the catalogue says 0000...0000
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ..store.inputs import sha256_file
from .catalogue import CatalogueError, Genome
from .layout import Layout

__all__ = ["SourceFile", "current_source", "download_path", "materialise_source"]

TIMEOUT = 60.0
_CHUNK = 1 << 20
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class SourceFile:
    """The local copy of a genome version's GFF3 and what is known about it."""

    path: Path
    sha256: str
    bytes: int
    url: str | None = None
    fetched: bool = False
    seconds: float = 0.0


def download_path(genome: Genome, layout: Layout) -> Path:
    name = unquote(Path(urlparse(genome.source).path).name) or "source.gff3"
    return layout.download_dir(genome.key) / name


def _check_pin(genome: Genome, sha256: str, what: str) -> None:
    if genome.sha256 and sha256 != genome.sha256:
        raise CatalogueError(f"{genome.where('sha256')}: {what} has sha256 {sha256}, the "
                             f"catalogue says {genome.sha256}")


def current_source(genome: Genome, layout: Layout) -> SourceFile | None:
    """The source as it is now, without downloading: a local file (which must exist) or the
    download already on disk (None when there is none)."""
    if genome.is_url:
        path = download_path(genome, layout)
        if not path.is_file():
            return None
        return SourceFile(path, sha256_file(path), path.stat().st_size, genome.source)
    path = Path(genome.source)
    if not path.is_file():
        raise CatalogueError(f"{genome.where('source')}: {path}: no such file")
    sha256 = sha256_file(path)
    _check_pin(genome, sha256, str(path))
    return SourceFile(path, sha256, path.stat().st_size)


def materialise_source(genome: Genome, layout: Layout, refresh: bool = True) -> SourceFile:
    """The source, downloaded when it is a URL: again when ``refresh`` and it has no pin, or
    when the copy on disk does not match its pin."""
    found = current_source(genome, layout)
    if not genome.is_url:
        assert found is not None
        return found
    if found is not None and (found.sha256 == genome.sha256 or (not genome.sha256
                                                                 and not refresh)):
        return found
    return _download(genome, download_path(genome, layout))


def _opener(url: str) -> urllib.request.OpenerDirector:
    if urlparse(url).hostname in _LOOPBACK:  # never send a loopback request to a proxy
        return urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener()


def _download(genome: Genome, target: Path) -> SourceFile:
    started = time.perf_counter()
    url = genome.source
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(prefix=".download-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": "gff2rdf-pipeline"})
            with _opener(url).open(request, timeout=TIMEOUT) as response:
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
        sha256 = digest.hexdigest()
        _check_pin(genome, sha256, f"the download of {url}")
        os.replace(tmp, target)
    except urllib.error.HTTPError as exc:
        raise CatalogueError(f"{genome.where('source')}: {url}: HTTP {exc.code} "
                             f"{exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise CatalogueError(f"{genome.where('source')}: cannot download {url}: "
                             f"{exc.reason}") from exc
    except (OSError, TimeoutError) as exc:
        raise CatalogueError(f"{genome.where('source')}: cannot download {url}: {exc}") from exc
    finally:
        Path(tmp).unlink(missing_ok=True)
    return SourceFile(target, sha256, size, url, fetched=True,
                      seconds=time.perf_counter() - started)
