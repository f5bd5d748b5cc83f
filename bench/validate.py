"""Benchmark: SHACL validation of a whole genome, against converting it and against pySHACL.

What it measures (each phase in its own child process, so that peak RSS is per phase):

``convert``     ``gff2rdf.conversion.api.convert`` of the large input (about 1 M GFF3 lines) to
                N-Triples: the yardstick, and the input of ``validate``;
``validate``    ``gff2rdf.shacl.validate.validate_rdf`` of that N-Triples file, as ``gff2rdf
                validate`` runs it: the streaming proof (``gff2rdf.shacl.proof``, one
                process per core), which hands over to the exact engine if it cannot prove
                conformance;
``exact``       the exact engine alone on the same file (``gff2rdf.shacl.chunked``: the
                shapes compiled to SPARQL, run in bounded chunks in in-memory Oxigraph
                stores), which is what ``validate`` costs on data that does not conform;
``slice``       the same on a 100k-line slice (converted in the phase, not timed);
``pyshacl``     the baseline on the same slice: rdflib parses the N-Triples into one Graph and
                pySHACL validates it whole (``gff2rdf.shacl.shapes.pyshacl_validate``, which lets
                rdflib
                parse each SPARQL constraint once instead of once per focus node, about 10x
                faster than pySHACL as shipped); it also checks that both engines report the
                same violations.

The large input is the tiled TAIR10 chr1 annotation that ``bench/convert.py`` builds in
``bench/out/`` (reused when present). Targets (2-core machine): validating the large input
takes no longer than converting it, with peak memory under 2 GB.

Run it:
    .venv/bin/python bench/validate.py                 # 1 M lines, pySHACL on 100k lines
    .venv/bin/python bench/validate.py --quick         # 100k lines, pySHACL on 20k lines
    .venv/bin/python bench/validate.py --json bench/out/validate.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import bench_convert
from common import cpu_seconds as _cpu

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
FULL_LINES = 1_000_000
SLICE_LINES = 100_000
TARGET_PEAK_MB = 2000.0
META = {"species": "Arabidopsis thaliana", "taxon": "3702", "assembly": "TAIR10.1",
        "annotation": "bench"}




# -- the phases (child processes) ---------------------------------------------------------------


def phase_convert(gff3: str, nt: str) -> dict[str, Any]:
    """The yardstick: converting as ``gff2rdf convert`` does by default (the ``jobs``
    setting, one process per core)."""
    from gff2rdf.conversion.api import convert
    from gff2rdf.settings import jobs

    started, cpu = time.perf_counter(), _cpu()
    result = convert(gff3, nt, fmt="nt", jobs=jobs(), **META)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu,
            "lines": result.lines, "triples": result.triples,
            "output_bytes": os.path.getsize(nt)}


def phase_validate(gff3: str, nt: str) -> dict[str, Any]:
    from gff2rdf.shacl.shapes import shapes_version
    from gff2rdf.shacl.validate import validate_rdf

    shapes_version()  # shapes and LinkML-free start-up outside the clock
    started, cpu = time.perf_counter(), _cpu()
    report = validate_rdf(nt)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu,
            "triples": report.triples, "violations": report.total, "engine": report.engine,
            "notes": report.notes, "workers": _workers_peak()}


def phase_exact(gff3: str, nt: str) -> dict[str, Any]:
    from gff2rdf.shacl.chunked import validate_lines
    from gff2rdf.shacl.shapes import shapes_version

    shapes_version()
    started, cpu = time.perf_counter(), _cpu()
    report = validate_lines(nt)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu,
            "triples": report.triples, "violations": report.total, "engine": report.engine}


def _workers_peak() -> dict[str, float]:
    """The proof's worker processes run at once: their peak is at most their number times
    the largest one's (``ru_maxrss`` of the children)."""
    from gff2rdf.settings import jobs

    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
    return {"count": jobs() if largest else 0, "largest_mb": largest}


