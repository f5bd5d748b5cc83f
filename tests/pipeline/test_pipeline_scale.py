"""Scale-out: the multiprocess executor on a real genome version, and the Kubernetes run config.

examples/dagster-k8s.yaml is validated against the genomes job's config schema. dagster itself
can check the resources and loggers, and the executor keys that its own multiprocess executor
shares with the Kubernetes one (max_concurrent, retries, tag_concurrency_limits); the whole file,
pod settings included, with dagster-k8s (installed by make install, see pyproject.toml).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import DATA, ROOT

dg = pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

import yaml  # noqa: E402

from gff2rdf.errors import StoreLockedError  # noqa: E402
from gff2rdf.pipeline.assets import _load  # noqa: E402
from gff2rdf.pipeline.definitions import JOB, build_definitions, load_executor  # noqa: E402
from gff2rdf.pipeline.runner import run_pipeline  # noqa: E402
from gff2rdf.store.store import GenomeStore  # noqa: E402

K8S = ROOT / "examples" / "dagster-k8s.yaml"
CATALOGUE = ROOT / "examples" / "catalogue.yaml"
SHARED_WITH_MULTIPROCESS = ("max_concurrent", "retries", "tag_concurrency_limits")


class PipelineJson:
    """``pipeline run --json`` read back with the attribute names of ``PipelineRun``."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.ok = bool(data["ok"])
        self.genomes = [SimpleNamespace(**g) for g in data["genomes"]]


