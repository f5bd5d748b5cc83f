"""What the SERVICE / LOAD guard costs on 20 KB queries, against rdflib's parse (the guard's
previous method) in the same run.

    .venv/bin/python bench/guard.py [--runs N]

Three 20 KB queries that mention ``service`` (so none takes the fast path): a long basic graph
pattern with prefixed names, strings, escapes and filters; a VALUES table of 400 IRIs (what
binding a parameter list produces); a query carrying one 18 KB string. Each is timed in CPU
seconds of this process (``time.process_time``, less disturbed by other processes than wall
time), ``--runs`` times; min and median are printed. rdflib's cost is its parse and algebra
translation, as ``gff2rdf.server.guard`` ran them before issue 15.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gff2rdf.server.guard import guard_query

ENDPOINT = "https://sparql.uniprot.org/sparql"
SIZE = 20_000


def patterns() -> str:
    parts = ["PREFIX ex: <http://example.org/ns#>\nPREFIX up: <http://purl.uniprot.org/core/>\n"
             "# the service part is at the end\nSELECT ?g ?label (COUNT(?x) AS ?n) WHERE {\n"]
    i = 0
    while sum(map(len, parts)) < SIZE - 120:
        i += 1
        parts.append(f"  ?g{i} ex:p{i} ?o{i} ; <http://example.org/q/{i}> 'text {i} \\u0041' .\n"
                     f"  FILTER(?o{i} < {i} && STRSTARTS(STR(?g{i}), \"http\")) # note {i}\n")
    parts.append(f"  SERVICE <{ENDPOINT}> {{ ?g up:x ?label }}\n}} GROUP BY ?g ?label\n")
    return "".join(parts)


def values() -> str:
    rows = []
    i = 0
    while sum(map(len, rows)) < SIZE - 200:
        i += 1
        rows.append(f" <http://purl.uniprot.org/uniprot/P{i:05d}>")
    return (f"PREFIX up: <http://purl.uniprot.org/core/>\nSELECT * WHERE {{\n VALUES ?protein {{"
            f"{''.join(rows)} }}\n SERVICE <{ENDPOINT}> {{ ?protein up:mnemonic ?name }}\n}}\n")


def long_string() -> str:
    text = "lorem ipsum \\\"dolor\\\" sit amet " * (SIZE // 31)
    return (f"SELECT * WHERE {{ BIND(\"{text}\" AS ?note) SERVICE <{ENDPOINT}> "
            "{ ?s ?p ?o } }\n")


def timed(work: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.process_time()
        work()
        times.append((time.process_time() - started) * 1000)
    return times


def rdflib_parse(text: str) -> object:
    from rdflib.plugins.sparql import algebra, parser

    return algebra.translateQuery(parser.parseQuery(text))


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    options.add_argument("--runs", type=int, default=20)
    args = options.parse_args()
    guard_query(patterns(), [ENDPOINT])  # compile the expressions
    rdflib_parse("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }")
    print(f"{'query':<12} {'bytes':>6} {'guard min/median ms':>20} {'rdflib min/median ms':>21}"
          f" {'ratio':>6}")
    for name, text in (("patterns", patterns()), ("values", values()),
                       ("long string", long_string())):
        guard = timed(lambda text=text: guard_query(text, [ENDPOINT]), args.runs)
        old = timed(lambda text=text: rdflib_parse(text), max(3, args.runs // 10))
        print(f"{name:<12} {len(text):>6} {min(guard):>9.1f} / {statistics.median(guard):<8.1f}"
              f" {min(old):>9.1f} / {statistics.median(old):<9.1f}"
              f" {statistics.median(old) / statistics.median(guard):>6.0f}x")
    plain = patterns().replace("SERVICE", "GRAPH").replace("service", "graph")
    fast = timed(lambda: [guard_query(plain, [ENDPOINT]) for _ in range(1000)], 5)
    print(f"fast path (no 'service' in the text): {min(fast):.0f} us a query")
    return 0


if __name__ == "__main__":
    sys.exit(main())
