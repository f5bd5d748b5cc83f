"""Benchmark: gff2rdf load at whole-genome scale, against baselines measured in the same run.

What it measures (each phase in its own child process, so that peak RSS is per phase):

``byhand``  convert-then-bulk_load by hand: ``gff2rdf.conversion.api.convert`` of the tiled input to
            N-Quads (the same ``jobs`` as ``load``), then ``pyoxigraph.Store.bulk_load`` of that
            file into a fresh on-disk store and ``flush()``;
``floor``   the floor of loading alone: ``bulk_load`` of the same N-Quads file into a fresh
            store, nothing else;
``e2e``     ``gff2rdf load`` end to end through the library (``GenomeStore.open`` on a fresh
            store, ``load``, close): hashing, conversion to a temporary N-Quads file, bulk load
            into the build graph, the pointer flip and ``flush()``. Its loading part is its
            total minus the conversion time that ``load`` reports. It runs with
            ``index=False``, as the baselines build no bin index; the index is then built
            (``write_index``, in pieces, as ``load`` does by default before the flip) and
            timed on its own. The peak memory covers both: it is that of the default
            ``gff2rdf load``; the report also gives the peak of each part.

The input is the tiled NCBI RefSeq TAIR10 chromosome 1 that ``bench/convert.py`` builds into
``bench/out/`` (reused when already built). Stores and the N-Quads file go to ``bench/out/``
and are deleted after the run. Targets: end to end within 1.3x of convert-then-bulk_load by
hand; loading alone within 1.15x of the bulk_load floor; peak memory under 2 GB (the phase
process and its conversion workers, sampled together).

It prints the figures, ratios and PASS / MISS, and exits 0 either way: a report, not a test.

Run it:
    .venv/bin/python bench/load.py                 # about 1 M lines (10-20 minutes)
    .venv/bin/python bench/load.py --lines 300000
    .venv/bin/python bench/load.py --quick         # 100k lines
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import bench_convert
from common import cpu_seconds as _cpu

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"

TARGET_E2E_OVER_BYHAND = 1.3
TARGET_LOAD_OVER_FLOOR = 1.15
TARGET_PEAK_MB = 2000.0




def _genome() -> dict[str, str]:
    b = bench_convert()
    return dict(species=b.SPECIES, taxon=b.TAXON, assembly=b.ASSEMBLY, annotation=b.ANNOTATION)


def _peaks() -> dict[str, float]:
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6
    return {"peak_rss_mb": me, "peak_child_rss_mb": children, "peak_total_mb": me + children}


def _du(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


# -- the phases (run in child processes) --------------------------------------------------------


def phase_byhand(source: str, work: Path) -> dict[str, Any]:
    import pyoxigraph as ox

    from gff2rdf.conversion.api import convert
    from gff2rdf.mapping.schema import compile_mapping
    from gff2rdf.settings import jobs

    mapping = compile_mapping()
    nq, store_dir = work / "byhand.nq", work / "store-byhand"
    started, cpu0 = time.perf_counter(), _cpu()
    result = convert(source, nq, fmt="nq", mapping=mapping, jobs=jobs(), **_genome())
    converted, cpu1 = time.perf_counter(), _cpu()
    store = ox.Store(str(store_dir))
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    store.flush()
    done, cpu2 = time.perf_counter(), _cpu()
    del store
    size = _du(store_dir)
    shutil.rmtree(store_dir)
    return {"seconds": done - started, "convert_s": converted - started,
            "load_s": done - converted, "cpu_s": cpu2 - cpu0, "convert_cpu_s": cpu1 - cpu0,
            "load_cpu_s": cpu2 - cpu1, "triples": result.triples, "lines": result.lines,
            "nq_mb": nq.stat().st_size / 1e6, "store_mb": size, "jobs": jobs()}


def phase_floor(source: str, work: Path) -> dict[str, Any]:
    import pyoxigraph as ox

    nq, store_dir = work / "byhand.nq", work / "store-floor"
    started, cpu0 = time.perf_counter(), _cpu()
    store = ox.Store(str(store_dir))
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    store.flush()
    done, cpu1 = time.perf_counter(), _cpu()
    del store
    shutil.rmtree(store_dir)
    return {"seconds": done - started, "load_s": done - started, "cpu_s": cpu1 - cpu0,
            "load_cpu_s": cpu1 - cpu0}


def phase_e2e(source: str, work: Path) -> dict[str, Any]:
    import gff2rdf.store.store
    from gff2rdf.mapping.schema import compile_mapping
    from gff2rdf.settings import jobs
    from gff2rdf.store.store import GenomeStore

    real_convert = gff2rdf.store.store.convert

    def timed_convert(*args: Any, **kwargs: Any) -> Any:
        # the conversion inside load, which runs it in a forked child (gff2rdf.files.forked): the
        # clock travels back with the result
        wall, cpu = time.perf_counter(), _cpu()
        result = real_convert(*args, **kwargs)
        result.bench_clock = {"wall": time.perf_counter() - wall, "cpu": _cpu() - cpu}
        return result

    gff2rdf.store.store.convert = timed_convert  # type: ignore[assignment]
    mapping = compile_mapping()  # start-up, as the imports: outside the clock in every phase
    store_dir = work / "store-e2e"
    started, cpu0 = time.perf_counter(), _cpu()
    _stage(work, "load")
    with GenomeStore.open(store_dir) as store:
        # like for like with the baselines, which build no bin index: it is timed on its own,
        # as load builds it by default (in pieces, before the flip)
        result = store.load(source, mapping=mapping, jobs=jobs(), index=False, **_genome())
        _stage(work, "index")
        index_wall, index_cpu = time.perf_counter(), _cpu()
        from gff2rdf.store.binindex import write_index
        from gff2rdf.store.metadata import genome_path

        indexed = write_index(store, result.build, genome_path(result.genome), atomic=False)
        index_wall, index_cpu = time.perf_counter() - index_wall, _cpu() - index_cpu
    done, cpu1 = time.perf_counter() - index_wall, _cpu() - index_cpu
    converting = result.conversion.bench_clock  # type: ignore[union-attr]
    size = _du(store_dir)
    shutil.rmtree(store_dir)
    return {"seconds": done - started, "convert_s": converting["wall"],
            "load_s": done - started - converting["wall"], "cpu_s": cpu1 - cpu0,
            "convert_cpu_s": converting["cpu"], "load_cpu_s": cpu1 - cpu0 - converting["cpu"],
            "triples": result.triples, "status": result.status, "store_mb": size,
            "index_s": index_wall, "index_cpu_s": index_cpu,
            "indexed_features": indexed["features"]}


PHASES = {"byhand": phase_byhand, "floor": phase_floor, "e2e": phase_e2e}
TITLES = {"byhand": "convert, then bulk_load by hand", "floor": "bulk_load alone (the floor)",
          "e2e": "gff2rdf load, end to end"}


def _stage(work: Path, name: str) -> None:
    """Tell the sampling parent which part of the phase runs now (peaks are kept per part)."""
    (work / "stage").write_text(name)


def _tree_rss_mb(root: int) -> float:
    """The resident memory of a process and all its descendants now (Linux /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            parents[int(entry)] = int(fields[1])
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            continue
    tree, todo = set(), [root]
    while todo:
        pid = todo.pop()
        tree.add(pid)
        todo.extend(p for p, parent in parents.items() if parent == pid and p not in tree)
    return sum(rss.get(p, 0) for p in tree) / 1e6


def _child(name: str, source: str, work: Path) -> dict[str, Any]:
    """Run a phase in a child process; sample the memory of its process tree meanwhile."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", name, "--input", source,
           "--work", str(work)]
    print(f"running {TITLES[name]} ...", file=sys.stderr, flush=True)
    stage_file = work / "stage"
    stage_file.unlink(missing_ok=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peak = 0.0
    stages: dict[str, float] = {}
    while proc.poll() is None:
        rss = _tree_rss_mb(proc.pid)
        try:
            stage = stage_file.read_text() or "phase"
        except OSError:
            stage = "phase"
        stages[stage] = max(stages.get(stage, 0.0), rss)
        peak = max(peak, rss)
        time.sleep(0.25)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        print(f"  failed with exit code {proc.returncode}", file=sys.stderr)
        return {"error": f"exit code {proc.returncode}"}
    figures: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    figures["peak_tree_mb"] = peak
    figures["peak_tree_mb_by_stage"] = stages
    figures["load_average_after"] = os.getloadavg()[1]  # over the last 5 minutes
    print(f"  {figures['seconds']:.1f} s, peak memory {peak:,.0f} MB (sampled, process tree)",
          file=sys.stderr, flush=True)
    return figures


def _verdict(measured: float | None, bound: float) -> str:
    if measured is None:
        return "n/a"
    return "PASS" if measured <= bound else "MISS"


def _ratio(a: dict[str, Any], b: dict[str, Any], key_a: str, key_b: str) -> float | None:
    if key_a in a and b.get(key_b):
        return float(a[key_a]) / float(b[key_b])
    return None


def report(inp: Any, r: dict[str, dict[str, Any]], load: float) -> str:
    byhand, floor, e2e = r.get("byhand", {}), r.get("floor", {}), r.get("e2e", {})
    lines = [f"input: {inp.path} ({inp.lines:,} lines, {inp.bytes / 1e6:,.0f} MB), "
             f"{byhand.get('triples', 0):,} triples, jobs={byhand.get('jobs', '?')}, "
             f"load average before {load:.2f} on {os.cpu_count()} cores", ""]
    lines.append(f"{'phase':34} {'wall s':>8} {'convert':>8} {'load':>8}   {'cpu s':>8} "
                 f"{'convert':>8} {'load':>8}  {'peak MB':>8} {'loadavg':>7}")
    for name in ("byhand", "floor", "e2e"):
        f = r.get(name, {})
        if "seconds" not in f:
            lines.append(f"{TITLES[name]:34} {'failed':>8}")
            continue

        def cell(key: str, f: dict[str, Any] = f) -> str:
            return f"{f[key]:.1f}" if key in f else "-"

        lines.append(f"{TITLES[name]:34} {cell('seconds'):>8} {cell('convert_s'):>8} "
                     f"{cell('load_s'):>8}   {cell('cpu_s'):>8} {cell('convert_cpu_s'):>8} "
                     f"{cell('load_cpu_s'):>8}  {f['peak_tree_mb']:8,.0f} "
                     f"{f.get('load_average_after', 0):7.2f}")
    lines.append("(peak MB: the phase's process tree, sampled every 0.25 s; loadavg: the "
                 "machine's 5-minute load average as the phase ended; on a shared machine the "
                 "CPU-second ratios are the steadier ones)")
    if "triples" in e2e and e2e.get("load_s") and floor.get("load_s"):
        lines.append(f"\nload rate: e2e {e2e['triples'] / e2e['load_s']:,.0f} triples/s, "
                     f"floor {e2e['triples'] / floor['load_s']:,.0f} triples/s; "
                     f"store {e2e.get('store_mb', 0):,.0f} MB on disk")
    stages = e2e.get("peak_tree_mb_by_stage", {})
    if "index_s" in e2e:
        lines.append(f"bin index (gff2rdf load's default, not in the time ratios below): "
                     f"{e2e['indexed_features']:,} features in {e2e['index_s']:.1f} s "
                     f"({e2e['index_cpu_s']:.1f} CPU s), peak memory "
                     f"{stages.get('index', 0):,.0f} MB; the load before it "
                     f"{stages.get('load', 0):,.0f} MB")
    peak = e2e.get("peak_tree_mb")
    lines += ["", f"{'target':54} {'wall':>7} {'cpu':>7} {'bound':>7}  verdict (wall)"]
    for name, wall, cpu, bound in [
        ("end to end / convert-then-bulk_load by hand", _ratio(e2e, byhand, "seconds", "seconds"),
         _ratio(e2e, byhand, "cpu_s", "cpu_s"), TARGET_E2E_OVER_BYHAND),
        ("loading alone / bulk_load floor", _ratio(e2e, floor, "load_s", "load_s"),
         _ratio(e2e, floor, "load_cpu_s", "load_cpu_s"), TARGET_LOAD_OVER_FLOOR),
    ]:
        shown = ["n/a" if v is None else f"{v:.2f}x" for v in (wall, cpu)]
        lines.append(f"{name:54} {shown[0]:>7} {shown[1]:>7} {bound:6.2f}x  "
                     f"{_verdict(wall, bound)}")
    shown_peak = "n/a" if peak is None else f"{peak:,.0f}"
    lines.append(f"{'peak memory of gff2rdf load (MB)':54} {shown_peak:>7} {'':>7} "
                 f"{TARGET_PEAK_MB:7,.0f}  {_verdict(peak, TARGET_PEAK_MB)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark gff2rdf load on a tiled genome.")
    parser.add_argument("--lines", type=int, default=1_000_000,
                        help="size of the tiled input in lines (default 1,000,000)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: --lines 100000")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        figures = PHASES[args.phase](args.input, Path(args.work))
        print(json.dumps({"phase": args.phase, **figures, **_peaks()}))
        return 0
    bench = bench_convert()
    if not bench.SOURCE.exists():
        print(f"bench skipped: the source annotation {bench.SOURCE} is absent")
        return 0
    inp = bench.build_input(bench.SOURCE, 100_000 if args.quick else args.lines)
    work = OUT / "load-work"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    load = os.getloadavg()[0]
    try:
        results = {name: _child(name, inp.path, work) for name in ("byhand", "floor", "e2e")}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report(inp, results, load))
    if args.json:
        Path(args.json).write_text(json.dumps({"input": vars(inp), "phases": results,
                                               "load_average_before": load}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
