"""Shared test helpers: the shared corpus location and small conversion helpers."""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import pytest

from gff2rdf.conversion.api import ConvertResult, convert
from gff2rdf.errors import Gff3Error
from gff2rdf.files.interrupts import keep_signal_handlers
from tests.markers import mark
from tests.virtuoso import VirtuosoServer, virtuoso_binaries

ROOT = Path(__file__).resolve().parents[1]  # the repository
DATA = ROOT / "tests" / "data"
SHARED = Path(os.environ.get("GFF2RDF_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared(*parts: str) -> Path:
    """A path in ../shared/data; skips the test with the reason when the corpus is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus not found at {path} (set GFF2RDF_SHARED_DATA)")
    return path


def mikado_and_itag_store(path: Path) -> Path:
    """A store at ``path`` with two shared-corpus genome versions (their bin indexes too):
    mikado's TAIR10 Chr5 reference and the ITAG2.3 tomato test file."""
    from gff2rdf.store.store import GenomeStore

    with GenomeStore.open(path) as store:
        store.load(shared("gff3", "mikado__reference_TAIR10_Chr5.gff3"),
                   species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10",
                   annotation="mikado")
        store.load(shared("gff3", "biofmt__tomato_test_ITAG2.3.gff3"),
                   species="Solanum lycopersicum", taxon="4081", assembly="SL2.40",
                   annotation="ITAG2.3")
    return path


@dataclass(frozen=True)
class Converted:
    """A shared-corpus file converted to N-Triples (``--lenient`` when it has errors)."""

    source: Path
    nt: Path
    result: ConvertResult
    lenient: bool


# A test run started in the background (``.ci/run &``) has SIGINT ignored; dagster's in-process
# execution then sets SIGTERM to that too, and the servers tests start afterwards inherit it
# and do not stop on terminate(). Ctrl-C's own handler is not inherited by a child.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _signal_handlers_as_they_were() -> Iterator[None]:
    """Each test leaves SIGINT, SIGTERM and SIGHUP as it found them (dagster does not)."""
    with keep_signal_handlers():
        yield


@pytest.fixture(scope="session")
def corpus_nt(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Converted]:
    """``get(name)``: ``../shared/data/{name}`` (``gff3/x.gff``) converted once a session with
    the default genome options, shared by the SHACL and export tests (skips when absent)."""
    work = tmp_path_factory.mktemp("corpus")

    @functools.cache
    def get(name: str) -> Converted:
        source = shared(*name.split("/"))
        nt = work / (name.replace("/", "__") + ".nt")
        try:
            return Converted(source, nt, convert(source, nt), False)
        except Gff3Error:
            return Converted(source, nt, convert(source, nt, lenient=True), True)

    return get


def convert_text(tmp_path: Path, text: str, **options: object) -> tuple[ConvertResult, str]:
    """Convert GFF3 text to N-Triples; returns the result and the output text."""
    source = tmp_path / "in.gff3"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.nt"
    options.setdefault("species", "Arabidopsis thaliana")
    options.setdefault("taxon", "3702")
    options.setdefault("assembly", "TAIR10")
    options.setdefault("annotation", "Araport11")
    result = convert(source, out, **options)  # type: ignore[arg-type]
    return result, out.read_text(encoding="utf-8")


def store_of(nt: str) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(nt.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


GENOME = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/Araport11"
SEQ = "https://w3id.org/gff2rdf/data/assembly/TAIR10/"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``slow``, ``browser`` and ``pipeline`` markers (tests/markers.py)."""
    for item in items:
        mark(item)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtuosoServer]:
    """A Virtuoso 7 server of the session's own (tests/virtuoso.py), stopped at the end."""
    if virtuoso_binaries() is None:
        pytest.skip("Virtuoso is not installed: virtuoso-t and isql-vt come with the Debian "
                    "package virtuoso-opensource (make test-deps)")
    server = VirtuosoServer.start(tmp_path_factory.mktemp("virtuoso"))
    try:
        yield server
    finally:
        server.stop()
