"""What is stale: recorded provenance compared with the current code, schema, sources and store.

dagster marks an asset stale when its own code version changes but does not pass that on to
the assets downstream of it, so the runner does not rely on dagster's staleness. Each asset
records in its materialisation the data versions of its inputs and the code version it ran with
(``provenance/...`` metadata, see ``gff2rdf.pipeline.assets``); ``plan_genome`` walks a genome
version's assets upstream first and calls one stale when

* it was never materialised, or its code version differs (gff2rdf version, schema version);
* an input's data version differs from the one it recorded, or an input is itself stale;
* its file is gone from the pipeline directory, or (the source) the file's sha256 changed;
* (the RDF file) its SHACL check has not judged this file with the installed shapes;
* (the genome graph) the store's current build of the genome is not the one it loaded.

Two outcomes are left alone on purpose, so that a run with nothing changed re-executes nothing:
a genome graph whose RDF file failed its SHACL check (``blocked``), and an RDF file whose
conversion failed with the same inputs and code (``failed_before``). ``--force`` retries both.

Example: with nothing recorded yet (a new dagster instance), every asset of the tomato genome
version of the example catalogue is stale; a local source that is gone is the plan's error.

    >>> import dataclasses
    >>> import tempfile
    >>> from dagster import DagsterInstance
    >>> from gff2rdf.pipeline.catalogue import load_catalogue
    >>> from gff2rdf.pipeline.versions import code_versions
    >>> catalogue = load_catalogue("examples/catalogue.yaml")
    >>> genome = catalogue.genome("solanum_lycopersicum/SL2.40/ITAG2.3")
    >>> layout = Layout.for_store(Path(tempfile.mkdtemp()) / "store")
    >>> base = "https://w3id.org/gff2rdf/data/"
    >>> with DagsterInstance.ephemeral() as instance:
    ...     plan = plan_genome(genome, layout, Records(instance), code_versions(), "0.1.0",
    ...                        store_builds={}, base_iri=base)
    ...     gone = dataclasses.replace(genome, source=str(layout.pipeline_dir / "gone.gff3"))
    ...     broken = plan_genome(gone, layout, Records(instance), code_versions(), "0.1.0",
    ...                          store_builds={}, base_iri=base)
    >>> plan.graph
    'https://w3id.org/gff2rdf/data/genome/solanum_lycopersicum/SL2.40/ITAG2.3'
    >>> plan.selection, plan.current, plan.error
    (['gff3_source', 'gff3_report', 'rdf', 'genome_graph'], [], None)
    >>> plan.stale["genome_graph"]
    ['never materialised']
    >>> broken.selection, broken.error  # doctest: +ELLIPSIS
    ([], 'examples/catalogue.yaml:27: genomes[2] (...): source: /.../gone.gff3: no such file')

After a run has materialised them, the call finds all four current when given the store's
builds (``run_pipeline`` reads them) and the installed shapes version
(``versions.shapes_version()``). A newer schema version (``code_versions("99.0")``) makes
``rdf`` and ``genome_graph`` stale by their code version and leaves ``gff3_source`` and
``gff3_report`` current (``tests/pipeline/test_pipeline.py`` checks this after a run); a newer
shapes version makes ``rdf`` stale (``shapes version OLD -> NEW``) and so ``genome_graph`` (``rdf is
stale``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import Gff2RdfError
from ..rdf.genome import GenomeVersion
from ..store.inputs import sha256_file
from .catalogue import Genome
from .layout import Layout
from .observe import SOURCE_ASSET, latest_observation, local_version, observe, record_observation
from .sources import current_source
from .versions import ASSETS, UPSTREAM

__all__ = ["CheckRecord", "GenomePlan", "Recorded", "Records", "conversion_options",
           "dagster_stale", "fingerprint", "plan_genome"]

PROVENANCE = "provenance/"


@dataclass(frozen=True)
class Recorded:
    """An asset's latest materialisation of one partition."""

    data_version: str | None
    code_version: str | None
    metadata: Mapping[str, Any]
    run_id: str
    timestamp: float

    def provenance(self, name: str) -> Any:
        return self.metadata.get(PROVENANCE + name)


