"""Feature-by-feature comparison of two GFF3 files, for the export round trip.

Nothing here uses gff2rdf: lines are split by hand as GFF3 1.26 says (nine tab-separated
columns; ``tag=value`` pairs split on ``;``, values on ``,``, then percent-decoded), so that a
bug shared by the reader and the exporter cannot make a round trip pass. A line becomes a
``Line``: the eight columns and the multiset of its ``(tag, value)`` pairs, which holds ID,
Parent and Derives_from, so equal multisets of lines mean the same features and the same
parent-child graph. Line order, attribute order, value order and the percent-encoding of
characters that need none do not matter.

Allowed differences are named here (``ALLOWANCES``) and listed per file, with a reason, in
``tests/export/export_differences.tsv``; a comparison applies only the allowances listed for the
file, so an unlisted difference fails the test.
"""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import unquote

DIFFERENCES = Path(__file__).with_name("export_differences.tsv")


@dataclass(frozen=True)
class Line:
    number: int  # in its file; not compared
    seqid: str
    source: str
    type: str
    start: int
    end: int
    score: str
    strand: str
    phase: str
    attributes: tuple[tuple[str, str], ...]  # sorted (tag, value) pairs, repeats kept

    def key(self) -> tuple[object, ...]:
        return (self.seqid, self.source, self.type, self.start, self.end, self.score,
                self.strand, self.phase, self.attributes)

    def values(self, tag: str) -> list[str]:
        return [v for t, v in self.attributes if t == tag]

    def __str__(self) -> str:
        column9 = ";".join(f"{t}={v}" for t, v in self.attributes)
        return (f"{self.seqid}\t{self.source}\t{self.type}\t{self.start}\t{self.end}\t"
                f"{self.score}\t{self.strand}\t{self.phase}\t{column9}")


def _pairs(text: str) -> list[tuple[str, str]]:
    pairs = []
    if text.strip() in ("", "."):
        return pairs
    for item in text.split(";"):
        if not item.strip():
            continue
        tag, _, value = item.partition("=")
        for v in value.split(","):
            pairs.append((unquote(tag.strip()), unquote(v)))
    return pairs


def read_lines(path: Path) -> list[Line]:
    """The feature lines of a GFF3 file (plain or gzip), up to its FASTA section."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    lines = []
    for number, raw in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
        if raw.startswith("##FASTA") or raw.startswith(">"):
            break
        if not raw.strip() or raw.startswith("#"):
            continue
        cols = raw.rstrip("\r\n").split("\t")
        if len(cols) > 9 and not "".join(cols[9:]).strip():
            cols = cols[:9]
        if len(cols) != 9:
            continue
        seqid, source, ftype, start, end, score, strand, phase, column9 = cols
        if not (start.isdigit() and end.isdigit()):
            continue
        lines.append(Line(number, unquote(seqid.rstrip()), source, ftype, int(start), int(end),
                          score, strand, phase, tuple(sorted(_pairs(column9)))))
    return lines


# -- allowed differences ---------------------------------------------------------------------


def _no_repeated_values(lines: list[Line]) -> list[Line]:
    """A tag repeating one value (Dbxref=A,A; Dbxref=A;Dbxref=A) keeps it once: RDF holds a
    triple once."""
    return [replace(x, attributes=tuple(sorted(set(x.attributes)))) for x in lines]


def _no_empty_values(lines: list[Line]) -> list[Line]:
    """An empty value in a list (Note=a,,b) is no value: nothing to keep."""
    return [replace(x, attributes=tuple(p for p in x.attributes if p[1] != "")) for x in lines]


def _repeated_lines_once(lines: list[Line]) -> list[Line]:
    """A line without ID or Parent repeated word for word is one feature (convert warns
    duplicate-line and writes it once)."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for x in lines:
        anonymous = not x.values("ID") and not x.values("Parent")
        if anonymous and x.key() in seen:
            continue
        seen.add(x.key())
        out.append(x)
    return out


def _numeric_scores(lines: list[Line]) -> list[Line]:
    """A score compared by its value (a store keeps xsd:double values, not their spelling:
    1.50 comes back as 1.5)."""
    return [replace(x, score=x.score if x.score == "." else repr(float(x.score)))
            for x in lines]


ALLOWANCES: dict[str, Callable[[list[Line]], list[Line]]] = {
    "repeated-value": _no_repeated_values,
    "empty-value": _no_empty_values,
    "duplicate-line": _repeated_lines_once,
    "score-spelling": _numeric_scores,
}


@dataclass(frozen=True)
class Difference:
    file: str  # a file name, or * for every file
    kind: str
    reason: str


def listed_differences() -> list[Difference]:
    with DIFFERENCES.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")),
                              delimiter="\t")
        return [Difference(r["file"], r["kind"], r["reason"]) for r in rows]


def allowances_for(name: str, extra: Iterable[str] = ()) -> list[str]:
    kinds = [d.kind for d in listed_differences() if d.file in (name, "*")]
    return [k for k in [*kinds, *extra] if k in ALLOWANCES]


def compare(expected: list[Line], exported: list[Line], allow: Iterable[str] = ()
            ) -> tuple[str, list[str]]:
    """'' when the two files hold the same features, else what differs (a few lines of
    each side); and the allowances that were needed."""
    if _same(expected, exported):
        return "", []
    used = []
    for kind in allow:
        expected, exported = ALLOWANCES[kind](expected), ALLOWANCES[kind](exported)
        used.append(kind)
        if _same(expected, exported):
            return "", used
    return _describe(expected, exported), used


def _same(a: list[Line], b: list[Line]) -> bool:
    return Counter(x.key() for x in a) == Counter(x.key() for x in b)


def _describe(expected: list[Line], exported: list[Line]) -> str:
    a = Counter(x.key() for x in expected)
    b = Counter(x.key() for x in exported)
    lost = [x for x in expected if a[x.key()] > b.get(x.key(), 0)]
    extra = [x for x in exported if b[x.key()] > a.get(x.key(), 0)]
    out = [f"{len(expected)} lines in, {len(exported)} out; "
           f"{len(lost)} not exported as they were, {len(extra)} not in the input"]
    out += [f"  in  (line {x.number}): {x}" for x in lost[:4]]
    out += [f"  out (line {x.number}): {x}" for x in extra[:4]]
    return "\n".join(out)
