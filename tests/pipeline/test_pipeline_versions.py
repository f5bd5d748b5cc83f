"""The CLI planner and dagster's own staleness (what the UI shows) agree on what is stale.

dagster calls an asset stale for a reason of its own (a new code version, an input with a new
data version) and does not pass it on downstream; the planner also marks what is downstream.
So the planner's ``stale_itself`` must equal ``dagster_stale``, and its selection must be that
set with everything downstream of it.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA
from tests.pipeline.test_pipeline import ENTRIES, TOMATO, edit_emitter, make_world, run

pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

from gff2rdf.pipeline.definitions import build_definitions
from gff2rdf.pipeline.layout import open_instance
from gff2rdf.pipeline.observe import SOURCE_ASSET, latest_observation
from gff2rdf.pipeline.plan import dagster_stale
from gff2rdf.pipeline.runner import PipelineRun
from gff2rdf.pipeline.versions import ASSETS, UPSTREAM


def downstream_closure(assets: list[str]) -> list[str]:
    found = set(assets)
    for asset in ASSETS:  # upstream first
        if any(up in found for up in UPSTREAM[asset]):
            found.add(asset)
    return [a for a in ASSETS if a in found]


def both_views(root: Path) -> tuple[Any, list[str]]:
    """The planner's plan of the tomato genome version (a dry run) and dagster's stale set."""
    planned = run(root, dry_run=True)
    (genome,) = planned.genomes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defs = build_definitions(root / "catalogue.yaml", root / "store")
    instance = open_instance(root / "store-pipeline" / "dagster")
    try:
        return genome, dagster_stale(defs, instance, TOMATO)
    finally:
        instance.dispose()


def direct(genome: Any) -> list[str]:
    inherited = {f"{up} is stale" for up in ASSETS}
    return [a for a in genome.stale if set(genome.reasons[a]) - inherited]


@pytest.fixture
def tomato(tmp_path: Path) -> tuple[Path, PipelineRun]:
    root = make_world(tmp_path / "tomato", TOMATO)
    return root, run(root)


def test_an_edited_source_is_stale_in_the_planner_and_in_dagster(
        tomato: tuple[Path, PipelineRun]) -> None:
    root, first = tomato
    assert first.ok, first.summary()
    genome, stale = both_views(root)
    assert genome.stale == [] and stale == []
    instance = open_instance(root / "store-pipeline" / "dagster")
    try:  # the run observed the source: its sha256 is gff3_file's data version
        observed = latest_observation(instance, TOMATO)
    finally:
        instance.dispose()
    source = root / ENTRIES[TOMATO]["source"]
    assert observed is not None and observed.startswith("sha256:")

    with open(source, "a", encoding="utf-8") as out:
        out.write("# one more comment line\n")
    genome, stale = both_views(root)
    assert genome.stale == list(ASSETS)
    assert direct(genome) == ["gff3_source"] == stale
    assert downstream_closure(stale) == genome.stale

    done = run(root)  # materialising makes both views current again
    assert done.ok and done.genomes[0].materialised == list(ASSETS)
    genome, stale = both_views(root)
    assert genome.stale == [] and stale == []


def test_an_edit_of_the_emitter_is_stale_in_the_planner_and_in_dagster(
        tomato: tuple[Path, PipelineRun], monkeypatch: pytest.MonkeyPatch) -> None:
    root, _ = tomato
    edit_emitter(monkeypatch)
    genome, stale = both_views(root)
    assert direct(genome) == ["rdf"] == stale
    assert genome.stale == ["rdf", "genome_graph"] == downstream_closure(stale)


@pytest.mark.filterwarnings("ignore::dagster_shared.utils.warnings.BetaWarning")
def test_automation_rebuilds_what_an_emitter_edit_made_stale_from_its_first_tick(
        tomato: tuple[Path, PipelineRun], monkeypatch: pytest.MonkeyPatch) -> None:
    """The code was edited before the daemon started: the first tick already requests the
    asset built with the old code (rdf), not the others; once rdf is rebuilt, the next tick
    requests what is downstream (genome_graph); once that is rebuilt, nothing."""
    import dagster as dg

    from gff2rdf.pipeline.definitions import JOB

    root, _ = tomato
    edit_emitter(monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defs = build_definitions(root / "catalogue.yaml", root / "store")
    instance = open_instance(root / "store-pipeline" / "dagster")

    def requested(tick: Any) -> dict[str, list[str]]:
        return {a: sorted(tick.get_requested_partitions(dg.AssetKey(a))) for a in ASSETS
                if tick.get_requested_partitions(dg.AssetKey(a))}

    try:
        tick = dg.evaluate_automation_conditions(defs, instance)
        assert requested(tick) == {"rdf": [TOMATO]}
        job = defs.resolve_job_def(JOB)
        assert job.execute_in_process(instance=instance, partition_key=TOMATO,
                                      asset_selection=[dg.AssetKey("rdf")]).success
        tick = dg.evaluate_automation_conditions(defs, instance, cursor=tick.cursor)
        assert requested(tick) == {"genome_graph": [TOMATO]}
        assert job.execute_in_process(instance=instance, partition_key=TOMATO,
                                      asset_selection=[dg.AssetKey("genome_graph")]).success
        tick = dg.evaluate_automation_conditions(defs, instance, cursor=tick.cursor)
        assert tick.total_requested == 0
    finally:
        instance.dispose()
    assert run(root, dry_run=True).genomes[0].stale == []  # the planner agrees


def test_a_new_upload_of_a_url_source_is_stale_in_the_planner_and_in_dagster(
        tmp_path: Path) -> None:
    """A remote change is seen by observing ``gff3_file`` (a HEAD request: the remote's
    Last-Modified date here), without downloading it."""
    served = tmp_path / "served"
    served.mkdir()
    remote = served / "tomato.gff3"
    shutil.copy(DATA / "tomato_ITAG2.3_test.gff3", remote)
    os.utime(remote, (1_700_000_000, 1_700_000_000))
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/tomato.gff3"
        root = make_world(tmp_path / "remote", TOMATO, **{"ITAG2.3": {"source": url}})
        first = run(root)
        assert first.ok, first.summary()
        genome, stale = both_views(root)
        assert genome.stale == [] and stale == []

        with open(remote, "a", encoding="utf-8") as out:  # a new upload
            out.write("# one more comment line\n")
        os.utime(remote, (1_700_000_100, 1_700_000_100))
        genome, stale = both_views(root)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
    assert direct(genome) == ["gff3_source"] == stale
    assert genome.stale == list(ASSETS)
    assert genome.reasons["gff3_source"] == [
        f"{SOURCE_ASSET} has a new data version (last-modified:Tue, 14 Nov 2023 22:13:20 GMT "
        "-> last-modified:Tue, 14 Nov 2023 22:15:00 GMT)"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


# dagster's own evaluate_automation_conditions uses a beta parameter of its own
@pytest.mark.filterwarnings("ignore::dagster_shared.utils.warnings.BetaWarning")
def test_automation_rebuilds_a_changed_source_and_a_new_catalogue_entry(
        tomato: tuple[Path, PipelineRun]) -> None:
    """Declarative automation, evaluated tick by tick with dagster's test utilities (no
    daemon): nothing to do when nothing changed; the sensor's observation of an edited source
    requests that genome version's four assets; so does a new catalogue entry."""
    import dagster as dg
    import yaml

    from gff2rdf.pipeline.automation import SENSOR
    from tests.pipeline.test_pipeline import ARAPORT

    root, _ = tomato

    def requested(result: Any) -> dict[str, list[str]]:
        return {a: sorted(result.get_requested_partitions(dg.AssetKey(a))) for a in ASSETS
                if result.get_requested_partitions(dg.AssetKey(a))}

    def definitions() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build_definitions(root / "catalogue.yaml", root / "store")

    defs = definitions()
    instance = open_instance(root / "store-pipeline" / "dagster")
    try:
        sensor = defs.resolve_sensor_def(SENSOR)
        tick = dg.evaluate_automation_conditions(defs, instance)
        assert tick.total_requested == 0
        assert "no local source changed" in str(sensor(dg.build_sensor_context(instance)))

        with open(root / ENTRIES[TOMATO]["source"], "a", encoding="utf-8") as out:
            out.write("# one more comment line\n")
        assert dg.evaluate_automation_conditions(defs, instance, cursor=tick.cursor
                                                 ).total_requested == 0  # not observed yet
        assert TOMATO in str(sensor(dg.build_sensor_context(instance)))
        tick = dg.evaluate_automation_conditions(defs, instance, cursor=tick.cursor)
        assert requested(tick) == {asset: [TOMATO] for asset in ASSETS}

        catalogue = yaml.safe_load((root / "catalogue.yaml").read_text())
        shutil.copy(DATA / Path(ENTRIES[ARAPORT]["source"]).name, root / "data")
        catalogue["genomes"].append(ENTRIES[ARAPORT])
        (root / "catalogue.yaml").write_text(yaml.safe_dump(catalogue, sort_keys=False))
        defs = definitions()  # the UI reloads the definitions
        assert ARAPORT in str(defs.resolve_sensor_def(SENSOR)(dg.build_sensor_context(instance)))
        tick = dg.evaluate_automation_conditions(defs, instance, cursor=tick.cursor)
        assert requested(tick) == {asset: [ARAPORT] for asset in ASSETS}
        nightly = defs.resolve_schedule_def("nightly_remote_sources")
        assert nightly.cron_schedule == "0 3 * * *"
        assert list(nightly(dg.build_schedule_context(instance))) == []  # no URL sources
    finally:
        instance.dispose()