@dataclass(frozen=True)
class CheckRecord:
    passed: bool | None  # None: planned or running, no result
    metadata: Mapping[str, Any]
    run_id: str


class Records:
    """Reads what the dagster instance remembers about each asset and check of a partition."""

    def __init__(self, instance: Any) -> None:
        self.instance = instance

    def latest(self, asset: str, key: str) -> Recorded | None:
        from dagster import AssetKey, AssetRecordsFilter

        found = self.instance.fetch_materializations(
            AssetRecordsFilter(asset_key=AssetKey(asset), asset_partitions=[key]), limit=1)
        if not found.records:
            return None
        record = found.records[0]
        materialisation = record.asset_materialization
        tags = materialisation.tags or {}
        metadata = {k: getattr(v, "value", v) for k, v in materialisation.metadata.items()}
        return Recorded(tags.get("dagster/data_version"),
                        metadata.get(PROVENANCE + "code_version",
                                     tags.get("dagster/code_version")),
                        metadata, record.run_id, record.timestamp)

    def latest_check(self, asset: str, check: str, key: str) -> CheckRecord | None:
        from dagster import AssetCheckKey, AssetKey
        from dagster._core.event_api import PartitionKeyFilter  # no public API for this yet

        check_key = AssetCheckKey(AssetKey(asset), check)
        found = self.instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [check_key], partition_filter=PartitionKeyFilter(key=key)).get(check_key)
        if found is None:
            return None
        evaluation = found.evaluation
        if evaluation is None:
            return CheckRecord(None, {}, found.run_id)
        metadata = {k: getattr(v, "value", v) for k, v in evaluation.metadata.items()}
        return CheckRecord(evaluation.passed, metadata, found.run_id)

    def observed(self, key: str) -> str | None:
        """The data version of the latest observation of the partition's ``gff3_file``."""
        return latest_observation(self.instance, key)

    def observe(self, key: str, version: str) -> bool:
        """Record that the partition's ``gff3_file`` has this data version (when it is news),
        so that dagster's staleness, and the UI, see what the planner saw."""
        return record_observation(self.instance, key, version)

    def failed_since(self, asset: str, key: str, after: float) -> tuple[str, str] | None:
        """The run id and recorded fingerprint of the newest failure of ``asset``'s step for
        this partition after ``after`` (a timestamp), if any."""
        from dagster import DagsterEventType, RunsFilter

        runs = self.instance.get_runs(filters=RunsFilter(tags={"dagster/partition": key}),
                                      limit=10)
        for run in runs:  # newest first
            for entry in self.instance.all_logs(run.run_id,
                                                of_type=DagsterEventType.STEP_FAILURE):
                if entry.timestamp <= after or entry.step_key != asset:
                    continue
                data = entry.dagster_event.event_specific_data
                user = getattr(data, "user_failure_data", None)
                metadata = getattr(user, "metadata", None) or {}
                value = metadata.get(PROVENANCE + "fingerprint")
                return run.run_id, str(getattr(value, "value", value) or "")
        return None


@dataclass
class GenomePlan:
    """What to do for one genome version: the stale assets (with reasons) and the rest."""

    genome: Genome
    graph: str
    stale: dict[str, list[str]] = field(default_factory=dict)
    current: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)  # asset -> why it is left alone
    fingerprints: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def selection(self) -> list[str]:
        return [a for a in ASSETS if a in self.stale]

    @property
    def stale_itself(self) -> list[str]:
        """The stale assets that are stale for a reason of their own, not only because an
        upstream asset is: what dagster's staleness (``dagster_stale``) calls stale."""
        inherited = {f"{up} is stale" for up in ASSETS}
        return [a for a in self.selection if set(self.stale[a]) - inherited]


