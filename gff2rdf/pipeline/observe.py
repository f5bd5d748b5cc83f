"""The data version of a genome version's GFF3 as it stands, observed without building anything.

``gff3_file`` is the pipeline's observable source asset (``gff2rdf.pipeline.assets``): its data
version is the local file's sha256, or for a URL what the server says about the remote file
(its ``ETag``, else its ``Last-Modified`` date, from a HEAD request), so a new upload shows in
dagster without downloading it. ``gff3_source`` records the version it was built from, and
dagster's staleness and the CLI planner (``gff2rdf.pipeline.plan``) both compare the two.

Example: a local file's data version is its sha256, prefixed by what it is.

    >>> import tempfile
    >>> from gff2rdf.pipeline.catalogue import load_catalogue
    >>> from gff2rdf.pipeline.layout import Layout
    >>> genome = load_catalogue("examples/catalogue.yaml").genome(
    ...     "solanum_lycopersicum/SL2.40/ITAG2.3")
    >>> layout = Layout.for_store(Path(tempfile.mkdtemp()) / "store")
    >>> observe(genome, layout) == "sha256:" + sha256_file(Path(genome.source))
    True
"""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ..store.inputs import sha256_file
from .catalogue import CatalogueError, Genome
from .layout import Layout
from .sources import TIMEOUT, _opener

__all__ = ["DATA_VERSION_TAG", "SOURCE_ASSET", "latest_observation", "local_version", "observe",
           "record_observation"]

SOURCE_ASSET = "gff3_file"
DATA_VERSION_TAG = "dagster/data_version"
_USER_PROVIDED_TAG = "dagster/data_version_is_user_provided"


def local_version(sha256: str) -> str:
    """The data version of a local file with this sha256."""
    return "sha256:" + sha256


def observe(genome: Genome, layout: Layout) -> str:
    """The data version of the genome version's source now: ``sha256:HEX`` for a local file,
    ``etag:VALUE`` or ``last-modified:DATE`` for a URL (``sha256:`` of the catalogue's pin
    when the server gives neither; an error naming the entry when it gives nothing at all)."""
    if not genome.is_url:
        path = Path(genome.source)
        if not path.is_file():
            raise CatalogueError(f"{genome.where('source')}: {path}: no such file")
        return local_version(sha256_file(path))
    url = genome.source
    request = urllib.request.Request(url, method="HEAD",
                                     headers={"User-Agent": "gff2rdf-pipeline"})
    try:
        with _opener(url).open(request, timeout=TIMEOUT) as response:
            headers = response.headers
    except urllib.error.HTTPError as exc:
        raise CatalogueError(f"{genome.where('source')}: {url}: HTTP {exc.code} "
                             f"{exc.reason}") from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CatalogueError(f"{genome.where('source')}: cannot reach {url}: {reason}") from exc
    if headers.get("ETag"):
        return "etag:" + str(headers["ETag"])
    if headers.get("Last-Modified"):
        return "last-modified:" + str(headers["Last-Modified"])
    if genome.sha256:
        return "sha256:" + genome.sha256
    raise CatalogueError(f"{genome.where('source')}: {url} sends neither ETag nor "
                         "Last-Modified, so a change cannot be seen without downloading it; "
                         "pin the file with sha256: in the catalogue")


def latest_observation(instance: Any, key: str) -> str | None:
    """The data version of ``gff3_file``'s latest observation for partition ``key``."""
    from dagster import AssetKey

    record = instance.get_latest_data_version_record(AssetKey(SOURCE_ASSET), True, key)
    if record is None:
        return None
    observation = record.asset_observation or record.asset_materialization
    tags = getattr(observation, "tags", None) or {}
    value = tags.get(DATA_VERSION_TAG)
    return str(value) if value is not None else None


def record_observation(instance: Any, key: str, version: str) -> bool:
    """Record an observation of ``gff3_file`` for partition ``key`` when its data version is
    not the latest one recorded (so the UI sees what the CLI saw); True when it recorded one."""
    from dagster import AssetKey, AssetObservation

    if latest_observation(instance, key) == version:
        return False
    instance.report_runless_asset_event(AssetObservation(
        asset_key=AssetKey(SOURCE_ASSET), partition=key,
        tags={DATA_VERSION_TAG: version, _USER_PROVIDED_TAG: "true"},
        metadata={"observed by": "gff2rdf pipeline (planner)"}))
    return True
