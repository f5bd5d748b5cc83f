"""Reading a gff2rdf graph for export: triples to feature records on disk, and a small index.

``gff2rdf export`` must write a whole genome without holding its triples: a 1 M-line genome is
20 M triples, and the triples of one feature are adjacent only in some serialisations (convert
writes each feature's triples together, but a link to a feature defined later comes much later;
a store dumps one subject's triples together, subjects in no useful order; other tools shuffle
them). So the triples are read once, in whatever order, and:

* consecutive triples of one subject make a *fragment*, parsed into ``(predicate, value)``
  pairs and appended to a spill file (``marshal``, a few hundred bytes a feature). A subject's
  fragments may be many (a shuffled file: one a triple) or one (convert's output, a dump);
  the lines of a discontinuous feature (``{feature}/segment/{n}``) are filed under their
  feature, as segment ``n``;
* the FALDO region and position nodes are skipped: a feature's region IRI says its sequence,
  coordinates and strand (``{sequence}:{start}-{end}:{strand}``, docs/modelling.md), which is
  what export needs, so no join with them is needed;
* the ``GraphIndex`` keeps, per subject, only what ordering and selecting need: where its
  fragments are in the spill file, its sequence, start, end, strand, SO class and links
  (``so:part_of``, ``so:derives_from``) as 64-bit hashes of the target IRIs, in flat arrays
  beside one dict from subject hash to entry; the attributes and lines live on disk until
  they are written.

Keys (``iri_key``: 64 bits of BLAKE2b of the IRI) stand for IRIs to keep the index small;
two IRIs of one genome share one with a probability of about n^2 / 2^65 (3e-8 for a million
features). They also order features that tie on their coordinates, the same way whatever the
source's order.

Example:
    >>> index = GraphIndex(compile_mapping())
    >>> index.add("http://x/g/feature/a", [(index.pred_id(RDF_TYPE), OBO_SO + "0000704")])
    >>> index.add("http://x/g/feature/a/segment/2", [(index.pred_id(RDF_TYPE), "g2r:Segment")])
    >>> index.finish()
    >>> [(segment, len(pairs)) for segment, pairs in index.records(0)]
    [(0, 1), (2, 1)]
    >>> index.close()
"""

from __future__ import annotations

import marshal
import os
import re
import tempfile
from array import array
from hashlib import blake2b
from typing import IO

from ..errors import InputError
from ..mapping.schema import Mapping, compile_mapping
from ..vocab import DCAT, OBO, RDF_TYPE

__all__ = ["GraphIndex", "Pairs", "adjacency", "iri_key", "parse_region"]

DCAT_DATASET = f"{DCAT}Dataset"
OBO_SO = f"{OBO}SO_"
STRANDS = {"1": "+", "-1": "-", "0": ".", "u": "?"}
_SEGMENT = re.compile(rb"^(.*)/segment/([0-9]+)$")

Pairs = list[tuple[int, str]]  # (predicate number in GraphIndex.predicates, value)


def iri_key(iri: str) -> int:
    """A 64-bit key for an IRI, the same in every process and run (``hash()`` is not)."""
    return int.from_bytes(blake2b(iri.encode("utf-8"), digest_size=8).digest(), "little",
                          signed=True)


def parse_region(region: str) -> tuple[str, int, int, str] | None:
    """``(sequence IRI, start, end, strand)`` of a region IRI that convert minted
    (``{sequence}:{start}-{end}:{strand code}``), or None for any other IRI.

    >>> parse_region("https://x/assembly/TAIR10/Chr1:5928-8737:-1")
    ('https://x/assembly/TAIR10/Chr1', 5928, 8737, '-')
    """
    parts = region.rsplit(":", 2)
    if len(parts) != 3 or parts[2] not in STRANDS:
        return None
    start, sep, end = parts[1].partition("-")
    if not sep or not (start.isascii() and start.isdigit() and end.isascii() and end.isdigit()):
        return None
    return parts[0], int(start), int(end), STRANDS[parts[2]]


