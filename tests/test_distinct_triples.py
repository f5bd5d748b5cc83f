"""No triple is written twice, so that the triple count of a conversion and its ``void:triples``
are the numbers of distinct triples the graph holds. One test per way a repeat was found."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pyoxigraph

from conftest import DATA, GENOME, store_of
from gff2rdf.convert import convert

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OBOINOWL = "http://www.geneontology.org/formats/oboInOwl#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
VOID_TRIPLES = "http://rdfs.org/ns/void#triples"
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

