"""Benchmark: gff2rdf serve against the same queries run in-process on pyoxigraph (the floor).

What it measures, on a store holding one large tiled genome (NCBI RefSeq TAIR10 chromosome 1,
tiled by ``bench/convert.py``'s builder, loaded with ``GenomeStore.load``):

``floor``   the queries run in this process on ``pyoxigraph.Store.read_only``, each result
            consumed and serialised to SPARQL JSON by pyoxigraph: what any endpoint must do;
``serve``   the same queries over HTTP to ``gff2rdf serve --port 0`` (a subprocess, its default
            worker pool), one keep-alive client after another (latency), then ``--clients``
            clients at once (throughput).

Two queries: a gene by its ID (``dcterms:identifier``, through the genome's current-build
pointer; a different gene each time) and a region (every feature overlapping a 20 kb window of
the sequence, a different window each time, through the project's bin index when
``gff2rdf.binindex`` exists, else by FALDO positions, which reads every position of the genome:
seconds per query at 100k lines, half a minute at 1 M). For each: requests/s and the
p50 / p99 latency, and the server's overhead over the floor at p50 (target: under 2 ms for the
gene query). It exits 0 whether or not the target is met: a report, not a test.

The store goes to ``bench/out/serve-store-{lines}`` and is reused while the input is the same
(loading 1 M lines takes several minutes).

Run it:
    .venv/bin/python bench/serve.py                   # 1 M-line input (store built once)
    .venv/bin/python bench/serve.py --lines 300000
    .venv/bin/python bench/serve.py --quick           # 100k lines
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import shutil
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
TARGET_OVERHEAD_MS = 2.0




def build_store(lines: int) -> tuple[Path, dict[str, Any]]:
    """The store of the tiled input of ``lines`` lines, built once and reused."""
    bc = bench_convert()
    if not bc.SOURCE.exists():
        raise SystemExit(f"no source annotation at {bc.SOURCE} (../shared absent): nothing to do")
    inp = bc.build_input(bc.SOURCE, lines)
    store = OUT / f"serve-store-{lines}"
    sidecar = store.with_suffix(".json")
    if store.exists() and sidecar.exists():
        info = json.loads(sidecar.read_text("utf-8"))
        if info.get("input_bytes") == inp.bytes:
            return store, info
    shutil.rmtree(store, ignore_errors=True)
    from gff2rdf.settings import jobs
    from gff2rdf.store import GenomeStore

    print(f"loading {inp.lines:,} lines into {store.relative_to(ROOT)} (once) ...",
          file=sys.stderr)
    started = time.perf_counter()
    with GenomeStore.open(store) as genome_store:
        result = genome_store.load(inp.path, species=bc.SPECIES, taxon=bc.TAXON,
                                   assembly=bc.ASSEMBLY, annotation=bc.ANNOTATION, jobs=jobs())
        indexed = _bin_index(genome_store, result.genome)
    info = {"input_bytes": inp.bytes, "lines": inp.lines, "tiles": inp.tiles,
            "genome": result.genome, "triples": result.triples, "bin_index": indexed,
            "load_s": round(time.perf_counter() - started, 1)}
    sidecar.write_text(json.dumps(info, indent=2) + "\n", "utf-8")
    return store, info


def _bin_index(store: Any, genome: str) -> bool:
    """The project's bin index for region queries (``gff2rdf.binindex``), when it exists."""
    try:
        from gff2rdf.binindex import build_index
    except ImportError:
        return False
    print(build_index(store, genome).summary(), file=sys.stderr)
    return True


PREFIXES = """PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX faldo: <http://biohackathon.org/resource/faldo#>
PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>
"""


def gene_query(genome: str, gene_id: str) -> str:
    return PREFIXES + f"""SELECT ?feature ?p ?o WHERE {{
  GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
  GRAPH ?g {{ ?feature dcterms:identifier {json.dumps(gene_id)} ; ?p ?o }}
}}"""


