"""``pipeline run --executor dask``: three genome versions on a two-worker dask cluster that the
test starts on 127.0.0.1, compared triple for triple with an in-process run; and
examples/dask-slurm.yaml, checked by dagster (the executor's schema) and by dask-jobqueue (the
SLURM job script it makes)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

dg = pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

import pyoxigraph as ox  # noqa: E402
import yaml  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

from gff2rdf.errors import Gff2RdfError  # noqa: E402
from gff2rdf.pipeline import cluster as dask_cluster  # noqa: E402
from gff2rdf.pipeline.cluster import DASK_EXECUTOR  # noqa: E402
from gff2rdf.pipeline.definitions import JOB, build_definitions, load_executor  # noqa: E402
from gff2rdf.pipeline.layout import open_instance  # noqa: E402
from gff2rdf.pipeline.runner import PipelineRun  # noqa: E402
from gff2rdf.store.store import GenomeStore  # noqa: E402
from tests.conftest import ROOT  # noqa: E402
from tests.pipeline.test_pipeline import (  # noqa: E402
    ARAPORT,
    ASSETS,
    TAIR,
    TOMATO,
    make_world,
    run,
)

CATALOGUE = ROOT / "examples" / "catalogue.yaml"
STEPS = {"gff3_source", "gff3_report", "rdf", "rdf_shacl", "genome_graph"}


@pytest.fixture(scope="module")
def scheduler() -> Iterator[tuple[str, set[int]]]:
    """Two worker processes on 127.0.0.1 (free ports): the scheduler's address
    and the workers' pids; the cluster is closed after the module."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      scheduler_port=0, dashboard_address="127.0.0.1:0",
                      worker_dashboard_address=None,
                      preload=["gff2rdf.pipeline.cluster"]) as local, \
            Client(local) as client:
        client.wait_for_workers(2, timeout=120)
        yield local.scheduler_address, set(client.run(os.getpid).values())


CREATED = ox.NamedNode("http://purl.org/dc/terms/created")


def build_graphs(store: Path) -> dict[str, list[str]]:
    """Each genome version's current build (its graph and the graphs under it, the bins) as
    sorted N-Triples lines, with what differs from load to load left out: the build's IRI
    (as BUILD) and the time the build's graphs were made (their dcterms:created)."""
    out: dict[str, list[str]] = {}
    with GenomeStore.open(store, create=False, collect=False) as opened:
        graphs = [g.value for g in opened.store.named_graphs()
                  if isinstance(g, ox.NamedNode)]
        for entry in opened.genomes(schema_version="-"):
            lines = []
            for graph in graphs:
                if graph == entry.build or graph.startswith(entry.build + "/"):
                    for quad in opened.store.quads_for_pattern(None, None, None,
                                                               ox.NamedNode(graph)):
                        if quad.predicate == CREATED and \
                                str(quad.subject).startswith(f"<{entry.build}"):
                            continue
                        triple = f"{quad.subject} {quad.predicate} {quad.object} ."
                        lines.append(f"{graph} {triple}".replace(entry.build, "BUILD"))
            out[entry.genome] = sorted(lines)
    return out


def step_pids(home: Path, run_id: str) -> dict[str, int]:
    instance = open_instance(home)
    try:
        return {e.dagster_event.step_key: e.dagster_event.pid
                for e in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)}
    finally:
        instance.dispose()


def run_spans(home: Path, result: PipelineRun) -> list[tuple[float, float]]:
    instance = open_instance(home)
    try:
        spans = []
        for genome in result.genomes:
            record = instance.get_run_record_by_id(genome.run_id)
            assert record is not None and record.dagster_run.is_success
            assert record.start_time and record.end_time
            spans.append((record.start_time, record.end_time))
        return spans
    finally:
        instance.dispose()


def test_three_genome_versions_on_two_dask_workers_build_what_an_in_process_run_builds(
        tmp_path: Path, scheduler: tuple[str, set[int]]) -> None:
    address, workers = scheduler
    keys = (ARAPORT, TAIR, TOMATO)
    on_dask = make_world(tmp_path / "dask", *keys)
    result = run(on_dask, executor="dask", dask_address=address, max_concurrent=3)
    assert result.ok, result.summary()
    assert [g.materialised for g in result.genomes] == [ASSETS] * 3
    assert all(g.checks["shacl"]["passed"] for g in result.genomes)
    assert any(note.startswith(f"dask scheduler {address}: 2 worker(s)")
               for note in result.notes), result.notes
    home = on_dask / "store-pipeline" / "dagster"
    for genome in result.genomes:  # every step ran on a dask worker, none in this process
        assert genome.run_id is not None
        pids = step_pids(home, genome.run_id)
        assert set(pids) >= STEPS, pids
        assert set(pids.values()) <= workers and os.getpid() not in pids.values(), pids
    (_, first_end), *later = sorted(run_spans(home, result))
    assert any(start < first_end for start, _ in later), "the runs went one after the other"

    in_process = make_world(tmp_path / "in_process", *keys)
    reference = run(in_process)
    assert reference.ok, reference.summary()
    expected = build_graphs(in_process / "store")
    assert len(expected) == 3 and all(len(lines) > 1000 for lines in expected.values())
    got = build_graphs(on_dask / "store")
    assert got.keys() == expected.keys()
    for genome, lines in expected.items():
        assert got[genome] == lines, genome

    again = run(on_dask, executor="dask", dask_address=address)
    assert [(g.status, g.run_id) for g in again.genomes] == [("current", None)] * 3


