"""The software-defined assets of one genome version (one partition each) and their checks.

::

    gff3_file ··> gff3_source ──> gff3_report   (+ check gff3_valid, gt_valid)
                       └────────> rdf           (+ check shacl, blocking) ──> genome_graph

``gff3_file`` is observed, not built: its data version is the source's sha256, or a remote's
ETag or Last-Modified date (``gff2rdf.pipeline.observe``), so dagster's own staleness, and the
UI, see an edited or re-uploaded source as the CLI planner does.

Each asset calls the same library function as the CLI (``check_gff3``, ``convert``,
``validate_rdf``, ``GenomeStore.load``), writes its file into the pipeline directory
(``gff2rdf.pipeline.layout``), and records in its materialisation the numbers shown in the UI
and its provenance: the data versions of its inputs and the code and schema versions it ran
with (``provenance/...`` metadata). ``gff2rdf.pipeline.plan`` compares them with the current
ones to decide what is stale. The SHACL check is blocking: when it fails, the run does not load
that genome version into the store.

Example: the assets with their upstream assets, and the checks (dagster warns that
partitioned asset checks are a preview feature; ``build_definitions`` silences it too).

    >>> import warnings
    >>> from gff2rdf.pipeline.versions import code_versions
    >>> partitions = dg.StaticPartitionsDefinition(["solanum_lycopersicum/SL2.40/ITAG2.3"])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore", dg.PreviewWarning)
    ...     assets, checks = build_assets(partitions, code_versions("0.3.0"))
    >>> for asset in assets:
    ...     print(asset.key.to_user_string(), [k.to_user_string() for k in asset.dependency_keys])
    gff3_file []
    gff3_source ['gff3_file']
    gff3_report ['gff3_source']
    rdf ['gff3_source']
    genome_graph ['rdf']
    >>> specs = [(spec.asset_key.to_user_string(), spec.name, spec.blocking)
    ...          for check in checks for spec in check.check_specs]
    >>> specs  # doctest: +NORMALIZE_WHITESPACE
    [('gff3_report', 'gff3_valid', False), ('gff3_report', 'gt_valid', False),
     ('rdf', 'shacl', True)]
"""

# No ``from __future__ import annotations`` here: dagster reads the asset functions'
# annotations (the context and resource parameters) as objects, not strings.

import json
import os
import time
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetCheckExecutionContext, AssetExecutionContext

from .. import settings
from .._version import git_commit
from ..errors import Gff2RdfError, ProblemLog, StoreLockedError
from ..shacl.shapes import short
from ..shacl.validate import check_gff3, gff3_report_data, validate_rdf
from ..store.inputs import sha256_file
from .automation import CONDITION
from .catalogue import Catalogue, Genome, load_catalogue
from .genometools import gt_verdict
from .layout import Layout
from .observe import SOURCE_ASSET, latest_observation, observe
from .plan import PROVENANCE, Records, conversion_options, fingerprint
from .provenance import run_provenance
from .sources import current_source, materialise_source

# deferred: the imports inside functions load multiprocessing only when the call needs them,
# to keep this module's import (and start-up) light

__all__ = ["GROUP", "STORE_POOL", "PipelineResource", "build_assets"]

GROUP = "gff2rdf"
STORE_POOL = "gff2rdf_store"  # one load at a time when the deployment sets this pool's limit


class PipelineResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Where the pipeline reads its catalogue and writes its files and store."""

    catalogue: str
    store: str
    pipeline_dir: str
    base_iri: str = ""
    jobs: str = ""
    lock_wait: float = 600.0

    def genome(self, key: str) -> Genome:
        stat = os.stat(self.catalogue)  # an edited catalogue is read again, not served stale
        return _catalogue(self.catalogue, stat.st_mtime_ns, stat.st_size).genome(key)

    def layout(self) -> Layout:
        return Layout.for_store(self.store, self.pipeline_dir)

    def iri_base(self) -> str:
        return self.base_iri or settings.get("base-iri")


@lru_cache(maxsize=8)
def _catalogue(path: str, mtime_ns: int, size: int) -> Catalogue:
    return load_catalogue(path)


@contextmanager
def _as_failure(metadata: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """An expected gff2rdf failure becomes a dagster Failure with its message (and the
    ``metadata`` filled in so far), not a traceback."""
    recorded = metadata if metadata is not None else {}
    try:
        yield recorded
    except Gff2RdfError as exc:
        raise dg.Failure(description=str(exc), metadata=recorded, allow_retries=False) from exc


def _warnings_table(log: ProblemLog) -> dg.MetadataValue:
    kinds = Counter({kind: n for (severity, kind), n in log.counts.items()
                     if severity == "warning"})
    if not kinds:
        return dg.MetadataValue.md("no warnings")
    rows = "\n".join(f"| {kind} | {n:,} |" for kind, n in kinds.most_common())
    return dg.MetadataValue.md("| kind | warnings |\n|---|---:|\n" + rows)


def _provenance(versions: Mapping[str, str], asset: str, **inputs: str) -> dict[str, Any]:
    out: dict[str, Any] = {PROVENANCE + "code_version": versions[asset]}
    commit = git_commit()
    if commit:
        out["git commit"] = commit
    out.update({f"{PROVENANCE}input/{name}": value for name, value in inputs.items()})
    return out


def _built_with(context: AssetExecutionContext, asset: str) -> str:
    """The code version that ``asset``'s latest materialisation of this partition ran with."""
    record = Records(context.instance).latest(asset, context.partition_key)
    return (record.code_version or "") if record is not None else ""


