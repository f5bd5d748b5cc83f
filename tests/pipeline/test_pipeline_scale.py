"""Scale-out: the multiprocess executor on a real genome version, and the Kubernetes run config.

examples/dagster-k8s.yaml is validated against the genomes job's config schema. dagster itself
can check the resources and loggers, and the executor keys that its own multiprocess executor
shares with the Kubernetes one (max_concurrent, retries, tag_concurrency_limits); the whole file,
pod settings included, only with dagster-k8s installed (it is not a dependency of gff2rdf; that
test is skipped without it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, ROOT

dg = pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

import yaml  # noqa: E402

from gff2rdf.pipeline.definitions import JOB, build_definitions, load_executor  # noqa: E402
from gff2rdf.pipeline.runner import run_pipeline  # noqa: E402

K8S = ROOT / "examples" / "dagster-k8s.yaml"
CATALOGUE = ROOT / "examples" / "catalogue.yaml"
SHARED_WITH_MULTIPROCESS = ("max_concurrent", "retries", "tag_concurrency_limits")


def test_the_multiprocess_executor_builds_a_genome_version(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.yaml"
    catalogue.write_text(yaml.safe_dump({"genomes": [{
        "species": "Solanum lycopersicum", "taxon": 4081, "assembly": "SL2.40",
        "annotation": "ITAG2.3", "source": str(DATA / "tomato_ITAG2.3_test.gff3")}]}))
    result = run_pipeline(catalogue, tmp_path / "store", executor="multiprocess",
                          max_concurrent=2)
    genome = result.genomes[0]
    assert result.ok, genome.summary()
    assert genome.materialised == ["gff3_source", "gff3_report", "rdf", "genome_graph"]
    assert genome.checks["shacl"]["passed"]
    home = tmp_path / "store-pipeline" / "dagster"
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        run = instance.get_run_by_id(genome.run_id)
        assert run is not None and run.is_success
        workers = instance.all_logs(genome.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED)
        assert {e.step_key for e in workers} >= {"gff3_source", "rdf", "rdf_shacl",
                                                 "genome_graph"}
    finally:
        instance.dispose()
    again = run_pipeline(catalogue, tmp_path / "store", executor="multiprocess")
    assert again.genomes[0].status == "current" and again.genomes[0].run_id is None


def k8s_config() -> dict[str, Any]:
    config = yaml.safe_load(K8S.read_text(encoding="utf-8"))
    assert set(config) == {"execution", "resources", "loggers"}
    return config


def test_the_k8s_run_config_passes_what_dagster_itself_can_check(tmp_path: Path) -> None:
    config = k8s_config()
    job = build_definitions(CATALOGUE, tmp_path / "store").resolve_job_def(JOB)
    checked = dg.validate_run_config(job, {"resources": config["resources"],
                                           "loggers": config["loggers"]})
    assert checked["resources"]["pipeline"]["config"]["store"] == "/data/gff2rdf-store"
    shared = {k: v for k, v in config["execution"]["config"].items()
              if k in SHARED_WITH_MULTIPROCESS}
    assert set(shared) >= {"max_concurrent", "retries"}
    dg.validate_run_config(job, {"execution": {"config": {"multiprocess": shared}}})
    with pytest.raises(dg.DagsterInvalidConfigError, match="stor"):
        broken = {"pipeline": {"config": {**config["resources"]["pipeline"]["config"],
                                          "stor": "/x"}}}
        dg.validate_run_config(job, {"resources": broken})


def test_the_k8s_run_config_is_valid_for_the_k8s_executor(tmp_path: Path) -> None:
    pytest.importorskip("dagster_k8s", reason="dagster-k8s is not installed (pip install "
                        "dagster-k8s); dagster's own checks are in the test above")
    executor = load_executor("dagster_k8s:k8s_job_executor")
    job = build_definitions(CATALOGUE, tmp_path / "store",
                            executor=executor).resolve_job_def(JOB)
    checked = dg.validate_run_config(job, k8s_config())
    assert checked["execution"]["k8s"]["job_namespace"] == "gff2rdf"


def test_an_executor_that_cannot_be_loaded_is_an_error_naming_the_setting() -> None:
    from gff2rdf.errors import Gff2RdfError

    with pytest.raises(Gff2RdfError, match="GFF2RDF_PIPELINE_EXECUTOR='no_such_module:x'"):
        load_executor("no_such_module:x")
    assert load_executor("dagster:multiprocess_executor") is dg.multiprocess_executor
    assert load_executor("") is None