class GraphIndex:
    """Per subject: its fragments in the spill file, its place, class and links.

    Entries are numbered in the order their subjects were first seen. ``seq[i]`` is -1 for a
    subject without ``faldo:location`` (sequences, the dataset description, anything that is
    not a feature). Links (``so:part_of``, ``so:derives_from``; not a segment's to its
    feature, under which it is filed) are kept as two arrays, the entry and the hash of its
    target, and resolved to entries by ``links()``. Everything per entry is in flat arrays
    (about 40 bytes) beside the dict from subject hash to entry: measured on the 1 M-line
    benchmark genome, lists and tuples per entry took the export's peak memory to 539 MB.
    """

    DATASET = 1  # a flag: typed dcat:Dataset (a genome version's description)

    def __init__(self, mapping: Mapping | None = None, tmpdir: str | None = None) -> None:
        mapping = mapping or compile_mapping()
        self.mapping = mapping
        p = {name: term[1:-1] for name, term in mapping.predicates.items()}
        self.P = p
        self.predicates: list[str] = []
        self.pred_ids: dict[str, int] = {}
        for name in ("type", "location", "part_of", "derives_from"):
            self.pred_id(RDF_TYPE if name == "type" else p[name])
        self.TYPE, self.LOCATION, self.PART_OF, self.DERIVES = 0, 1, 2, 3
        self.keys: dict[int, int] = {}
        self.key = array("q")  # each entry's iri_key: orders ties the same from any source
        self.seq = array("i")
        self.start = array("q")
        self.end = array("q")
        self.strand = bytearray()
        self.ftype = array("i")
        self.flags = bytearray()
        # the fragments of entry i: spans of the spill file, chained from first[i]; a
        # fragment that follows the entry's last one directly lengthens that span
        self.first = array("q")
        self.last = array("q")
        self.span_at = array("q")
        self.span_len = array("q")
        self.span_next = array("q")
        self.link_from = array("q")
        self.link_hash = array("q")
        self._links: tuple[array[int], array[int]] | None = None
        self.seq_iris: dict[str, int] = {}
        self.seq_list: list[str] = []
        self.types: dict[str, int] = {}
        self.type_list: list[str] = []
        self.skipped_blank = 0
        self.dataset_iris: dict[int, str] = {}  # entries typed dcat:Dataset: their IRIs
        self._spill: IO[bytes] = tempfile.TemporaryFile(dir=tmpdir)  # noqa: SIM115
        self._buffer = bytearray()
        self._written = 0

    def __len__(self) -> int:
        return len(self.first)

    def close(self) -> None:
        self._spill.close()

    def pred_id(self, iri: str | bytes) -> int:
        if isinstance(iri, bytes):
            iri = iri.decode("utf-8")
        found = self.pred_ids.get(iri)
        if found is None:
            found = self.pred_ids[iri] = len(self.predicates)
            self.predicates.append(iri)
        return found

    def entry(self, subject: str) -> int:
        """The entry of ``subject``, made when new."""
        key = iri_key(subject)
        i = self.keys.get(key)
        if i is None:
            i = self.keys[key] = len(self.first)
            self.key.append(key)
            self.seq.append(-1)
            self.start.append(0)
            self.end.append(0)
            self.strand.append(0)
            self.ftype.append(-1)
            self.flags.append(0)
            self.first.append(-1)
            self.last.append(-1)
        return i

    def find(self, iri: str) -> int | None:
        return self.keys.get(iri_key(iri))

    # -- fragments ---------------------------------------------------------------------------

    def add(self, subject: str, pairs: Pairs) -> None:
        """File one fragment of ``subject`` (a segment's under its feature)."""
        segment = 0
        if subject.endswith(tuple("0123456789")) and "/segment/" in subject:
            m = _SEGMENT.match(subject.encode("utf-8"))
            if m is not None:
                subject, segment = m.group(1).decode("utf-8"), int(m.group(2))
        i = self.entry(subject)
        if not segment:
            self._note(i, pairs, subject)
        data = marshal.dumps((segment, pairs))
        at = self._written
        last = self.last[i]
        if last >= 0 and self.span_at[last] + self.span_len[last] == at:
            self.span_len[last] += len(data) + 4
        else:
            span = len(self.span_at)
            self.span_at.append(at)
            self.span_len.append(len(data) + 4)
            self.span_next.append(-1)
            if last >= 0:
                self.span_next[last] = span
            else:
                self.first[i] = span
            self.last[i] = span
        self._buffer += len(data).to_bytes(4, "little")
        self._buffer += data
        self._written += len(data) + 4
        if len(self._buffer) >= 1 << 20:
            self._spill.write(self._buffer)
            self._buffer.clear()

    def _note(self, i: int, pairs: Pairs, subject: str) -> None:
        for pred, value in pairs:
            if pred == self.LOCATION:
                place = parse_region(value)
                if place is None:
                    raise InputError(f"faldo:location <{value}> is not a region IRI that "
                                     "gff2rdf convert writes ({sequence}:{start}-{end}:"
                                     "{strand}); export reads graphs written by gff2rdf")
                seq_iri, self.start[i], self.end[i], strand = place
                s = self.seq_iris.get(seq_iri)
                if s is None:
                    s = self.seq_iris[seq_iri] = len(self.seq_list)
                    self.seq_list.append(seq_iri)
                self.seq[i] = s
                self.strand[i] = ord(strand)
            elif pred == self.PART_OF or pred == self.DERIVES:
                self.link_from.append(i)
                self.link_hash.append(iri_key(value))
            elif pred == self.TYPE:
                if value.startswith(OBO_SO):
                    t = self.types.get(value)
                    if t is None:
                        t = self.types[value] = len(self.type_list)
                        self.type_list.append(value)
                    self.ftype[i] = t
                elif value == DCAT_DATASET:
                    self.flags[i] |= self.DATASET
                    self.dataset_iris[i] = subject

    def finish(self) -> None:
        if self._buffer:
            self._spill.write(self._buffer)
            self._buffer.clear()
        self._spill.flush()

    def records(self, i: int) -> list[tuple[int, Pairs]]:
        """The fragments of entry ``i``: ``(segment number or 0, pairs)``."""
        fd = self._spill.fileno()
        found = []
        span = self.first[i]
        while span >= 0:
            data = os.pread(fd, self.span_len[span], self.span_at[span])
            at = 0
            while at < len(data):
                n = int.from_bytes(data[at:at + 4], "little")
                found.append(marshal.loads(data[at + 4:at + 4 + n]))
                at += 4 + n
            span = self.span_next[span]
        return found

    def values(self, i: int, predicate: str) -> list[str]:
        """The values of one predicate of entry ``i`` (for the few non-feature subjects)."""
        pid = self.pred_ids.get(predicate)
        return [v for seg, pairs in self.records(i) if not seg for p, v in pairs if p == pid]

    def links(self) -> tuple[array[int], array[int]]:
        """Every link between two features as ``(children, parents)``, entries in two arrays
        (a link to a subject that is not a feature of the graph is left out)."""
        if self._links is None:
            children, parents = array("q"), array("q")
            keys, seq = self.keys, self.seq
            for child, target in zip(self.link_from, self.link_hash, strict=True):
                j = keys.get(target)
                if j is not None and seq[j] >= 0 and j != child and seq[child] >= 0:
                    children.append(child)
                    parents.append(j)
            self._links = (children, parents)
        return self._links


def adjacency(n: int, sources: array[int], targets: array[int]) -> tuple[array[int], array[int]]:
    """The targets of each of ``n`` entries, in compressed rows: those of ``i`` are
    ``found[offsets[i]:offsets[i + 1]]`` (flat arrays: 8 bytes a link and an entry)."""
    counts = array("q", bytes(8 * (n + 1)))
    for s in sources:
        counts[s + 1] += 1
    for k in range(n):
        counts[k + 1] += counts[k]
    fill = array("q", counts)
    found = array("q", bytes(8 * len(sources)))
    for s, t in zip(sources, targets, strict=True):
        found[fill[s]] = t
        fill[s] += 1
    return counts, found
