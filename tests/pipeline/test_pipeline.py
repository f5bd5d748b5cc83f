"""The dagster pipeline on real genome versions, in-process: what runs, what is left alone.

One module-scoped world (two Arabidopsis versions, materialised once) is copied for each test
that changes something, so that the whole file costs a handful of dagster runs.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.conftest import DATA

pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

import yaml

from gff2rdf._version import git_commit
from gff2rdf.cli.commands import main
from gff2rdf.pipeline import versions
from gff2rdf.pipeline.layout import open_instance
from gff2rdf.pipeline.plan import Records
from gff2rdf.pipeline.runner import PipelineRun, run_pipeline
from gff2rdf.store.store import GenomeStore

ASSETS = ["gff3_source", "gff3_report", "rdf", "genome_graph"]
ARAPORT = "arabidopsis_thaliana/TAIR10/Araport11"
TAIR = "arabidopsis_thaliana/TAIR10/TAIR10"
TOMATO = "solanum_lycopersicum/SL2.40/ITAG2.3"
GT = shutil.which("gt")
ENTRIES = {
    ARAPORT: {"species": "Arabidopsis thaliana", "taxon": 3702, "assembly": "TAIR10",
              "annotation": "Araport11", "source": "data/arabidopsis_TAIR10_40_small.gff3"},
    TAIR: {"species": "Arabidopsis thaliana", "taxon": 3702, "assembly": "TAIR10",
           "annotation": "TAIR10", "source": "data/tair10_chr5_mikado.gff3"},
    TOMATO: {"species": "Solanum lycopersicum", "taxon": 4081, "assembly": "SL2.40",
             "annotation": "ITAG2.3", "source": "data/tomato_ITAG2.3_test.gff3"},
}


def make_world(root: Path, *keys: str, **overrides: dict[str, Any]) -> Path:
    """A catalogue of these genome versions, with copies of their files under root/data."""
    (root / "data").mkdir(parents=True)
    entries = []
    for key in keys:
        entry = {**ENTRIES[key], **overrides.get(key.split("/")[-1], {})}
        if not str(entry["source"]).startswith("http"):
            shutil.copy(DATA / Path(str(entry["source"])).name, root / entry["source"])
        entries.append(entry)
    (root / "catalogue.yaml").write_text(yaml.safe_dump({"genomes": entries}, sort_keys=False))
    return root


def run(root: Path, **options: Any) -> PipelineRun:
    return run_pipeline(root / "catalogue.yaml", root / "store", **options)


def by_key(result: PipelineRun) -> dict[str, Any]:
    return {g.key: g for g in result.genomes}


def store_builds(root: Path) -> dict[str, str]:
    with GenomeStore.open(root / "store", create=False, collect=False) as store:
        return {e.path: e.build for e in store.genomes(schema_version="-")}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, PipelineRun]:
    root = make_world(tmp_path_factory.mktemp("loaded"), ARAPORT, TAIR)
    return root, run(root)


@pytest.fixture
def world(loaded: tuple[Path, PipelineRun], tmp_path: Path) -> Path:
    """A private copy of the loaded world (catalogue, sources, store, dagster instance)."""
    return Path(shutil.copytree(loaded[0], tmp_path / "world"))


def test_two_genome_versions_materialise_in_process(loaded: tuple[Path, PipelineRun]) -> None:
    root, result = loaded
    assert result.ok, result.summary()
    genomes = by_key(result)
    assert list(genomes) == [ARAPORT, TAIR]
    for genome in genomes.values():
        assert genome.status == "materialised"
        assert genome.materialised == ASSETS and genome.current == []
        assert genome.reasons["rdf"] == ["never materialised"]
        assert genome.checks["shacl"]["passed"] and genome.checks["gff3_valid"]["passed"]
        # GenomeTools' verdict next to ours: these files are valid for gt too (when installed)
        assert genome.checks["gt_valid"]["passed"]
        assert genome.checks["gt_valid"]["verdict"] == ("valid" if GT else "not installed")
    assert set(store_builds(root)) == {ARAPORT, TAIR}
    pipeline = root / "store-pipeline"
    for name in ("gff3-report.json", "genome.nt", "shacl-report.ttl"):
        assert (pipeline / "genomes" / ARAPORT / name).is_file()
    instance = open_instance(pipeline / "dagster")
    try:
        rdf = Records(instance).latest("rdf", ARAPORT)
        graph = Records(instance).latest("genome_graph", ARAPORT)
    finally:
        instance.dispose()
    assert rdf is not None and graph is not None
    assert rdf.metadata["features"] == 685 and rdf.metadata["triples"] > 10_000
    assert rdf.metadata["graph IRI"] == ("https://w3id.org/gff2rdf/data/genome/"
                                         "arabidopsis_thaliana/TAIR10/Araport11")
    assert rdf.metadata["output"] == str(pipeline / "genomes" / ARAPORT / "genome.nt")
    assert rdf.metadata["warnings by kind"] == "no warnings"
    assert rdf.metadata["seconds"] > 0
    source = hashlib.sha256((root / ENTRIES[ARAPORT]["source"]).read_bytes()).hexdigest()
    assert rdf.metadata["provenance/input/gff3_source"] == source
    assert rdf.code_version == versions.code_versions()["rdf"]
    assert graph.metadata["status"] == "loaded"
    assert graph.data_version == graph.metadata["provenance/build"] == store_builds(root)[ARAPORT]


def test_a_second_run_with_nothing_changed_reexecutes_nothing(world: Path) -> None:
    (world / ENTRIES[TAIR]["source"]).touch()  # a new mtime is not a change: content counts
    result = CliRunner().invoke(main, ["pipeline", "run", "--catalogue",
                                       str(world / "catalogue.yaml"), "--store",
                                       str(world / "store"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["dagster_home"] == str(world / "store-pipeline" / "dagster")
    for genome in data["genomes"]:
        assert genome["status"] == "current"
        assert genome["current"] == ASSETS and genome["materialised"] == []
        assert genome["run_id"] is None
    text = CliRunner().invoke(main, ["pipeline", "run", "--catalogue",
                                     str(world / "catalogue.yaml"), "--store",
                                     str(world / "store")])
    assert text.exit_code == 0
    assert f"{TAIR}: current" in text.stdout
    assert "  current       gff3_source, gff3_report, rdf, genome_graph" in text.stdout
    assert "2 current" in text.stderr


def test_a_changed_source_reruns_only_that_genome_version(world: Path) -> None:
    before = store_builds(world)
    with open(world / ENTRIES[TAIR]["source"], "a", encoding="utf-8") as source:
        source.write("# one more comment line\n")
    result = run(world)
    assert result.ok, result.summary()
    changed, other = by_key(result)[TAIR], by_key(result)[ARAPORT]
    assert changed.materialised == ASSETS and changed.run_id
    assert changed.reasons["gff3_source"][0].startswith("source changed (sha256 ")
    assert changed.reasons["rdf"] == ["gff3_source is stale"]
    assert other.status == "current" and other.current == ASSETS and other.run_id is None
    after = store_builds(world)
    assert after[ARAPORT] == before[ARAPORT] and after[TAIR] != before[TAIR]


def test_a_schema_version_bump_makes_every_rdf_asset_stale(
        world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(versions, "schema_version", lambda: "99.0")
    planned = run(world, dry_run=True)
    for genome in planned.genomes:
        assert list(genome.reasons) == ["rdf", "genome_graph"]
        assert genome.current == ["gff3_source", "gff3_report"]
        assert genome.reasons["rdf"][0].endswith("+schema.99.0")
        assert genome.reasons["genome_graph"][0].startswith("code version ")
        assert genome.materialised == [] and genome.run_id is None
        # a dry run says stale, in the text and the JSON, with a line per stale asset
        assert genome.status == "stale" and genome.stale == ["rdf", "genome_graph"]
        assert genome.to_json()["status"] == "stale"
        assert genome.to_json()["stale"] == ["rdf", "genome_graph"]
        text = genome.summary()
        assert text.startswith(f"{genome.key}: stale ")
        assert "  stale         rdf  (code version " in text
        assert "  stale         genome_graph  (code version " in text
    assert planned.totals().startswith(f"gff2rdf pipeline: planned {len(planned.genomes)} "
                                       f"genome version(s): {len(planned.genomes)} stale in ")
    result = run(world, select=["*/TAIR10/TAIR10"])
    assert [g.key for g in result.genomes] == [TAIR]
    assert result.genomes[0].materialised == ["rdf", "genome_graph"]
    assert result.genomes[0].current == ["gff3_source", "gff3_report"]
    again = by_key(run(world, dry_run=True))
    assert again[TAIR].status == "current"
    assert list(again[ARAPORT].reasons) == ["rdf", "genome_graph"]


def test_a_failing_shacl_check_stops_that_load_and_not_the_others(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gff2rdf.conversion.api

    real = gff2rdf.conversion.api.convert

    def convert_badly(source: Any, output: Any, **options: Any) -> Any:
        result = real(source, output, **options)
        if options.get("species") == "Solanum lycopersicum":  # a region without begin/end
            with open(output, "a", encoding="utf-8") as out:
                out.write("<urn:x:bad> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
                          "<http://biohackathon.org/resource/faldo#Region> .\n")
        return result

    monkeypatch.setattr(gff2rdf.conversion.api, "convert", convert_badly)
    root = make_world(tmp_path / "w", TOMATO, TAIR)
    result = run(root)
    assert not result.ok
    tomato, tair = by_key(result)[TOMATO], by_key(result)[TAIR]
    assert tomato.status == "failed"
    assert tomato.materialised == ["gff3_source", "gff3_report", "rdf"]
    assert tomato.checks["shacl"]["passed"] is False and tomato.checks["shacl"]["violations"] > 0
    assert tomato.failed["shacl"].startswith(f"{tomato.checks['shacl']['violations']} "
                                             "violation(s) of the SHACL shapes")
    assert "genome_graph" in tomato.blocked
    assert tair.status == "materialised" and tair.materialised == ASSETS
    assert set(store_builds(root)) == {TAIR}
    assert (root / "store-pipeline/genomes" / TOMATO / "shacl-report.ttl").is_file()
    again = by_key(run(root))
    assert again[TOMATO].status == "blocked" and again[TOMATO].run_id is None
    assert again[TOMATO].blocked["genome_graph"].startswith("blocked: the RDF file failed its "
                                                            "SHACL check")
    assert again[TAIR].status == "current"


class _Server(http.server.ThreadingHTTPServer):
    requests: list[str]


@pytest.fixture
def server() -> Iterator[_Server]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            httpd.requests.append(self.path)
            super().do_GET()

    handler = functools.partial(Handler, directory=str(DATA))
    httpd = _Server(("127.0.0.1", 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def test_a_url_source_is_fetched_and_checksummed(tmp_path: Path, server: _Server) -> None:
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    tomato = hashlib.sha256((DATA / "tomato_ITAG2.3_test.gff3").read_bytes()).hexdigest()
    root = make_world(tmp_path / "w", TOMATO, TAIR, **{
        "ITAG2.3": {"source": base + "tomato_ITAG2.3_test.gff3", "sha256": tomato},
        "TAIR10": {"source": base + "tair10_chr5_mikado.gff3", "sha256": "ab" * 32}})
    result = run(root)
    fetched, wrong = by_key(result)[TOMATO], by_key(result)[TAIR]
    assert fetched.status == "materialised" and fetched.materialised == ASSETS
    download = root / "store-pipeline/genomes" / TOMATO / "source/tomato_ITAG2.3_test.gff3"
    assert hashlib.sha256(download.read_bytes()).hexdigest() == tomato
    assert wrong.status == "failed" and wrong.materialised == []
    message = wrong.failed["gff3_source"]
    assert message.startswith(f"{root / 'catalogue.yaml'}:13: genomes[1] (Arabidopsis thaliana "
                              "TAIR10 TAIR10): sha256: the download of "
                              f"{base}tair10_chr5_mikado.gff3 has sha256 ")
    assert message.endswith("the catalogue says " + "ab" * 32)
    assert not (root / "store-pipeline/genomes" / TAIR / "source").exists() or not any(
        (root / "store-pipeline/genomes" / TAIR / "source").iterdir())
    assert set(store_builds(root)) == {TOMATO}
    fetches = server.requests.count("/tomato_ITAG2.3_test.gff3")
    again = by_key(run(root, select=[TOMATO]))
    assert again[TOMATO].status == "current"
    assert server.requests.count("/tomato_ITAG2.3_test.gff3") == fetches == 1


MAIZE = {"species": "Zea mays", "taxon": 4577, "assembly": "B73", "annotation": "AGPv2",
         "source": "data/maize_B73_AGPv2_small.gff"}  # 3 missing-phase errors


def maize_world(tmp_path: Path) -> Path:
    """A catalogue of the maize excerpt alone, a file with errors."""
    root = tmp_path / "w"
    (root / "data").mkdir(parents=True)
    shutil.copy(DATA / "maize_B73_AGPv2_small.gff", root / "data")
    (root / "catalogue.yaml").write_text(yaml.safe_dump({"genomes": [MAIZE]}))
    return root


def test_a_conversion_that_failed_is_not_retried_until_something_changes(tmp_path: Path) -> None:
    root = maize_world(tmp_path)
    first = run(root).genomes[0]
    assert first.status == "failed" and first.materialised == ["gff3_source", "gff3_report"]
    assert first.checks["gff3_valid"]["passed"] is False
    if GT:  # gt rejects the file too (no ##gff-version line): a failed gt_valid check
        assert first.checks["gt_valid"]["verdict"] == "invalid"
        assert "##gff-version" in first.checks["gt_valid"]["gt says"]
        assert "  check failed  gt_valid" in first.summary()
    assert "error(s)" in first.failed["rdf"] and "maize_B73_AGPv2_small.gff:" in first.failed["rdf"]
    assert first.skipped == ["genome_graph"]
    second = run(root).genomes[0]
    assert second.run_id is None and second.status == "blocked"
    assert second.blocked["rdf"].startswith("failed before with the same source and code")
    assert second.blocked["genome_graph"] == "blocked: its RDF file failed"
    forced = run(root, force=True).genomes[0]
    assert forced.run_id and forced.status == "failed"


def test_the_summary_names_a_failed_check_and_a_clean_genome_is_current() -> None:
    """The text says what the JSON says: a failed gff3_valid check (non-blocking, so the
    genome version was built) gets its line; nothing stale, nothing run is "current"."""
    from gff2rdf.pipeline.runner import GenomeRun

    built = GenomeRun("a/b/c", "A b c", "urn:g", materialised=["gff3_report", "rdf"],
                      reasons={"gff3_report": ["never materialised"],
                               "rdf": ["never materialised"]},
                      checks={"gff3_valid": {"passed": False, "errors": 3, "warnings": 1},
                              "shacl": {"passed": True}})
    assert built.status == "materialised" and built.stale == []
    assert "  check failed  gff3_valid (3 problem(s))" in built.summary()
    assert "shacl" not in built.summary()
    assert GenomeRun("a/b/c", "A b c", "urn:g", current=["rdf"]).status == "current"


def test_a_lenient_entry_converts_a_file_with_errors_and_dagster_prints_no_trace(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """A provider file with known errors fails strictly, with its grouped problem report and
    no dagster stack trace; ``lenient: true`` in its entry makes ``rdf`` stale (the failure no
    longer holds it back) and builds it, each skipped line reported."""
    root = maize_world(tmp_path)
    strict = run(root).genomes[0]
    assert strict.status == "failed" and "missing-phase" in strict.failed["rdf"]
    printed = capfd.readouterr()
    assert "Stack Trace" not in printed.err and "STEP_FAILURE" not in printed.err
    (root / "catalogue.yaml").write_text(yaml.safe_dump({"genomes": [{**MAIZE,
                                                                      "lenient": True}]}))
    planned = run(root, dry_run=True).genomes[0]
    assert planned.reasons["rdf"] == ["never materialised"] and "rdf" not in planned.blocked
    lenient = run(root).genomes[0]
    assert lenient.status == "materialised", lenient.summary()
    assert lenient.materialised == ["rdf", "genome_graph"]
    assert run(root, dry_run=True).genomes[0].status == "current"
    (root / "catalogue.yaml").write_text(yaml.safe_dump({"genomes": [MAIZE]}))
    back = run(root, dry_run=True).genomes[0]
    assert back.reasons["rdf"] == ["lenient True -> False in the catalogue"]


def test_lenient_must_be_true_or_false(tmp_path: Path) -> None:
    from gff2rdf.pipeline.catalogue import CatalogueError, load_catalogue

    path = tmp_path / "c.yaml"
    path.write_text("genomes:\n  - species: Zea mays\n    taxon: 4577\n    assembly: B73\n"
                    "    annotation: AGPv2\n    source: x.gff\n    lenient: yes please\n")
    with pytest.raises(CatalogueError, match=r"c.yaml:7: genomes\[0\] .*lenient: expected "
                                             r"true or false, got 'yes please'"):
        load_catalogue(path)


MODULE_TEXT = versions.module_text


def edit_emitter(monkeypatch: pytest.MonkeyPatch, extra: str = "\nANSWER = 42\n") -> None:
    """Make the pipeline's code versions see gff2rdf/rdf/emit.py with ``extra`` appended."""
    emit = Path(versions.__file__).parents[1] / "rdf" / "emit.py"
    monkeypatch.setattr(versions, "module_text", lambda path: MODULE_TEXT(path) + (
        extra if path == emit else ""))