def phase_slice(gff3: str, nt: str) -> dict[str, Any]:
    from gff2rdf.conversion.api import convert
    from gff2rdf.shacl.validate import validate_rdf

    if not os.path.exists(nt):
        convert(gff3, nt, fmt="nt", **META)
    started, cpu = time.perf_counter(), _cpu()
    report = validate_rdf(nt)
    keys = sorted("\t".join(k) for k in report.violation_keys())
    Path(nt + ".fast-keys").write_text("\n".join(keys), "utf-8")
    return {"seconds": time.perf_counter() - started, "cpu_seconds": _cpu() - cpu,
            "triples": report.triples, "violations": report.total, "engine": report.engine}


def phase_pyshacl(gff3: str, nt: str) -> dict[str, Any]:
    import rdflib

    from gff2rdf.shacl.shapes import load_shapes, pyshacl_validate

    shapes = load_shapes()
    started, cpu = time.perf_counter(), _cpu()
    graph = rdflib.Graph()
    graph.parse(nt, format="nt")
    parsed = time.perf_counter() - started
    report = pyshacl_validate(graph, shapes, source=nt)
    seconds = time.perf_counter() - started
    keys = sorted("\t".join(k) for k in report.violation_keys())
    fast = Path(nt + ".fast-keys")
    agree = fast.exists() and fast.read_text("utf-8").split("\n") == (keys or [""])
    return {"seconds": seconds, "cpu_seconds": _cpu() - cpu, "parse_seconds": parsed,
            "triples": len(graph), "violations": report.total, "same_violations": agree}


PHASES = {"convert": phase_convert, "validate": phase_validate, "exact": phase_exact,
          "slice": phase_slice, "pyshacl": phase_pyshacl}


def run_phase(name: str, gff3: str, nt: str) -> dict[str, Any]:
    figures = PHASES[name](gff3, nt)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    workers = figures.get("workers")
    if workers:  # this process and its workers, at most
        peak += workers["count"] * workers["largest_mb"]
    return {"phase": name, "peak_rss_mb": peak, **figures}


# -- the parent -------------------------------------------------------------------------------