def test_the_multiprocess_executor_builds_genome_versions_side_by_side(
        tmp_path: Path) -> None:
    """Two genome versions, two runs at the same time (before: one after the other), every step
    in a process of its own, both loaded into the store; ``gff2rdf pipeline run`` prints no
    dagster DEBUG line (before: one per step process)."""
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(yaml.safe_dump({"genomes": [
        {"species": "Solanum lycopersicum", "taxon": 4081, "assembly": "SL2.40",
         "annotation": "ITAG2.3", "source": str(DATA / "tomato_ITAG2.3_test.gff3")},
        {"species": "Arabidopsis thaliana", "taxon": 3702, "assembly": "TAIR10",
         "annotation": "TAIR10", "source": str(DATA / "tair10_chr5_mikado.gff3")}]}))
    cli = subprocess.run(
        [sys.executable, "-c", "from gff2rdf.cli import main; main()", "pipeline", "run",
         "--catalogue", str(catalogue), "--store", str(tmp_path / "store"),
         "--executor", "multiprocess", "--max-concurrent", "2", "--json"],
        capture_output=True, text=True, timeout=900, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert cli.returncode == 0, cli.stderr[-3000:]
    assert " - DEBUG - " not in cli.stderr, cli.stderr[-3000:]
    result = PipelineJson(json.loads(cli.stdout))
    assert result.ok, cli.stdout
    for genome in result.genomes:
        assert genome.materialised == ["gff3_source", "gff3_report", "rdf", "genome_graph"]
        assert genome.checks["shacl"]["passed"]
    home = tmp_path / "store-pipeline" / "dagster"
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        spans = []
        for genome in result.genomes:
            run = instance.get_run_by_id(genome.run_id)
            assert run is not None and run.is_success
            workers = instance.all_logs(genome.run_id,
                                        of_type=dg.DagsterEventType.STEP_WORKER_STARTED)
            assert {e.step_key for e in workers} >= {"gff3_source", "rdf", "rdf_shacl",
                                                     "genome_graph"}
            record = instance.get_run_record_by_id(genome.run_id)
            assert record is not None and record.start_time and record.end_time
            spans.append((record.start_time, record.end_time))
        (_, first_end), (second_start, _) = sorted(spans)
        assert second_start < first_end, f"the runs went one after the other: {spans}"
    finally:
        instance.dispose()
    with GenomeStore.open(tmp_path / "store", create=False) as store:
        assert {e.genome for e in store.genomes(schema_version="-")} == {
            g.graph for g in result.genomes}
    again = run_pipeline(catalogue, tmp_path / "store", executor="multiprocess")
    assert [g.status for g in again.genomes] == ["current", "current"]
    assert [g.run_id for g in again.genomes] == [None, None]


def test_a_load_waits_for_the_store_and_gives_up_at_its_deadline(tmp_path: Path) -> None:
    """A genome_graph step's load waits while another process holds the store (a genome
    version loading side by side), loads once it is released, and gives up with
    StoreLockedError after lock_wait seconds."""
    import threading

    from gff2rdf.conversion.api import convert
    from gff2rdf.store.lock import StoreLock

    rdf = tmp_path / "genome.nt"
    convert(DATA / "tomato_ITAG2.3_test.gff3", rdf, species="Solanum lycopersicum",
            taxon="4081", assembly="SL2.40", annotation="ITAG2.3")
    store = tmp_path / "store"
    GenomeStore.open(store).close()
    events: list[str] = []
    with StoreLock(store):
        with pytest.raises(StoreLockedError):
            _load(SimpleNamespace(store=str(store), lock_wait=0.3), rdf)  # type: ignore[arg-type]

        def load() -> None:
            _load(SimpleNamespace(store=str(store), lock_wait=60), rdf)  # type: ignore[arg-type]
            events.append("loaded")

        waiting = threading.Thread(target=load)
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive() and events == []  # still waiting for the store
        events.append("released")
    waiting.join(60)
    assert events == ["released", "loaded"]
    with GenomeStore.open(store, create=False) as opened:
        assert len(opened.genomes(schema_version="-")) == 1


def k8s_config() -> dict[str, Any]:
    config = yaml.safe_load(K8S.read_text(encoding="utf-8"))
    assert set(config) == {"execution", "resources", "loggers"}
    return config


def test_the_k8s_run_config_passes_what_dagster_itself_can_check(tmp_path: Path) -> None:
    config = k8s_config()
    job = build_definitions(CATALOGUE, tmp_path / "store").resolve_job_def(JOB)
    checked = dg.validate_run_config(job, {"resources": config["resources"],
                                           "loggers": config["loggers"]})
    assert checked["resources"]["pipeline"]["config"]["store"] == "/store/gff2rdf-store"
    shared = {k: v for k, v in config["execution"]["config"].items()
              if k in SHARED_WITH_MULTIPROCESS}
    assert set(shared) >= {"max_concurrent", "retries"}
    dg.validate_run_config(job, {"execution": {"config": {"multiprocess": shared}}})
    with pytest.raises(dg.DagsterInvalidConfigError, match="stor"):
        broken = {"pipeline": {"config": {**config["resources"]["pipeline"]["config"],
                                          "stor": "/x"}}}
        dg.validate_run_config(job, {"resources": broken})


def test_the_k8s_run_config_is_valid_for_the_k8s_executor(tmp_path: Path) -> None:
    """The whole file against dagster-k8s' executor schema (make install installs it); the
    store is on a volume that only the genome_graph step's pod mounts, not the shared one."""
    executor = load_executor("dagster_k8s:k8s_job_executor")
    job = build_definitions(CATALOGUE, tmp_path / "store",
                            executor=executor).resolve_job_def(JOB)
    config = k8s_config()
    checked = dg.validate_run_config(job, config)["execution"]["k8s"]
    assert checked["job_namespace"] == "gff2rdf"
    shared = {m["mount_path"] for m in checked["volume_mounts"]}
    store = config["resources"]["pipeline"]["config"]["store"]
    assert not any(store.startswith(path + "/") for path in shared)
    load = checked["per_step_k8s_config"]["genome_graph"]
    assert any(store.startswith(m["mount_path"] + "/")
               for m in load["container_config"]["volume_mounts"])
    assert {v["name"] for v in load["pod_spec_config"]["volumes"]} == {"gff2rdf-store"}
    with pytest.raises(dg.DagsterInvalidConfigError, match="job_namespac"):
        broken = {**config["execution"]["config"], "job_namespac": "x"}
        dg.validate_run_config(job, {**config, "execution": {"config": broken}})


def test_an_executor_that_cannot_be_loaded_is_an_error_naming_the_setting() -> None:
    from gff2rdf.errors import Gff2RdfError

    with pytest.raises(Gff2RdfError, match="GFF2RDF_PIPELINE_EXECUTOR='no_such_module:x'"):
        load_executor("no_such_module:x")
    assert load_executor("dagster:multiprocess_executor") is dg.multiprocess_executor
    assert load_executor("") is None
