"""GFF3 structure across lines: IDs, parents, discontinuous features, ID-less children.

The ``Assembler`` receives features in file order and hands complete units to the emitter:

* lines sharing an ID are one feature (a discontinuous CDS): they are buffered together;
* ID-less children (exon, CDS, UTR lines in TAIR and RefSeq files) are buffered per first
  parent, so that each gets a stable IRI ``{parent}/{so_label}/{n}``, ``n`` its rank in
  biological order among its siblings of that type (moving unrelated lines changes nothing);
* a buffered unit is written once no line has joined it for ``window`` lines, at a ``###``
  directive (the file says all forward references are resolved), and at the end of the file.

What it keeps for the whole file grows with the number of IDs, not lines: per ID its type,
seqid and first line, its parents (for the cycle check), and the links to IDs not yet seen.

Errors (with file:line): a duplicate ID that is not one discontinuous feature of one type, a
Parent or Derives_from that never appears, a Parent cycle, an ID with several values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .emit import Emitter
from .errors import ProblemLog
from .gff3 import Feature

__all__ = ["Assembler"]

DEFAULT_WINDOW = 50_000
CHROMOSOME_TYPES = frozenset({"chromosome", "SO:0000340"})


@dataclass
class _Group:
    lines: list[Feature]
    last: int


@dataclass
class Assembler:
    emitter: Emitter
    log: ProblemLog
    window: int = DEFAULT_WINDOW
    lenient: bool = False
    ids: dict[str, tuple[str, str, int]] = field(default_factory=dict)
    _groups: dict[tuple[str, str], _Group] = field(default_factory=dict)
    _parents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _waiting: dict[str, list[tuple[str, str, int, str]]] = field(default_factory=dict)
    _kid_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    _iri_keys: dict[str, str] = field(default_factory=dict)
    _next_check: int = 0
    skipped: int = 0

    def __post_init__(self) -> None:
        self._next_check = self.window
        self._part_of = self.emitter.P_PART_OF
        self._derives = self.emitter.P_DERIVES

    # -- input --------------------------------------------------------------------------------

    def add(self, f: Feature) -> None:
        attrs = f.attributes
        if f.type in CHROMOSOME_TYPES or (f.type == "region" and attrs.get("genome") == ["chromosome"]):
            self._note_chromosome(f)
        ids = attrs.get("ID")
        if ids is not None:
            if len(ids) != 1 or not ids[0]:
                self.log.error(f.line, "bad-id",
                               f"ID must have exactly one non-empty value, found {ids!r}")
                self.skipped += 1
                return
            fid = ids[0]
            known = self.ids.get(fid)
            if known is not None:
                ftype, seqid, first = known
                if ftype != f.type:
                    self.log.error(f.line, "duplicate-id",
                                   f"ID {fid!r} was first used on line {first} for a {ftype}; "
                                   f"here it is a {f.type}. Lines sharing an ID must be one "
                                   "discontinuous feature of one type; give this one its own ID")
                    self.skipped += 1
                    return
                group = self._groups.get(("id", fid))
                if group is None:
                    self.log.error(f.line, "late-segment",
                                   f"this line continues feature {fid!r} (line {first}) more "
                                   f"than {self.window} lines after its other lines; keep the "
                                   "lines of a feature together or raise --window")
                    self.skipped += 1
                    return
                group.lines.append(f)
                group.last = f.line
            else:
                self._register(fid, f)
                self._groups[("id", fid)] = _Group([f], f.line)
        else:
            parents = attrs.get("Parent")
            if parents and parents[0]:
                key = ("kids", parents[0])
                group = self._groups.get(key)
                if group is None:
                    self._groups[key] = _Group([f], f.line)
                else:
                    group.lines.append(f)
                    group.last = f.line
            else:
                subject = Emitter.anonymous_iri(self.emitter.genome, f)
                self._emit_one(subject, [f], None)
        if f.line >= self._next_check:
            self._flush_idle(f.line)

    def end_of_group(self) -> None:
        """``###``: everything buffered so far is complete."""
        self._flush(list(self._groups))

    def finish(self) -> None:
        """End of file: write what is buffered, then report undefined parents and cycles."""
        self._flush(list(self._groups))
        for target, waiting in sorted(self._waiting.items(), key=lambda kv: kv[1][0][2]):
            for _subject, _pred, line, attr in waiting:
                message = (f"{attr} {target!r} is never defined: no line has ID={target}")
                if self.lenient:
                    self.log.warn(line, "undefined-parent", message + "; the link was dropped")
                else:
                    self.log.error(line, "undefined-parent", message)
        self._waiting.clear()
        self._check_cycles()

    # -- internals ----------------------------------------------------------------------------

    def _register(self, fid: str, f: Feature) -> None:
        key = self.emitter.id_key(fid)
        if key != fid:
            other = self._iri_keys.setdefault(key, fid)
            clash = other if other != fid else (key if key in self.ids else None)
        else:
            clash = self._iri_keys.get(fid)
        if clash is not None:
            self.log.error(f.line, "iri-collision",
                           f"ID {fid!r} and ID {clash!r} would share the IRI "
                           f"{self.emitter.feature_iri(fid)}; rename one of them")
        self.ids[fid] = (f.type, f.seqid, f.line)
        waiting = self._waiting.pop(fid, None)
        if waiting:
            target = f"<{self.emitter.feature_iri(fid)}>"
            for subject, pred, _line, _attr in waiting:
                self.emitter.writer.subject(subject, [(pred, target)])

    def _note_chromosome(self, f: Feature) -> None:
        from .gff3 import SequenceInfo

        info = self.emitter.seq_info.setdefault(f.seqid, SequenceInfo(f.seqid))
        info.so_type = "chromosome"

    def _flush_idle(self, now: int) -> None:
        limit = now - self.window
        self._flush([k for k, g in self._groups.items() if g.last < limit])
        self._next_check = now + max(1, self.window // 4)

    def _flush(self, keys: list[tuple[str, str]]) -> None:
        for key in keys:
            group = self._groups.pop(key)
            if key[0] == "id":
                self._emit_one(self.emitter.feature_iri(key[1]), group.lines, key[1])
            else:
                self._emit_children(key[1], group.lines)

    def _links(self, subject: str, lines: list[Feature], fid: str | None) -> list[tuple[str, str]]:
        links: list[tuple[str, str]] = []
        parents: list[str] = []
        for f in lines:
            for attr, pred in (("Parent", self._part_of), ("Derives_from", self._derives)):
                for target in f.attributes.get(attr, ()):
                    if not target:
                        continue
                    if attr == "Parent" and target not in parents:
                        parents.append(target)
                    term = f"<{self.emitter.feature_iri(target)}>"
                    if (pred, term) in links:
                        continue
                    if target in self.ids:
                        links.append((pred, term))
                    else:
                        self._waiting.setdefault(target, []).append(
                            (f"<{subject}>", pred, f.line, attr))
        if fid is not None and parents:
            self._parents[fid] = tuple(parents)
        return links

    def _emit_one(self, subject: str, lines: list[Feature], fid: str | None) -> None:
        self.emitter.feature(subject, lines, fid, self._links(subject, lines, fid))

    def _emit_children(self, parent: str, lines: list[Feature]) -> None:
        by_type: dict[str, list[Feature]] = {}
        for f in lines:
            by_type.setdefault(f.type, []).append(f)
        parent_iri = self.emitter.feature_iri(parent)
        for ftype, kids in by_type.items():
            label = self.emitter.type_info(kids[0]).label
            for f in kids[1:]:  # type_info warns per line for unknown types
                self.emitter.type_info(f)
            reverse = all(f.strand == "-" for f in kids)
            kids.sort(key=lambda f: _order_key(f, reverse))
            count_key = (parent, ftype)
            offset = self._kid_counts.get(count_key, 0)
            if offset:
                self.log.warn(kids[0].line, "late-children",
                              f"ID-less {ftype} lines of {parent!r} are more than "
                              f"{self.window} lines apart; ranks in their IRIs follow file "
                              "order for the later ones")
            for n, f in enumerate(kids, offset + 1):
                subject = f"{parent_iri}/{label}/{n}"
                self._emit_one(subject, [f], None)
            self._kid_counts[count_key] = offset + len(kids)

    def _check_cycles(self) -> None:
        parents = self._parents
        state: dict[str, int] = {}  # 1 = on the current path, 2 = done
        for start in parents:
            if state.get(start):
                continue
            stack: list[tuple[str, Iterator[str]]] = [(start, iter(parents.get(start, ())))]
            state[start] = 1
            while stack:
                node, children = stack[-1]
                nxt = next(children, None)
                if nxt is None:
                    state[node] = 2
                    stack.pop()
                    continue
                mark = state.get(nxt)
                if mark == 1:
                    path = [n for n, _ in stack]
                    cycle = path[path.index(nxt):] + [nxt]
                    line = self.ids[nxt][2] if nxt in self.ids else 0
                    self.log.error(line, "parent-cycle",
                                   "Parent links form a cycle: " + " -> ".join(cycle) +
                                   "; a feature cannot be part of itself")
                elif mark is None and nxt in parents:
                    state[nxt] = 1
                    stack.append((nxt, iter(parents[nxt])))


def _order_key(f: Feature, reverse: bool) -> tuple[int, int, str]:
    """Biological order: 5' to 3' on the feature's strand; identical coordinates ordered by
    content, not line number, so that moving lines never changes an IRI."""
    tie = ";".join(f"{k}={','.join(v)}" for k, v in sorted(f.attributes.items()))
    if reverse:
        return (-f.end, -f.start, tie)
    return (f.start, f.end, tie)
