"""What a pipeline load records beyond ``gff2rdf load``: the dagster run and the catalogue entry.

The ``genome_graph`` asset passes ``run_provenance(...)`` to ``GenomeStore.load``, which writes
it into the build's PROV activity (``gff2rdf.store.metadata``: ``<B/run>``, ``<B/source>``), so
that ``gff2rdf trace`` and ``queries/trace.rq`` lead from a feature to the run, the catalogue
entry and the source path or URL. The GFF3's sha256 is the one the converter recorded in the
RDF file (``g2r:sourceSha256`` of the genome version), so it is not computed again here.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..store.metadata import RunProvenance
from .catalogue import Genome

__all__ = ["run_provenance"]


def run_provenance(run_id: str, genome: Genome, instance: Any = None,
                   code_version: str = "") -> RunProvenance:
    """The provenance of a load by the dagster run ``run_id`` of ``genome``'s partition, whose
    RDF file the ``rdf`` asset made with ``code_version``; the run's start time comes from
    ``instance`` (a ``DagsterInstance``) when given."""
    started = ""
    record = instance.get_run_record_by_id(run_id) if instance is not None else None
    if record is not None and record.start_time:
        started = datetime.fromtimestamp(record.start_time, timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
    return RunProvenance(run_id=run_id, run_started=started, catalogue=genome.catalogue,
                         catalogue_entry=f"genomes[{genome.index}] ({genome.title}), line "
                         f"{genome.line}", source=genome.source, asset_code_version=code_version)
