"""A pipeline build traces to its dagster run and catalogue entry; a genome version the
catalogue no longer lists is reported as orphaned, marked retired for gff2rdf graphs, and
dropped by --prune (issue 18, items 4 and 5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import DATA

pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

import yaml

from gff2rdf.cli.commands import main
from gff2rdf.pipeline import versions
from gff2rdf.store.store import GenomeStore
from tests.pipeline.test_pipeline import ARAPORT, ENTRIES, TAIR, by_key, make_world, run

TAIR_GENOME = "https://w3id.org/gff2rdf/data/genome/" + TAIR
FEATURE = TAIR_GENOME + "/feature/AT5G66630"


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def catalogue(root: Path, *keys: str) -> None:
    (root / "catalogue.yaml").write_text(yaml.safe_dump(
        {"genomes": [ENTRIES[k] for k in keys]}, sort_keys=False))


def paths(root: Path) -> set[str]:
    with GenomeStore.open(root / "store", create=False, collect=False) as store:
        return {e.path for e in store.genomes(schema_version="-")}


def test_trace_orphan_and_prune(tmp_path: Path) -> None:
    root = make_world(tmp_path, ARAPORT, TAIR)
    first = run(root)
    assert first.ok and not first.orphans, first.summary()
    run_id = by_key(first)[TAIR].run_id
    assert run_id

    # the trace of a feature reaches the dagster run, the catalogue entry and the source
    code, out, _ = cli("trace", FEATURE, "--store", str(root / "store"), "--json")
    assert code == 0, out
    row = json.loads(out)
    assert row["run_id"] == run_id and row["run_started"] <= row["load_started"]
    assert row["catalogue"] == "catalogue.yaml"  # outside the cwd: the name, not the path
    lines = (root / "catalogue.yaml").read_text().splitlines()
    line = [n for n, text in enumerate(lines, 1) if text.startswith("- ")][1]
    assert row["catalogue_entry"] == f"genomes[1] (Arabidopsis thaliana TAIR10 TAIR10), line {line}"
    assert row["source"] == "tair10_chr5_mikado.gff3"
    assert row["input_format"] == "nt" and row["genome"] == TAIR
    # the code state that made the file, finer than the gff2rdf version
    assert row["asset_code_version"] == versions.code_versions()["rdf"]

    # TAIR10 leaves the catalogue: reported as orphaned and marked retired, not dropped
    catalogue(root, ARAPORT)
    second = run(root)
    assert [(o.path, o.pruned, o.run_id) for o in second.orphans] == [(TAIR, False, run_id)]
    assert f"{TAIR}: orphaned (no longer in the catalogue since" in second.summary()
    assert "1 orphaned (not in the catalogue)" in second.totals()
    assert second.to_json()["orphaned"][0]["genome"] == TAIR_GENOME
    assert paths(root) == {ARAPORT, TAIR}
    code, out, _ = cli("graphs", "--store", str(root / "store"))
    assert code == 0
    marked = [line for line in out.splitlines() if "retired: not in catalogue.yaml" in line]
    assert [line.split()[0] for line in marked] == [TAIR]

    # listed again: the mark goes; removed again, and a dry run with --prune drops nothing
    catalogue(root, ARAPORT, TAIR)
    assert not run(root).orphans
    assert "retired" not in cli("graphs", "--store", str(root / "store"))[1]
    catalogue(root, ARAPORT)
    args = ["pipeline", "run", "--catalogue", str(root / "catalogue.yaml"), "--store",
            str(root / "store")]
    code, out, _ = cli(*args, "--dry-run", "--prune")
    assert code == 0 and f"{TAIR}: orphaned" in out and paths(root) == {ARAPORT, TAIR}

    code, out, err = cli(*args, "--prune", "--json")
    assert code == 0, err
    pruned = json.loads(out)["orphaned"]
    assert [(o["path"], o["pruned"]) for o in pruned] == [(TAIR, True)]
    assert "1 pruned" in err
    assert paths(root) == {ARAPORT}
    with GenomeStore.open(root / "store", create=False, collect=False) as store:
        assert store.garbage() == []  # its build graph and bin index went too


def test_a_genome_version_loaded_by_hand_is_not_the_pipelines_to_retire(tmp_path: Path) -> None:
    root = make_world(tmp_path, ARAPORT)
    with GenomeStore.open(root / "store") as store:
        store.load(DATA / "tair10_chr5_mikado.gff3", species="Arabidopsis thaliana",
                   taxon="3702", assembly="TAIR10", annotation="mikado")
    result = run(root, dry_run=True, prune=True)
    assert result.orphans == []
