"""Declarative automation: with the dagster daemon running, what is needed gets materialised.

* Each built asset has the automation condition ``CONDITION`` (dagster's ``eager`` condition,
  or a new code version): a genome version that is missing (a new catalogue entry) or whose
  input has a new data version is materialised by the ``automation_conditions`` sensor, one
  asset after the other, without a manual run.
* The ``local_sources`` sensor (every 30 s) observes the local source files of the catalogue
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

The daemon runs with ``gff2rdf pipeline ui`` (``dagster dev``); the two sensors,
``automation_conditions`` (every 30 s) and ``local_sources``, run as soon as it does (they can
be stopped under "Automation" in the UI); the schedule is off until turned on there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg

from ..errors import Gff2RdfError
from .catalogue import load_catalogue
from .layout import Layout
from .observe import SOURCE_ASSET, latest_observation, observe, record_observation
from .plan import Records

__all__ = ["AUTOMATION", "CONDITION", "NIGHTLY", "OBSERVE_JOB", "PARTITIONS", "SENSOR",
           "build_automation", "sync_partitions"]



class BuiltWithOtherCode(dg.AutomationCondition):  # type: ignore[type-arg]
    """True for the partitions whose latest materialisation was made with another code version
    than the asset's now. dagster's own ``code_version_changed`` is true only when the code
    version changes between two ticks, so an edit made while the daemon was down (or before the
    UI started) was never picked up (seen: the UI showed rdf stale, "has a new code version",
    and its ticks requested nothing)."""

    @property
    def name(self) -> str:
        return "built_with_other_code"

    def evaluate(self, context: dg.AutomationContext) -> dg.AutomationResult:  # type: ignore[type-arg]
        current = context.asset_graph.get(context.key).code_version
        records = Records(context.asset_graph_view.instance)
        asset = context.key.to_user_string()
        outdated = []
        for key in context.candidate_subset.expensively_compute_partition_keys():
            record = records.latest(asset, key)
            if record is not None and record.code_version != current:
                outdated.append(key)
        return dg.AutomationResult(
            context, context.candidate_subset.compute_intersection_with_partition_keys(
                set(outdated)))


CONDITION = dg.AutomationCondition.eager() | (
    BuiltWithOtherCode() & ~dg.AutomationCondition.in_progress()
    & ~dg.AutomationCondition.any_deps_in_progress())
OBSERVE_JOB = "observe_sources"
SENSOR = "local_sources"
AUTOMATION = "automation_conditions"
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
                     ) -> tuple[dg.UnresolvedAssetJobDefinition, list[dg.SensorDefinition],
                                dg.ScheduleDefinition]:
    """The observation job, the sensors (``local_sources`` and the one that evaluates the
    assets' conditions, both running as soon as the daemon runs) and the nightly schedule."""
    job = dg.define_asset_job(
        OBSERVE_JOB, selection=dg.AssetSelection.assets(SOURCE_ASSET),
        description="Observe a genome version's source (sha256, or a remote's ETag).")

    conditions = dg.AutomationConditionSensorDefinition(
        AUTOMATION, target=dg.AssetSelection.all(), minimum_interval_seconds=30,
        default_status=dg.DefaultSensorStatus.RUNNING,
        use_user_code_server=True,  # BuiltWithOtherCode is ours: evaluated where the code is
        description="Evaluates the assets' automation conditions: requests what is missing or "
        "stale.")

    @dg.sensor(name=SENSOR, minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.RUNNING,
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

    return job, [conditions, local_sources], nightly