def fingerprint(code_version: str, inputs: Mapping[str, str | None], *extra: str) -> str:
    """The code version and input data versions an asset runs with, as one text (a failed
    conversion records it, so that the same attempt is not repeated)."""
    parts = [code_version, *(f"{k}={v}" for k, v in sorted(inputs.items())), *extra]
    return "|".join(parts)


def _short(version: Any) -> str:
    return str(version)[:12] if version else "none"


def conversion_options(genome: Genome, base_iri: str) -> tuple[str, ...]:
    """What, besides code and inputs, decides the ``rdf`` asset: part of its fingerprint."""
    return (base_iri, "lenient" if genome.lenient else "strict")


def plan_genome(genome: Genome, layout: Layout, records: Records, versions: Mapping[str, str],
                shapes_version: str, store_builds: Mapping[str, str] | None, base_iri: str,
                force: bool = False) -> GenomePlan:
    """Decide which assets of one genome version must be materialised; see the module doc.

    ``store_builds`` maps genome IRIs to their current build in the store (None: the store
    could not be read, so the genome graph is judged from the records alone).
    """
    graph = GenomeVersion(genome.species, genome.assembly, genome.annotation, genome.taxon,
                          base_iri).iri
    plan = GenomePlan(genome, graph)
    try:
        source = current_source(genome, layout)
    except Gff2RdfError as exc:
        plan.error = str(exc)
        return plan
    if genome.is_url:  # observed first, so that what follows compares with the remote now
        _observe_remote(genome, layout, records)
    elif source is not None:
        records.observe(genome.key, local_version(source.sha256))
    now: dict[str, str | None] = {}  # data versions of the current assets
    key = genome.key
    for asset in ASSETS:
        record = records.latest(asset, key)
        inputs = {up: now.get(up) for up in UPSTREAM[asset]}
        reasons = ["forced"] if force else []
        if record is None:
            reasons.append("never materialised")
        else:
            if record.code_version != versions[asset]:
                reasons.append(f"code version {record.code_version} -> {versions[asset]}")
            for up in UPSTREAM[asset]:
                recorded = record.provenance(f"input/{up}")
                if up in plan.stale:
                    reasons.append(f"{up} is stale")
                elif recorded != now.get(up):
                    reasons.append(f"{up} changed ({_short(recorded)} -> {_short(now.get(up))})")
            reasons.extend(_own_reasons(asset, record, genome, layout, records, source,
                                        shapes_version, store_builds, graph, base_iri))
        if not any(up in plan.stale for up in UPSTREAM[asset]):
            plan.fingerprints[asset] = fingerprint(versions[asset], inputs,
                                                   *conversion_options(genome, base_iri))
        if reasons and not force:
            held = _held_back(asset, record, plan, records, key)
            if held:
                plan.blocked[asset] = held
                continue
        if reasons:
            plan.stale[asset] = reasons
        else:
            plan.current.append(asset)
            assert record is not None
            now[asset] = record.data_version
    return plan


def _observe_remote(genome: Genome, layout: Layout, records: Records) -> None:
    """Observe a URL (a HEAD request), so that dagster records which observation a download
    was built from and sees a new upload as the planner does; a remote that cannot be reached
    leaves the latest observation as it is (the download, if one is due, reports it)."""
    with contextlib.suppress(Gff2RdfError):
        records.observe(genome.key, observe(genome, layout))