def build_assets(partitions: dg.PartitionsDefinition, versions: Mapping[str, str]
                 ) -> tuple[list[dg.AssetsDefinition], list[dg.AssetChecksDefinition]]:
    """The four assets and two checks, for these partitions and code versions."""
    common: dict[str, Any] = {"partitions_def": partitions, "group_name": GROUP}
    built: dict[str, Any] = {**common, "automation_condition": CONDITION}

    def gff3_file(context: Any) -> dg.DataVersionsByPartition:
        pipeline: PipelineResource = context.resources.pipeline
        keys = [context.partition_key] if context.has_partition_key \
            else partitions.get_partition_keys(dynamic_partitions_store=context.instance)
        with _as_failure():
            return dg.DataVersionsByPartition({
                key: dg.DataVersion(observe(pipeline.genome(key), pipeline.layout()))
                for key in keys})

    with warnings.catch_warnings():  # observable source assets are "beta" in dagster 1.13
        warnings.filterwarnings("ignore", category=dg.BetaWarning)
        observed = dg.observable_source_asset(
            name=SOURCE_ASSET, required_resource_keys={"pipeline"}, **common,
            description="The GFF3 file as it stands, observed without downloading it. Data "
            "version: the local file's sha256, or the remote's ETag (else Last-Modified).",
        )(gff3_file)
    source_file = _as_assets_definition(observed)

    @dg.asset(name="gff3_source", deps=[source_file], code_version=versions["gff3_source"],
              kinds={"gff3"},
              description="The genome version's GFF3 file: read in place, or downloaded and "
              "checked against the catalogue's sha256. Data version: its sha256.", **built)
    def gff3_source(context: AssetExecutionContext,
                    pipeline: PipelineResource) -> dg.MaterializeResult[Any]:
        with _as_failure():
            genome = pipeline.genome(context.partition_key)
            found = materialise_source(genome, pipeline.layout())
        metadata: dict[str, Any] = {
            "path": dg.MetadataValue.path(str(found.path)),
            "sha256": found.sha256, "bytes": found.bytes, "downloaded": found.fetched,
            "seconds": round(found.seconds, 3), "catalogue entry": genome.where(),
            **_provenance(versions, "gff3_source"),
        }
        observed = latest_observation(context.instance, context.partition_key)
        if observed:  # what the planner compares with later observations, as dagster does
            metadata[f"{PROVENANCE}input/{SOURCE_ASSET}"] = observed
        if found.url:
            metadata["url"] = dg.MetadataValue.url(found.url)
        return dg.MaterializeResult(metadata=metadata, data_version=dg.DataVersion(found.sha256))

    @dg.asset(name="gff3_report", deps=[gff3_source], code_version=versions["gff3_report"],
              kinds={"json"}, description="GFF3 structure checks of the source (gff2rdf "
              "validate): every problem with file:line, counted by kind.", **built)
    def gff3_report(context: AssetExecutionContext,
                    pipeline: PipelineResource) -> dg.MaterializeResult[Any]:
        started = time.perf_counter()
        layout = pipeline.layout()
        with _as_failure():
            source = _source(pipeline, context.partition_key, current_source)
            log = check_gff3(source.path, jobs=settings.jobs(pipeline.jobs or None))
        data = gff3_report_data(log)
        data["genometools"] = gt = gt_verdict(source.path)  # next to ours, as the seed did
        text = json.dumps(data, indent=2, sort_keys=True)
        path = layout.report_path(context.partition_key)
        _write(path, text)
        context.log.info(f"{source.path}: {log.errors} error(s), {log.warnings} warning(s)")
        return dg.MaterializeResult(
            metadata={"errors": log.errors, "warnings": log.warnings,
                      "warnings by kind": _warnings_table(log),
                      "gt gff3validator": gt["verdict"],
                      "gt says": dg.MetadataValue.text(gt["message"] or "nothing"),
                      "report": dg.MetadataValue.path(str(path)),
                      "seconds": round(time.perf_counter() - started, 3),
                      **_provenance(versions, "gff3_report", gff3_source=source.sha256)},
            data_version=dg.DataVersion(_sha256_text(text)))

    @dg.asset_check(asset=gff3_report, name="gff3_valid", partitions_def=partitions,
                    description="The GFF3 file has no errors (warnings are counted).")
    def gff3_valid(context: AssetCheckExecutionContext,
                   pipeline: PipelineResource) -> dg.AssetCheckResult:
        path = pipeline.layout().report_path(context.partition_key)
        data = json.loads(path.read_text(encoding="utf-8"))
        return dg.AssetCheckResult(
            passed=data["errors"] == 0, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"errors": data["errors"], "warnings": data["warnings"]})

    @dg.asset_check(asset=gff3_report, name="gt_valid", partitions_def=partitions,
                    description="GenomeTools' gt gff3validator accepts the GFF3 file (when gt "
                    "is installed; non-blocking: the two validators differ on some files).")
    def gt_valid(context: AssetCheckExecutionContext,
                 pipeline: PipelineResource) -> dg.AssetCheckResult:
        path = pipeline.layout().report_path(context.partition_key)
        gt = json.loads(path.read_text(encoding="utf-8")).get(
            "genometools", {"verdict": "not run", "message": "a report made before gt_valid"})
        return dg.AssetCheckResult(
            passed=gt["verdict"] != "invalid", severity=dg.AssetCheckSeverity.WARN,
            metadata={"verdict": gt["verdict"], "gt says": dg.MetadataValue.text(gt["message"])})

    @dg.asset(name="rdf", deps=[gff3_source], code_version=versions["rdf"], kinds={"rdf"},
              description="The genome version as N-Triples (gff2rdf convert), with its dataset "
              "description. Data version: the file's sha256.", **built)
    def rdf(context: AssetExecutionContext,
            pipeline: PipelineResource) -> dg.MaterializeResult[Any]:
        from ..conversion.api import convert

        key = context.partition_key
        output = pipeline.layout().rdf_path(key)
        output.parent.mkdir(parents=True, exist_ok=True)
        with _as_failure() as failure:
            genome = pipeline.genome(key)
            source = _source(pipeline, key, current_source)
            # recorded on failure, so that the planner does not retry the same conversion
            failure[PROVENANCE + "fingerprint"] = fingerprint(
                versions["rdf"], {"gff3_source": source.sha256},
                *conversion_options(genome, pipeline.iri_base()))
            result = convert(source.path, output, fmt="nt", species=genome.species,
                             taxon=genome.taxon, assembly=genome.assembly,
                             annotation=genome.annotation, base_iri=pipeline.iri_base(),
                             lenient=genome.lenient, jobs=settings.jobs(pipeline.jobs or None))
        context.log.info(result.summary())
        sha256 = sha256_file(output)
        return dg.MaterializeResult(
            metadata={
                "features": result.features, "triples": result.triples,
                "warnings": result.log.warnings, "warnings by kind": _warnings_table(result.log),
                "errors skipped": result.log.errors,  # lenient: true; each in the run's log
                "classes": dg.MetadataValue.json(result.class_counts),
                "seconds": round(result.seconds, 3),
                "output": dg.MetadataValue.path(str(output)),
                "bytes": output.stat().st_size, "sha256": sha256,
                "graph IRI": dg.MetadataValue.url(result.genome.iri),
                **_provenance(versions, "rdf", gff3_source=result.sha256),
                PROVENANCE + "base_iri": pipeline.iri_base(),
                PROVENANCE + "lenient": "true" if genome.lenient else "false",
            },
            data_version=dg.DataVersion(sha256))

    @dg.asset_check(asset=rdf, name="shacl", blocking=True, partitions_def=partitions,
                    description="The RDF file conforms to the gff2rdf SHACL shapes (gff2rdf "
                    "validate); when it does not, the genome version is not loaded.")
    def shacl(context: AssetCheckExecutionContext,
              pipeline: PipelineResource) -> dg.AssetCheckResult:
        layout = pipeline.layout()
        path = layout.rdf_path(context.partition_key)
        with _as_failure():
            report = validate_rdf(path)
        _write(layout.shacl_path(context.partition_key), report.to_turtle())
        context.log.info(report.summary(3))
        return dg.AssetCheckResult(
            passed=report.conforms, severity=dg.AssetCheckSeverity.ERROR,
            description=None if report.conforms else report.summary(5),
            metadata={
                "violations": report.total, "triples": report.triples,
                "shapes version": report.shapes_version, "engine": report.engine,
                "seconds": round(report.seconds, 3),
                "report": dg.MetadataValue.path(str(layout.shacl_path(context.partition_key))),
                "rules": dg.MetadataValue.md(_rules_table(report.counts)),
                PROVENANCE + "rdf_data_version": sha256_file(path),
                PROVENANCE + "shapes_version": report.shapes_version,
            })

    @dg.asset(name="genome_graph", deps=[rdf], code_version=versions["genome_graph"],
              kinds={"oxigraph"}, pool=STORE_POOL,
              description="The genome version in the Oxigraph store (gff2rdf load of the "
              "validated RDF file): a new build graph made current in one step.", **built)
    def genome_graph(context: AssetExecutionContext,
                     pipeline: PipelineResource) -> dg.MaterializeResult[Any]:
        rdf_file = pipeline.layout().rdf_path(context.partition_key)
        with _as_failure():
            sha256 = sha256_file(rdf_file)
            genome = pipeline.genome(context.partition_key)
            result = _load(pipeline, rdf_file,
                           run_provenance(context.run.run_id, genome, context.instance,
                                          _built_with(context, "rdf")))
        context.log.info(result.summary())
        return dg.MaterializeResult(
            metadata={
                "status": result.status, "reasons": "; ".join(result.reasons),
                "graph IRI": dg.MetadataValue.url(result.genome),
                "build": dg.MetadataValue.url(result.build), "triples": result.triples,
                "seconds": round(result.seconds, 3),
                "store": dg.MetadataValue.path(pipeline.store),
                "old builds removed": result.collected,
                **_provenance(versions, "genome_graph", rdf=sha256),
                PROVENANCE + "build": result.build,
            },
            data_version=dg.DataVersion(result.build))

    return [source_file, gff3_source, gff3_report, rdf, genome_graph], \
        [gff3_valid, gt_valid, shacl]