def region_query(genome: str, seq: str, start: int, end: int) -> str:
    return PREFIXES + f"""SELECT ?feature ?start ?end WHERE {{
  GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
  GRAPH ?g {{
    ?feature faldo:location ?r . ?r faldo:begin ?b ; faldo:end ?e .
    ?b faldo:position ?bp ; faldo:reference <{seq}> . ?e faldo:position ?ep .
    BIND(IF(?bp < ?ep, ?bp, ?ep) AS ?start) BIND(IF(?bp < ?ep, ?ep, ?bp) AS ?end)
    FILTER(?start <= {end} && ?end >= {start})
  }}
}}"""


def bin_region_query(genome: str, seq: str, start: int, end: int) -> str:
    """Features overlapping a window, through the bin index (``gff2rdf.binindex``)."""
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


def workload(store: Path, info: dict[str, Any], genes: int, regions: int
             ) -> tuple[dict[str, list[str]], str]:
    """Different genes and windows for every request, chosen once with a fixed seed."""
    import pyoxigraph as ox

    genome = info["genome"]
    db = ox.Store.read_only(str(store))
    ids = [str(r["id"].value) for r in db.query(PREFIXES + f"""SELECT ?id WHERE {{
        GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
        GRAPH ?g {{ ?f a <http://purl.obolibrary.org/obo/SO_0001217> ;
                     dcterms:identifier ?id }} }} LIMIT 20000""")]  # type: ignore[union-attr]
    indexed = bool(info.get("bin_index"))
    extent = ("GRAPH ?bins { ?bin g2r:onSequence ?seq . ?f g2r:inBin ?bin ; g2r:end ?p }"
              if indexed else
              f"""GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
                  GRAPH ?g {{ ?pos faldo:reference ?seq ; faldo:position ?p }}""")
    row = next(iter(db.query(PREFIXES + f"""SELECT ?seq (MAX(?p) AS ?end) WHERE {{
        {extent} }} GROUP BY ?seq ORDER BY DESC(?end) LIMIT 1""")))  # type: ignore[call-overload]
    seq, length = str(row["seq"].value), int(row["end"].value)
    del db
    rng = random.Random(20261125)
    chosen = [rng.choice(ids) for _ in range(genes)]
    windows = [rng.randrange(1, max(2, length - 20_000)) for _ in range(regions)]
    if indexed:
        kind = ("features overlapping a 20 kb window, through the bin index "
                "(gff2rdf.binindex)")
        region = [bin_region_query(genome, seq, s, s + 20_000) for s in windows]
    else:
        kind = "a FALDO overlap query (no bin index: every position of the genome is read)"
        region = [region_query(genome, seq, s, s + 20_000) for s in windows]
    return {"gene": [gene_query(genome, g) for g in chosen], "region": region}, kind


