"""Benchmark: gff2rdf convert at whole-genome scale, against baselines measured in the same run.

What it measures (each phase in its own child process, so that peak RSS is per phase):

``nt``      ``gff2rdf.conversion.api.convert`` to N-Triples on the large input (about 1 M lines);
``ttl``     the same to Turtle;
``floor``   the parse-only floor on the large input: read the lines, split columns and
            attributes, percent-decode values (``unquote`` only when a '%' is present);
``rdflib``  a straightforward rdflib converter on a 100k-line slice of the same input: the same
            line parsing as the floor, the same kinds of triples as gff2rdf (type, label,
            identifier, attributes as literals, FALDO region / begin / end / positions,
            part_of) added to an rdflib ``Graph`` as ``URIRef`` / ``Literal`` objects, then
            serialised as N-Triples, the way existing Python converters work.

The large input is built once by tiling the real gene models of NCBI RefSeq TAIR10 chromosome 1
(first 110k lines, from ``../shared/data/gff3``): tile ``k`` is the source's features with
coordinates shifted by ``k * (max end + gap)`` and every ID, Parent and Derives_from value given
the suffix ``-t{k}`` (tile 0 is the source file unchanged), directives kept once at the top and
the ``##sequence-region`` length widened to cover every tile. Tiles are cut only before a
top-level feature, so every tile is valid GFF3. Inputs and outputs go to ``bench/out/``
(gitignored); the input is reused when it was built with the same parameters, the RDF outputs
(several GB at full size) are deleted after each phase unless ``--keep-output`` is given.

It prints lines/s, triples/s, peak RSS and each target with PASS or MISS, and exits 0 whether
or not the targets are met: it is a report, not a test.

Run it:
    make bench                                   # .venv/bin/python bench/convert.py
    .venv/bin/python bench/convert.py --quick    # 100k lines, a smoke run of a minute or two
    .venv/bin/python bench/convert.py --json bench/out/figures.json
    .venv/bin/python bench/convert.py --profile  # also cProfile gff2rdf on the 100k slice
    .venv/bin/python bench/convert.py --jobs 2   # convert(..., jobs=2): chunks on 2 cores
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from measure import Clock, GcTimer, TreeMemory
from tiling import (  # noqa: F401  (re-exported: bench/common.py's bench_convert)
    ANNOTATION,
    ASSEMBLY,
    FULL_LINES,
    INPUT_FORMAT,
    OUT,
    ROOT,
    SLICE_LINES,
    SOURCE,
    SPECIES,
    TAXON,
    TILE_GAP,
    InputFile,
    build_input,
    note,
    rel,
)

# The targets of the issue (2-core machine, 1 M-line input)
TARGET_NT_TRIPLES_PER_S = 1_000_000
TARGET_TTL_OVER_NT = 1.5
TARGET_OVER_RDFLIB = 25.0
TARGET_OVER_FLOOR = 8.0
TARGET_PEAK_MB = 600.0



# -- the phases (run in child processes) --------------------------------------------------------


def parse_line(text: str) -> tuple[list[str], dict[str, list[str]]]:
    """Columns and attributes of one feature line, values split on ',' and percent-decoded."""
    cols = text.split("\t")
    attributes: dict[str, list[str]] = {}
    for pair in cols[8].split(";"):
        if not pair:
            continue
        tag, _, value = pair.partition("=")
        if "%" in value:
            attributes[tag] = [unquote(v) if "%" in v else v for v in value.split(",")]
        else:
            attributes[tag] = value.split(",")
    return cols, attributes


def phase_floor(path: str) -> dict[str, Any]:
    """Parse only: the least any converter that reads every attribute has to do."""
    clock = Clock()
    lines = features = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            lines += 1
            if line[0] == "#" or line == "\n":
                continue
            parse_line(line.rstrip("\n"))
            features += 1
    return {**clock.read(), "lines": lines, "features": features, "triples": 0}


def phase_convert(path: str, output: str, fmt: str, jobs: int | None) -> dict[str, Any]:
    """gff2rdf itself, through the library function; ``seconds`` is the whole call (its
    schema compilation and the fsync of the output included). ``jobs`` is passed on only when
    given, so that the library's default is what gets measured otherwise."""
    from gff2rdf.conversion.api import convert

    clock = Clock()
    if jobs is None:
        result = convert(path, output, fmt=fmt, species=SPECIES, taxon=TAXON,
                         assembly=ASSEMBLY, annotation=ANNOTATION)
    else:
        result = convert(path, output, fmt=fmt, species=SPECIES, taxon=TAXON,
                         assembly=ASSEMBLY, annotation=ANNOTATION, jobs=jobs)
    return {**clock.read(), "lines": result.lines, "features": result.features,
            "triples": result.triples, "warnings": result.log.warnings,
            "output_bytes": os.path.getsize(output)}


