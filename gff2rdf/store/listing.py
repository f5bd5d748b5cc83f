"""What every backend of genome versions answers the same way, from SPARQL alone.

``Listing`` is the part of a backend that lists, finds and drops genome versions with the
queries of ``gff2rdf.store.metadata``: the embedded store (``gff2rdf.store.store.GenomeStore``)
and a SPARQL 1.1 server (``gff2rdf.store.remote.RemoteStore``: Oxigraph, Fuseki, Virtuoso)
both inherit it and give it ``select`` and ``update``, so ``gff2rdf graphs`` and ``drop`` say
the same things about the same genome versions wherever they are.
"""

from __future__ import annotations

from urllib.parse import unquote

from ..errors import StoreError
from ..mapping.schema import compile_mapping
from .metadata import GenomeEntry, code_version, drop_update, listing_query, staleness

__all__ = ["Listing"]


class Listing:
    """Genome versions listed, found and dropped through ``select`` and ``update``."""

    def select(self, query: str) -> list[dict[str, str]]:  # pragma: no cover - abstract
        raise NotImplementedError

    def update(self, update: str) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def where(self) -> str:
        """The backend as errors name it: a store directory or an endpoint URL."""
        raise NotImplementedError  # pragma: no cover - abstract

    def genomes(self, schema_version: str | None = None) -> list[GenomeEntry]:
        """Every genome version with its provenance, and whether it is current for the installed
        code and schema (``schema_version`` stands in for the installed schema's)."""
        installed = schema_version or compile_mapping().schema_version
        entries: dict[str, GenomeEntry] = {}
        for row in self.select(listing_query()):
            entry = GenomeEntry.from_row(row)
            if entry.genome in entries:
                continue
            entry.stale_reasons = staleness(entry.code_version, entry.schema_version,
                                            code_version(), installed)
            entry.current = not entry.stale_reasons
            entries[entry.genome] = entry
        return list(entries.values())

    def entry(self, genome: str) -> GenomeEntry | None:
        rows = self.select(listing_query(genome))
        return GenomeEntry.from_row(rows[0]) if rows else None

    def resolve(self, spec: str) -> GenomeEntry:
        """A genome version by its IRI or its ``species/assembly/annotation`` path."""
        found = self.entry(spec) if "://" in spec else None
        if found is not None:
            return found
        matches = [e for e in self.genomes(schema_version="-")
                   if spec in (e.path, unquote(e.path), e.genome)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise StoreError(f"{spec!r} names {len(matches)} genome versions: "
                             + ", ".join(e.genome for e in matches) + "; give the IRI")
        raise StoreError(f"no genome version {spec!r} in {self.where} (gff2rdf graphs lists "
                         "them)")

    def unlist(self, spec: str) -> GenomeEntry:
        """Remove a genome version's metadata and pointer in one update (its build graph is
        then garbage, which each backend removes its own way)."""
        entry = self.resolve(spec)
        self.update(drop_update(entry.genome, entry.meta))
        return entry