@pytest.mark.filterwarnings("ignore::dagster_shared.utils.warnings.BetaWarning")
def test_the_ui_definitions_pick_up_a_new_catalogue_entry_without_a_reload(
        tomato: tuple[Path, PipelineRun]) -> None:
    """The UI's definitions (dynamic partitions, loaded once): the sensor's tick adds the
    partition of a new catalogue entry, which automation then requests, all four assets of it
    and nothing else; an entry dropped from the catalogue loses its partition."""
    import dagster as dg
    import yaml

    from gff2rdf.pipeline.automation import PARTITIONS, SENSOR, sync_partitions
    from tests.pipeline.test_pipeline import ARAPORT

    root, _ = tomato
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        defs = build_definitions(root / "catalogue.yaml", root / "store", dynamic=True)
    instance = open_instance(root / "store-pipeline" / "dagster")
    try:
        assert sync_partitions(instance, [TOMATO]) == ([TOMATO], [])  # as pipeline ui does
        sensor = defs.resolve_sensor_def(SENSOR)
        tick = dg.evaluate_automation_conditions(defs, instance)
        assert tick.total_requested == 0  # built by the CLI run: current in the UI too

        catalogue = yaml.safe_load((root / "catalogue.yaml").read_text())
        shutil.copy(DATA / Path(ENTRIES[ARAPORT]["source"]).name, root / "data")
        catalogue["genomes"].append(ENTRIES[ARAPORT])
        (root / "catalogue.yaml").write_text(yaml.safe_dump(catalogue, sort_keys=False))
        assert f"new: {ARAPORT}" in str(sensor(dg.build_sensor_context(instance)))
        assert sorted(instance.get_dynamic_partitions(PARTITIONS)) == sorted([TOMATO, ARAPORT])
        tick = dg.evaluate_automation_conditions(defs, instance, cursor=tick.cursor)
        assert {a: sorted(tick.get_requested_partitions(dg.AssetKey(a))) for a in ASSETS} == \
            {asset: [ARAPORT] for asset in ASSETS}

        catalogue["genomes"] = [e for e in catalogue["genomes"]
                                if e.get("annotation") != ENTRIES[TOMATO]["annotation"]]
        (root / "catalogue.yaml").write_text(yaml.safe_dump(catalogue, sort_keys=False))
        text = str(sensor(dg.build_sensor_context(instance)))
        assert f"no longer in the catalogue: {TOMATO}" in text, text
        assert instance.get_dynamic_partitions(PARTITIONS) == [ARAPORT]
    finally:
        instance.dispose()