def phase_rdflib(path: str, output: str) -> dict[str, Any]:
    """A straightforward rdflib converter: one ``Graph.add`` per triple, then ``serialize``."""
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

    from gff2rdf.mapping.sotypes import SEQUENCE_FEATURE, SequenceOntology

    faldo = Namespace("http://biohackathon.org/resource/faldo#")
    g2r = Namespace("https://w3id.org/gff2rdf/vocab#")
    obo = Namespace("http://purl.obolibrary.org/obo/")
    part_of = URIRef("http://purl.obolibrary.org/obo/so#part_of")
    derives_from = URIRef("http://purl.obolibrary.org/obo/so#derives_from")
    in_taxon, taxon = obo["RO_0002162"], obo[f"NCBITaxon_{TAXON}"]
    strand_class = {"+": faldo.ForwardStrandPosition, "-": faldo.ReverseStrandPosition,
                    "?": faldo.StrandedPosition}
    strand_code = {"+": "1", "-": "-1", ".": "0", "?": "u"}
    structural = {"ID", "Name", "Parent", "Derives_from"}
    base = "https://w3id.org/gff2rdf/data/"
    assembly = f"{base}assembly/{ASSEMBLY}"
    genome = f"{base}genome/arabidopsis_thaliana/{ASSEMBLY}/{ANNOTATION}"
    so = SequenceOntology.load()
    types: dict[str, URIRef] = {}
    kids: dict[tuple[str, str], int] = {}

    def feature_iri(fid: str) -> URIRef:
        return URIRef(f"{genome}/feature/{quote(fid, safe='-._~:@!$&()*+,;=')}")

    def position(seq: str, pos: int, strand: str) -> URIRef:
        node = URIRef(f"{seq}:{pos}:{strand_code[strand]}")
        add((node, RDF.type, faldo.ExactPosition))
        if strand in strand_class:
            add((node, RDF.type, strand_class[strand]))
        add((node, faldo.position, Literal(pos)))
        add((node, faldo.reference, URIRef(seq)))
        return node

    clock = Clock()
    graph = Graph()
    add = graph.add
    lines = features = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            lines += 1
            if line[0] == "#" or line == "\n":
                continue
            cols, attrs = parse_line(line.rstrip("\n"))
            seqid, source, ftype, start_s, end_s, score, strand, phase, _ = cols
            features += 1
            fid = attrs["ID"][0] if "ID" in attrs else None
            parents = attrs.get("Parent", [])
            if fid:
                subject = feature_iri(fid)
            else:  # an ID-less child: numbered per parent and type
                owner = parents[0] if parents else f"{seqid}:{start_s}-{end_s}"
                n = kids[owner, ftype] = kids.get((owner, ftype), 0) + 1
                subject = URIRef(f"{feature_iri(owner)}/{ftype}/{n}")
            if ftype not in types:
                term = so.resolve(ftype) or so.terms[SEQUENCE_FEATURE]
                types[ftype] = URIRef(term.iri)
            add((subject, RDF.type, types[ftype]))
            label = attrs.get("Name", [fid])[0]
            if label:
                add((subject, RDFS.label, Literal(label)))
            if fid:
                add((subject, DCTERMS.identifier, Literal(fid)))
                add((subject, g2r.gffId, Literal(fid)))
            if source != ".":
                add((subject, g2r.source, Literal(source)))
            add((subject, in_taxon, taxon))
            if score != ".":
                add((subject, g2r.score, Literal(score, datatype=XSD.double)))
            if phase != ".":
                add((subject, g2r.phase, Literal(int(phase))))
            for key, values in attrs.items():
                if key in structural:
                    continue
                predicate = g2r[f"attr/{quote(key, safe='')}"]
                for value in values:
                    if value:
                        add((subject, predicate, Literal(value)))
            for parent in parents:
                add((subject, part_of, feature_iri(parent)))
            for source_id in attrs.get("Derives_from", []):
                add((subject, derives_from, feature_iri(source_id)))
            seq = f"{assembly}/{quote(seqid, safe='-._~:@!$&()*+,;=')}"
            start, end = int(start_s), int(end_s)
            region = URIRef(f"{seq}:{start}-{end}:{strand_code[strand]}")
            add((subject, faldo.location, region))
            add((region, RDF.type, faldo.Region))
            begin, finish = (end, start) if strand == "-" else (start, end)
            add((region, faldo.begin, position(seq, begin, strand)))
            add((region, faldo.end, position(seq, finish, strand)))
    graph.serialize(destination=output, format="nt", encoding="utf-8")
    return {**clock.read(), "lines": lines, "features": features,
            "triples": len(graph), "output_bytes": os.path.getsize(output)}


