"""Benchmark: gff2rdf export at whole-genome scale, against its two baselines in the same run.

The targets of issue 17 (2-core machine, 1 M-line genome):

* export from an N-Triples file within 2x the time of converting the genome to it
  (``convert`` -> ``export-nt``);
* export from the store within 2x the time of a plain dump of its graph
  (``dump`` -> ``export-store``).

Phases, each in its own child process (``--phase NAME``) so that peak memory is its own:

``convert``       ``gff2rdf.conversion.api.convert`` of the tiled input to N-Triples (its default
                  jobs: one process per core), the first baseline;
``export-nt``     ``gff2rdf.export.api.export`` of that file to GFF3;
``load``          ``GenomeStore.load`` of that file (no bin index): set-up, reported only
                  (with ``--keep-output`` the store stays, and a later run finds it current);
``dump``          ``GenomeStore.dump`` of the genome version to N-Triples, the second baseline;
``export-store``  ``export`` of the genome version from the store to GFF3.

With ``--repeat N`` each pair (a baseline, then its export) runs N times, alternating, so that
each ratio compares two runs close in time; the report gives every ratio and their spread. The
input is ``bench/convert.py``'s tiled genome (see bench/README.md), reused when built; outputs
go to ``bench/out/`` and are deleted unless ``--keep-output``. It exits 0 whether or not the
targets are met: it is a report, not a test.

Run it:
    .venv/bin/python bench/export.py                 # 1 M lines
    .venv/bin/python bench/export.py --quick         # 100k lines
    .venv/bin/python bench/export.py --repeat 3 --json bench/out/export.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from common import bench_convert

bc = bench_convert()
ROOT, OUT = bc.ROOT, bc.OUT
GENOME = f"arabidopsis_thaliana/{bc.ASSEMBLY}/{bc.ANNOTATION}"
TARGET = 2.0
PAIRS = (("convert", "export-nt"), ("dump", "export-store"))


def _paths(lines: int) -> dict[str, Path]:
    stem = OUT / f"export-{lines}"
    return {"nt": stem.with_suffix(".nt"), "store": Path(f"{stem}-store"),
            "dump": Path(f"{stem}-dump.nt")}


def _gff3(paths: dict[str, Path], phase: str) -> Path:
    return paths["nt"].with_name(f"{paths['nt'].stem}-{phase}.gff3")


def run_phase(name: str, source: str, lines: int) -> dict[str, Any]:
    """One phase in this process: its figures and peak memory (worker processes included)."""
    paths = _paths(lines)
    memory = bc._TreeMemory()
    clock = bc._Clock()
    figures: dict[str, Any] = {}
    if name == "convert":
        from gff2rdf.conversion.api import convert

        result = convert(source, paths["nt"], fmt="nt", species=bc.SPECIES, taxon=bc.TAXON,
                         assembly=bc.ASSEMBLY, annotation=bc.ANNOTATION)
        figures = {"triples": result.triples, "features": result.features,
                   "bytes": paths["nt"].stat().st_size}
    elif name in ("export-nt", "export-store"):
        from gff2rdf.export.api import FileSource, StoreSource, export

        src = FileSource(str(paths["nt"])) if name == "export-nt" else \
            StoreSource(str(paths["store"]), GENOME)
        done = export(src, _gff3(paths, name))
        figures = {"features": done.features, "lines": done.lines, "groups": done.groups,
                   "bytes": _gff3(paths, name).stat().st_size}
    elif name == "load":
        from gff2rdf.store.store import GenomeStore

        with GenomeStore.open(paths["store"]) as store:  # a store kept (--keep-output) with
            loaded = store.load(paths["nt"], index=False)  # this genome current: unchanged
        figures = {"triples": loaded.triples, "status": loaded.status}
    elif name == "dump":
        from gff2rdf.store.store import GenomeStore

        with GenomeStore.open(paths["store"], create=False, collect=False) as store:
            dumped = store.dump(GENOME, paths["dump"])
        figures = {"bytes": dumped.bytes}
    else:
        raise SystemExit(f"unknown phase {name}")
    figures.update(clock.read())
    memory.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    figures["peak_rss_mb"] = max(peak, memory.peak_bytes) / 1e6
    return {"phase": name, **figures}


def _child(name: str, source: str, lines: int) -> dict[str, Any]:
    bc._note(f"running {name} ...")
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--phase", name,
                           "--input", source, "--lines", str(lines)],
                          cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"phase {name} failed with exit code {proc.returncode}")
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["load_after"] = os.getloadavg()[0]
    bc._note(f"  {figures['seconds']:.1f} s ({figures['cpu_seconds']:.1f} CPU s), peak "
             f"{figures['peak_rss_mb']:,.0f} MB, load {figures['load_after']:.1f}")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=bc.FULL_LINES)
    parser.add_argument("--quick", action="store_true", help="100k lines")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each pair")
    parser.add_argument("--json", help="write the figures here")
    parser.add_argument("--keep-output", action="store_true")
    parser.add_argument("--only", choices=["nt", "store"],
                        help="run one pair: convert / export-nt, or dump / export-store")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    args = parser.parse_args()
    lines = bc.SLICE_LINES if args.quick else args.lines
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.input, lines)))
        return
    if not bc.SOURCE.exists():
        print(f"bench/export.py: the source annotation {bc.SOURCE} is missing (../shared); "
              "nothing to measure")
        return
    source = bc.build_input(bc.SOURCE, lines)
    paths = _paths(lines)
    load_before = os.getloadavg()[0]
    code = bc.CodeState.now()
    runs: list[dict[str, Any]] = []
    try:
        pairs = [p for p in PAIRS if not args.only or p[1] == f"export-{args.only}"]
        if args.only == "store" and not paths["nt"].exists():
            runs.append(_child("convert", source.path, lines))  # the file the store loads
        for n in range(args.repeat):
            for baseline, phase in pairs:
                if baseline == "dump" and n == 0:
                    runs.append(_child("load", source.path, lines))
                for name in (baseline, phase):
                    runs.append({**_child(name, source.path, lines), "round": n})
                    paths["dump"].unlink(missing_ok=True)
                    if not args.keep_output:
                        for phase_name in ("export-nt", "export-store"):
                            _gff3(paths, phase_name).unlink(missing_ok=True)
    finally:
        if not args.keep_output:
            paths["nt"].unlink(missing_ok=True)
            shutil.rmtree(paths["store"], ignore_errors=True)
    report = _report(source, runs, load_before, code)
    print(report["text"])
    if args.json:
        Path(args.json).write_text(json.dumps({"runs": runs, "ratios": report["ratios"],
                                               "input": vars(source)}, indent=2) + "\n")


def _report(source: Any, runs: list[dict[str, Any]], load_before: float,
            code: Any) -> dict[str, Any]:
    rows = [["phase", "round", "seconds", "CPU s", "peak MB", "load after", "what"]]
    for r in runs:
        what = (f"{r['triples']:,} triples" if "triples" in r else
                f"{r['features']:,} features, {r['lines']:,} lines" if "lines" in r else
                f"{r.get('bytes', 0) / 1e6:,.0f} MB")
        rows.append([r["phase"], str(r.get("round", "-")), f"{r['seconds']:.1f}",
                     f"{r['cpu_seconds']:.1f}", f"{r['peak_rss_mb']:,.0f}",
                     f"{r['load_after']:.1f}", what])
    ratios: dict[str, list[float]] = {}
    target_rows = [["export / its baseline", "ratios (wall)", "median", "target", "result"]]
    for baseline, phase in PAIRS:
        pairs = [(b, p) for b in runs for p in runs if b["phase"] == baseline and
                 p["phase"] == phase and "round" in b and b.get("round") == p.get("round")]
        if not pairs:
            continue
        values = [p["seconds"] / b["seconds"] for b, p in pairs]
        ratios[phase] = values
        median = statistics.median(values)
        target_rows.append([f"{phase} / {baseline}", ", ".join(f"{v:.2f}x" for v in values),
                            f"{median:.2f}x", f"<= {TARGET:.1f}x",
                            "PASS" if median <= TARGET else "MISS"])
    head = (f"gff2rdf export benchmark: {source.lines:,}-line tiled input "
            f"({Path(source.source).name}, {source.tiles} tiles)\n{code.describe()}\n"
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; 1-minute load average "
            f"{load_before:.2f} before the phases (a phase itself counts about 1)")
    text = "\n\n".join([head, bc._table(rows, {2, 3, 4, 5}), bc._table(target_rows, set())])
    return {"text": text, "ratios": ratios}


if __name__ == "__main__":
    main()
