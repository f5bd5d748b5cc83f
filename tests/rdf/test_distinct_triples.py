"""No triple is written twice, so that the triple count of a conversion and its ``void:triples``
are the numbers of distinct triples the graph holds. One test per way a repeat was found; the
defects not fixed yet are strict xfails holding their minimal reproduction."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph
import pytest

from gff2rdf.conversion.api import convert
from tests.conftest import DATA, GENOME, convert_text, store_of

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OBOINOWL = "http://www.geneontology.org/formats/oboInOwl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
FALDO = "http://biohackathon.org/resource/faldo#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
OPTIONS = {"species": "Arabidopsis thaliana", "taxon": "3702", "assembly": "TAIR10",
           "annotation": "Araport11"}  # the genome of conftest.GENOME


def repeated(nt: str) -> list[str]:
    return [line for line, n in Counter(nt.splitlines()).items() if n > 1]


def data_lines(nt: str) -> set[str]:
    """The distinct triples before the dataset description (about the genome version, its
    class partitions and its source file)."""
    description = (f"<{GENOME}> ", f"<{GENOME}/partition/", f"<{GENOME}/source/")
    return {line for line in nt.splitlines() if not line.startswith(description)}


def objects(store: pyoxigraph.Store, subject: str, predicate: str) -> list[str]:
    return sorted(q.object.value for q in store.quads_for_pattern(
        pyoxigraph.NamedNode(subject), pyoxigraph.NamedNode(predicate), None))


def test_repeated_attribute_values_give_each_triple_once(tmp_path: Path) -> None:
    source, out = DATA / "repeated_attribute_values.gff3", tmp_path / "out.nt"
    result = convert(source, out, **OPTIONS)
    nt = out.read_text(encoding="utf-8")
    assert not repeated(nt)
    assert result.triples == len(nt.splitlines())
    store = store_of(nt)
    assert [int(v) for v in objects(store, GENOME, VOID_TRIPLES)] == [len(data_lines(nt))]
    gene, mrna = f"{GENOME}/feature/AT1G01010", f"{GENOME}/feature/AT1G01010.1"
    protein = f"{GENOME}/feature/AT1G01010.1-Protein"
    # every value is kept, once
    assert objects(store, gene, SKOS + "altLabel") == ["ANAC001"]
    assert objects(store, gene, DCTERMS + "description") == ["NAC domain containing protein 1"]
    assert objects(store, gene, OBOINOWL + "hasDbXref") == ["GeneID:839580", "NCBIGene:839580"]
    assert objects(store, gene, RDFS + "seeAlso") == ["https://www.ncbi.nlm.nih.gov/gene/839580"]
    assert objects(store, mrna, OBOINOWL + "hasDbXref") == ["TAIR:AT1G01010"]
    assert objects(store, protein, OBOINOWL + "hasDbXref") == ["nodb"]
    unresolved = [p.line for p in result.log.problems() if p.kind == "unresolved-xref"]
    cds = [n for n, text in enumerate(source.read_text(encoding="utf-8").splitlines(), 1)
           if "\tCDS\t" in text]
    assert unresolved == cds[:1], "one warning for the repeated value of the CDS"


def test_identical_lines_without_id_are_written_once(tmp_path: Path) -> None:
    # a repeat annotation listed twice, as when two annotation files are concatenated
    line = "Chr1\tRepeatMasker\trepeat_region\t1000\t1200\t.\t+\t.\tName=AtREP1\n"
    result, nt = convert_text(tmp_path, "##gff-version 3\n" + line + line)
    assert not repeated(nt)
    assert result.triples == len(set(nt.splitlines()))


CUT_AFTER = {
    # NCBI style: a region line on '+' spanning the sequence, genes at both of its ends
    "landmark": ("Chr1\tRefSeq\tregion\t1\t5000\t.\t+\t.\tID=Chr1:1..5000\n"
                 "Chr1\tRefSeq\tgene\t1\t300\t.\t+\t.\tID=g1\n"
                 "Chr1\tRefSeq\tgene\t1000\t1500\t.\t+\t.\tID=g2\n"
                 "Chr1\tRefSeq\tgene\t4500\t5000\t.\t+\t.\tID=g3\n"),
    # a plastid gene across the origin (start > end), then one starting where it starts
    "origin": ("ChrC\tRefSeq\tregion\t1\t5000\t.\t+\t.\tID=ChrC:1..5000;Is_circular=true\n"
               "ChrC\tRefSeq\tgene\t100\t900\t.\t+\t.\tID=g1\n"
               "ChrC\tRefSeq\tgene\t4800\t200\t.\t+\t.\tID=g2\n"
               "ChrC\tRefSeq\tgene\t4800\t4900\t.\t+\t.\tID=g3\n"),
    # a region line on '-': its faldo:begin is column 5, shared with a later gene's end
    "reverse landmark": ("Chr1\tRefSeq\tregion\t1\t5000\t.\t-\t.\tID=Chr1:1..5000\n"
                         "Chr1\tRefSeq\tgene\t1\t300\t.\t-\t.\tID=g1\n"
                         "Chr1\tRefSeq\tgene\t1000\t1500\t.\t-\t.\tID=g2\n"
                         "Chr1\tRefSeq\tgene\t4500\t5000\t.\t-\t.\tID=g3\n"),
    # a gene across the origin on '-', whose faldo:end (column 4) is a later gene's start,
    # and a later region node with its coordinates
    "reverse origin": ("ChrC\tRefSeq\tregion\t1\t5000\t.\t+\t.\tID=ChrC:1..5000;"
                       "Is_circular=true\n"
                       "ChrC\tRefSeq\tgene\t100\t900\t.\t-\t.\tID=g1\n"
                       "ChrC\tRefSeq\tgene\t4800\t200\t.\t-\t.\tID=g2\n"
                       "ChrC\tRefSeq\tgene\t4800\t4900\t.\t-\t.\tID=g3\n"
                       "ChrC\tRefSeq\tgene\t4850\t4900\t.\t-\t.\tID=g4\n"
                       "ChrC\tRefSeq\tmRNA\t4800\t200\t.\t-\t.\tID=t4;Parent=g4\n"),
    # two landmarks sharing an end, in different chunks
    "two landmarks": ("Chr1\tRefSeq\tregion\t1\t5000\t.\t+\t.\tID=Chr1:1..5000\n"
                      "Chr1\tRefSeq\tgene\t1\t300\t.\t+\t.\tID=g1\n"
                      "Chr1\tRefSeq\tchromosome\t1000\t5000\t.\t+\t.\tID=c1\n"
                      "Chr1\tRefSeq\tgene\t1500\t1600\t.\t+\t.\tID=g2\n"
                      "Chr1\tRefSeq\tgene\t4500\t5000\t.\t+\t.\tID=g3\n"),
}


@pytest.mark.parametrize("case", sorted(CUT_AFTER))
def test_a_position_is_written_by_one_chunk_only(case: str, tmp_path: Path) -> None:
    source = tmp_path / "in.gff3"
    source.write_text("##gff-version 3\n" + CUT_AFTER[case], encoding="utf-8")
    whole = convert(source, tmp_path / "whole.nt", chunk_lines=0, **OPTIONS)
    parts = convert(source, tmp_path / "parts.nt", chunk_lines=1, jobs=1, **OPTIONS)
    nt = (tmp_path / "parts.nt").read_text(encoding="utf-8")
    assert data_lines(nt) == data_lines((tmp_path / "whole.nt").read_text(encoding="utf-8"))
    assert not repeated(nt)
    assert parts.triples == whole.triples


def test_a_position_of_a_skipped_landmark_is_written_once(tmp_path: Path) -> None:
    # --lenient: the region line is skipped for its attribute; a gene of a later chunk ends where
    # it ends, and the position it shares is then written by the tail, once and complete
    text = ("##gff-version 3\n"
            "Chr1\tRefSeq\tregion\t1\t5000\t.\t+\t.\tID=Chr1:1..5000;bad\n"
            "Chr1\tRefSeq\tgene\t1\t300\t.\t+\t.\tID=g1\n"
            "Chr1\tRefSeq\tgene\t1000\t1500\t.\t+\t.\tID=g2\n"
            "Chr1\tRefSeq\tgene\t4500\t5000\t.\t+\t.\tID=g3\n")
    source = tmp_path / "in.gff3"
    source.write_text(text, encoding="utf-8")
    whole = convert(source, tmp_path / "whole.nt", chunk_lines=0, lenient=True, **OPTIONS)
    parts = convert(source, tmp_path / "parts.nt", chunk_lines=1, jobs=1, lenient=True,
                    **OPTIONS)
    assert whole.skipped_lines == parts.skipped_lines == 1
    nt = (tmp_path / "parts.nt").read_text(encoding="utf-8")
    assert data_lines(nt) == data_lines((tmp_path / "whole.nt").read_text(encoding="utf-8"))
    assert not repeated(nt)
    assert parts.triples == whole.triples == len(nt.splitlines())
    store = store_of(nt)
    assert [int(v) for v in objects(store, GENOME, VOID_TRIPLES)] == [len(data_lines(nt))]
    end = "https://w3id.org/gff2rdf/data/assembly/TAIR10/Chr1:5000:1"
    assert objects(store, end, FALDO + "position") == ["5000"]
    assert objects(store, end, FALDO + "reference") == [
        "https://w3id.org/gff2rdf/data/assembly/TAIR10/Chr1"]
    assert objects(store, end, RDF + "type") == [FALDO + "ExactPosition",
                                                 FALDO + "ForwardStrandPosition"]
    assert sum(line.startswith(f"<{end}> ") for line in nt.splitlines()) == 4
    assert not objects(store, end.replace(":5000:1", ":1-5000:1"), RDF + "type"), \
        "the skipped region's own node is not written"
