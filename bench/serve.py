"""Benchmark: gff2rdf serve against the Oxigraph server and in-process pyoxigraph, one run.

The store holds one tiled genome (NCBI RefSeq TAIR10 chromosome 1, tiled by
``bench/convert.py``'s builder, loaded with ``GenomeStore.load`` and given its bin index), at
least 100k GFF3 lines. The same store is served, one after the other in the same run, by

``gff2rdf``    ``gff2rdf serve --port 0`` (a subprocess, its default worker pool and lanes);
``oxigraph``   the Oxigraph server, ``oxigraph serve-read-only`` (the ``oxigraph`` package);

and queried in this process by ``floor``: pyoxigraph ``Store.read_only``, each result serialised
to SPARQL JSON by pyoxigraph: what any endpoint must do.

Queries (a different gene or window each time, chosen with a fixed seed):

``ask``      ``ASK {}``: the endpoint's own cost;
``select``   200 rows of ``?s ?p ?o``: the cost of sending a result;
``gene``     a gene by its ID through the genome's current-build pointer (light);
``region``   the features overlapping a 20 kb window through the bin index (heavy: 0.1-0.6 s).

Both servers run at once and are measured in turns, so that both see the same machine (other
work on it comes and goes): one client sends each query to the floor, the Oxigraph server and
gff2rdf in turn (p50 / p99, and the overhead over the floor at p50: target within 1.5x of the
Oxigraph server's); then ``--clients`` clients of gene lookups at once (requests/s), and the
mixed load: ``--heavy`` clients sending region queries and the other clients gene lookups and
``ASK``, each phase in ``--slices`` slices that alternate between the servers (light p50
target: under 20 ms). Every figure is printed with its ratio to the Oxigraph server's, the
1-minute load average at the start and end of each run, and with ``--repeat`` the spread over
the runs. It exits 0 whether or not the targets are met: a report, not a test.

The store goes to ``bench/out/serve-store-{lines}`` and is reused while the input is the same.

Run it:
    .venv/bin/python bench/serve.py                      # 100k lines (the store built once)
    .venv/bin/python bench/serve.py --repeat 3 --json bench/out/serve.json
    .venv/bin/python bench/serve.py --lines 1000000      # the 1 M-line store (slow to build)
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import bench_convert

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
TARGET_OVERHEAD_RATIO = 1.5   # our overhead over the floor, against the Oxigraph server's
TARGET_LIGHT_P50_MS = 20.0    # light queries under the mixed load

PREFIXES = """PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX faldo: <http://biohackathon.org/resource/faldo#>
PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>
"""
ASK = "ASK {}"
SELECT_200 = "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 200"


def build_store(lines: int) -> tuple[Path, dict[str, Any]]:
    """The store of the tiled input of ``lines`` lines, with its bin index, built once."""
    bc = bench_convert()
    if not bc.SOURCE.exists():
        raise SystemExit(f"no source annotation at {bc.SOURCE} (../shared absent): nothing to do")
    inp = bc.build_input(bc.SOURCE, lines)
    store = OUT / f"serve-store-{lines}"
    sidecar = store.with_suffix(".json")
    if store.exists() and sidecar.exists():
        info = json.loads(sidecar.read_text("utf-8"))
        if info.get("input_bytes") == inp.bytes and info.get("bin_index"):
            return store, info
    shutil.rmtree(store, ignore_errors=True)
    from gff2rdf.settings import jobs
    from gff2rdf.store.binindex import build_index
    from gff2rdf.store.store import GenomeStore

    print(f"loading {inp.lines:,} lines into {store.relative_to(ROOT)} (once) ...",
          file=sys.stderr)
    started = time.perf_counter()
    with GenomeStore.open(store) as genome_store:
        result = genome_store.load(inp.path, species=bc.SPECIES, taxon=bc.TAXON,
                                   assembly=bc.ASSEMBLY, annotation=bc.ANNOTATION, jobs=jobs())
        print(build_index(genome_store, result.genome).summary(), file=sys.stderr)
    info = {"input_bytes": inp.bytes, "lines": inp.lines, "tiles": inp.tiles,
            "genome": result.genome, "triples": result.triples, "bin_index": True,
            "load_s": round(time.perf_counter() - started, 1)}
    sidecar.write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    return store, info


def gene_query(genome: str, gene_id: str) -> str:
    return PREFIXES + f"""SELECT ?feature ?p ?o WHERE {{
  GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
  GRAPH ?g {{ ?feature dcterms:identifier {json.dumps(gene_id)} ; ?p ?o }}
}}"""


def region_query(genome: str, seq: str, start: int, end: int) -> str:
    """Features overlapping a window, through the bin index (``gff2rdf.store.binindex``)."""
    return PREFIXES + f"""SELECT ?feature ?start ?end WHERE {{
  GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
  GRAPH ?bins {{
    ?bins g2r:indexOf ?g .
    ?bin g2r:onSequence <{seq}> ; g2r:binStart ?bs ; g2r:binEnd ?be .
    FILTER(?bs <= {end} && ?be >= {start})
    ?feature g2r:inBin ?bin ; g2r:start ?start ; g2r:end ?end .
    FILTER(?start <= {end} && ?end >= {start})
  }}
}}"""


def workload(store: Path, info: dict[str, Any], count: int) -> dict[str, list[str]]:
    """``count`` queries of each kind, different genes and windows, with a fixed seed."""
    import pyoxigraph as ox

    genome = info["genome"]
    db = ox.Store.read_only(str(store))
    ids = [str(r["id"].value) for r in db.query(PREFIXES + f"""SELECT ?id WHERE {{
        GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
        GRAPH ?g {{ ?f a <http://purl.obolibrary.org/obo/SO_0001217> ;
                     dcterms:identifier ?id }} }} LIMIT 20000""")]  # type: ignore[union-attr]
    row = next(iter(db.query(PREFIXES + """SELECT ?seq (MAX(?p) AS ?end) WHERE {
        GRAPH ?bins { ?bin g2r:onSequence ?seq . ?f g2r:inBin ?bin ; g2r:end ?p } }
        GROUP BY ?seq ORDER BY DESC(?end) LIMIT 1""")))  # type: ignore[call-overload]
    seq, length = str(row["seq"].value), int(row["end"].value)
    del db
    rng = random.Random(20261125)
    return {"ask": [ASK] * count, "select": [SELECT_200] * count,
            "gene": [gene_query(genome, rng.choice(ids)) for _ in range(count)],
            "region": [region_query(genome, seq, s, s + 20_000) for s in
                       (rng.randrange(1, max(2, length - 20_000)) for _ in range(count))]}


# -- measuring -----------------------------------------------------------------------------------


def _summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies) or [0.0]
    return {"n": len(latencies), "rps": len(latencies) / seconds if seconds else 0.0,
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000}


def _load(clients: list[tuple[str, Callable[[str], None], list[str]]], seconds: float,
          latencies: dict[str, list[float]] | None = None) -> dict[str, dict[str, float]]:
    """Clients (kind, run, queries) looping for ``seconds``; a summary per kind (and the
    latencies themselves in ``latencies`` when given)."""
    latencies = latencies if latencies is not None else {}
    latencies.update({kind: [] for kind, _, _ in clients})
    failures: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(kind: str, run: Callable[[str], None], queries: list[str], k: int) -> None:
        i = k
        while time.monotonic() < stop:
            t = time.perf_counter()
            try:
                run(queries[i % len(queries)])
            except (OSError, RuntimeError, http.client.HTTPException) as exc:
                with lock:
                    failures.append(f"{kind}: {exc}")
                continue
            took = time.perf_counter() - t
            with lock:
                latencies[kind].append(took)
            i += 7
        close = getattr(run, "__self__", None)
        if isinstance(close, _Client):
            close.close()

    threads = [threading.Thread(target=client, args=(*c, k)) for k, c in enumerate(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    result = {kind: _summary(values, elapsed) for kind, values in latencies.items()}
    result["failures"] = {"n": len(failures), "rps": 0.0, "p50_ms": 0.0, "p99_ms": 0.0}
    if failures:
        print(f"  {len(failures)} failures, e.g. {failures[0]}", file=sys.stderr)
    return result


class _Client:
    """One keep-alive connection per thread; GET requests, JSON results. (Not POST: the
    Oxigraph server answers a form POST 5-7 ms slower than the same GET, which would flatter
    gff2rdf.)"""

    def __init__(self, port: int, path: str) -> None:
        self.port, self.path = port, path
        self.local = threading.local()

    def run(self, query: str) -> None:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=300)
            self.local.connection = connection
        try:
            connection.request("GET", self.path + "?" + urllib.parse.urlencode(
                {"query": query}), headers={"Accept": "application/sparql-results+json"})
            response = connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self.local.connection = None
            raise
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:200]!r}")

    def close(self) -> None:
        """Close this thread's connection (a finished client must not leave it open: the
        Oxigraph server aborted after its open connections piled up across slices)."""
        connection = getattr(self.local, "connection", None)
        if connection is not None:
            connection.close()
            self.local.connection = None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gff2rdf(store: Path, clients: int) -> tuple[subprocess.Popen[bytes], int, str]:
    script = Path(sys.executable).parent / "gff2rdf"
    gff2rdf = [str(script)] if script.exists() else [sys.executable, "-m", "gff2rdf"]
    command = [*gff2rdf, "serve", "--store", str(store), "--port", "0", "--quiet", "--timeout",
               "300", "--max-client-connections", str(clients + 8)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise SystemExit("gff2rdf serve did not start (run it by hand to see why)")
    return proc, int(url.rsplit(":", 1)[1].strip("/")), "/sparql"


def start_oxigraph(store: Path, clients: int) -> tuple[subprocess.Popen[bytes], int, str]:
    binary = shutil.which("oxigraph", path=str(Path(sys.executable).parent)) or \
        shutil.which("oxigraph")
    if binary is None:
        raise SystemExit("no oxigraph command: pip install oxigraph (the dev extra has it)")
    port = _free_port()
    proc = subprocess.Popen([binary, "serve-read-only", "--location", str(store), "--bind",
                             f"127.0.0.1:{port}", "--timeout-s", "300"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port, "/query"
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("the Oxigraph server did not start")


def _merge(slices: list[dict[str, dict[str, float]]], raw: list[dict[str, list[float]]],
           seconds: float) -> dict[str, dict[str, float]]:
    merged = {kind: _summary([x for r in raw for x in r.get(kind, [])], seconds)
              for kind in raw[0]}
    merged["failures"] = {"n": sum(s["failures"]["n"] for s in slices), "rps": 0.0,
                          "p50_ms": 0.0, "p99_ms": 0.0}
    return merged


def measure_run(store: Path, work: dict[str, list[str]], args: Any) -> dict[str, Any]:
    """Both servers up at once, measured in turns so that both see the same machine: the
    sequential requests go floor, Oxigraph, gff2rdf, floor, ...; the load phases run in
    ``--slices`` alternating slices each."""
    import pyoxigraph as ox

    db = ox.Store.read_only(str(store))

    def floor(query: str) -> None:
        out = io.BytesIO()
        db.query(query).serialize(out, ox.QueryResultsFormat.JSON)  # type: ignore[union-attr]

    servers = {"oxigraph": start_oxigraph(store, args.clients),
               "gff2rdf": start_gff2rdf(store, args.clients)}
    try:
        run: dict[str, Any] = {"floor": {}, **{name: {"load_average": os.getloadavg()[0]}
                                              for name in servers}}
        runners = {"floor": floor, **{name: _Client(port, path).run
                                     for name, (_, port, path) in servers.items()}}
        for kind in ("ask", "select", "gene", "region"):
            queries = work[kind][:args.requests if kind != "region" else args.requests // 10]
            timings: dict[str, list[float]] = {who: [] for who in runners}
            for query in queries[:10]:
                for run_query in runners.values():
                    run_query(query)  # warm caches; gff2rdf's lanes learn the shape
            for query in queries:
                for who, run_query in runners.items():
                    t = time.perf_counter()
                    run_query(query)
                    timings[who].append(time.perf_counter() - t)
            for who, values in timings.items():
                run[who][kind] = _summary(values, sum(values))
        slice_seconds = args.seconds / args.slices
        for phase in ("throughput", "mixed"):
            slices: dict[str, list[dict[str, dict[str, float]]]] = {n: [] for n in servers}
            raw: dict[str, list[dict[str, list[float]]]] = {n: [] for n in servers}
            for _ in range(args.slices):
                for name, (_, port, path) in servers.items():
                    if phase == "throughput":
                        lookups = _Client(port, path)
                        clients = [("gene", lookups.run, work["gene"])] * args.clients
                    else:
                        light, heavy = _Client(port, path), _Client(port, path)
                        pairs = [q for pair in zip(work["gene"], work["ask"], strict=True)
                                 for q in pair]
                        clients = ([("heavy", heavy.run, work["region"])] * args.heavy
                                   + [("light", light.run, pairs)]
                                   * (args.clients - args.heavy))
                    latencies: dict[str, list[float]] = {}
                    slices[name].append(_load(clients, slice_seconds, latencies))
                    raw[name].append(latencies)
            for name in servers:
                merged = _merge(slices[name], raw[name], args.seconds)
                run[name][phase] = ({**merged["gene"], "failures": merged["failures"]}
                                    if phase == "throughput" else merged)
        run["load_average_end"] = os.getloadavg()[0]
        for name, (proc, _, _) in servers.items():
            run[name]["exit_status"] = proc.poll()  # None: it was still running
            if proc.returncode is not None:
                print(f"  {name} stopped during the run (exit status {proc.returncode})",
                      file=sys.stderr)
        return run
    finally:
        for proc, _, _ in servers.values():
            proc.terminate()
            proc.wait(30)
            if proc.stdout is not None:
                proc.stdout.close()


# -- reporting -----------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def _spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if not values:
        return "-"
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-" \
           f"{fmt.format(max(values))})"


def report(info: dict[str, Any], runs: list[dict[str, Any]], args: Any) -> str:
    lines = [f"store: {info['lines']:,} GFF3 lines, {info['triples']:,} triples; "
             f"{len(runs)} run(s); the median (min-max) over runs",
             "load average (1 min) at the start and end of each run: " + ", ".join(
                 f"{r['gff2rdf']['load_average']:.1f} -> {r['load_average_end']:.1f}"
                 for r in runs), "",
             "one client at a time, p50 ms:",
             f"{'query':8} {'floor':>20} {'oxigraph':>20} {'gff2rdf':>20}   "
             f"{'overhead ox':>12} {'overhead us':>12} {'ratio':>12}"]
    verdicts = []
    for kind in ("ask", "select", "gene", "region"):
        p50 = {w: [r[w][kind]["p50_ms"] for r in runs] for w in ("floor", "oxigraph", "gff2rdf")}
        ox_over = [r["oxigraph"][kind]["p50_ms"] - r["floor"][kind]["p50_ms"] for r in runs]
        us_over = [r["gff2rdf"][kind]["p50_ms"] - r["floor"][kind]["p50_ms"] for r in runs]
        ratio = [_ratio(u, o) for u, o in zip(us_over, ox_over, strict=True)]
        lines.append(f"{kind:8} {_spread(p50['floor']):>20} {_spread(p50['oxigraph']):>20} "
                     f"{_spread(p50['gff2rdf']):>20}   {_spread(ox_over, '{:+.2f}'):>12} "
                     f"{_spread(us_over, '{:+.2f}'):>12} {_spread(ratio, '{:.1f}x'):>12}")
        if kind in ("ask", "select"):
            met = statistics.median(ratio) <= TARGET_OVERHEAD_RATIO
            verdicts.append(f"overhead {kind}: {statistics.median(ratio):.1f}x the Oxigraph "
                            f"server's (target <= {TARGET_OVERHEAD_RATIO}x) "
                            + ("PASS" if met else "MISS"))
    lines += ["", f"{args.clients} clients of gene lookups for {args.seconds:g} s:"]
    for who in ("oxigraph", "gff2rdf"):
        t = [r[who]["throughput"] for r in runs]
        lines.append(f"  {who:9} {_spread([x['rps'] for x in t], '{:.0f}')} requests/s, p50 "
                     f"{_spread([x['p50_ms'] for x in t])} ms, p99 "
                     f"{_spread([x['p99_ms'] for x in t], '{:.0f}')} ms")
    rps = [_ratio(r["gff2rdf"]["throughput"]["rps"], r["oxigraph"]["throughput"]["rps"])
           for r in runs]
    lines.append(f"  gff2rdf / oxigraph requests/s: {_spread(rps, '{:.2f}x')}")
    lines += ["", f"mixed load, {args.heavy} clients of 20 kb region queries and "
              f"{args.clients - args.heavy} of gene lookups and ASK, {args.seconds:g} s:"]
    for who in ("oxigraph", "gff2rdf"):
        m = [r[who]["mixed"] for r in runs]
        lines.append(
            f"  {who:9} light p50 {_spread([x['light']['p50_ms'] for x in m])} ms, p99 "
            f"{_spread([x['light']['p99_ms'] for x in m], '{:.0f}')} ms, "
            f"{_spread([x['light']['rps'] for x in m], '{:.0f}')} light/s; heavy p50 "
            f"{_spread([x['heavy']['p50_ms'] for x in m], '{:.0f}')} ms, "
            f"{_spread([x['heavy']['rps'] for x in m], '{:.1f}')} heavy/s; failures "
            f"{_spread([x['failures']['n'] for x in m], '{:.0f}')}")
    light = [r["gff2rdf"]["mixed"]["light"]["p50_ms"] for r in runs]
    ratio = [_ratio(r["gff2rdf"]["mixed"]["light"]["p50_ms"],
                    r["oxigraph"]["mixed"]["light"]["p50_ms"]) for r in runs]
    heavy = [_ratio(r["gff2rdf"]["mixed"]["heavy"]["rps"], r["oxigraph"]["mixed"]["heavy"]["rps"])
             for r in runs]
    lines.append(f"  gff2rdf / oxigraph: light p50 {_spread(ratio, '{:.2f}x')}, heavy/s "
                 f"{_spread(heavy, '{:.2f}x')}")
    verdicts.append(f"light p50 under the mixed load: {statistics.median(light):.1f} ms (target "
                    f"< {TARGET_LIGHT_P50_MS:g} ms) "
                    + ("PASS" if statistics.median(light) < TARGET_LIGHT_P50_MS else "MISS"))
    for who in ("oxigraph", "gff2rdf"):
        failed = [(r[who]["throughput"]["failures"]["n"] if "failures" in r[who]["throughput"]
                   else 0, r[who]["mixed"]["failures"]["n"], r[who]["exit_status"]) for r in runs]
        if any(a or b or c is not None for a, b, c in failed):
            verdicts.append(f"{who} failed: (throughput failures, mixed failures, exit status "
                            f"if it stopped) per run: {failed}; its figures are not comparable")
    return "\n".join([*lines, "", *verdicts])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300,
                        help="sequential requests per query kind (region: a tenth)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--heavy", type=int, default=2, help="clients of region queries")
    parser.add_argument("--seconds", type=float, default=20.0, help="each load phase")
    parser.add_argument("--slices", type=int, default=3,
                        help="alternating slices of each load phase per server")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    if args.lines < 100_000:
        parser.error("--lines must be at least 100000 (smaller stores hide the problems)")
    store, info = build_store(args.lines)
    work = workload(store, info, max(args.requests, 200))
    runs = []
    for k in range(args.repeat):
        print(f"run {k + 1} of {args.repeat} ...", file=sys.stderr)
        runs.append(measure_run(store, work, args))
    print(report(info, runs, args))
    if args.json:
        Path(args.json).write_text(json.dumps({"store": info, "runs": runs}, indent=2) + "\n",
                                   "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
