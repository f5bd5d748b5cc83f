"""Retired genome versions: in the store, built by a pipeline run, no longer in the catalogue.

After its runs, ``gff2rdf pipeline run`` compares the store with the whole catalogue (not only
the ``--select``ed entries). A genome version whose current build records a pipeline run
(``g2r:runId``, see ``gff2rdf.pipeline.provenance``) and that the catalogue no longer lists is
*orphaned*: the run reports it, marks it in the metadata graph (``<G> g2r:retired "since" ;
g2r:retiredFrom "catalogue"``, so ``gff2rdf graphs`` shows it as retired), and with ``--prune``
drops it (``GenomeStore.drop``: its metadata and pointer in one update, then its graphs). A
genome version the catalogue lists again loses the mark. Genome versions loaded with
``gff2rdf load`` (no run recorded) are not the pipeline's to retire and are left alone; a dry
run reports and writes nothing.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..store.metadata import GenomeEntry, now, retire_update

__all__ = ["Orphan", "find_orphans", "retire_orphans"]


@dataclass
class Orphan:
    """A genome version of the store that the catalogue no longer lists."""

    genome: str
    path: str
    build: str
    run_id: str
    catalogue: str
    since: str = ""
    pruned: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        made = f"built by run {self.run_id[:8]} of {self.catalogue or 'a catalogue'}"
        if self.pruned:
            return f"{self.path}: pruned (no longer in the catalogue; {made})"
        since = f" since {self.since}" if self.since else ""
        return (f"{self.path}: orphaned (no longer in the catalogue{since}; {made}); "
                "--prune drops it")


def find_orphans(entries: list[GenomeEntry], listed: set[str]) -> list[GenomeEntry]:
    """The entries built by a pipeline run whose genome IRI is not in ``listed``."""
    return [e for e in entries if e.run_id and e.genome not in listed]


def retire_orphans(store: Path, catalogue: Path, listed: set[str], *, prune: bool = False,
                   dry_run: bool = False, notes: list[str] | None = None) -> list[Orphan]:
    """Find the orphaned genome versions of ``store`` (``listed``: the IRIs of every catalogue
    entry), mark them retired (and clear the mark of listed ones), drop them with ``prune``;
    with ``dry_run`` only find them. A store that cannot be opened gives a note, not an error
    (the runs themselves are done)."""
    from ..store.store import GenomeStore

    if not (store / "CURRENT").exists():
        return []
    try:
        with GenomeStore.open(store, create=False, collect=False) as opened:
            entries = opened.genomes(schema_version="-")
            found = find_orphans(entries, listed)
            orphans = [Orphan(e.genome, e.path, e.build, e.run_id, e.catalogue, e.retired)
                       for e in found]
            if dry_run:
                return orphans
            back = [(e.genome, e.meta) for e in entries if e.retired and e.genome in listed]
            fresh = [(e.genome, e.meta) for e in found if not e.retired]
            when = now()
            update = retire_update(fresh, back, str(catalogue), when)
            if update:
                opened.update(update)
                opened.flush()
            for orphan in orphans:
                orphan.since = orphan.since or when
                if prune:
                    opened.drop(orphan.genome, collect=False)
                    orphan.pruned = True
            if prune and orphans:
                opened.collect_garbage()
    except StoreError as exc:
        (notes if notes is not None else []).append(
            f"cannot look for genome versions the catalogue no longer lists: {exc}")
        return []
    return orphans
