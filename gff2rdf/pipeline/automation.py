"""Declarative automation: with the dagster daemon running, what is needed gets materialised.

* Each built asset has the automation condition ``CONDITION`` (dagster's ``eager`` condition,
  or a new code version): a genome version that is missing (a new catalogue entry, once the
  definitions are reloaded) or whose input has a new data version is materialised by dagster's
  automation sensor, one asset after the other, without a manual run.
* The ``local_sources`` sensor (every minute) observes the local source files of the catalogue
  (sha256, as the CLI planner does), and a URL never observed yet (a new entry), and records an
  observation of ``gff3_file`` when one changed, which makes ``gff3_source`` of that genome
  version stale and so, by its condition, requested with everything downstream.
* In the UI (``defs(dynamic=True)``) the partitions are kept in the dagster instance: each tick
  of the sensor adds the partition of a new catalogue entry, which the ``eager`` condition then
  finds missing and materialises, and deletes that of an entry no longer listed (its graph
  stays in the store until ``gff2rdf pipeline run --prune``), so no reload is needed.
* The ``nightly_remote_sources`` schedule (03:00, off until turned on in the UI) observes the
  URL sources with a HEAD request: a new upload (ETag or Last-Modified) is then picked up the
  same way. Both read the catalogue each time, so an edited entry counts at once.

The daemon runs with ``gff2rdf pipeline ui`` (``dagster dev``); turn the sensors on in the UI
("Automation"), or set them running in the deployment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from ..errors import Gff2RdfError
from .catalogue import load_catalogue
from .layout import Layout
from .observe import SOURCE_ASSET, latest_observation, observe, record_observation

__all__ = ["CONDITION", "NIGHTLY", "OBSERVE_JOB", "PARTITIONS", "SENSOR", "build_automation",
           "sync_partitions"]

CONDITION = dg.AutomationCondition.eager() | (dg.AutomationCondition.code_version_changed()
                                              & ~dg.AutomationCondition.in_progress())
OBSERVE_JOB = "observe_sources"
SENSOR = "local_sources"
NIGHTLY = "nightly_remote_sources"
PARTITIONS = "genome_versions"  # the dynamic partitions of the UI's definitions


def sync_partitions(instance: Any, keys: list[str]) -> tuple[list[str], list[str]]:
    """Make the dynamic partitions ``PARTITIONS`` of ``instance`` the catalogue's ``keys``:
    (added, deleted)."""
    known = set(instance.get_dynamic_partitions(PARTITIONS))
    added = [k for k in keys if k not in known]
    deleted = sorted(known - set(keys))
    if added:
        instance.add_dynamic_partitions(PARTITIONS, added)
    for key in deleted:
        instance.delete_dynamic_partition(PARTITIONS, key)
    return added, deleted


def build_automation(partitions: dg.PartitionsDefinition, catalogue: Path, layout: Layout
                     ) -> tuple[dg.UnresolvedAssetJobDefinition, dg.SensorDefinition,
                                dg.ScheduleDefinition]:
    """The observation job, the local-source sensor and the nightly schedule of a catalogue."""
    job = dg.define_asset_job(
        OBSERVE_JOB, selection=dg.AssetSelection.assets(SOURCE_ASSET),
        description="Observe a genome version's source (sha256, or a remote's ETag).")

    @dg.sensor(name=SENSOR, minimum_interval_seconds=60,
               description="Observes the local source files of the catalogue; a changed one "
               "makes its genome version's assets stale, and automation rebuilds them.")
    def local_sources(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        changed, problems, news = [], [], []
        genomes = load_catalogue(catalogue).genomes
        if isinstance(partitions, dg.DynamicPartitionsDefinition):
            added, deleted = sync_partitions(context.instance, [g.key for g in genomes])
            news += [f"new: {', '.join(added)}"] if added else []
            news += [f"no longer in the catalogue: {', '.join(deleted)}"] if deleted else []
        for genome in genomes:
            if genome.is_url and latest_observation(context.instance, genome.key) is not None:
                continue  # a URL is observed once here (a new entry), then each night
            try:
                if record_observation(context.instance, genome.key, observe(genome, layout)):
                    changed.append(genome.key)
            except Gff2RdfError as exc:
                problems.append(str(exc))
        for problem in problems:
            context.log.warning(problem)
        news.append(f"{len(changed)} source(s) changed: {', '.join(changed)}" if changed
                    else "no local source changed")
        return dg.SensorResult(skip_reason="; ".join(news))

    @dg.schedule(name=NIGHTLY, cron_schedule="0 3 * * *", job=job,
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Each night, observe the catalogue's URL sources (HEAD requests).")
    def nightly(context: dg.ScheduleEvaluationContext) -> Any:
        keys = set(partitions.get_partition_keys(dynamic_partitions_store=context.instance))
        return [dg.RunRequest(partition_key=genome.key,
                              run_key=f"{genome.key}@{context.scheduled_execution_time}")
                for genome in load_catalogue(catalogue).genomes
                if genome.is_url and genome.key in keys]

    return job, local_sources, nightly
