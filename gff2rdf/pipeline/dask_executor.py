"""dagster-dask's executor, fixed for several runs on one dask cluster (``pipeline run
--executor dask``, or ``GFF2RDF_PIPELINE_EXECUTOR=gff2rdf.pipeline.dask_executor:dask_executor``).

Same config (``cluster: existing | local | slurm | ...``, dagster-dask's own schema), same step
function on the workers (``dagster_dask.executor.query_on_dask_worker``), same cluster
classes; what differs, and why this is not ``dagster_dask.dask_executor`` itself (0.29.27,
with distributed 2026.11):

- each step's dask key carries the run id. dagster-dask names a step's task
  ``genomes.<step>``, the same in every run, and dask gives a submit with a known key the
  existing task: of three genome versions run side by side on one scheduler, one ran and the
  other two got its events back (they reported success and built nothing);
- the run and the other dagster objects go to the worker inside the task's function, not as
  its arguments: since dask 2024.12, ``Client.submit`` walks the arguments' tuples, and
  dagster forbids walking some of its records (the run's ``RunOpConcurrency``, set because
  ``genome_graph`` is in a dagster pool: "Iteration is not allowed on `@record`");
- a step's result (its dagster events) travels in a box, for the same reason: dask estimated
  each result's size by walking it and logged a warning for each (37 lines for three genome
  versions).

Like dagster-dask's executor, it ignores dagster pools (the store's lock orders the loads)
and retries nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import dagster as dg
import dask.distributed
from dagster._core.errors import raise_execution_interrupts
from dagster._core.events import DagsterEvent
from dagster._utils import iterate_with_context
from dagster_dask.executor import DaskExecutor, get_dask_resource_requirements, query_on_dask_worker
from dagster_dask.executor import dask_executor as _dagster_dask

__all__ = ["RunScopedDaskExecutor", "dask_executor"]

# dagster-dask's cluster kinds and the class each starts (its executor's own list)
CLUSTERS = {"local": "dask.distributed:LocalCluster", "ssh": "dask.distributed:SSHCluster",
            "yarn": "dask_yarn:YarnCluster", "pbs": "dask_jobqueue:PBSCluster",
            "moab": "dask_jobqueue:MoabCluster", "sge": "dask_jobqueue:SGECluster",
            "lsf": "dask_jobqueue:LSFCluster", "slurm": "dask_jobqueue:SLURMCluster",
            "oar": "dask_jobqueue:OARCluster", "kube": "dask_kubernetes:KubeCluster"}


class Events:
    """A step's dagster events, opaque to dask (see the module doc)."""

    def __init__(self, events: Sequence[DagsterEvent]) -> None:
        self.events = list(events)


def run_step(dependencies: Any, step: Any) -> Events:
    """The dask task of one step: ``dependencies`` (the upstream steps' results) only order
    it; ``step`` is dagster-dask's worker function with the run's objects bound."""
    return Events(step(dependencies))


class RunScopedDaskExecutor(DaskExecutor):
    """dagster-dask's executor with run-scoped task keys; see the module doc."""

    def execute(self, plan_context: Any, execution_plan: Any) -> Iterator[DagsterEvent]:
        if not plan_context.instance.is_persistent:
            raise dg.DagsterInvariantViolationError(
                "the dask executor needs a persistent dagster instance (DAGSTER_HOME)")
        cluster = self._cluster(plan_context.job_name)
        try:
            yield from self._submit(cluster, plan_context, execution_plan)
        finally:  # a cluster started for this run (dagster-dask left it to the garbage)
            if not isinstance(cluster, str):
                cluster.close()

    def _submit(self, cluster: Any, plan_context: Any,
                execution_plan: Any) -> Iterator[DagsterEvent]:
        run = plan_context.dagster_run
        with dask.distributed.Client(cluster) as client:
            futures: dict[str, Any] = {}
            for level in execution_plan.get_steps_to_execute_by_level():
                for step in level:
                    upstream = [futures[key] for step_input in step.step_inputs
                                for key in step_input.dependency_keys]
                    work = partial(query_on_dask_worker,
                                   recon_job=plan_context.reconstructable_job, dagster_run=run,
                                   run_config=plan_context.run_config,
                                   step_keys=[step.key],
                                   instance_ref=plan_context.instance.get_ref(),
                                   known_state=execution_plan.known_state)
                    futures[step.key] = client.submit(
                        run_step, upstream, work, key=f"{run.run_id}.{step.key}",
                        resources=get_dask_resource_requirements(step.tags))
            done = dask.distributed.as_completed(list(futures.values()), with_results=True)
            for _, result in iterate_with_context(raise_execution_interrupts, done):
                yield from result.events

    def _cluster(self, job_name: str) -> Any:
        """The scheduler's address (``existing``), or a cluster of the configured kind."""
        if self.cluster_type == "existing":
            return self.cluster_configuration["address"]
        from importlib import import_module

        module, _, name = CLUSTERS[self.cluster_type].partition(":")
        return getattr(import_module(module), name)(**self.build_dict(job_name))


@dg.executor(name="dask", config_schema=_dagster_dask.config_schema.as_field(),
             requirements=dg.multiple_process_executor_requirements())
def dask_executor(init_context: Any) -> RunScopedDaskExecutor:
    """dagster-dask's ``dask_executor`` with run-scoped task keys (module doc)."""
    ((kind, config),) = init_context.executor_config["cluster"].items()
    return RunScopedDaskExecutor(kind, config)