def _as_assets_definition(source: dg.SourceAsset) -> dg.AssetsDefinition:
    """The observable source asset as the assets definition dagster makes of it anyway, made
    once here: dagster 1.13 does it through a deprecated property of its own, and would warn
    each time it builds an asset graph."""
    from dagster._core.definitions.external_asset import (  # the conversion dagster uses
        create_external_asset_from_source_asset,
    )

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Property `OpDefinition.version`",
                                category=DeprecationWarning)
        return create_external_asset_from_source_asset(source)


def _source(pipeline: PipelineResource, key: str, current: Any) -> Any:
    genome = pipeline.genome(key)
    found = current(genome, pipeline.layout())
    if found is None:
        raise Gff2RdfError(f"{genome.where('source')}: {genome.source} is not downloaded yet; "
                           "materialise gff3_source first")
    return found


def _load(pipeline: PipelineResource, rdf_file: Path, provenance: Any = None) -> Any:
    """Load into the store with the run's ``provenance``, waiting up to ``lock_wait`` seconds
    while another process holds it (the load of a genome version running side by side, or a
    server: the message names it). The store's lock is tried every 0.1 s, so loads side by
    side follow each other closely (it was once a second)."""
    from ..store.store import GenomeStore

    deadline = time.monotonic() + pipeline.lock_wait
    while True:
        try:
            with GenomeStore.open(pipeline.store) as store:
                return store.load(rdf_file, provenance=provenance)
        except StoreLockedError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def _rules_table(counts: Counter[tuple[str, str, str]]) -> str:
    if not counts:
        return "conforms"

    rows = "\n".join(f"| {short(shape)} | {short(constraint)} | {short(path) if path else ''} "
                     f"| {n:,} |" for (shape, constraint, path), n in counts.most_common(20))
    return "| shape | constraint | path | violations |\n|---|---|---|---:|\n" + rows


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _sha256_text(text: str) -> str:
    import hashlib

    return hashlib.sha256(text.encode("utf-8")).hexdigest()
