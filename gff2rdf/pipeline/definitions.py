"""The dagster ``Definitions`` of a genome catalogue: one partition per genome version.

``build_definitions(catalogue, store)`` is what the runner and the tests use. The dagster UI
loads the module itself (``dagster dev -m gff2rdf.pipeline.definitions``, started by
``gff2rdf pipeline ui``), which calls ``defs()`` with the catalogue and store taken from
``GFF2RDF_CATALOGUE``, ``GFF2RDF_STORE`` and ``GFF2RDF_PIPELINE_DIR``. ``genomes_job`` rebuilds
the job in another process (the multiprocess executor, a Kubernetes pod) from the same three
paths.

Example: one partition of the ``genomes`` job per genome version of the catalogue.

    >>> import tempfile
    >>> store = Path(tempfile.mkdtemp()) / "store"
    >>> job = build_definitions("examples/catalogue.yaml", store).resolve_job_def(JOB)
    >>> for key in job.partitions_def.get_partition_keys():
    ...     print(key)
    arabidopsis_thaliana/TAIR10/Araport11
    arabidopsis_thaliana/TAIR10/TAIR10
    solanum_lycopersicum/SL2.40/ITAG2.3

``job.execute_in_process(partition_key="solanum_lycopersicum/SL2.40/ITAG2.3")`` would then
build that genome version with an ephemeral dagster instance; ``run_pipeline`` runs only the
stale assets, against the persistent instance (``gff2rdf.pipeline.runner`` has an example).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import dagster as dg

from .. import settings
from ..errors import Gff2RdfError
from .assets import PipelineResource, build_assets
from .automation import PARTITIONS, build_automation
from .catalogue import CatalogueError, load_catalogue
from .layout import Layout, setting
from .versions import code_versions

__all__ = ["JOB", "build_definitions", "defs", "genomes_job", "load_executor",
           "reconstructable_job"]

JOB = "genomes"


def build_definitions(catalogue: str | Path, store: str | Path,
                      pipeline_dir: str | Path | None = None, *, executor: Any = None,
                      schema_version: str | None = None,
                      dynamic: bool = False) -> dg.Definitions:
    """Assets, checks, the ``genomes`` job, the automation (``gff2rdf.pipeline.automation``)
    and the pipeline resource for a catalogue.

    ``executor`` replaces dagster's default (multiprocess, or in-process for
    ``execute_in_process``), e.g. ``dagster_k8s.k8s_job_executor`` on a cluster. ``dynamic``
    keeps the partitions in the dagster instance, where the ``local_sources`` sensor keeps them
    in step with the catalogue (the UI, whose definitions are loaded once); by default they are
    the catalogue's keys.
    """
    path = Path(catalogue).absolute()
    parsed = load_catalogue(path)
    layout = Layout.for_store(store, pipeline_dir)
    versions = code_versions(schema_version)
    with warnings.catch_warnings():
        # Partitioned asset checks are a dagster "preview" feature (pinned: dagster 1.13.x)
        warnings.simplefilter("ignore", dg.PreviewWarning)
        warnings.simplefilter("ignore", dg.BetaWarning)
        partitions: dg.PartitionsDefinition = (
            dg.DynamicPartitionsDefinition(name=PARTITIONS) if dynamic
            else dg.StaticPartitionsDefinition(parsed.keys))
        assets, checks = build_assets(partitions, versions)
        job = dg.define_asset_job(
            JOB, selection=dg.AssetSelection.assets(*assets),
            description="Build every asset of one genome version (one partition per run).")
        resource = PipelineResource(catalogue=str(path), store=str(layout.store),
                                    pipeline_dir=str(layout.pipeline_dir),
                                    base_iri=settings.get("base-iri"))
        extra = {"executor": executor} if executor is not None else {}
        observe_job, sensors, nightly = build_automation(partitions, path, layout)
        return dg.Definitions(assets=assets, asset_checks=checks, jobs=[job, observe_job],
                              sensors=sensors, schedules=[nightly],
                              resources={"pipeline": resource}, **extra)


def genomes_job(catalogue: str, store: str, pipeline_dir: str,
                executor: str = "") -> dg.JobDefinition:
    """The ``genomes`` job, rebuilt from paths (and the executor as ``module:attribute``):
    the target of ``reconstructable_job``."""
    return build_definitions(catalogue, store, pipeline_dir,
                             executor=load_executor(executor)).resolve_job_def(JOB)


def reconstructable_job(catalogue: str | Path, store: str | Path,
                        pipeline_dir: str | Path, executor: str = "") -> Any:
    """The ``genomes`` job as dagster can rebuild it in a step process (multiprocess) or on a
    dask worker (``executor=cluster.DASK_EXECUTOR``: the worker checks the run config
    against the job, so it must have the same executor)."""
    kwargs = {"catalogue": str(Path(catalogue).absolute()),
              "store": str(Path(store).absolute()),
              "pipeline_dir": str(Path(pipeline_dir).absolute())}
    if executor:
        kwargs["executor"] = executor
    return dg.build_reconstructable_job(__name__, "genomes_job", reconstructable_kwargs=kwargs)


@dg.definitions
def defs() -> dg.Definitions:
    """For the dagster UI: the catalogue and store from the environment (see the module doc),
    with partitions that the ``local_sources`` sensor keeps in step with the catalogue."""
    catalogue = setting("catalogue")
    if not catalogue:
        raise CatalogueError("set GFF2RDF_CATALOGUE to a genome catalogue (YAML); gff2rdf "
                             "pipeline ui does it for you")
    return build_definitions(catalogue, settings.get("store"), setting("pipeline-dir") or None,
                             executor=load_executor(setting("pipeline-executor")), dynamic=True)


def load_executor(spec: str) -> Any:
    """An executor definition named ``module:attribute`` (``dagster_k8s:k8s_job_executor``,
    ``dagster_celery:celery_executor``, ``dagster_dask:dask_executor``), or None for dagster's
    default; the error names the setting when it cannot be imported."""
    if not spec:
        return None
    from importlib import import_module


    module, _, attribute = spec.partition(":")
    try:
        found = getattr(import_module(module), attribute or "executor")
    except (ImportError, AttributeError) as exc:
        raise Gff2RdfError(f"GFF2RDF_PIPELINE_EXECUTOR={spec!r}: cannot load it ({exc}); "
                             "install the executor's package, e.g. pip install dagster-k8s") \
            from exc
    if not isinstance(found, dg.ExecutorDefinition):
        raise Gff2RdfError(f"GFF2RDF_PIPELINE_EXECUTOR={spec!r} is not a dagster executor")
    return found