def test_a_scheduler_that_does_not_answer_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_world(tmp_path, TOMATO)
    with socket.socket() as sock:  # a free port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(dask_cluster, "CONNECT_TIMEOUT", 2.0)
    with pytest.raises(Gff2RdfError, match=rf"--dask-address tcp://127.0.0.1:{port}: cannot "
                       r"reach a dask scheduler there within 2 s .*expected the address of a "
                       "running one"):
        run(root, executor="dask", dask_address=f"tcp://127.0.0.1:{port}")
    instance = open_instance(root / "store-pipeline" / "dagster")
    try:
        assert instance.get_runs() == []  # nothing started
    finally:
        instance.dispose()


@pytest.mark.parametrize("options", [{"executor": "multiprocess", "workers": 2},
                                     {"executor": "dask", "workers": 2,
                                      "dask_address": "tcp://127.0.0.1:8786"}])
def test_workers_go_only_with_a_local_dask_cluster(tmp_path: Path,
                                                   options: dict[str, Any]) -> None:
    root = make_world(tmp_path, TOMATO)
    with pytest.raises(Gff2RdfError, match="--workers is the size of the local dask cluster"):
        run(root, **options)


SLURM = ROOT / "examples" / "dask-slurm.yaml"


def test_the_slurm_run_config_is_valid_for_the_dask_executor(tmp_path: Path) -> None:
    """examples/dask-slurm.yaml against the genomes job with the dask executor (dagster-dask's
    config schema) and the pipeline's resources; a mistake in the cluster kind is caught."""
    config = yaml.safe_load(SLURM.read_text(encoding="utf-8"))
    job = build_definitions(CATALOGUE, tmp_path / "store",
                            executor=load_executor(DASK_EXECUTOR)).resolve_job_def(JOB)
    checked = dg.validate_run_config(job, config)
    assert set(checked["execution"]["dask"]["cluster"]) == {"slurm"}
    assert checked["resources"]["pipeline"]["config"]["store"] == "/shared/gff2rdf/store"
    with pytest.raises(dg.DagsterInvalidConfigError, match="slurmm"):
        dg.validate_run_config(job, {**config, "execution": {"config": {"cluster": {
            "slurmm": config["execution"]["config"]["cluster"]["slurm"]}}}})


def test_the_slurm_cluster_settings_make_a_job_script() -> None:
    """dask-jobqueue builds a SLURMCluster from the example's settings and writes its job
    script, without submitting a job (no workers asked for here; its scheduler listens on
    127.0.0.1 and is closed)."""
    from dask_jobqueue import SLURMCluster

    settings = yaml.safe_load(SLURM.read_text(encoding="utf-8"))[
        "execution"]["config"]["cluster"]["slurm"]
    assert settings["n_workers"] > 0
    local = {**settings, "n_workers": 0,
             "scheduler_options": {**settings["scheduler_options"], "host": "127.0.0.1"}}
    with SLURMCluster(**local) as cluster:
        script = cluster.job_script()
        assert cluster.workers == {}
    for line in ("#SBATCH -p normal", "#SBATCH -A plant-genomics", "#SBATCH -t 04:00:00",
                 "#SBATCH --cpus-per-task=4", "#SBATCH --mem=15G",
                 "source /shared/gff2rdf/venv/bin/activate"):
        assert line in script, (line, script)
    worker = next(line for line in script.splitlines() if "dask_worker" in line)
    assert worker.startswith("/shared/gff2rdf/venv/bin/python -m distributed.cli.dask_worker "
                             "tcp://127.0.0.1:"), worker
    for option in ("--nworkers 4", "--nthreads 1", "--memory-limit 3.73GiB",
                   "--local-directory $TMPDIR", "--preload gff2rdf.pipeline.cluster"):
        assert option in worker, (option, worker)
