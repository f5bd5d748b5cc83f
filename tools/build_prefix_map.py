"""Build gff2rdf/data/dbxref_prefixes.tsv, the Dbxref prefix map, from bioregistry.

Run by ``make data``. At run time gff2rdf reads the committed TSV (a few ms) instead of importing
bioregistry (about 0.7 s to build its converter), and looks prefixes up case-insensitively, as
GFF3 providers spell them freely (``UniProtKB``, ``Uniprot``, ``GeneID``, ``TAIR``...).

URI choice per resource: the resource's own linked-data IRIs where it has them (UniProt's
``purl.uniprot.org``), else bioregistry's default provider, which is the OBO PURL for OBO
ontologies (GO, PO, SO, TO, PECO). Choosing OBO PURLs for every resource with an OBO Foundry
prefix was wrong: InterPro became ``obo:IPR_IPR003441``. ``ALIASES`` adds the provider
spellings bioregistry does not know as synonyms.
"""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

import bioregistry

# Dbxref prefixes seen in Ensembl Plants, RefSeq, Phytozome and TAIR files -> bioregistry prefix.
ALIASES = {
    "TAIR": "tair.locus",
    "NCBI_GP": "ncbiprotein",
    "EnsemblPlants": "ensembl.plant",
    "Ensembl_Plants": "ensembl.plant",
    "PMID": "pubmed",
    "taxon": "ncbitaxon",
    "UniProtKB/TrEMBL": "uniprot",
    "UniProtKB/Swiss-Prot": "uniprot",
    "UniProtKB": "uniprot",
    "EMBL": "insdc",
    "GenBank": "insdc",
    "RefSeq": "refseq",
    "miRBase": "mirbase",
    "Pfam": "pfam",
    "InterPro": "interpro",
}
RDF_PREFERRED = {"uniprot"}
# gff2rdf.mapping.dbxref resolves sequence accessions by their shape to these prefixes' IRIs
REQUIRED = ("insdc", "refseq", "nucleotide")


def uri_prefix(prefix: str) -> str | None:
    resource = bioregistry.get_resource(prefix)
    if resource is None:
        return None
    if prefix in RDF_PREFERRED and resource.get_rdf_uri_prefix():
        return resource.get_rdf_uri_prefix()
    return resource.get_uri_prefix()


def build(out: Path) -> int:
    rows: dict[str, tuple[str, str]] = {}
    for prefix, resource in sorted(bioregistry.read_registry().items()):
        if resource.is_deprecated():
            continue
        target = uri_prefix(prefix)
        if not target:
            continue
        for key in [prefix, *(resource.get_synonyms() or ())]:
            rows.setdefault(key.lower(), (prefix, target))
    for alias, prefix in ALIASES.items():
        target = uri_prefix(prefix)
        if target is None:
            raise ValueError(f"bioregistry has no URI for {prefix} (alias {alias})")
        rows[alias.lower()] = (prefix, target)
    for prefix in REQUIRED:
        if rows.get(prefix, ("", ""))[0] != prefix:
            raise ValueError(f"bioregistry has no URI for {prefix}, "
                             "which gff2rdf.mapping.dbxref needs")
    lines = [f"{key}\t{prefix}\t{target}" for key, (prefix, target) in sorted(rows.items())]
    header = ("# key (lower case)\tbioregistry prefix\tURI prefix; "
              f"bioregistry {version('bioregistry')}\n")
    out.write_text(header + "\n".join(lines) + "\n", encoding="utf-8")
    return len(lines)


if __name__ == "__main__":
    print(f"wrote {build(Path(sys.argv[1]))} prefixes to {sys.argv[1]}")
