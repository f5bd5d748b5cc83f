"""Dbxref and Ontology_term CURIEs to IRIs.

The prefix map comes from bioregistry (built into ``data/dbxref_prefixes.tsv`` by
``tools/build_prefix_map.py``), preferring each resource's own linked-data IRIs (UniProt's
``purl.uniprot.org``) and OBO PURLs for ontologies. Look-ups ignore the prefix's case, since
providers write ``UniProtKB``, ``Uniprot`` and ``uniprotkb`` alike. A curies ``Converter`` over
the same records is available as ``converter()`` for library users; the emitter uses the plain
dict, which is on the hot path (one look-up per Dbxref value).

Example:
    >>> PrefixMap.load().expand("UniProtKB:Q5MK24")
    'http://purl.uniprot.org/uniprot/Q5MK24'
    >>> PrefixMap.load().expand("GO:0016125")
    'http://purl.obolibrary.org/obo/GO_0016125'
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import curies

__all__ = ["PrefixMap"]


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
        return entry[1] + parts[1].strip()

    def converter(self) -> curies.Converter:
        """The same map as a curies Converter (canonical prefix, synonyms as given)."""
        import curies

        records: dict[str, curies.Record] = {}
        for key, (prefix, uri) in self._entries.items():
            record = records.setdefault(prefix, curies.Record(prefix=prefix, uri_prefix=uri))
            if key != prefix and key not in record.prefix_synonyms:
                record.prefix_synonyms.append(key)
        return curies.Converter(list(records.values()))