PHASES = ("nt", "ttl", "rdflib", "floor")


def run_phase(name: str, path: str, output: str, jobs: int | None) -> dict[str, Any]:
    """Run one phase in this process: its figures, with its peak memory (worker processes
    included) and the time this process's cyclic garbage collector took.

    Each phase times its own work; module imports are start-up and stay outside the clock.
    """
    import gc

    timer = GcTimer()
    memory = TreeMemory()
    gc.callbacks.append(timer)
    if name == "floor":
        figures = phase_floor(path)
    elif name == "rdflib":
        figures = phase_rdflib(path, output)
    else:
        figures = phase_convert(path, output, name, jobs)
    gc.callbacks.remove(timer)
    memory.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"phase": name, "input": path, "jobs": jobs,
            "peak_rss_mb": max(peak, memory.peak_bytes) / 1e6,
            "workers_seen": memory.workers_seen,
            "gc_seconds": timer.seconds, "gc_collections": timer.collections, **figures}


# -- the parent: build, run the phases, report --------------------------------------------------


@dataclass
class Phase:
    name: str
    title: str
    input: InputFile
    output: str = ""


def _child(phase: Phase, keep_output: bool, jobs: int | None) -> dict[str, Any]:
    """Run a phase as ``python bench/convert.py --phase NAME`` and read its JSON figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase.name,
           "--input", phase.input.path, "--output", phase.output]
    if jobs is not None and phase.name in ("nt", "ttl"):
        cmd += ["--jobs", str(jobs)]
    note(f"running {phase.title} on {Path(phase.input.path).name} ...")
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if phase.output and not keep_output:
        Path(phase.output).unlink(missing_ok=True)
    if proc.returncode != 0:
        note(f"{phase.title} failed with exit code {proc.returncode}")
        return {"phase": phase.name, "error": f"exit code {proc.returncode}"}
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["title"] = phase.title
    figures["load_after"] = os.getloadavg()[0]  # this phase itself counts about 1
    seconds = figures["seconds"]
    figures["lines_per_s"] = figures["lines"] / seconds if seconds else 0.0
    figures["triples_per_s"] = figures["triples"] / seconds if seconds else 0.0
    note(f"  {seconds:.1f} s, {figures['triples']:,} triples, "
          f"peak RSS {figures['peak_rss_mb']:,.0f} MB")
    return figures


@dataclass
class Target:
    name: str
    measured: float | None
    threshold: float
    at_least: bool
    unit: str

    @property
    def passed(self) -> bool | None:
        if self.measured is None:
            return None
        if self.at_least:
            return self.measured >= self.threshold
        return self.measured <= self.threshold

    def row(self) -> list[str]:
        fmt: Callable[[float], str] = (
            (lambda v: f"{v:,.0f}") if self.unit in ("triples/s", "MB") else
            (lambda v: f"{v:.2f}x"))
        measured = "n/a" if self.measured is None else fmt(self.measured)
        unit = f" {self.unit}" if self.unit != "x" else ""
        bound = (">= " if self.at_least else "<= ") + fmt(self.threshold) + unit
        verdict = {True: "PASS", False: "MISS", None: "n/a"}[self.passed]
        return [self.name, measured + unit, bound, verdict]


def _targets(results: dict[str, dict[str, Any]]) -> list[Target]:
    def get(phase: str, key: str) -> float | None:
        value = results.get(phase, {}).get(key)
        return float(value) if value is not None else None

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a is not None and b else None

    nt_tps, nt_s, ttl_s = get("nt", "triples_per_s"), get("nt", "seconds"), get("ttl", "seconds")
    peaks = [p for p in (get("nt", "peak_rss_mb"), get("ttl", "peak_rss_mb")) if p is not None]
    return [
        Target("N-Triples throughput", nt_tps, TARGET_NT_TRIPLES_PER_S, True, "triples/s"),
        Target("Turtle time / N-Triples time", ratio(ttl_s, nt_s), TARGET_TTL_OVER_NT,
               False, "x"),
        Target("N-Triples triples/s / rdflib baseline triples/s",
               ratio(nt_tps, get("rdflib", "triples_per_s")), TARGET_OVER_RDFLIB, True, "x"),
        Target("N-Triples time / parse-only floor time", ratio(nt_s, get("floor", "seconds")),
               TARGET_OVER_FLOOR, False, "x"),
        Target("peak RSS (N-Triples, Turtle)", max(peaks) if peaks else None, TARGET_PEAK_MB,
               False, "MB"),
    ]


def _table(rows: list[list[str]], right: set[int]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.rjust(w) if i in right else c.ljust(w)
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def report(big: InputFile, small: InputFile, results: dict[str, dict[str, Any]],
           targets: list[Target], load_before: float, code: CodeState,
           jobs: int | None) -> str:
    rows = [["phase", "input", "lines", "triples", "seconds", "CPU s", "GC s", "lines/s",
             "triples/s", "peak RSS MB", "load after"]]
    for name in ("nt", "ttl", "rdflib", "floor"):
        r = results.get(name)
        if r is None:
            continue
        label = Path(r.get("input", "")).name
        if "error" in r:
            rows.append([r.get("title", name), label, "failed", *[""] * 8])
            continue
        rows.append([r["title"], label, f"{r['lines']:,}",
                     f"{r['triples']:,}" if r["triples"] else "-", f"{r['seconds']:.2f}",
                     f"{r['cpu_seconds']:.2f}", f"{r['gc_seconds']:.2f}",
                     f"{r['lines_per_s']:,.0f}",
                     f"{r['triples_per_s']:,.0f}" if r["triples"] else "-",
                     f"{r['peak_rss_mb']:,.0f}", f"{r['load_after']:.1f}"])
    tiles = f"{big.tiles} tile{'s' if big.tiles != 1 else ''}"
    head = (f"gff2rdf convert benchmark: {big.lines:,}-line input ({tiles} of "
            f"{Path(big.source).name}, {big.bytes / 1e6:,.0f} MB), {small.lines:,}-line slice "
            f"for the rdflib baseline\n"
            f"{code.describe()}, convert() called with "
            f"{'its default jobs' if jobs is None else f'jobs={jobs}'}"
            f"{_workers_note(results)}\n"
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs; 1-minute load average "
            f"{load_before:.2f} before the phases. 'load after' is the same after each phase:\n"
            "the phase itself counts about 1, more means other work shared the cores (then\n"
            "seconds, the wall time the targets use, exceed CPU s by more than the I/O waits).\n"
            "GC s is the part of CPU s spent in Python's cyclic garbage collector (of the\n"
            "phase's own process, not of its workers).")
    target_rows = [["target", "measured", "target", "result"]] + [t.row() for t in targets]
    return "\n\n".join([head, _table(rows, set(range(2, 11))),
                        _table(target_rows, {1})])


def _workers_note(results: dict[str, dict[str, Any]]) -> str:
    seen = max((r.get("workers_seen", 0) for r in results.values()), default=0)
    if not seen:
        return " (one process)"
    return (f" ({seen} worker processes seen: CPU s includes them, peak RSS is the PSS of the "
            "process tree)")


def profile(small: InputFile, top: int = 15) -> None:
    """cProfile of the N-Triples conversion of the slice (in this process), top by tottime."""
    import cProfile
    import gc
    import pstats

    from gff2rdf.conversion.api import convert
    from gff2rdf.mapping.schema import compile_mapping

    compile_mapping()  # the LinkML import is start-up, not conversion
    output = OUT / "profile.nt"
    timer = GcTimer()
    gc.callbacks.append(timer)
    profiler = cProfile.Profile()
    profiler.enable()
    convert(small.path, output, fmt="nt", species=SPECIES, taxon=TAXON, assembly=ASSEMBLY,
            annotation=ANNOTATION)
    profiler.disable()
    gc.callbacks.remove(timer)
    output.unlink(missing_ok=True)
    print(f"\ncProfile of gff2rdf -> N-Triples on {Path(small.path).name}, "
          f"top {top} by tottime:")
    pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(top)
    print(f"The cyclic garbage collector ran {sum(timer.collections):,} times for "
          f"{timer.seconds:.2f} CPU s of this profile;\n"
          "cProfile charges those pauses to whichever call allocated when a collection started\n"
          "(often str.split). cProfile also adds a fixed cost to every call, so code made of\n"
          "many small calls looks slower than it runs.")


@dataclass
class CodeState:
    """Which gff2rdf the phases import: its version, place and git commit, and a fingerprint of
    its files, so that a report can say when the code changed while the benchmark ran."""

    version: str
    package: str
    commit: str
    fingerprint: str

    @classmethod
    def now(cls) -> CodeState:
        import hashlib

        import gff2rdf

        package = Path(gff2rdf.__file__).resolve().parent
        stamps = hashlib.sha256()
        for path in sorted(package.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                stat = path.stat()
                stamps.update(f"{path.relative_to(package)} {stat.st_mtime_ns} {stat.st_size}\n"
                              .encode())
        return cls(gff2rdf.__version__, str(package), _git_commit(package),
                   stamps.hexdigest()[:16])

    def describe(self) -> str:
        return f"gff2rdf {self.version} from {self.package} ({self.commit})"


def _git_commit(package: Path) -> str:
    """``commit abc1234`` (``, with uncommitted changes`` when the package has any)."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", "-C", str(package), *args], capture_output=True,
                              text=True, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "not a git checkout"
    dirty = git("status", "--porcelain", "--", ".")
    return f"commit {commit}" + (", with uncommitted changes" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Benchmark gff2rdf convert on a tiled whole-genome-scale GFF3 input.")
    parser.add_argument("--lines", type=int, default=FULL_LINES,
                        help=f"size of the large input in lines (default {FULL_LINES:,})")
    parser.add_argument("--quick", action="store_true",
                        help=f"a smoke run: --lines {SLICE_LINES:,}")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--source", type=Path, default=SOURCE,
                        help="the GFF3 file to tile (default: ../shared/data/gff3/%(default)s)"
                        .replace("%(default)s", SOURCE.name))
    parser.add_argument("--keep-output", action="store_true",
                        help="keep the RDF outputs in bench/out (several GB at full size)")
    parser.add_argument("--profile", action="store_true",
                        help="also print a cProfile of the N-Triples conversion of the slice")
    parser.add_argument("--jobs", type=int, metavar="N",
                        help="pass jobs=N to convert (default: what gff2rdf convert uses, the "
                        "jobs setting: one per core)")
    parser.add_argument("--phase", choices=PHASES,
                        help=argparse.SUPPRESS)  # internal: run one phase in this process
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase:
        print(json.dumps(run_phase(args.phase, args.input, args.output, args.jobs)))
        return 0
    if args.jobs is None:  # what the command line does by default
        from gff2rdf.settings import jobs

        args.jobs = jobs()

    if not args.source.exists():
        print(f"bench skipped: the source annotation {args.source} is absent. The benchmark "
              "tiles NCBI RefSeq TAIR10 chr1 from the shared data directory; put ../shared "
              "beside the repository or pass --source FILE.gff3[.gz].")
        return 0
    lines = SLICE_LINES if args.quick else args.lines
    small = build_input(args.source, min(SLICE_LINES, lines))
    big = small if lines <= SLICE_LINES else build_input(args.source, lines)

    phases = [
        Phase("nt", "gff2rdf -> N-Triples", big, str(OUT / "gff2rdf.nt")),
        Phase("ttl", "gff2rdf -> Turtle", big, str(OUT / "gff2rdf.ttl")),
        Phase("rdflib", "rdflib baseline -> N-Triples", small, str(OUT / "rdflib.nt")),
        Phase("floor", "parse-only floor", big),
    ]
    code = CodeState.now()
    load = os.getloadavg()[0]
    results = {p.name: _child(p, args.keep_output, args.jobs) for p in phases}  # one at a time
    changed = CodeState.now().fingerprint != code.fingerprint
    targets = _targets(results)
    print(report(big, small, results, targets, load, code, args.jobs))
    if changed:
        print("\nWARNING: gff2rdf's files changed while the benchmark ran, so the phases may "
              "have run\ndifferent code; run it again on a quiet checkout.")
    if args.json:
        figures = {"code": {**asdict(code), "changed_during_run": changed},
                   "input": asdict(big), "slice": asdict(small), "phases": results,
                   "targets": [{**asdict(t), "passed": t.passed} for t in targets],
                   "jobs": args.jobs, "python": platform.python_version(),
                   "cpus": os.cpu_count(),
                   "load_average_before": load}
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
        note(f"figures written to {args.json}")
    if args.profile:
        profile(small)
    return 0


if __name__ == "__main__":
    sys.exit(main())
