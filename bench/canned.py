"""Benchmark: canned queries through ``gff2rdf serve`` (``/queries/NAME``) against the CLI.

On the store that ``bench/serve.py`` builds (the tiled NCBI RefSeq TAIR10 chromosome 1, with its
bin index; ``bench/out/serve-store-{lines}``), for each gff2rdf source tree given with
``--code`` (default: this checkout; give two to compare before and after in one run):

``cli``      ``gff2rdf query NAME --store ... -p ...`` as a subprocess: process start, store
             open and the query, as a user sees it;
``library``  ``get_query(NAME).run(store, params)`` in one process, store open (the floor of
             both others: the same planning and the same engine);
``serve``    ``GET /queries/NAME?...`` to ``gff2rdf serve --port 0`` (its default workers),
             one keep-alive client, after one warm-up request.

Two queries: ``gene`` (a different gene each time) and ``region`` (a different 20 kb window each
time), ``--runs`` of each. It prints the median and the spread (min..max) in ms per query and
place, and the ratio serve / library and serve / cli measured in the same run. A report, not
a test: it exits 0.

Run it:
    .venv/bin/python bench/canned.py --lines 110000 --runs 5
    git archive main | tar -x -C bench/out/before       # a commit to compare with
    .venv/bin/python bench/canned.py --code bench/out/before --code .
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path
from typing import Any

from serve import build_store

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ("gene", "region")
WINDOW = 20_000

_LIBRARY = """
import json, sys, time
from gff2rdf.query.canned import get_query
from gff2rdf.store.store import GenomeStore
work = json.loads(sys.argv[2])
out = {}
with GenomeStore.open(sys.argv[1], create=False, collect=False) as store:
    for name, runs in work.items():
        query = get_query(name)
        query.run(store, runs[0])  # warm-up
        times = []
        for params in runs[1:]:
            started = time.perf_counter()
            rows = len(query.run(store, params).rows)
            times.append((time.perf_counter() - started) * 1000)
        out[name] = {"ms": times, "rows": rows}
print(json.dumps(out))
"""


def _env(code: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(code)}


def workload(store: Path, info: dict[str, Any], runs: int) -> dict[str, list[dict[str, str]]]:
    """Different genes and 20 kb windows for every run, chosen with a fixed seed."""
    import pyoxigraph as ox

    genome = info["genome"]
    path = genome.split("/genome/", 1)[1]
    db = ox.Store.read_only(str(store))
    prefixes = ("PREFIX g2r: <https://w3id.org/gff2rdf/vocab#> "
                "PREFIX dcterms: <http://purl.org/dc/terms/> "
                "PREFIX faldo: <http://biohackathon.org/resource/faldo#> ")
    ids = sorted(str(r["id"].value) for r in db.query(prefixes + f"""SELECT ?id WHERE {{
        GRAPH ?m {{ <{genome}> g2r:currentBuild ?g }}
        GRAPH ?g {{ ?f a <http://purl.obolibrary.org/obo/SO_0000704> ;
                     dcterms:identifier ?id }} }}"""))  # type: ignore[union-attr]
    row = next(iter(db.query(prefixes + """SELECT ?seqid (MAX(?p) AS ?last) WHERE {
        GRAPH ?bins { ?f g2r:end ?p ; g2r:inBin ?bin . ?bin g2r:binSequence ?key }
        BIND(REPLACE(?key, "^.* ", "") AS ?seqid) } GROUP BY ?seqid
        ORDER BY DESC(?last) LIMIT 1""")))  # type: ignore[call-overload]
    del db
    seqid, last = str(row["seqid"].value), int(row["last"].value)
    rng = random.Random(20261207)
    starts = [rng.randrange(1, max(2, last - WINDOW)) for _ in range(runs + 1)]
    return {
        "gene": [{"genome": path, "id": rng.choice(ids)} for _ in range(runs + 1)],
        "region": [{"genome": path, "seqid": seqid, "start": str(s), "end": str(s + WINDOW - 1)}
                   for s in starts]}


def library(code: Path, store: Path, work: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", _LIBRARY, str(store), json.dumps(work)],
                          env=_env(code), capture_output=True, text=True, check=True)
    return {name: r["ms"] for name, r in json.loads(done.stdout).items()}


def cli(code: Path, store: Path, work: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    out: dict[str, list[float]] = {}
    for name, runs in work.items():
        out[name] = []
        for params in runs[1:]:  # the library's warm-up query is not timed here either
            command = [sys.executable, "-m", "gff2rdf", "query", name, "--store",
                       str(store), "--format", "json"]
            for key, value in params.items():
                command += ["-p", f"{key}={value}"]
            started = time.perf_counter()
            subprocess.run(command, env=_env(code), capture_output=True, check=True)
            out[name].append((time.perf_counter() - started) * 1000)
    return out


def serve(code: Path, store: Path, work: dict[str, list[dict[str, str]]]) -> dict[str, Any]:
    command = [sys.executable, "-m", "gff2rdf", "serve", "--store", str(store), "--port",
               "0", "--quiet", "--timeout", "300", "--max-rows", "0"]
    proc = subprocess.Popen(command, env=_env(code), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    out: dict[str, list[float]] = {}
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        if not url.startswith("http://"):
            raise SystemExit(f"gff2rdf serve from {code} did not start")
        connection = http.client.HTTPConnection("127.0.0.1", int(url.rsplit(":", 1)[1]
                                                                 .strip("/")), timeout=600)
        for name, runs in work.items():
            out[name] = []
            for i, params in enumerate(runs):
                target = f"/queries/{name}?" + urllib.parse.urlencode(params)
                started = time.perf_counter()
                connection.request("GET", target,
                                   headers={"Accept": "application/sparql-results+json"})
                response = connection.getresponse()
                body = response.read()
                took = (time.perf_counter() - started) * 1000
                if response.status != 200:
                    raise SystemExit(f"{target}: HTTP {response.status} {body[:300]!r}")
                if i:  # the first is the warm-up
                    out[name].append(took)
        connection.close()
    finally:
        proc.terminate()
        proc.wait(30)
        if proc.stdout is not None:
            proc.stdout.close()
    return out


def _fmt(times: list[float]) -> str:
    return (f"{statistics.median(times):8.0f} ({min(times):.0f}..{max(times):.0f})"
            .ljust(26))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=110_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--code", action="append", type=Path,
                        help="a gff2rdf source tree (repeat to compare; default: this one)")
    parser.add_argument("--json", help="write the figures here too")
    args = parser.parse_args(argv)
    store, info = build_store(args.lines)
    work = workload(store, info, args.runs)
    figures: dict[str, Any] = {"lines": info["lines"], "triples": info["triples"],
                               "load_average_before": os.getloadavg()[0], "runs": {}}
    print(f"store: {info['lines']:,} GFF3 lines, {info['triples']:,} triples, load average "
          f"{figures['load_average_before']:.1f}; {args.runs} runs, median (min..max) ms")
    for code in args.code or [ROOT]:
        code = code.resolve()
        places = {"library": library(code, store, work), "cli": cli(code, store, work),
                  "serve": serve(code, store, work)}
        figures["runs"][str(code)] = places
        print(f"\n{code}")
        print(f"{'query':8} " + "".join(f"{p:26}" for p in places) + "serve/library serve/cli")
        for name in QUERIES:
            med = {p: statistics.median(t[name]) for p, t in places.items()}
            print(f"{name:8} " + "".join(_fmt(t[name]) for t in places.values())
                  + f"{med['serve'] / med['library']:12.1f}x {med['serve'] / med['cli']:8.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
