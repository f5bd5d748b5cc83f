"""Discontinuous features (docs/modelling.md): segments in biological order, a bounding region
that says nothing false, and per-line attributes kept on the segment they came from (issue 14).

The trans-splicing tests run on tests/data/plastome_rps12_trans_spliced.gff3, modelled on the
NCBI RefSeq GFF3 of the Arabidopsis plastome; the others on small hand-made text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from gff2rdf.conversion.api import ConvertResult, convert
from gff2rdf.gff3.reader import Feature, SequenceInfo
from gff2rdf.gff3.segments import biological_order, extent, in_file_order, split_attributes
from gff2rdf.shacl.chunked import validate_lines
from tests.conftest import DATA, GENOME, SEQ, convert_text, store_of
from tests.rdf.test_modelling import FALDO, G2R, RDF_TYPE, SO_REL, objects, one

PLASTOME = DATA / "plastome_rps12_trans_spliced.gff3"
CP = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/RefSeq/feature/"
CP_SEQ = f"{SEQ}NC_000932.1"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
DCTERMS = "http://purl.org/dc/terms/"
OBOINOWL = "http://www.geneontology.org/formats/oboInOwl#"


@pytest.fixture(scope="module")
def plastome(tmp_path_factory: pytest.TempPathFactory) -> tuple[ConvertResult, str]:
    out = tmp_path_factory.mktemp("plastome") / "plastome.nt"
    result = convert(PLASTOME, out, species="Arabidopsis thaliana", taxon="3702",
                     assembly="TAIR10", annotation="RefSeq")
    return result, out.read_text("utf-8")


def ranked(nt: str, subject: str, kind: str) -> list[str]:
    """The locations of ``{subject}/{kind}/1``, ``/2``... in rank order."""
    store = store_of(nt)
    found = []
    n = 1
    while objects(store, f"{subject}/{kind}/{n}", FALDO + "location"):
        found.append(one(store, f"{subject}/{kind}/{n}", FALDO + "location"))
        n += 1
    return found


# -- order ----------------------------------------------------------------------------------


def test_trans_spliced_cds_on_both_strands_is_ranked_in_file_order(
        plastome: tuple[ConvertResult, str]) -> None:
    """rps12 (IRb copy): the 5' exon on the minus strand, the 3' exons on the plus strand."""
    _, nt = plastome
    assert ranked(nt, CP + "cds-NP_051077.1", "segment") == [
        f"{CP_SEQ}:69611-69724:-1", f"{CP_SEQ}:139856-140087:1", f"{CP_SEQ}:140625-140650:1"]


def test_trans_spliced_cds_on_one_strand_is_ranked_in_file_order(
        plastome: tuple[ConvertResult, str]) -> None:
    """rps12 (IRa copy), every line on the minus strand: coordinates would put the 3' exons
    first; exception=trans-splicing says the file order is the biological order."""
    _, nt = plastome
    assert ranked(nt, CP + "cds-NP_051038.1", "segment") == [
        f"{CP_SEQ}:69611-69724:-1", f"{CP_SEQ}:98562-98793:-1", f"{CP_SEQ}:97999-98024:-1"]


@pytest.mark.parametrize("copy", ["ArthCp047", "ArthCp069"])
def test_exons_and_cds_segments_of_one_transcript_agree(
        plastome: tuple[ConvertResult, str], copy: str) -> None:
    _, nt = plastome
    store = store_of(nt)
    cds = one(store, CP + f"rna-{copy}/exon/1", SO_REL + "part_of")  # the mRNA
    assert cds == CP + f"rna-{copy}"  # annotwriter's gene-X and rna-X: two nodes
    exons = ranked(nt, CP + f"rna-{copy}", "exon")
    cds_id = "cds-NP_051077.1" if copy == "ArthCp047" else "cds-NP_051038.1"
    assert exons == ranked(nt, CP + cds_id, "segment")
    assert ranked(nt, CP + f"gene-{copy}", "segment")[0] == exons[0]  # the gene's part=1/2


def test_trans_spliced_lines_raise_no_strand_or_phase_warnings(
        plastome: tuple[ConvertResult, str]) -> None:
    """Exons on the plus strand of an mRNA whose first line is on the minus strand are not
    'on another strand than their parent'; the phases follow in biological order."""
    result, _ = plastome
    assert result.log.errors == 0
    assert {p.kind for p in result.log.kept} == {"mixed-segments"}
    assert result.log.warnings == 3  # gene, mRNA and CDS of the IRb copy


def test_one_strand_is_still_five_to_three_prime_by_coordinates(tmp_path: Path) -> None:
    text = ("##gff-version 3\n##sequence-region Chr1 1 100000\n"
            "Chr1\t.\tmRNA\t100\t900\t.\t-\t.\tID=t\n"
            "Chr1\t.\tCDS\t100\t200\t.\t-\t2\tID=c;Parent=t\n"
            "Chr1\t.\tCDS\t800\t900\t.\t-\t0\tID=c;Parent=t\n"
            "Chr1\t.\tCDS\t400\t500\t.\t-\t1\tID=c;Parent=t\n")
    result, nt = convert_text(tmp_path, text)
    assert ranked(nt, f"{GENOME}/feature/c", "segment") == [
        f"{SEQ}Chr1:800-900:-1", f"{SEQ}Chr1:400-500:-1", f"{SEQ}Chr1:100-200:-1"]
    assert result.log.warnings == 0


# -- the bounding region ----------------------------------------------------------------------


def test_mixed_strand_bounding_region_claims_no_strand(
        plastome: tuple[ConvertResult, str]) -> None:
    """The region of lines on both strands is on neither: no strand class on its positions,
    strand code 0 in its IRI. Its segments keep their strands."""
    _, nt = plastome
    store = store_of(nt)
    for feature in ("gene-ArthCp047", "rna-ArthCp047", "cds-NP_051077.1"):
        region = one(store, CP + feature, FALDO + "location")
        assert region.endswith(":0"), region
        for end in ("begin", "end"):
            position = one(store, region, FALDO + end)
            assert objects(store, position, RDF_TYPE) == {FALDO + "ExactPosition"}
    assert one(store, CP + "gene-ArthCp047", FALDO + "location") == f"{CP_SEQ}:69611-140650:0"
    # a one-strand trans-spliced feature keeps its strand
    assert one(store, CP + "cds-NP_051038.1", FALDO + "location") == \
        f"{CP_SEQ}:69611-98793:-1"


def test_trans_spliced_plastome_conforms_and_segment_attributes_are_checked(
        plastome: tuple[ConvertResult, str], tmp_path: Path) -> None:
    """The schema declares the attribute slots on FeatureSegment, so the shapes check their
    values on a segment as on a feature (a Dbxref IRI, not a literal)."""
    _, nt = plastome
    path = tmp_path / "plastome.nt"
    path.write_text(nt, "utf-8")
    report = validate_lines(path)
    assert report.conforms, report.results
    segment = f"<{CP}gene-ArthCp047/segment/2>"
    path.write_text(nt + f'{segment} <{RDFS}seeAlso> "GeneID:844801" .\n', "utf-8")
    report = validate_lines(path)
    shapes = {v.shape.rsplit("#", 1)[-1] for v in report.results if v.focus == segment}
    assert "FeatureSegmentShape-see_also" in shapes
    assert {v.focus for v in report.results} == {segment}


CIRCULAR = ("##gff-version 3\n##sequence-region ChrM 1 16569\n"
            "ChrM\tRefSeq\tregion\t1\t16569\t.\t+\t.\tID=ChrM;Is_circular=true\n")


@pytest.mark.parametrize(("strand", "lines", "expected", "bounds"), [
    # NCBI splits a feature across the origin at the origin (a D-loop: 16024..576)
    ("+", [(16024, 16569), (1, 576)], [(16024, 16569), (1, 576)], "16024-17145:1"),
    ("+", [(1, 576), (16024, 16569)], [(16024, 16569), (1, 576)], "16024-17145:1"),
    ("-", [(300, 400), (1, 50), (16300, 16569), (16000, 16100)],
     [(300, 400), (1, 50), (16300, 16569), (16000, 16100)], "16000-16969:-1"),
])
def test_a_multi_line_feature_across_the_origin(
        tmp_path: Path, strand: str, lines: list[tuple[int, int]],
        expected: list[tuple[int, int]], bounds: str) -> None:
    text = CIRCULAR + "".join(f"ChrM\tRefSeq\tD_loop\t{s}\t{e}\t.\t{strand}\t.\tID=dloop\n"
                              for s, e in lines)
    result, nt = convert_text(tmp_path, text)
    code = "1" if strand == "+" else "-1"
    assert ranked(nt, f"{GENOME}/feature/dloop", "segment") == [
        f"{SEQ}ChrM:{s}-{e}:{code}" for s, e in expected]
    store = store_of(nt)
    assert one(store, f"{GENOME}/feature/dloop", FALDO + "location") == f"{SEQ}ChrM:{bounds}"
    assert one(store, f"{GENOME}/feature/dloop", G2R + "crossesOrigin") == "true"
    assert result.log.warnings == 0
    path = tmp_path / "out.nt"
    assert validate_lines(path).conforms


def test_lines_apart_on_a_circular_sequence_are_not_read_across_the_origin(
        tmp_path: Path) -> None:
    text = CIRCULAR + ("ChrM\t.\tCDS\t5000\t5100\t.\t+\t0\tID=c\n"
                       "ChrM\t.\tCDS\t1\t90\t.\t+\t1\tID=c\n")
    _, nt = convert_text(tmp_path, text)
    assert ranked(nt, f"{GENOME}/feature/c", "segment") == [
        f"{SEQ}ChrM:1-90:1", f"{SEQ}ChrM:5000-5100:1"]
    store = store_of(nt)
    assert one(store, f"{GENOME}/feature/c", FALDO + "location") == f"{SEQ}ChrM:1-5100:1"
    assert not objects(store, f"{GENOME}/feature/c", G2R + "crossesOrigin")


# -- attributes of one line -------------------------------------------------------------------


MATCH = ("##gff-version 3\n##sequence-region NC_003070.9 1 30427671\n"
         # an NCBI alignment GFF3: one cDNA_match ID over several lines, a Target each
         "NC_003070.9\tRefSeq\tcDNA_match\t3631\t3913\t.\t+\t.\tID=aln1;"
         "Target=NM_099983.2 1 283 +;gap_count=0;num_mismatch=0;pct_identity_gap=100\n"
         "NC_003070.9\tRefSeq\tcDNA_match\t3996\t4276\t.\t+\t.\tID=aln1;"
         "Target=NM_099983.2 284 564 +;gap_count=0;num_mismatch=0;pct_identity_gap=100;"
         "Note=a%2C b;Dbxref=UniProtKB:Q0WV96\n"
         "NC_003070.9\tRefSeq\tcDNA_match\t4486\t4605\t.\t+\t.\tID=aln1;"
         "Target=NM_099983.2 565 684 +;gap_count=0;num_mismatch=0;pct_identity_gap=100;"
         "Name=last\n")


def test_per_line_attributes_stay_on_their_segment(tmp_path: Path) -> None:
    result, nt = convert_text(tmp_path, MATCH)
    store = store_of(nt)
    match = f"{GENOME}/feature/aln1"
    target = G2R + "attr/Target"
    assert not objects(store, match, target)
    assert [one(store, f"{match}/segment/{n}", target) for n in (1, 2, 3)] == [
        "NM_099983.2 1 283 +", "NM_099983.2 284 564 +", "NM_099983.2 565 684 +"]
    # shared by every line: on the feature, once, and not repeated on the segments
    assert one(store, match, G2R + "attr/pct_identity_gap") == "100"
    for n in (1, 2, 3):
        assert not objects(store, f"{match}/segment/{n}", G2R + "attr/pct_identity_gap")
    # a Note, a Dbxref and a Name of one line, with their standard predicates
    second = f"{match}/segment/2"
    assert one(store, second, DCTERMS + "description") == "a, b"
    assert one(store, second, RDFS + "seeAlso") == "http://purl.uniprot.org/uniprot/Q0WV96"
    assert one(store, second, OBOINOWL + "hasDbXref") == "UniProtKB:Q0WV96"
    assert not objects(store, match, DCTERMS + "description")
    assert not objects(store, match, RDFS + "seeAlso")
    assert one(store, f"{match}/segment/3", RDFS + "label") == "last"
    assert one(store, match, RDFS + "label") == "aln1"  # no Name on every line: the ID
    assert result.log.warnings == 0
    assert validate_lines(tmp_path / "out.nt").conforms


def test_segments_of_identical_lines_carry_no_attributes(tmp_path: Path) -> None:
    text = ("##gff-version 3\n##sequence-region Chr1 1 100000\n"
            "Chr1\t.\tmRNA\t100\t900\t.\t+\t.\tID=t\n"
            "Chr1\t.\tCDS\t100\t200\t.\t+\t0\tID=c;Parent=t;Note=n\n"
            "Chr1\t.\tCDS\t400\t500\t.\t+\t1\tID=c;Parent=t;Note=n\n")
    _, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    assert one(store, f"{GENOME}/feature/c", DCTERMS + "description") == "n"
    segment = {str(q.predicate.value) for q in store.quads_for_pattern(
        None, None, None) if q.subject.value == f"{GENOME}/feature/c/segment/1"}
    assert segment == {RDF_TYPE, SO_REL + "part_of", G2R + "rank", G2R + "phase",
                       FALDO + "location"}


# -- the module's functions -------------------------------------------------------------------


def _line(start: int, end: int, strand: str, n: int,
          attributes: dict[str, list[str]] | None = None) -> Feature:
    return Feature("c", ".", "CDS", start, end, None, strand, 0, attributes or {}, n)


@pytest.mark.parametrize(("lines", "expected"), [
    ([_line(1, 9, "+", 1), _line(20, 29, "+", 2)], False),
    ([_line(1, 9, "+", 1), _line(20, 29, "-", 2)], True),
    ([_line(1, 9, "-", 1), _line(20, 29, "?", 2)], True),
    ([_line(1, 9, "-", 1, {"exception": ["trans-splicing"]}), _line(20, 29, "-", 2)], True),
    ([_line(1, 9, "-", 1, {"exception": ["RNA editing"]}), _line(20, 29, "-", 2)], False),
])
def test_in_file_order(lines: list[Feature], expected: bool) -> None:
    assert in_file_order(lines) is expected


def test_identical_coordinates_are_ordered_by_content() -> None:
    a = _line(1, 9, "+", 1, {"Note": ["b"]})
    b = _line(1, 9, "+", 2, {"Note": ["a"]})
    ordered = biological_order([a, b], tie=lambda f: f.attributes["Note"][0])
    assert [f.line for f in ordered] == [2, 1]


def test_extent_of_lines_on_other_sequences_is_the_first_sequence_s() -> None:
    lines = [_line(10, 20, "+", 1), _line(30, 40, "+", 2)]
    lines.append(Feature("d", ".", "CDS", 1, 99, None, "+", 0, {}, 3))
    bounds = extent(lines, SequenceInfo("c", 1000, circular=True))
    assert (bounds.start, bounds.end, bounds.strand, bounds.crosses_origin) == \
        (10, 40, "+", False)


def test_split_attributes_keeps_shared_values_once() -> None:
    shared, own = split_attributes([
        _line(1, 9, "+", 1, {"Dbxref": ["GeneID:1", "A:1"], "Note": ["x"]}),
        _line(20, 29, "+", 2, {"Dbxref": ["A:1", "GeneID:1", "B:2"]}),
    ])
    assert shared == {"Dbxref": ["GeneID:1", "A:1"]}
    assert own == [{"Note": ["x"]}, {"Dbxref": ["B:2"]}]
