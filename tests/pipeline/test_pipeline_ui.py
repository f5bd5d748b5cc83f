"""The one real UI test: ``gff2rdf pipeline ui`` (dagster dev) answers on 127.0.0.1 with the
example catalogue's assets loaded.

dagster dev starts several processes and ignores SIGINT/SIGTERM when started in the background
(design.md); ``gff2rdf pipeline ui`` runs it in a process group of its own and stops the whole
tree on SIGTERM or SIGINT, which the test checks (and kills what is left with SIGKILL).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.servers import free_port

pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

from gff2rdf.pipeline.catalogue import load_catalogue

DEADLINE = 90.0  # dagster dev took about 6 s on an idle 2-core machine; CI may be busy
QUERY = "{ assetNodes { assetKey { path } partitionKeys } }"


def asset_keys(port: int) -> dict[str, list[str]]:
    """The UI's assets and the partition keys of each."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=10) as response:
        data = json.loads(response.read())
    nodes = (data.get("data") or {}).get("assetNodes") or []
    return {"/".join(n["assetKey"]["path"]): n.get("partitionKeys") or [] for n in nodes}


def tree(pid: int) -> set[int]:
    """``pid`` and every process below it (Linux /proc)."""
    found, todo = {pid}, [pid]
    while todo:
        parent = todo.pop()
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{parent}/task"):
                with contextlib.suppress(OSError), open(
                        f"/proc/{parent}/task/{task}/children", encoding="ascii") as fh:
                    kids = {int(k) for k in fh.read().split()}
                    todo.extend(kids - found)
                    found |= kids
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` that still run (zombies are not running)."""
    running = set()
    for pid in pids:
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] != "Z":
                running.add(pid)
    return running


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_dagster_ui_answers_on_loopback_with_the_catalogue_and_stops_whole(
        tmp_path: Path, stop: signal.Signals) -> None:
    port = free_port()
    script = Path(sys.executable).with_name("gff2rdf")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "gff2rdf"]
    log = (tmp_path / "ui.log").open("wb")
    process = subprocess.Popen(
        [*command, "pipeline", "ui", "--catalogue", str(ROOT / "examples" / "catalogue.yaml"),
         "--store", str(tmp_path / "store"), "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        cwd=tmp_path)
    keys: dict[str, list[str]] = {}
    try:
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and process.poll() is None:
            try:
                keys = asset_keys(port)
            except OSError:
                keys = {}
            if {"gff3_source", "rdf", "genome_graph"} <= set(keys):
                break
            time.sleep(1.0)
        started = tree(process.pid)
        assert len(started) > 2, "dagster dev runs a webserver and a code server"
        os.kill(process.pid, stop)  # the gff2rdf process, as a service manager or Ctrl-C does
        stopped = time.monotonic()
        while alive(started) and time.monotonic() - stopped < 10.0:
            time.sleep(0.2)
        left = alive(started)
        assert not left, f"still running 10 s after {stop.name}: {sorted(left)}"
        assert process.wait(timeout=5) == 128 + stop
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()
    output = (tmp_path / "ui.log").read_text(errors="replace")
    assert set(keys) == {"gff3_file", "gff3_source", "gff3_report", "rdf", "genome_graph"}, \
        output[-3000:]
    # the UI's partitions are in the instance, set from the catalogue as pipeline ui starts
    assert sorted(keys["rdf"]) == sorted(load_catalogue(ROOT / "examples" / "catalogue.yaml").keys)
    assert f"http://127.0.0.1:{port}/" in output
    assert (tmp_path / "store-pipeline" / "dagster" / "dagster.yaml").is_file()
