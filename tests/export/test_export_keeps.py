"""What convert keeps so that export can give every attribute back (issue 17).

Each was lost before the round trip test found it: a graph could not tell which GFF3 text it
came from. Each test converts a line, looks at the triples, and exports it back.
"""

from __future__ import annotations

from pathlib import Path

from gff2rdf.export.api import FileSource, export
from tests.conftest import GENOME, convert_text, store_of
from tests.export.gff3_compare import compare, read_lines

G2R = "https://w3id.org/gff2rdf/vocab#"
ATTR = G2R + "attr/"
LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DESCRIPTION = "http://purl.org/dc/terms/description"
HEADER = "##gff-version 3\n"


def values(nt: str, subject: str, predicate: str) -> set[str]:
    store = store_of(nt)
    import pyoxigraph as ox

    return {q.object.value for q in store.quads_for_pattern(
        ox.NamedNode(subject), ox.NamedNode(predicate), None)}


def round_trip(tmp_path: Path, text: str) -> str:
    """Convert ``text``, export it, and compare; returns the N-Triples."""
    _, nt = convert_text(tmp_path, text)
    out = tmp_path / "out.gff3"
    export(FileSource(str(tmp_path / "out.nt")), out)
    problem, _ = compare(read_lines(tmp_path / "in.gff3"), read_lines(out))
    assert not problem, problem
    return nt


def test_a_name_equal_to_the_id_is_told_from_no_name(tmp_path: Path) -> None:
    nt = round_trip(tmp_path, HEADER + "Chr1\t.\tgene\t1\t90\t.\t+\t.\tID=AT1G01010;"
                    "Name=AT1G01010\nChr1\t.\tgene\t100\t190\t.\t+\t.\tID=AT1G01020\n")
    named, unnamed = f"{GENOME}/feature/AT1G01010", f"{GENOME}/feature/AT1G01020"
    assert values(nt, named, LABEL) == {"AT1G01010"} == values(nt, named, ATTR + "Name")
    assert values(nt, unnamed, LABEL) == {"AT1G01020"}  # the label falls back to the ID
    assert not values(nt, unnamed, ATTR + "Name")


def test_every_name_is_kept(tmp_path: Path) -> None:
    nt = round_trip(tmp_path, HEADER + "Chr1\t.\tgene\t1\t90\t.\t+\t.\tID=g;Name=ARV1,T25K16\n")
    assert values(nt, f"{GENOME}/feature/g", LABEL) == {"ARV1"}
    assert values(nt, f"{GENOME}/feature/g", ATTR + "Name") == {"T25K16"}


def test_note_and_description_stay_apart(tmp_path: Path) -> None:
    nt = round_trip(tmp_path, HEADER + (
        "Chr1\t.\tgene\t1\t90\t.\t+\t.\tID=a;Note=free text\n"
        "Chr1\t.\tgene\t100\t190\t.\t+\t.\tID=b;description=NAC domain protein\n"
        "Chr1\t.\tgene\t200\t290\t.\t+\t.\tID=c;Note=same,other;description=same\n"))
    feature = f"{GENOME}/feature/"
    assert values(nt, feature + "b", DESCRIPTION) == {"NAC domain protein"}  # still dcterms
    assert values(nt, feature + "b", ATTR + "description") == {"NAC domain protein"}
    assert not values(nt, feature + "a", ATTR + "Note")
    assert values(nt, feature + "c", ATTR + "Note") == {"same"}  # a value both keys have


def test_ontology_terms_keep_their_spelling(tmp_path: Path) -> None:
    nt = round_trip(tmp_path, HEADER + "Chr1\t.\tgene\t1\t90\t.\t+\t.\tID=g;"
                    "Ontology_term=go:0016125,PO:0009005,nodb:7\n")
    g = f"{GENOME}/feature/g"
    assert values(nt, g, "http://purl.uniprot.org/core/classifiedWith") == {
        "http://purl.obolibrary.org/obo/GO_0016125", "http://purl.obolibrary.org/obo/PO_0009005"}
    assert values(nt, g, ATTR + "Ontology_term") == {"go:0016125", "PO:0009005", "nodb:7"}


def test_a_refined_type_keeps_column_3(tmp_path: Path) -> None:
    nt = round_trip(tmp_path, HEADER + (
        "Chr1\t.\tgene\t1\t90\t.\t+\t.\tID=a;biotype=protein_coding\n"
        "Chr1\t.\tprotein_coding_gene\t100\t190\t.\t+\t.\tID=b;biotype=protein_coding\n"))
    assert values(nt, f"{GENOME}/feature/a", G2R + "gffType") == {"gene"}
    assert not values(nt, f"{GENOME}/feature/b", G2R + "gffType")


def test_is_circular_stays_on_its_feature(tmp_path: Path) -> None:
    nt = round_trip(tmp_path, HEADER + (
        "ChrC\t.\tregion\t1\t1000\t.\t+\t.\tID=ChrC;Is_circular=true\n"
        "Chr1\t.\tregion\t1\t5000\t.\t+\t.\tID=Chr1;Is_circular=false\n"))
    assert values(nt, f"{GENOME}/feature/ChrC", G2R + "isCircular") == {"true"}
    assert values(nt, f"{GENOME}/feature/Chr1", G2R + "isCircular") == {"false"}


def test_lines_of_one_feature_from_different_sources(tmp_path: Path) -> None:
    nt = round_trip(tmp_path, HEADER + (
        "Chr1\tgnomon\tcDNA_match\t1\t90\t.\t+\t.\tID=m;Target=t 1 90 +\n"
        "Chr1\tblast\tcDNA_match\t200\t290\t.\t+\t.\tID=m;Target=t 91 180 +\n"))
    sources = {values(nt, f"{GENOME}/feature/m/segment/{n}", G2R + "source")
               .pop() for n in (1, 2)}
    assert sources == {"gnomon", "blast"}