def _summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {"n": len(ordered), "rps": len(ordered) / seconds if seconds else 0.0,
            "p50_ms": statistics.median(ordered) * 1000,
            "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000}


def _concurrent(run: Callable[[str], None], queries: list[str], clients: int
                ) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    jobs = list(enumerate(queries))

    def client() -> None:
        while True:
            with lock:
                if not jobs:
                    return
                _, query = jobs.pop()
            started = time.perf_counter()
            run(query)
            took = time.perf_counter() - started
            with lock:
                latencies.append(took)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _summary(latencies, time.perf_counter() - started)


def _sequential(run: Callable[[str], None], queries: list[str]) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for query in queries:
        t = time.perf_counter()
        run(query)
        latencies.append(time.perf_counter() - t)
    return _summary(latencies, time.perf_counter() - started)


def floor(store: Path, work: dict[str, list[str]], clients: int) -> dict[str, Any]:
    import pyoxigraph as ox

    db = ox.Store.read_only(str(store))

    def run(query: str) -> None:
        out = io.BytesIO()
        db.query(query).serialize(out, ox.QueryResultsFormat.JSON)  # type: ignore[union-attr]

    results = {}
    for name, queries in work.items():
        for query in queries[:5]:
            run(query)  # warm the caches, as the server's warm-up requests do
        results[name] = {"sequential": _sequential(run, queries),
                         "concurrent": _concurrent(run, queries, clients)}
    return results


class _Client:
    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def run(self, query: str) -> None:
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            self.local.connection = connection
        body = urllib.parse.urlencode({"query": query})
        connection.request("POST", "/sparql", body, {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/sparql-results+json"})
        response = connection.getresponse()
        data = response.read()
        if response.status != 200:
            raise RuntimeError(f"HTTP {response.status}: {data[:200]!r}")


def serve(store: Path, work: dict[str, list[str]], clients: int) -> dict[str, Any]:
    script = Path(sys.executable).parent / "gff2rdf"
    gff2rdf = [str(script)] if script.exists() else [sys.executable, "-m", "gff2rdf.cli"]
    command = [*gff2rdf, "serve", "--store", str(store), "--port", "0", "--quiet", "--timeout",
               "120", "--max-rows", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        if not url.startswith("http://"):
            raise SystemExit("gff2rdf serve did not start (run it by hand to see why)")
        port = int(url.rsplit(":", 1)[1].strip("/"))
        results = {}
        for name, queries in work.items():
            client = _Client(port)
            for query in queries[:5]:
                client.run(query)
            sequential = _sequential(client.run, queries)
            results[name] = {"sequential": sequential,
                             "concurrent": _concurrent(_Client(port).run, queries, clients)}
        return results
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()


def report(info: dict[str, Any], fl: dict[str, Any], sv: dict[str, Any], clients: int) -> str:
    lines = [f"store: {info['lines']:,} GFF3 lines, {info['triples']:,} triples "
             f"(load average before: {info['load_average']:.1f})",
             f"region query: {info['region_query']}", ""]
    head = (f"{'query':8} {'where':7} {'1 client: p50 ms':>17} {'p99 ms':>8} {'req/s':>7}   "
            f"{clients} clients: {'p50 ms':>7} {'p99 ms':>8} {'req/s':>7}")
    lines.append(head)
    for name in fl:
        for where, r in (("floor", fl[name]), ("serve", sv[name])):
            s, c = r["sequential"], r["concurrent"]
            lines.append(f"{name:8} {where:7} {s['p50_ms']:17.2f} {s['p99_ms']:8.2f} "
                         f"{s['rps']:7.0f}   {'':>{len(str(clients)) + 9}}{c['p50_ms']:7.2f} "
                         f"{c['p99_ms']:8.2f} {c['rps']:7.0f}")
    lines.append("")
    for name in fl:
        overhead = sv[name]["sequential"]["p50_ms"] - fl[name]["sequential"]["p50_ms"]
        verdict = ("PASS" if overhead < TARGET_OVERHEAD_MS else "MISS") if name == "gene" else ""
        lines.append(f"server overhead at p50, {name}: {overhead:+.2f} ms "
                     f"(target < {TARGET_OVERHEAD_MS:g} ms for the gene query) {verdict}")
    worst = max(r["concurrent"]["p99_ms"] for r in sv.values())
    lines.append(f"p99 under {clients} concurrent clients: {worst:.0f} ms (target < 2000 ms) "
                 + ("PASS" if worst < 2000 else "MISS"))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="100k lines")
    parser.add_argument("--genes", type=int, default=2000, help="gene requests per run")
    parser.add_argument("--regions", type=int, default=200, help="region requests per run")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    lines = 100_000 if args.quick else args.lines
    store, info = build_store(lines)
    info = {**info, "load_average": os.getloadavg()[0]}
    work, kind = workload(store, info, args.genes, args.regions)
    print(f"region query: {kind}", file=sys.stderr)
    info["region_query"] = kind
    fl = floor(store, work, args.clients)
    sv = serve(store, work, args.clients)
    print(report(info, fl, sv, args.clients))
    if args.json:
        Path(args.json).write_text(json.dumps({"store": info, "floor": fl, "serve": sv},
                                              indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
