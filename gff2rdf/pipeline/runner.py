"""``gff2rdf pipeline run``: materialise what is stale, one dagster run per genome version.

For each selected genome version the runner plans (``gff2rdf.pipeline.plan``) and, when some
assets are stale, runs the ``genomes`` job for that partition with just those assets (their
checks come along), in-process, with dagster's multiprocess executor, or with dagster-dask's
executor on a dask cluster (``gff2rdf.pipeline.cluster``), against the persistent instance
next to the store. A genome version whose run fails (a download, a conversion, a
SHACL check) does not stop the others. The result says, per genome version, what was
materialised, what was left alone because it was current, and what failed or was blocked.

Example: a dry run only plans. In a new pipeline directory every asset of the tomato genome
version of the example catalogue is stale, and no dagster run is started:

    >>> import tempfile
    >>> work = Path(tempfile.mkdtemp())
    >>> result = run_pipeline("examples/catalogue.yaml", work / "store",
    ...                       pipeline_dir=work / "pipeline", dagster_home=work / "dagster",
    ...                       select=["solanum_lycopersicum/*"], dry_run=True)
    >>> [(genome.key, genome.run_id, genome.materialised) for genome in result.genomes]
    [('solanum_lycopersicum/SL2.40/ITAG2.3', None, [])]
    >>> for asset, reasons in result.genomes[0].reasons.items():
    ...     print(asset, reasons)
    gff3_source ['never materialised']
    gff3_report ['never materialised']
    rdf ['never materialised']
    genome_graph ['never materialised']

Without ``dry_run=True`` the same call materialises the four assets (a few seconds of dagster,
which ``tests/pipeline/test_pipeline.py`` spends): ``result.summary()`` lists each as
``materialised`` with its reasons, ``result.genomes[0].checks`` has the ``gff3_valid`` and
``shacl`` results, and the genome graph is in the store. Called again, it finds all four current
and starts no run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .. import settings
from ..errors import Gff2RdfError, StoreError
from ..files.interrupts import keep_signal_handlers
from ..rdf.genome import GenomeVersion
from . import versions as _versions
from .catalogue import CatalogueError, Genome, load_catalogue
from .cluster import DASK_EXECUTOR, dask_execution, dask_scheduler, require_dask
from .layout import Layout, open_instance
from .plan import GenomePlan, Records, plan_genome
from .retired import Orphan, retire_orphans
from .versions import ASSETS, code_versions

# deferred: the imports inside functions load dagster, multiprocessing, yaml
# only when the call needs them, to keep this module's import (and start-up) light

__all__ = ["EXECUTORS", "GenomeRun", "PipelineRun", "run_pipeline"]

EXECUTORS = ("in_process", "multiprocess", "dask")
PRELOAD = ("dagster", "gff2rdf.pipeline.definitions", "gff2rdf.conversion.api",
           "gff2rdf.shacl.validate", "gff2rdf.store.store", "gff2rdf.pipeline.warm")
# dagster's console logs only what is critical: each failure is in the summary, with the
# grouped problem report of a GFF3 file with errors (not 110 lines of dagster's stack trace)
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass
class GenomeRun:
    """What happened to one genome version."""

    key: str
    title: str
    graph: str
    materialised: list[str] = field(default_factory=list)
    current: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # asset or check -> message
    skipped: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, list[str]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    run_id: str | None = None
    seconds: float = 0.0
    error: str | None = None

    @property
    def stale(self) -> list[str]:
        """The assets found stale that this run did not materialise, fail or skip: all of
        them in a dry run."""
        done = {*self.materialised, *self.failed, *self.skipped, *self.blocked}
        return [asset for asset in self.reasons if asset not in done]

    @property
    def status(self) -> str:
        if self.error or self.failed:
            return "failed"
        if self.blocked:
            return "blocked"
        if self.materialised:
            return "materialised"
        return "stale" if self.stale else "current"

    def to_json(self) -> dict[str, Any]:
        return {"genome": self.key, "title": self.title, "graph": self.graph,
                "status": self.status, "materialised": self.materialised,
                "stale": self.stale, "current": self.current, "failed": self.failed,
                "skipped": self.skipped,
                "blocked": self.blocked, "reasons": self.reasons, "checks": self.checks,
                "run_id": self.run_id, "seconds": round(self.seconds, 3), "error": self.error}

    def summary(self) -> str:
        run = f", run {self.run_id[:8]}" if self.run_id else ""
        lines = [f"{self.key}: {self.status} ({self.seconds:.1f} s{run})"]
        for asset in self.materialised:
            why = "; ".join(self.reasons.get(asset, []))
            lines.append(f"  materialised  {asset}" + (f"  ({why})" if why else ""))
        for asset in self.stale:
            why = "; ".join(self.reasons.get(asset, []))
            lines.append(f"  stale         {asset}" + (f"  ({why})" if why else ""))
        if self.current:
            lines.append(f"  current       {', '.join(self.current)}")
        for name, check in self.checks.items():
            if not check.get("passed", True) and name not in self.failed:
                what = check.get("errors", check.get("violations"))
                lines.append(f"  check failed  {name}" + (f" ({what} problem(s))"
                                                          if what is not None else ""))
        for name, message in self.failed.items():
            text = message.replace("\n", "\n" + " " * 16)  # a GFF3 report: one problem a line
            lines.append(f"  failed        {name}: {text}")
        if self.skipped:
            lines.append(f"  not run       {', '.join(self.skipped)} (an upstream step failed)")
        for asset, why in self.blocked.items():
            lines.append(f"  left alone    {asset}: {why}")
        if self.error:
            lines.append(f"  error         {self.error}")
        return "\n".join(lines)


@dataclass
class PipelineRun:
    catalogue: str
    store: str
    pipeline_dir: str
    dagster_home: str
    executor: str
    genomes: list[GenomeRun]
    dry_run: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)  # in the store, not in the catalogue

    @property
    def ok(self) -> bool:
        return all(g.status in ("materialised", "current") for g in self.genomes)

    def to_json(self) -> dict[str, Any]:
        return {"catalogue": self.catalogue, "store": self.store,
                "pipeline_dir": self.pipeline_dir, "dagster_home": self.dagster_home,
                "executor": self.executor, "dry_run": self.dry_run, "ok": self.ok,
                "seconds": round(self.seconds, 3), "notes": self.notes,
                "genomes": [g.to_json() for g in self.genomes],
                "orphaned": [o.to_json() for o in self.orphans]}

    def summary(self) -> str:
        return "\n".join([*(g.summary() for g in self.genomes),
                          *(o.summary() for o in self.orphans)])

    def totals(self) -> str:
        counts: dict[str, int] = {}
        for g in self.genomes:
            counts[g.status] = counts.get(g.status, 0) + 1
        text = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        pruned = sum(o.pruned for o in self.orphans)
        if len(self.orphans) > pruned:
            text += f"; {len(self.orphans) - pruned} orphaned (not in the catalogue)"
        if pruned:
            text += f"; {pruned} pruned"
        verb = "planned" if self.dry_run else "ran"
        return f"gff2rdf pipeline: {verb} {len(self.genomes)} genome version(s): {text} in " \
               f"{self.seconds:.1f} s (dagster instance {self.dagster_home})"


def select_genomes(genomes: tuple[Genome, ...], patterns: tuple[str, ...] | list[str],
                   catalogue: str) -> list[Genome]:
    """The genome versions whose key matches one of the glob ``patterns`` (all when none)."""
    if not patterns:
        return list(genomes)
    chosen = [g for g in genomes if any(fnmatchcase(g.key, p) for p in patterns)]
    for pattern in patterns:
        if not any(fnmatchcase(g.key, pattern) for g in genomes):
            raise CatalogueError(f"{catalogue}: --select {pattern!r} matches no genome version; "
                                 "it lists " + ", ".join(g.key for g in genomes))
    return chosen


def run_pipeline(catalogue: str | Path, store: str | Path, *,
                 pipeline_dir: str | Path | None = None, dagster_home: str | Path | None = None,
                 select: tuple[str, ...] | list[str] = (), force: bool = False,
                 executor: str = "in_process", max_concurrent: int | None = None,
                 dask_address: str | None = None, workers: int | None = None,
                 dry_run: bool = False, prune: bool = False) -> PipelineRun:
    """Plan and materialise the stale assets of each selected genome version; see the module
    doc. ``executor="dask"`` runs the steps on the dask scheduler at ``dask_address``, or on a
    local cluster of ``workers`` processes started for the run. Then report the genome versions
    of the store that the catalogue no longer lists (``gff2rdf.pipeline.retired``), and drop
    them with ``prune``. Raises ``CatalogueError`` for a bad catalogue; per-genome failures
    are in the result."""
    with keep_signal_handlers():  # dagster leaves SIGTERM as SIGINT is (ignored under nohup)
        return _run_pipeline(catalogue, store, pipeline_dir, dagster_home, select, force,
                             executor, max_concurrent, dask_address, workers, dry_run, prune)


def _run_pipeline(catalogue: str | Path, store: str | Path, pipeline_dir: str | Path | None,
                  dagster_home: str | Path | None, select: tuple[str, ...] | list[str],
                  force: bool, executor: str, max_concurrent: int | None,
                  dask_address: str | None, workers: int | None, dry_run: bool,
                  prune: bool) -> PipelineRun:
    started = time.perf_counter()
    if executor not in EXECUTORS:
        raise Gff2RdfError(f"unknown executor {executor!r}; expected one of "
                           + ", ".join(EXECUTORS))
    if workers and (executor != "dask" or dask_address):
        raise Gff2RdfError("--workers is the size of the local dask cluster: it goes with "
                           "--executor dask and no --dask-address (a running cluster has "
                           "workers of its own)")
    catalogue = Path(catalogue).absolute()
    parsed = load_catalogue(catalogue)
    genomes = select_genomes(parsed.genomes, tuple(select), str(catalogue))
    layout = Layout.for_store(store, pipeline_dir, dagster_home)
    from .definitions import JOB, build_definitions, reconstructable_job

    schema = _versions.schema_version()
    versions = code_versions(schema)
    defs = build_definitions(catalogue, layout.store, layout.pipeline_dir, schema_version=schema)
    instance = open_instance(layout.dagster_home)
    result = PipelineRun(str(catalogue), str(layout.store), str(layout.pipeline_dir),
                         str(layout.dagster_home), executor, [], dry_run)
    builds = _store_builds(layout.store, result.notes)
    records = Records(instance)
    shapes = _versions.shapes_version()
    base_iri = settings.get("base-iri")
    job = defs.resolve_job_def(JOB)
    if executor == "dask":
        require_dask()  # before planning: a missing package is not a per-genome failure
    recon = (reconstructable_job(catalogue, layout.store, layout.pipeline_dir,
                                 DASK_EXECUTOR if executor == "dask" else "")
             if executor != "in_process" else None)
    try:
        work: list[tuple[GenomePlan, GenomeRun]] = []
        for genome in genomes:
            plan = plan_genome(genome, layout, records, versions, shapes, builds, base_iri,
                               force)
            outcome = GenomeRun(genome.key, genome.title, plan.graph, current=list(plan.current),
                                blocked=dict(plan.blocked), reasons=dict(plan.stale),
                                error=plan.error)
            if plan.selection and not dry_run and plan.error is None:
                work.append((plan, outcome))
            result.genomes.append(outcome)
        if recon is None:
            for plan, outcome in work:
                _execute(plan, outcome, job, None, instance, None)
        elif executor == "dask" and work:
            with dask_scheduler(dask_address, workers, result.notes) as address:
                _execute_side_by_side(work, recon, layout.dagster_home, max_concurrent,
                                      dask_execution(address))
        else:
            _execute_side_by_side(work, recon, layout.dagster_home, max_concurrent)
    finally:
        instance.dispose()
    listed = {GenomeVersion(g.species, g.assembly, g.annotation, g.taxon, base_iri).iri
              for g in parsed.genomes}
    result.orphans = retire_orphans(layout.store, catalogue, listed, prune=prune,
                                    dry_run=dry_run, notes=result.notes)
    result.seconds = time.perf_counter() - started
    return result


def _execute_side_by_side(work: list[tuple[GenomePlan, GenomeRun]], recon: Any,
                          dagster_home: Path, max_concurrent: int | None,
                          execution: dict[str, Any] | None = None) -> None:
    """multiprocess: one dagster run per genome version, up to ``max_concurrent`` (default:
    one per core) at once, each orchestrated by a process of its own with an equal share of
    the step processes; the store is written by one load at a time (``assets._load``).
    dask (``execution`` is dagster-dask's executor config): the same runs side by side, their
    steps on the dask workers.
    Before, the runs went one after another, their steps spending 2-4 s each starting a
    process and rebuilding the job and about 0.1 s working: the three example genome versions
    took 72.9-73.4 s on 2 busy cores, 43.1-58.6 s side by side (2 runs each, alternated).
    Processes, not threads: dagster configures Python's logging (``dictConfig``) as each run
    starts, which deadlocked against another run's thread logging an event."""
    import multiprocessing
    import os
    from concurrent.futures import ProcessPoolExecutor

    if not work:
        return
    budget = max_concurrent or os.cpu_count() or 1
    side_by_side = min(len(work), budget)
    if execution is None:
        execution = _multiprocess(max(1, budget // side_by_side))
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(PRELOAD))
    with ProcessPoolExecutor(side_by_side, mp_context=context) as pool:
        futures = [pool.submit(_execute_apart, plan, outcome, recon, str(dagster_home),
                               execution)
                   for plan, outcome in work]
        for (_, outcome), future in zip(work, futures, strict=True):
            done = future.result()  # a copy: the outcome came back pickled
            for name in fields(GenomeRun):
                setattr(outcome, name.name, getattr(done, name.name))


def _execute_apart(plan: GenomePlan, outcome: GenomeRun, recon: Any, dagster_home: str,
                   execution: dict[str, Any]) -> GenomeRun:
    """One genome version's multiprocess or dask run, in a process of the pool above."""
    instance = open_instance(dagster_home)
    try:
        _execute(plan, outcome, None, recon, instance, execution)
    finally:
        instance.dispose()
    return outcome


def _store_builds(store: Path, notes: list[str]) -> dict[str, str] | None:
    """Each genome's current build in the store; None (with a note) when it cannot be read."""
    from ..store.store import GenomeStore

    if not (store / "CURRENT").exists():
        return {}
    try:
        with GenomeStore.open(store, create=False, collect=False) as opened:
            return {e.genome: e.build for e in opened.genomes(schema_version="-")}
    except StoreError as exc:
        notes.append(f"cannot read the store, so genome graphs are judged from the dagster "
                     f"records alone: {exc}")
        return None


def _multiprocess(steps: int) -> dict[str, Any]:
    """dagster's multiprocess executor config: up to ``steps`` step processes, forked from a
    forkserver with gff2rdf and dagster preloaded (a step process starts in a fraction of the
    time a fresh interpreter takes to import them)."""
    return {"multiprocess": {"start_method": {"forkserver": {"preload_modules": list(PRELOAD)}},
                             "max_concurrent": steps}}


def _execute(plan: GenomePlan, outcome: GenomeRun, job: Any, recon: Any, instance: Any,
             execution: dict[str, Any] | None) -> None:
    import dagster as dg

    started = time.perf_counter()
    selection = [dg.AssetKey(a) for a in plan.selection]
    if recon is None:
        result = job.execute_in_process(run_config=QUIET, instance=instance,
                                        partition_key=plan.genome.key, raise_on_error=False,
                                        asset_selection=selection)
    else:
        config = {**QUIET, "execution": {"config": execution}}
        result = dg.execute_job(recon, instance, run_config=config,
                                tags={"dagster/partition": plan.genome.key},
                                asset_selection=selection, raise_on_error=False)
    outcome.run_id = result.run_id
    _collect(result, plan, outcome)
    outcome.seconds = time.perf_counter() - started


def _collect(result: Any, plan: GenomePlan, outcome: GenomeRun) -> None:
    """Which assets the run materialised, which steps failed (with the message) or were
    skipped, and the check results."""
    for event in result.all_events:
        kind = event.event_type_value
        if kind == "ASSET_MATERIALIZATION":
            asset = event.asset_key.to_user_string()
            if asset not in outcome.materialised:
                outcome.materialised.append(asset)
        elif kind == "STEP_FAILURE":
            outcome.failed[_step_name(event.step_key)] = _failure_message(event)
        elif kind == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()
                        if not k.startswith("provenance/")}
            outcome.checks[evaluation.check_name] = {"passed": evaluation.passed, **metadata}
    if not result.success and not outcome.failed:
        failures = [e for e in result.all_events if e.event_type_value == "RUN_FAILURE"]
        outcome.failed["run"] = (_failure_message(failures[-1]) if failures
                                 else "the dagster run failed")
    for asset in plan.selection:
        if asset not in outcome.materialised and asset not in outcome.failed:
            outcome.skipped.append(asset)
    outcome.materialised.sort(key=ASSETS.index)
    if "shacl" in outcome.checks and not outcome.checks["shacl"]["passed"]:
        n = outcome.checks["shacl"].get("violations", "?")
        outcome.failed.pop("rdf_shacl", None)
        report = outcome.checks["shacl"].get("report")
        outcome.failed["shacl"] = (f"{n} violation(s) of the SHACL shapes; the genome version "
                                   f"was not loaded (report {report})")
        if "genome_graph" in outcome.skipped:
            outcome.skipped.remove("genome_graph")
            outcome.blocked["genome_graph"] = "blocked: the RDF file failed its SHACL check"


def _step_name(step_key: str) -> str:
    return {"gff3_report_gff3_valid": "gff3_valid", "gff3_report_gt_valid": "gt_valid",
            "rdf_shacl": "shacl"}.get(step_key, step_key)


def _failure_message(event: Any) -> str:
    data = event.event_specific_data
    user = getattr(data, "user_failure_data", None)
    if user is not None and user.description:
        return str(user.description)
    error = getattr(data, "error", None)
    if error is None:
        return "failed"
    cause = error
    while getattr(cause, "cause", None) is not None and "Failure" not in cause.cls_name:
        cause = cause.cause
    return str(cause.message).strip().splitlines()[0] if cause.message else "failed"


def to_json(result: PipelineRun) -> str:
    return json.dumps(result.to_json(), indent=2)
