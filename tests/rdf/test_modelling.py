"""The RDF shape of docs/modelling.md, one rule per test, on small hand-made GFF3."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph
import pytest

from tests.conftest import GENOME, SEQ, convert_text, store_of

FALDO = "http://biohackathon.org/resource/faldo#"
SO_REL = "http://purl.obolibrary.org/obo/so#"
OBO = "http://purl.obolibrary.org/obo/"
G2R = "https://w3id.org/gff2rdf/vocab#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

HEADER = "##gff-version 3\n##sequence-region Chr1 1 100000\n"


def objects(store: pyoxigraph.Store, s: str, p: str) -> set[str]:
    return {q.object.value for q in store.quads_for_pattern(pyoxigraph.NamedNode(s),
                                                            pyoxigraph.NamedNode(p), None)}


def one(store: pyoxigraph.Store, s: str, p: str) -> str:
    found = objects(store, s, p)
    assert len(found) == 1, f"{s} {p}: {found}"
    return found.pop()


def test_reverse_strand_begin_is_the_larger_coordinate(tmp_path: Path) -> None:
    line = "Chr1\tTAIR10\tgene\t5928\t8737\t.\t-\t.\tID=AT1G01020\n"
    _, nt = convert_text(tmp_path, HEADER + line)
    store = store_of(nt)
    region = one(store, f"{GENOME}/feature/AT1G01020", FALDO + "location")
    assert region == f"{SEQ}Chr1:5928-8737:-1"
    assert one(store, region, RDF_TYPE) == FALDO + "Region"
    begin, end = one(store, region, FALDO + "begin"), one(store, region, FALDO + "end")
    assert begin == f"{SEQ}Chr1:8737:-1" and end == f"{SEQ}Chr1:5928:-1"
    assert one(store, begin, FALDO + "position") == "8737"
    assert objects(store, begin, RDF_TYPE) == {FALDO + "ExactPosition",
                                               FALDO + "ReverseStrandPosition"}
    assert one(store, begin, FALDO + "reference") == f"{SEQ}Chr1"


@pytest.mark.parametrize(("strand", "code", "classes"), [
    ("+", "1", {"ExactPosition", "ForwardStrandPosition"}),
    (".", "0", {"ExactPosition"}),
    ("?", "u", {"ExactPosition", "StrandedPosition"}),
])
def test_strand_classes(tmp_path: Path, strand: str, code: str, classes: set[str]) -> None:
    _, nt = convert_text(tmp_path, HEADER + f"Chr1\t.\tgene\t10\t20\t.\t{strand}\t.\tID=g\n")
    store = store_of(nt)
    region = one(store, f"{GENOME}/feature/g", FALDO + "location")
    assert region == f"{SEQ}Chr1:10-20:{code}"
    begin = one(store, region, FALDO + "begin")
    assert begin == f"{SEQ}Chr1:10:{code}"
    assert objects(store, begin, RDF_TYPE) == {FALDO + c for c in classes}
    assert one(store, one(store, region, FALDO + "end"), FALDO + "position") == "20"


def test_forward_and_reverse_positions_never_share_a_node(tmp_path: Path) -> None:
    _, nt = convert_text(tmp_path, HEADER +
                         "Chr1\t.\tgene\t10\t20\t.\t+\t.\tID=a\n"
                         "Chr1\t.\tgene\t10\t20\t.\t-\t.\tID=b\n")
    store = store_of(nt)
    for position in (f"{SEQ}Chr1:10:1", f"{SEQ}Chr1:10:-1"):
        types = objects(store, position, RDF_TYPE)
        assert not {FALDO + "ForwardStrandPosition", FALDO + "ReverseStrandPosition"} <= types


def test_identical_coordinates_share_region_and_positions(tmp_path: Path) -> None:
    _, nt = convert_text(tmp_path, HEADER +
                         "Chr1\t.\tgene\t10\t20\t.\t+\t.\tID=a\n"
                         "Chr1\t.\tmRNA\t10\t20\t.\t+\t.\tID=a.1;Parent=a\n")
    assert nt.count(f"<{SEQ}Chr1:10-20:1> <{RDF_TYPE}>") == 1
    assert nt.count(f"<{SEQ}Chr1:10:1> <{FALDO}position>") == 1


def test_feature_literals_and_links(tmp_path: Path) -> None:
    text = HEADER + (
        "Chr1\tAraport11\tgene\t5928\t8737\t0.87\t-\t.\tID=gene:AT1G01020;Name=ARV1;"
        "Alias=T25K16.2;Note=ARV1 family protein;Dbxref=UniProtKB:Q5MK24;"
        "Ontology_term=GO:0016125;biotype=protein_coding;custom_key=a,b\n"
        "Chr1\tAraport11\tmRNA\t5928\t8737\t.\t-\t.\tID=transcript:AT1G01020.1;"
        "Parent=gene:AT1G01020\n")
    result, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    gene = f"{GENOME}/feature/gene:AT1G01020"  # the ID as is: IRIs stay injective
    assert objects(store, gene, RDF_TYPE) == {OBO + "SO_0001217"}  # refined by biotype
    assert one(store, gene, "http://www.w3.org/2000/01/rdf-schema#label") == "ARV1"
    assert one(store, gene, "http://purl.org/dc/terms/identifier") == "gene:AT1G01020"
    assert one(store, gene, G2R + "gffId") == "gene:AT1G01020"
    assert one(store, gene, "http://www.w3.org/2004/02/skos/core#altLabel") == "T25K16.2"
    assert one(store, gene, "http://purl.org/dc/terms/description") == "ARV1 family protein"
    assert one(store, gene, G2R + "source") == "Araport11"
    assert one(store, gene, G2R + "score") == "0.87"
    assert one(store, gene, OBO + "RO_0002162") == OBO + "NCBITaxon_3702"
    assert one(store, gene, "http://www.w3.org/2000/01/rdf-schema#seeAlso") == \
        "http://purl.uniprot.org/uniprot/Q5MK24"
    assert one(store, gene, "http://www.geneontology.org/formats/oboInOwl#hasDbXref") == \
        "UniProtKB:Q5MK24"
    assert one(store, gene, "http://purl.uniprot.org/core/classifiedWith") == OBO + "GO_0016125"
    assert objects(store, gene, G2R + "attr/custom_key") == {"a", "b"}
    mrna = f"{GENOME}/feature/transcript:AT1G01020.1"
    assert one(store, mrna, SO_REL + "part_of") == gene
    assert result.log.warnings == 0


def test_dbxref_and_ontology_term_are_iris_not_literals(tmp_path: Path) -> None:
    _, nt = convert_text(tmp_path, HEADER + "Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=g;"
                         "Dbxref=GeneID:839580,TAIR:AT1G01010;Ontology_term=PO:0009005\n")
    store = store_of(nt)
    for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(
            "http://www.w3.org/2000/01/rdf-schema#seeAlso"), None):
        assert isinstance(q.object, pyoxigraph.NamedNode)
    assert one(store, f"{GENOME}/feature/g", "http://purl.uniprot.org/core/classifiedWith") \
        == OBO + "PO_0009005"


def test_unresolvable_dbxref_prefix_is_a_warning_and_kept_raw(tmp_path: Path) -> None:
    result, nt = convert_text(tmp_path, HEADER +
                              "Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=g;Dbxref=NoSuchDb:42\n")
    assert result.log.warnings == 1
    assert result.log.problems()[0].kind == "unresolved-xref"
    store = store_of(nt)
    assert one(store, f"{GENOME}/feature/g",
               "http://www.geneontology.org/formats/oboInOwl#hasDbXref") == "NoSuchDb:42"
    assert not objects(store, f"{GENOME}/feature/g",
                       "http://www.w3.org/2000/01/rdf-schema#seeAlso")


def test_multi_parent_cds_and_derives_from(tmp_path: Path) -> None:
    text = HEADER + (
        "Chr1\tTAIR10\tgene\t1025\t2810\t.\t+\t.\tID=AT2G01008\n"
        "Chr1\tTAIR10\tmRNA\t1025\t2810\t.\t+\t.\tID=AT2G01008.1;Parent=AT2G01008\n"
        "Chr1\tTAIR10\tprotein\t1025\t2111\t.\t+\t.\tID=AT2G01008.1-Protein;"
        "Derives_from=AT2G01008.1\n"
        "Chr1\tTAIR10\tCDS\t1025\t1272\t.\t+\t0\tParent=AT2G01008.1,AT2G01008.1-Protein\n")
    _, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    cds = f"{GENOME}/feature/AT2G01008.1/CDS/1"
    assert objects(store, cds, SO_REL + "part_of") == {
        f"{GENOME}/feature/AT2G01008.1", f"{GENOME}/feature/AT2G01008.1-Protein"}
    assert one(store, cds, G2R + "phase") == "0"
    protein = f"{GENOME}/feature/AT2G01008.1-Protein"
    assert one(store, protein, RDF_TYPE) == OBO + "SO_0000104"
    assert one(store, protein, SO_REL + "derives_from") == f"{GENOME}/feature/AT2G01008.1"


MINUS_MODEL = [
    "Chr1\t.\tgene\t100\t900\t.\t-\t.\tID=g\n",
    "Chr1\t.\tmRNA\t100\t900\t.\t-\t.\tID=t;Parent=g\n",
    "Chr1\t.\texon\t100\t200\t.\t-\t.\tParent=t\n",
    "Chr1\t.\texon\t400\t500\t.\t-\t.\tParent=t\n",
    "Chr1\t.\texon\t800\t900\t.\t-\t.\tParent=t\n",
]
UNRELATED = "Chr1\t.\tgene\t5000\t6000\t.\t+\t.\tID=other\n"


def test_id_less_children_are_ranked_in_biological_order(tmp_path: Path) -> None:
    _, nt = convert_text(tmp_path, HEADER + "".join(MINUS_MODEL))
    store = store_of(nt)
    # on the reverse strand, exon 1 is the 5'-most: the highest coordinates
    assert one(store, f"{GENOME}/feature/t/exon/1", FALDO + "location") == \
        f"{SEQ}Chr1:800-900:-1"
    assert one(store, f"{GENOME}/feature/t/exon/3", FALDO + "location") == \
        f"{SEQ}Chr1:100-200:-1"


def test_iris_are_stable_when_unrelated_lines_move(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    _, first = convert_text(a, HEADER + "".join(MINUS_MODEL) + UNRELATED)
    shuffled = [MINUS_MODEL[0], UNRELATED, MINUS_MODEL[1], MINUS_MODEL[4], MINUS_MODEL[2],
                MINUS_MODEL[3]]
    _, second = convert_text(b, HEADER + "".join(shuffled))

    def data(nt: str) -> set[str]:  # the description names the source file's checksum
        return {line for line in nt.splitlines() if "/source/" not in line
                and "sourceSha256" not in line}

    assert data(first) == data(second)


def test_same_input_gives_byte_identical_output(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, first = convert_text(tmp_path / "a", HEADER + "".join(MINUS_MODEL))
    _, second = convert_text(tmp_path / "b", HEADER + "".join(MINUS_MODEL))
    assert first == second
    assert "exon_1" not in first  # no counters


def test_discontinuous_cds_is_one_feature_with_ordered_segments(tmp_path: Path) -> None:
    text = HEADER + (
        "Chr1\t.\tmRNA\t100\t900\t.\t-\t.\tID=t\n"
        "Chr1\t.\tCDS\t100\t200\t.\t-\t1\tID=cds1;Parent=t\n"
        "Chr1\t.\tCDS\t800\t900\t.\t-\t0\tID=cds1;Parent=t\n"
        "Chr1\t.\tCDS\t400\t500\t.\t-\t2\tID=cds1;Parent=t\n")
    result, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    cds = f"{GENOME}/feature/cds1"
    assert one(store, cds, FALDO + "location") == f"{SEQ}Chr1:100-900:-1"
    assert one(store, cds, SO_REL + "part_of") == f"{GENOME}/feature/t"
    assert one(store, f"{cds}/segment/1", FALDO + "location") == f"{SEQ}Chr1:800-900:-1"
    assert one(store, f"{cds}/segment/2", FALDO + "location") == f"{SEQ}Chr1:400-500:-1"
    assert one(store, f"{cds}/segment/3", G2R + "phase") == "1"
    assert one(store, f"{cds}/segment/3", SO_REL + "part_of") == cds
    assert result.features == 2


def test_circular_feature_across_the_origin(tmp_path: Path) -> None:
    text = ("##gff-version 3\n##sequence-region ChrC 1 1000\n"
            "ChrC\t.\tregion\t1\t1000\t.\t+\t.\tID=ChrC;Is_circular=true\n"
            "ChrC\t.\tgene\t950\t1050\t.\t+\t.\tID=rps12\n")
    result, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    assert one(store, f"{GENOME}/feature/rps12", G2R + "crossesOrigin") == "true"
    assert one(store, f"{SEQ}ChrC", G2R + "isCircular") == "true"
    assert result.log.errors == 0


def test_sequence_region_node(tmp_path: Path) -> None:
    text = (HEADER + "Chr1\tTAIR10\tchromosome\t1\t100000\t.\t.\t.\tID=Chr1\n"
            "Chr1\t.\tgene\t10\t20\t.\t+\t.\tID=g\n")
    _, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    assert one(store, f"{SEQ}Chr1", RDF_TYPE) == OBO + "SO_0000340"
    assert one(store, f"{SEQ}Chr1", G2R + "length") == "100000"
    assert one(store, f"{SEQ}Chr1", SO_REL + "part_of") == SEQ.rstrip("/")
    assert one(store, f"{SEQ}Chr1", "http://purl.org/dc/terms/identifier") == "Chr1"


def test_unknown_type_is_sequence_feature_with_raw_type_and_warning(tmp_path: Path) -> None:
    result, nt = convert_text(tmp_path, HEADER + "Chr1\tGeMoMa\tprediction\t1\t9\t.\t+\t.\tID=p\n")
    store = store_of(nt)
    assert one(store, f"{GENOME}/feature/p", RDF_TYPE) == OBO + "SO_0000110"
    assert one(store, f"{GENOME}/feature/p", G2R + "gffType") == "prediction"
    assert [p.kind for p in result.log.problems()] == ["unknown-type"]


@pytest.mark.parametrize(("column3", "accession"), [
    ("gene", "SO_0000704"), ("SO:0000704", "SO_0000704"), ("protein", "SO_0000104"),
    ("coding_sequence", "SO_0000316"), ("lnc_RNA", "SO_0001877"), ("five_prime_UTR", "SO_0000204"),
])
def test_type_resolution(tmp_path: Path, column3: str, accession: str) -> None:
    _, nt = convert_text(tmp_path, HEADER + f"Chr1\t.\t{column3}\t1\t9\t.\t+\t0\tID=x\n")
    assert one(store_of(nt), f"{GENOME}/feature/x", RDF_TYPE) == OBO + accession


def test_literal_escaping_survives(tmp_path: Path) -> None:
    note = 'say "hi" \\ back%0Aslash, caf\u00e9 \u6f22\u5b57 %09tab'
    _, nt = convert_text(tmp_path, HEADER + f"Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=g;Note={note}\n")
    store = store_of(nt)
    values = objects(store, f"{GENOME}/feature/g", "http://purl.org/dc/terms/description")
    assert values == {'say "hi" \\ back\nslash', " caf\u00e9 \u6f22\u5b57 \ttab"}


def test_iri_segments_are_percent_encoded(tmp_path: Path) -> None:
    text = ("##gff-version 3\n"
            "gi|68711 x\t.\tgene\t1\t9\t.\t+\t.\tID=a b/c<d>\n")
    result, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    assert objects(store, f"{GENOME}/feature/a%20b%2Fc%3Cd%3E", G2R + "gffId") == {"a b/c<d>"}
    assert result.log.problems()[0].kind == "seqid-escape"


def test_vocabulary_iris_are_the_right_ones(tmp_path: Path) -> None:
    """The mistakes of earlier tools: slash FALDO namespace, lower-case names, invented IRIs."""
    _, nt = convert_text(tmp_path, HEADER + "".join(MINUS_MODEL) +
                         "Chr1\t.\tgene\t10\t20\t.\t+\t.\tID=x;Alias=y\n")
    assert "faldo/" not in nt and "faldo#region" not in nt
    assert "obo/so_part_of" not in nt.lower().replace("obo/so#part_of", "")
    assert "SO_has_part" not in nt and "skos/core#altlabel" not in nt
    assert f"<{SO_REL}part_of>" in nt and "<http://www.w3.org/2004/02/skos/core#altLabel>" in nt
    from gff2rdf.mapping.schema import compile_mapping

    classes = compile_mapping().classes
    assert classes["BothStrandsPosition"] == f"<{FALDO}BothStrandsPosition>"
    assert classes["Region"] == f"<{FALDO}Region>"


def test_dataset_description_travels_with_the_output(tmp_path: Path) -> None:
    result, nt = convert_text(tmp_path, HEADER + "".join(MINUS_MODEL))
    store = store_of(nt)
    assert one(store, GENOME, G2R + "sourceSha256") == result.sha256
    assert one(store, GENOME, G2R + "codeVersion")
    assert one(store, GENOME, G2R + "schemaVersion")
    assert int(one(store, GENOME, "http://rdfs.org/ns/void#triples")) > 10
    partitions = objects(store, GENOME, "http://rdfs.org/ns/void#classPartition")
    assert f"{GENOME}/partition/SO_0000147" in partitions
    assert one(store, f"{GENOME}/partition/SO_0000147",
               "http://rdfs.org/ns/void#entities") == "3"
