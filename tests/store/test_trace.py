"""Traceability of a build (issue 18, item 4) and the retirement mark (item 5), store side:
what a load records in its PROV activity, ``gff2rdf trace`` and ``queries/trace.rq``, and the
``g2r:retired`` mark that ``gff2rdf graphs`` shows. The pipeline side is in
tests/pipeline/test_pipeline_retired.py."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from gff2rdf._version import git_commit
from gff2rdf.cli.commands import main
from gff2rdf.query.canned import get_query
from gff2rdf.store.metadata import RunProvenance, recorded_path, retire_update
from gff2rdf.store.store import GenomeStore
from tests.conftest import DATA

MIKADO = DATA / "tair10_chr5_mikado.gff3"
ATH = dict(species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10")
GENOME = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/mikado"
FEATURE = GENOME + "/feature/AT5G66630"
RUN = RunProvenance(run_id="0f1e2d3c-aaaa-bbbb-cccc-000011112222",
                    run_started="2025-01-02T03:04:05Z",
                    catalogue="/srv/private/pipelines/catalogue.yaml",
                    catalogue_entry="genomes[1] (Arabidopsis thaliana TAIR10 mikado), line 7",
                    source="https://ann:secret@example.org/data/mikado.gff3?v=2",
                    asset_code_version="0.1.0+code.7c2580b6d6b8+schema.0.1.0")


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def trace_row(store: GenomeStore, iri: str) -> dict[str, str]:
    rows = get_query("trace").run(store, {"iri": iri}).values()
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def plain(tmp_path: Path) -> Path:
    path = tmp_path / "store"
    with GenomeStore.open(path) as store:
        store.load(MIKADO, annotation="mikado", **ATH)
    return path


def test_a_plain_load_records_host_and_commit_and_no_run(plain: Path) -> None:
    with GenomeStore.open(plain, create=False) as store:
        for iri in (GENOME, FEATURE):  # a genome version, and a feature of it
            row = trace_row(store, iri)
            assert row["genome"] == "arabidopsis_thaliana/TAIR10/mikado"
            assert row["build"].startswith(GENOME + "/build/")
            assert row["host"] == socket.gethostname()
            assert row.get("git_commit") == git_commit()  # None outside a checkout
            assert "run_id" not in row and "catalogue" not in row
            assert row["source"] == row["input"] == recorded_path(MIKADO)
            assert row["load_started"] <= row["load_ended"]
            assert row["code_version"] and row["schema_version"] and row["shapes_version"]
    code, out, _ = cli("trace", FEATURE, "--store", str(plain))
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["feature"] == FEATURE
    assert lines["genome"].startswith("arabidopsis_thaliana/TAIR10/mikado")
    assert lines["run"] == "none (a gff2rdf load, not a pipeline run)"
    assert f"on {socket.gethostname()}" in lines["load"]
    code, out, _ = cli("trace", "arabidopsis_thaliana/TAIR10/mikado", "--store", str(plain),
                       "--json")
    assert code == 0 and json.loads(out)["genome_iri"] == GENOME


def test_trace_of_an_unknown_iri_is_a_clear_error(plain: Path) -> None:
    code, _, err = cli("trace", GENOME + "/feature/NOPE", "--store", str(plain))
    assert code == 1
    assert "is neither a genome version nor a subject" in err and "Traceback" not in err
    code, _, err = cli("trace", "no/such/genome", "--store", str(plain))
    assert code == 1 and "no genome version 'no/such/genome'" in err


def test_a_pipeline_load_records_its_run_catalogue_entry_and_source(tmp_path: Path) -> None:
    with GenomeStore.open(tmp_path / "store") as store:
        first = store.load(MIKADO, annotation="mikado", provenance=RUN, **ATH)
        row = trace_row(store, FEATURE)
        assert row["run_id"] == RUN.run_id
        assert row["run_started"] == "2025-01-02T03:04:05Z"
        assert row["catalogue"] == "catalogue.yaml"  # outside the cwd: its name, not the path
        assert row["catalogue_entry"] == RUN.catalogue_entry
        assert row["asset_code_version"] == RUN.asset_code_version
        assert row["source"] == "https://example.org/data/mikado.gff3?v=2"  # no user:password
        assert row["source_sha256"] == store.entry(GENOME).source_sha256  # type: ignore[union-attr]
        dumped = bytes(store.store.dump(format=ox.RdfFormat.N_QUADS))
        assert b"secret" not in dumped and b"/srv/private" not in dumped
        assert store.entry(GENOME).run_id == RUN.run_id  # type: ignore[union-attr]
        # another run of the same input: provenance does not make a current build stale
        other = RunProvenance(run_id="ffff")
        again = store.load(MIKADO, annotation="mikado", provenance=other, **ATH)
        assert again.status == "unchanged" and again.build == first.build
    code, out, _ = cli("trace", FEATURE, "--store", str(tmp_path / "store"))
    assert code == 0
    lines = dict(line.split(None, 1) for line in out.splitlines())
    assert lines["run"] == f"dagster run {RUN.run_id}, started 2025-01-02T03:04:05Z"
    assert lines["catalogue"] == f"catalogue.yaml, entry {RUN.catalogue_entry}"
    assert lines["source"].startswith("https://example.org/data/mikado.gff3?v=2, sha256 ")
    assert f"pipeline code {RUN.asset_code_version}, schema " in lines["versions"]


def test_a_run_provenance_needs_a_run_id() -> None:
    with pytest.raises(ValueError, match="run id"):
        RunProvenance(run_id=" ")


def test_graphs_marks_a_retired_genome_version_until_it_is_listed_again(plain: Path) -> None:
    with GenomeStore.open(plain, create=False) as store:
        entry = store.entry(GENOME)
        assert entry is not None and not entry.retired
        meta = [(GENOME, entry.meta)]
        store.update(retire_update(meta, [], "/srv/x/catalogue.yaml", "2025-02-03T04:05:06Z"))
        # marked again later: the first date stays
        store.update(retire_update(meta, [], "/srv/x/catalogue.yaml", "2025-09-09T09:09:09Z"))
    code, out, _ = cli("graphs", "--store", str(plain))
    assert code == 0
    assert "retired: not in catalogue.yaml since 2025-02-03T04:05:06Z" in out
    code, out, _ = cli("graphs", "--store", str(plain), "--json")
    listed = json.loads(out)[0]
    assert (listed["retired"], listed["retired_from"]) == ("2025-02-03T04:05:06Z",
                                                           "catalogue.yaml")
    with GenomeStore.open(plain, create=False) as store:
        store.update(retire_update([], meta, "/srv/x/catalogue.yaml", "2025-10-10T10:10:10Z"))
        assert store.entry(GENOME).retired == ""  # type: ignore[union-attr]
    assert retire_update([], [], "c.yaml", "2025-10-10T10:10:10Z") == ""
