"""Benchmark: the cost of one small write through ``gff2rdf serve`` (issue 15, item 6).

A write-enabled ``App`` (in-process, no socket: ``App.request``) on a copy of the small test
store (``tests/data/arabidopsis_TAIR10_40_small.gff3``, or ``--store DIR`` for a bigger one)
gets ``--writes`` small writes, alternating ``PUT /store?graph=...`` of one N-Triples line and
``POST /update`` of one ``INSERT DATA``. Each write is timed from the request to its answer;
then a read checks that the write is visible (a reader after a write sees it). Reported: the
per-write seconds (median, min, max) for each kind, and the pool's worker process starts.

Run it (from the project root):
    .venv/bin/python bench/writes.py
    .venv/bin/python bench/writes.py --writes 40 --workers 2
    .venv/bin/python bench/writes.py --store bench/out/serve-store-100000   # copied first
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gff2rdf.server.app import App, ServeConfig  # noqa: E402

TOKEN = "bench-token-0123456789abcdef"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def small_store(directory: Path) -> Path:
    from gff2rdf.store.store import GenomeStore

    with GenomeStore.open(directory) as store:
        store.load(ROOT / "tests" / "data" / "arabidopsis_TAIR10_40_small.gff3",
                   species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10",
                   annotation="Araport11")
    return directory


def ask(app: App, query: str) -> bool:
    response = app.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                           headers={"Accept": "application/sparql-results+json"})
    if response.status != 200:
        raise SystemExit(f"read failed: {response.status} {response.body[:200]!r}")
    return bool(json.loads(response.body)["boolean"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--store", type=Path, help="a store to copy (default: the small one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gff2rdf-bench-writes-") as tmp:
        store = Path(tmp) / "store"
        if args.store:
            shutil.copytree(args.store, store, ignore=shutil.ignore_patterns("gff2rdf.lock"))
        else:
            small_store(store)
        config = ServeConfig(store=store, workers=args.workers, token=TOKEN, timeout=30.0,
                             access_log=False, allow_service=())
        started = time.perf_counter()
        with App(config).start() as app:
            print(f"start: {time.perf_counter() - started:.2f} s, {args.workers} read workers")
            times: dict[str, list[float]] = {"PUT /store": [], "POST /update": []}
            starts = app.pool.stats.started
            for i in range(args.writes):
                graph = f"http://example.org/bench/{i}"
                if i % 2 == 0:
                    kind = "PUT /store"
                    target = "/store?graph=" + urllib.parse.quote(graph, safe="")
                    body = f"<{graph}#s> <http://example.org/p> \"{i}\" .\n".encode()
                    headers = {"Content-Type": "application/n-triples", **AUTH}
                    method = "PUT"
                else:
                    kind, method, target = "POST /update", "POST", "/update"
                    body = (f"INSERT DATA {{ GRAPH <{graph}> {{ <{graph}#s> "
                            f"<http://example.org/p> {i} }} }}").encode()
                    headers = {"Content-Type": "application/sparql-update", **AUTH}
                t0 = time.perf_counter()
                response = app.request(method, target, body, headers)
                times[kind].append(time.perf_counter() - t0)
                if response.status not in (201, 204):
                    raise SystemExit(f"write {i} failed: {response.status} {response.body!r}")
                if not ask(app, f"ASK {{ GRAPH <{graph}> {{ <{graph}#s> ?p ?o }} }}"):
                    raise SystemExit(f"write {i} is not visible to the next read")
            for kind, values in times.items():
                print(f"{kind:13} n={len(values):3}  median {statistics.median(values):.3f} s"
                      f"  min {min(values):.3f} s  max {max(values):.3f} s")
            print(f"worker processes started during the writes: "
                  f"{app.pool.stats.started - starts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