def test_an_edit_of_the_emitter_makes_rdf_and_downstream_stale_and_a_comment_does_not(
        world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Code versions come from the code that builds each asset, not from a version string."""
    before = versions.code_versions()
    edit_emitter(monkeypatch, "\n# a comment\n")
    assert versions.code_versions() == before
    edit_emitter(monkeypatch)
    after = versions.code_versions()
    assert [a for a in versions.ASSETS if after[a] != before[a]] == ["rdf"]
    for genome in run(world, dry_run=True).genomes:
        assert genome.reasons["rdf"] == [f"code version {before['rdf']} -> {after['rdf']}"]
        assert genome.reasons["genome_graph"] == ["rdf is stale"]
        assert genome.current == ["gff3_source", "gff3_report"]
    assert git_commit() is None or len(git_commit() or "") == 40


def test_a_run_leaves_the_signal_handlers_as_it_found_them(world: Path) -> None:
    """Started in the background (nohup ... &), a process has SIGINT ignored; dagster's
    in-process execution then set SIGTERM to SIG_IGN for good, so the run could no longer be
    stopped with SIGTERM and the processes it started later ignored it too."""
    import signal

    sigint, sigterm = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = run(world, select=(TAIR,), force=True)
        assert by_key(result)[TAIR].materialised == ASSETS  # dagster did execute in process
        assert signal.getsignal(signal.SIGTERM) is sigterm
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, sigint)