def _own_reasons(asset: str, record: Recorded, genome: Genome, layout: Layout,
                 records: Records, source: Any, shapes_version: str,
                 store_builds: Mapping[str, str] | None, graph: str,
                 base_iri: str) -> list[str]:
    key = genome.key
    if asset == "gff3_source":
        if source is None:
            return ["not downloaded"]
        if genome.is_url and record.metadata.get("url") != genome.source:
            return [f"URL changed ({record.metadata.get('url')} -> {genome.source})"]
        if genome.sha256 and source.sha256 != genome.sha256:
            return [f"the catalogue's sha256 is {_short(genome.sha256)}, the download's "
                    f"{_short(source.sha256)}"]
        if source.sha256 != record.data_version:
            return [f"source changed (sha256 {_short(record.data_version)} -> "
                    f"{_short(source.sha256)})"]
        # dagster's own test: gff3_file was observed with another version than the one this
        # materialisation was built from (a remote's new ETag, seen by the nightly schedule)
        built_from, observed = record.provenance(f"input/{SOURCE_ASSET}"), records.observed(key)
        if built_from and observed and built_from != observed:
            return [f"{SOURCE_ASSET} has a new data version ({built_from} -> {observed})"]
        return []
    if asset == "gff3_report":
        path = layout.report_path(key)
        return [] if path.is_file() else [f"{path} is missing"]
    if asset == "rdf":
        if (record.provenance("lenient") == "true") != genome.lenient:
            return [f"lenient {not genome.lenient} -> {genome.lenient} in the catalogue"]
        return _rdf_reasons(record, layout.rdf_path(key), records, key, shapes_version,
                            base_iri)
    if store_builds is not None:  # genome_graph
        build = store_builds.get(graph)
        if build is None:
            return ["not in the store"]
        if build != record.provenance("build"):
            return ["the store's current build is not the one the pipeline loaded"]
    return []


def _rdf_reasons(record: Recorded, path: Path, records: Records, key: str,
                 shapes_version: str, base_iri: str) -> list[str]:
    if not path.is_file():
        return [f"{path} is missing"]
    if sha256_file(path) != record.data_version:
        return [f"{path} changed on disk"]
    if record.provenance("base_iri") != base_iri:
        return [f"base IRI {record.provenance('base_iri')} -> {base_iri}"]
    check = records.latest_check("rdf", "shacl", key)
    if check is None or check.passed is None:
        return ["its SHACL check has not run"]
    if check.metadata.get(PROVENANCE + "rdf_data_version") != record.data_version:
        return ["its SHACL check has not run on this file"]
    judged = check.metadata.get(PROVENANCE + "shapes_version")
    if judged != shapes_version:
        return [f"shapes version {judged} -> {shapes_version}"]
    return []


def _held_back(asset: str, record: Recorded | None, plan: GenomePlan, records: Records,
               key: str) -> str | None:
    """Why a stale asset is left alone: its last attempt failed in a way that will repeat."""
    if asset == "genome_graph" and "rdf" not in plan.stale and "rdf" not in plan.blocked:
        check = records.latest_check("rdf", "shacl", key)
        if check is not None and check.passed is False:
            n = check.metadata.get("violations", "?")
            report = check.metadata.get("report", "")
            return (f"blocked: the RDF file failed its SHACL check ({n} violation(s); "
                    f"report {report}, run {check.run_id[:8]})")
    if asset == "rdf" and asset in plan.fingerprints:
        failed = records.failed_since(asset, key, record.timestamp if record else 0.0)
        if failed and failed[1] == plan.fingerprints[asset]:
            return (f"failed before with the same source and code (run {failed[0][:8]}); "
                    "fix the source or use --force")
    if asset == "genome_graph" and ("rdf" in plan.blocked):
        return "blocked: its RDF file failed"
    return None


def dagster_stale(defs: Any, instance: Any, key: str) -> list[str]:
    """The assets of partition ``key`` that dagster itself calls stale (what the UI shows),
    upstream first. dagster does not pass staleness on downstream, so this is the planner's
    ``stale_itself`` when the two agree, not its ``selection``."""
    from dagster import AssetKey
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView
    from dagster._core.definitions.data_version import (  # no public API for this yet
        CachingStaleStatusResolver,
        StaleStatus,
    )
    from dagster._core.definitions.temporal_context import TemporalContext
    from dagster._time import get_current_datetime

    graph = defs.resolve_asset_graph()
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(),
                                                           last_event_id=None),
                          instance=instance, asset_graph=graph)
    resolver = CachingStaleStatusResolver(instance, graph, view)
    return [a for a in ASSETS if resolver.get_status(AssetKey(a), key) == StaleStatus.STALE]