def _child(name: str, gff3: str, nt: str) -> dict[str, Any]:
    print(f"running {name} on {Path(gff3).name} ...", file=sys.stderr, flush=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--gff3", gff3,
           "--nt", nt]
    load = os.getloadavg()[0]
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0:
        print(f"  {name} failed with exit code {proc.returncode}", file=sys.stderr)
        return {"phase": name, "error": proc.returncode}
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["load_average_before"] = load
    print(f"  {figures['seconds']:.1f} s wall, {figures['cpu_seconds']:.1f} s CPU, "
          f"peak RSS {figures['peak_rss_mb']:,.0f} MB", file=sys.stderr, flush=True)
    return figures


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(c.rjust(w) if i else c.ljust(w)
                             for i, (c, w) in enumerate(zip(row, widths, strict=True))))
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def report(results: dict[str, dict[str, Any]], big: Any, small: Any) -> str:
    rows = [["phase", "input lines", "triples", "wall s", "CPU s", "triples/s (wall)",
             "peak RSS MB"]]
    for name, lines in (("convert", big.lines), ("validate", big.lines),
                        ("exact", big.lines), ("slice", small.lines), ("pyshacl", small.lines)):
        r = results.get(name, {})
        if "seconds" not in r:
            rows.append([name, f"{lines:,}", "failed", "", "", "", ""])
            continue
        rows.append([name, f"{lines:,}", f"{r['triples']:,}", f"{r['seconds']:.1f}",
                     f"{r['cpu_seconds']:.1f}", f"{r['triples'] / r['seconds']:,.0f}",
                     f"{r['peak_rss_mb']:,.0f}"])
    conv, val = results.get("convert", {}), results.get("validate", {})
    fast, base = results.get("slice", {}), results.get("pyshacl", {})
    lines = [f"gff2rdf validate benchmark: {big.lines:,}-line input, pySHACL baseline on a "
             f"{small.lines:,}-line slice; Python {platform.python_version()}, "
             f"{os.cpu_count()} CPUs", "", _table(rows), ""]
    if "seconds" in conv and "seconds" in val:
        ratio = val["seconds"] / conv["seconds"]
        cpu = val["cpu_seconds"] / conv["cpu_seconds"]
        verdict = "PASS" if ratio <= 1.0 else "MISS"
        lines.append(f"validate / convert time: {ratio:.2f}x wall, {cpu:.2f}x CPU "
                     f"(target <= 1.00x wall): {verdict}")
        peak = val["peak_rss_mb"]
        lines.append(f"validate peak RSS: {peak:,.0f} MB (target < {TARGET_PEAK_MB:,.0f} MB): "
                     f"{'PASS' if peak < TARGET_PEAK_MB else 'MISS'}")
        lines.append(f"validate verdict: {val['violations']:,} violation(s), {val['engine']}")
    exact = results.get("exact", {})
    if "seconds" in exact and "seconds" in val:
        lines.append(f"the exact engine alone: {exact['seconds']:.1f} s "
                     f"({exact['seconds'] / val['seconds']:.1f}x the proof), "
                     f"{exact['violations']:,} violation(s)")
    if "seconds" in fast and "seconds" in base:
        speed = (fast["triples"] / fast["seconds"]) / (base["triples"] / base["seconds"])
        lines.append(f"on the slice: gff2rdf {fast['seconds']:.1f} s vs pySHACL "
                     f"{base['seconds']:.1f} s ({base['parse_seconds']:.1f} s of it rdflib "
                     f"parsing): {speed:.0f}x faster; same violations: "
                     f"{'yes' if base['same_violations'] else 'NO'} "
                     f"({base['violations']:,} each)")
    loads = [f"{r.get('load_average_before', 0):.1f}" for r in results.values()]
    lines.append("1-minute load average before each phase: " + ", ".join(loads)
                 + " (other work on the machine skews wall times; compare CPU too)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=FULL_LINES)
    parser.add_argument("--baseline-lines", type=int, default=SLICE_LINES,
                        help="size of the slice pySHACL validates (default %(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="100k-line input, pySHACL on 20k lines")
    parser.add_argument("--json", metavar="FILE")
    parser.add_argument("--keep-output", action="store_true",
                        help="keep the N-Triples files in bench/out (about 4 GB at full size)")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--gff3", help=argparse.SUPPRESS)
    parser.add_argument("--nt", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.gff3, args.nt)))
        return 0
    bench = bench_convert()
    if not bench.SOURCE.exists():
        print(f"bench skipped: {bench.SOURCE} is absent (the shared data directory holds it)")
        return 0
    lines = SLICE_LINES if args.quick else args.lines
    baseline = 20_000 if args.quick else args.baseline_lines
    big = bench.build_input(bench.SOURCE, lines)
    small = bench.build_input(bench.SOURCE, baseline)
    big_nt = str(OUT / f"validate-{lines}.nt")
    small_nt = str(OUT / f"validate-slice-{baseline}.nt")
    results: dict[str, dict[str, Any]] = {}
    try:
        results["convert"] = _child("convert", big.path, big_nt)
        if "error" not in results["convert"]:
            results["validate"] = _child("validate", big.path, big_nt)
            results["exact"] = _child("exact", big.path, big_nt)
        results["slice"] = _child("slice", small.path, small_nt)
        results["pyshacl"] = _child("pyshacl", small.path, small_nt)
    finally:
        if not args.keep_output:
            for leftover in (big_nt, small_nt, small_nt + ".fast-keys"):
                Path(leftover).unlink(missing_ok=True)
    text = report(results, big, small)
    print(text)
    if args.json:
        Path(args.json).write_text(json.dumps({"phases": results, "input_lines": big.lines,
                                               "slice_lines": small.lines}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
