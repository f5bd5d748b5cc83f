"""Dbxref and Ontology_term CURIEs to IRIs.

The prefix map comes from bioregistry (built into ``data/dbxref_prefixes.tsv`` by
``tools/build_prefix_map.py``), preferring each resource's own linked-data IRIs (UniProt's
``purl.uniprot.org``) and OBO PURLs for ontologies. Look-ups ignore the prefix's case, since
providers write ``UniProtKB``, ``Uniprot`` and ``uniprotkb`` alike. A curies ``Converter`` over
the same records is available as ``converter()`` for library users; the emitter uses the plain
dict, which is on the hot path (one look-up per Dbxref value).

Sequence accessions resolve by their shape, not only their DBTAG: NCBI writes RefSeq accessions
with a GenBank DBTAG (``Genbank:XP_020123456.1``), and ``GenBank`` means INSDC, whose ENA pages
do not know RefSeq. For the sequence databases (INSDC/GenBank/EMBL/ENA, RefSeq, NCBI Protein,
NCBI Nucleotide) an accession of NCBI's RefSeq format (two letters and an underscore, see the
RefSeq accession table of the NCBI Handbook) goes to NCBI: proteins (``AP_ NP_ WP_ XP_ YP_
ZP_``) to bioregistry's ``refseq`` IRI (``https://www.ncbi.nlm.nih.gov/protein/``), nucleotide
records (``AC_ NC_ NG_ NM_ NR_ NT_ NW_ NZ_ XM_ XR_``) to its ``nucleotide`` IRI
(``https://www.ncbi.nlm.nih.gov/nuccore/``), since the ``refseq`` IRI format sends every
accession to the protein database. An INSDC accession under a ``RefSeq`` DBTAG goes to INSDC.
``converter()`` cannot do this (a curies Converter maps prefixes only).

Example:
    >>> PrefixMap.load().expand("UniProtKB:Q5MK24")
    'http://purl.uniprot.org/uniprot/Q5MK24'
    >>> PrefixMap.load().expand("GO:0016125")
    'http://purl.obolibrary.org/obo/GO_0016125'
    >>> PrefixMap.load().expand("Genbank:XM_020123456.1")
    'https://www.ncbi.nlm.nih.gov/nuccore/XM_020123456.1'
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import curies

__all__ = ["PrefixMap"]

# bioregistry prefixes whose identifiers are INSDC or RefSeq sequence accessions
SEQUENCE_DATABASES = frozenset({"insdc", "ena.embl", "refseq", "ncbiprotein", "nucleotide"})
_REFSEQ = re.compile(r"(?:(?P<protein>AP|NP|WP|XP|YP|ZP)|AC|NC|NG|NM|NR|NT|NW|XM|XR)_\d+"
                     r"(?:\.\d+)?|NZ_[A-Z]{0,6}\d+(?:\.\d+)?")
_INSDC = re.compile(r"[A-Z]{1,6}\d{5,10}(?:\.\d+)?")


class PrefixMap:
    def __init__(self, entries: dict[str, tuple[str, str]]) -> None:
        self._entries = entries  # lower-case key -> (bioregistry prefix, URI prefix)

    @classmethod
    @cache
    def load(cls) -> PrefixMap:
        text = resources.files("gff2rdf").joinpath("data/dbxref_prefixes.tsv").read_text("utf-8")
        entries: dict[str, tuple[str, str]] = {}
        for line in text.splitlines():
            if line.startswith("#"):
                continue
            key, prefix, uri = line.split("\t")
            entries[key] = (prefix, uri)
        return cls(entries)

    def split(self, curie: str) -> tuple[str, str] | None:
        """``(prefix, local id)``, split on the first colon as GFF3 says; None without one."""
        prefix, sep, local = curie.partition(":")
        if not sep or not prefix or not local:
            return None
        return prefix, local

    def expand(self, curie: str) -> str | None:
        """The IRI for a ``DBTAG:ID`` value, or None when the prefix is unknown."""
        parts = self.split(curie)
        if parts is None:
            return None
        entry = self._entries.get(parts[0].casefold())
        if entry is None:
            return None
        local = parts[1].strip()
        if entry[0] in SEQUENCE_DATABASES:
            return self._sequence(entry, local)
        return entry[1] + local

    def _sequence(self, entry: tuple[str, str], accession: str) -> str:
        """A sequence accession by its shape: RefSeq's go to NCBI whatever the DBTAG."""
        match = _REFSEQ.fullmatch(accession)
        if match is not None:
            target = self._entries.get("refseq" if match["protein"] else "nucleotide")
        elif entry[0] == "refseq" and _INSDC.fullmatch(accession):
            target = self._entries.get("insdc")
        else:
            target = None
        return (target or entry)[1] + accession

    def converter(self) -> curies.Converter:
        """The same map as a curies Converter (canonical prefix, synonyms as given)."""
        import curies

        records: dict[str, curies.Record] = {}
        for key, (prefix, uri) in self._entries.items():
            record = records.setdefault(prefix, curies.Record(prefix=prefix, uri_prefix=uri))
            if key != prefix and key not in record.prefix_synonyms:
                record.prefix_synonyms.append(key)
        return curies.Converter(list(records.values()))
