"""Declarative automation: with the dagster daemon running, what is needed gets materialised.

* Each built asset has the automation condition ``CONDITION`` (dagster's ``eager`` condition,
  or a new code version): a genome version that is missing (a new catalogue entry, once the
  definitions are reloaded) or whose input has a new data version is materialised by dagster's
  automation sensor, one asset after the other, without a manual run.
* The ``local_sources`` sensor (every minute) observes the local source files of the catalogue
  (sha256, as the CLI planner does), and a URL never observed yet (a new entry), and records an
  observation of ``gff3_file`` when one changed, which makes ``gff3_source`` of that genome
  version stale and so, by its condition, requested with everything downstream.
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

__all__ = ["CONDITION", "NIGHTLY", "OBSERVE_JOB", "SENSOR", "build_automation"]

CONDITION = dg.AutomationCondition.eager() | (dg.AutomationCondition.code_version_changed()
                                              & ~dg.AutomationCondition.in_progress())
OBSERVE_JOB = "observe_sources"
SENSOR = "local_sources"
NIGHTLY = "nightly_remote_sources"


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
    def local_sources(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        changed, problems = [], []
        for genome in load_catalogue(catalogue).genomes:
            if genome.is_url and latest_observation(context.instance, genome.key) is not None:
                continue  # a URL is observed once here (a new entry), then each night
            try:
                if record_observation(context.instance, genome.key, observe(genome, layout)):
                    changed.append(genome.key)
            except Gff2RdfError as exc:
                problems.append(str(exc))
        for problem in problems:
            context.log.warning(problem)
        return dg.SkipReason(f"{len(changed)} source(s) changed: {', '.join(changed)}"
                             if changed else "no local source changed")

    @dg.schedule(name=NIGHTLY, cron_schedule="0 3 * * *", job=job,
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Each night, observe the catalogue's URL sources (HEAD requests).")
    def nightly(context: dg.ScheduleEvaluationContext) -> Any:
        keys = set(partitions.get_partition_keys())
        return [dg.RunRequest(partition_key=genome.key,
                              run_key=f"{genome.key}@{context.scheduled_execution_time}")
                for genome in load_catalogue(catalogue).genomes
                if genome.is_url and genome.key in keys]

    return job, local_sources, nightly
