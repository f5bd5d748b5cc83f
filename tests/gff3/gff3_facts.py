"""Expected answers for the canned-query tests, computed from GFF3 and OBO files in plain Python.

Nothing here uses gff2rdf: the lines are split by hand, features grouped by ID as GFF3 says
(one ID on several lines is one feature, with the extent of its lines), and SO classes looked up
in so.obo by name or exact synonym, so that a bug shared by the converter and the queries cannot
make a test pass.
"""

from __future__ import annotations

import gzip
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

OBO = "http://purl.obolibrary.org/obo/"
# Provider spellings of column 3 that are not SO names or synonyms (ontology/gff2rdf.yaml)
ALIASES = {"lnc_RNA": "lncRNA", "scaffold": "supercontig", "mRNA_TE_gene": "mRNA"}


@dataclass
class Feature:
    key: str  # the ID, else "line N"
    id: str | None
    type: str
    seqid: str
    start: int
    end: int
    strand: str
    parents: list[str]
    derives: list[str]
    attrs: dict[str, list[str]]
    lines: list[int] = field(default_factory=list)
    parts: list[tuple[int, int]] = field(default_factory=list)  # each line's start, end

    @property
    def location(self) -> tuple[str, int, int, str]:
        return (self.seqid, self.start, self.end, self.strand)


def _attrs(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in text.strip().strip(";").split(";"):
        if "=" not in pair:
            continue
        key, _, value = pair.partition("=")
        out[key.strip()] = [unquote(v) for v in value.split(",")]
    return out


def read_features(path: Path) -> list[Feature]:
    """The features of a GFF3 file, in file order of their first line."""
    opener = gzip.open if path.read_bytes()[:2] == b"\x1f\x8b" else open
    by_key: dict[str, Feature] = {}
    with opener(path, "rt", encoding="utf-8") as lines:
        for number, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            if line.startswith("##FASTA"):
                break
            if not line or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) < 9:
                continue
            attrs = _attrs(cols[8])
            fid = attrs.get("ID", [None])[0]
            key = fid or f"line {number}"
            start, end = int(cols[3]), int(cols[4])
            if key in by_key:
                f = by_key[key]
                if cols[0] == f.seqid:
                    f.start, f.end = min(f.start, start), max(f.end, end)
                f.lines.append(number)
                f.parts.append((start, end))
                continue
            by_key[key] = Feature(key, fid, cols[2], cols[0], start, end, cols[6],
                                  attrs.get("Parent", []), attrs.get("Derives_from", []), attrs,
                                  [number], [(start, end)])
    return list(by_key.values())


@dataclass
class Ontology:
    """Names, exact synonyms and is_a / part_of parents of an OBO file, by regular expressions."""

    names: dict[str, str]
    is_a: dict[str, set[str]]
    part_of: dict[str, set[str]]

    @classmethod
    def read(cls, path: Path) -> Ontology:
        names: dict[str, str] = {}
        is_a: dict[str, set[str]] = defaultdict(set)
        part_of: dict[str, set[str]] = defaultdict(set)
        text = path.read_text(encoding="utf-8")
        for stanza in text.split("\n[")[1:]:
            if not stanza.startswith("Term]"):
                continue
            term = re.search(r"^id: (\S+)", stanza, re.M)
            if not term:
                continue
            tid = term.group(1)
            obsolete = re.search(r"^is_obsolete: true", stanza, re.M)
            name = re.search(r"^name: (.+)$", stanza, re.M)
            if name and not obsolete:
                names.setdefault(name.group(1).strip(), tid)
            if not obsolete:
                for syn in re.findall(r'^synonym: "([^"]+)" EXACT', stanza, re.M):
                    names.setdefault(syn, tid)
            for parent in re.findall(r"^is_a: (\S+)", stanza, re.M):
                is_a[tid].add(parent)
            for parent in re.findall(r"^relationship: part_of (\S+)", stanza, re.M):
                part_of[tid].add(parent)
        return cls(names, dict(is_a), dict(part_of))

    def iri(self, type_name: str) -> str:
        tid = self.names.get(ALIASES.get(type_name, type_name)) or self.names.get(type_name)
        if tid is None:
            lowered = {k.lower(): v for k, v in self.names.items()}
            tid = lowered.get(type_name.lower(), "SO:0000110")
        return OBO + tid.replace(":", "_")

    def descendants(self, *roots: str, part_of: bool = False) -> set[str]:
        """The roots and every term under them by is_a (and part_of)."""
        children: dict[str, set[str]] = defaultdict(set)
        for child, parents in self.is_a.items():
            for p in parents:
                children[p].add(child)
        if part_of:
            for child, parents in self.part_of.items():
                for p in parents:
                    children[p].add(child)
        found = set(roots)
        stack = list(roots)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in found:
                    found.add(child)
                    stack.append(child)
        return found


def children_of(features: list[Feature]) -> dict[str, list[Feature]]:
    """Features by the ID of each parent (Parent= and Derives_from=)."""
    out: dict[str, list[Feature]] = defaultdict(list)
    for f in features:
        for p in [*f.parents, *f.derives]:
            out[p].append(f)
    return out


def model(features: list[Feature], gene_id: str) -> list[Feature]:
    """A feature and everything below it by Parent / Derives_from."""
    kids = children_of(features)
    by_id = {f.id: f for f in features if f.id}
    found: dict[str, Feature] = {}
    stack = [by_id[gene_id]]
    while stack:
        f = stack.pop()
        if f.key in found:
            continue
        found[f.key] = f
        if f.id:
            stack.extend(kids.get(f.id, []))
    return list(found.values())


def overlaps(f: Feature, start: int, end: int) -> bool:
    return f.start <= end and f.end >= start


def distance(f: Feature, position: int) -> int:
    if position < f.start:
        return f.start - position
    if position > f.end:
        return position - f.end
    return 0
