r"""Parsing RDF for export: N-Triples and N-Quads line by line, anything else with pyoxigraph.

A genome is 20 M triples at 1 M lines, so the N-Triples path is the fast one: consecutive lines
of one subject make a *fragment* (told apart by one ``startswith`` a line), each fragment's
predicates and objects are taken by one regular expression, and the fragment is filed in a
``GraphIndex`` (``gff2rdf.export.read``). The fragments of FALDO region and position nodes are
dropped on their first line. Lines the expression does not take (tabs between terms, blank
nodes, comments, escapes in IRIs) go through a complete N-Triples line pattern; a line that is
not N-Triples is an ``InputError`` with its number. Graph names of N-Quads are ignored.

Example:
    >>> index = GraphIndex()
    >>> read_ntriples(index, [b'<http://x/g/feature/a> <https://w3id.org/gff2rdf/vocab#gffId>'
    ...                       b' "caf\\u00E9" .\n'])
    >>> [value for _, value in index.records(0)[0][1]]
    ['café']
    >>> index.close()
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import InputError
from ..vocab import FALDO, RDF_TYPE
from .read import GraphIndex, Pairs

__all__ = ["NtriplesSink", "read_ntriples", "read_triples", "unescape_literal"]

_FALDO_B = b"<" + FALDO.encode()
_TYPE_B = b"<" + RDF_TYPE.encode() + b">"
_ECHAR = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.S)
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'",
           "\\": "\\"}
# An N-Triples or N-Quads line in full generality (any blank, blank nodes, comments after the
# dot): ``_FAST`` takes the lines convert and pyoxigraph write, this the rest
_TERM = rb'(?:<[^>]*>|_:[^\s]+|"(?:[^"\\]|\\.)*"(?:\^\^<[^>]*>|@[A-Za-z0-9-]+)?)'
_LINE = re.compile(rb"[ \t]*(" + _TERM + rb")[ \t]*(" + _TERM + rb")[ \t]*(" + _TERM
                   + rb")(?:[ \t]*(" + _TERM + rb"))?[ \t]*\.[ \t]*(?:#.*)?\r?\n?$", re.S)

_STRING = re.compile(rb'"((?:[^"\\]|\\.)*)"', re.S)
# the lines convert and pyoxigraph write: "<s> <p> <o> ." or "<s> <p> "literal"... ." (and a
# graph after the object in N-Quads); an IRI with a backslash escape takes the slow path
_FAST = re.compile(r'^<[^>]*> <([^>]*)> (?:<([^>\\]*)>|"((?:[^"\\]|\\.)*)")', re.M)


def unescape_literal(text: str) -> str:
    r"""The value of an N-Triples string body (``\n``, ``\"``, ``\u00e9`` ... decoded).

    >>> unescape_literal(r'say \"hi\"\n caf\u00E9')
    'say "hi"\n café'
    """
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        if m.group(3) is not None:
            if m.group(3) not in _ECHARS:
                raise ValueError(f"unknown escape \\{m.group(3)}")
            return _ECHARS[m.group(3)]
        return chr(int(m.group(1) or m.group(2), 16))

    return _ECHAR.sub(one, text)


class _Fragments:
    """Cuts lines into fragments (consecutive lines of one subject) and files them."""

    def __init__(self, index: GraphIndex) -> None:
        self.index = index
        self.subject = b""
        self.head = b"\x00"  # "<subject>" of the current fragment
        self.lines: list[bytes] = []
        self.number = 0  # lines read, for error messages
        self.rest = b""

    def lines_in(self, lines: Iterable[bytes]) -> None:
        # the hot loop (20 M lines for a 1 M-line genome): a line of the current subject is
        # told by one startswith of "<subject>" (an IRI holds no '>'), with no slicing; the
        # subject is cut out only when it changes (about one line in ten). Measured with
        # callgrind on 100k lines of the benchmark's N-Triples: 8 % fewer instructions in
        # all than cutting the subject out of every line.
        subject, frag, head = self.subject, self.lines, self.head
        number = self.number
        for line in lines:
            number += 1
            if line.startswith(head):
                frag.append(line)
                continue
            if line[:1] != b"<":
                if not line.strip() or line.lstrip()[:1] == b"#":
                    continue
                if line.lstrip()[:2] == b"_:":
                    self.index.skipped_blank += 1  # never a feature: convert writes IRIs
                    continue
                if line.lstrip()[:1] != b"<":
                    self.number = number
                    raise InputError(f"line {number}: not an N-Triples or N-Quads line: "
                                     f"{line[:80]!r}")
                line = line.lstrip()
            end = line.find(b">") + 1
            if frag:
                self.number = number - 1
                self._file(subject, frag)
            subject, head, frag = line[1:end - 1], line[:end], [line]
        self.subject, self.lines, self.head, self.number = subject, frag, head, number

    def feed(self, data: bytes) -> int:
        """Push-mode input (a store's dump, an HTTP body): bytes cut anywhere, into lines by
        one ``splitlines`` (no object made per line before ``lines_in``)."""
        lines = (self.rest + bytes(data) if self.rest else bytes(data)).splitlines(True)
        self.rest = lines.pop() if lines and not lines[-1].endswith(b"\n") else b""
        self.lines_in(lines)
        return len(data)

    def close(self) -> None:
        if self.rest.strip():
            self.lines_in([self.rest])
        self.rest = b""
        if self.lines:
            self._file(self.subject, self.lines)
        self.lines = []

    def _file(self, subject: bytes, lines: list[bytes]) -> None:
        if _faldo_node(lines[0]):
            return
        index = self.index
        try:
            text = b"".join(lines).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"line {self.number}: not UTF-8 text") from exc
        # one regular expression over the fragment: predicate and object of each line (taking
        # the subject out first with str.replace cost 15 % more instructions, callgrind)
        found = _FAST.findall(text)
        ids = index.pred_ids
        if len(found) == len(lines):
            pairs: Pairs = []
            for pred, iri_value, string in found:
                pid = ids.get(pred)
                if pid is None:
                    pid = index.pred_id(pred)
                if iri_value:
                    pairs.append((pid, iri_value))
                elif "\\" in string:
                    try:
                        pairs.append((pid, unescape_literal(string)))
                    except ValueError as exc:
                        raise InputError(f"line {self.number}: a literal with a bad escape: "
                                         f"{exc}") from exc
                else:
                    pairs.append((pid, string))
        else:  # a line the expression does not take (tabs, blank nodes, escapes in IRIs)
            pairs = []
            first = self.number - len(lines) + 1
            for k, line in enumerate(lines):
                try:
                    pair = _slow_pair(index, line)
                except (InputError, ValueError) as exc:
                    raise InputError(f"line {first + k}: {exc}") from exc
                if pair is not None:
                    pairs.append(pair)
        index.add(subject.decode("utf-8"), pairs)


def _faldo_node(line: bytes) -> bool:
    """Whether the first line of a fragment is about a FALDO region or position: a FALDO
    predicate other than ``faldo:location``, or ``rdf:type`` a FALDO class."""
    at = line.find(b"<", line.find(b">") + 1)
    if line.startswith(_FALDO_B, at):
        return not line.startswith(b"location>", at + len(_FALDO_B))
    if line.startswith(_TYPE_B, at):
        return line.startswith(_FALDO_B, at + len(_TYPE_B) + 1)
    return False


def _slow_pair(index: GraphIndex, line: bytes) -> tuple[int, str] | None:
    m = _LINE.match(line)
    if m is None:
        raise InputError(f"not an N-Triples or N-Quads line: {line[:120]!r}")
    pred, obj = m.group(2), m.group(3)
    if obj[:1] == b"_":
        return None
    if obj[:1] == b"<":
        return index.pred_id(pred[1:-1]), unescape_literal(obj[1:-1].decode("utf-8"))
    body = _STRING.match(obj)
    assert body is not None
    return index.pred_id(pred[1:-1]), unescape_literal(body.group(1).decode("utf-8"))


def read_ntriples(index: GraphIndex, lines: Iterable[bytes]) -> None:
    """File every feature of N-Triples or N-Quads ``lines`` (graph names are ignored)."""
    fragments = _Fragments(index)
    fragments.lines_in(lines)
    fragments.close()
    index.finish()


class NtriplesSink:
    """A binary file-like sink for N-Triples bytes (what ``Store.dump`` or an HTTP response
    writes), filing fragments as they arrive; ``close()`` files the last one."""

    def __init__(self, index: GraphIndex) -> None:
        self._fragments = _Fragments(index)
        self.index = index

    def write(self, data: bytes) -> int:
        return self._fragments.feed(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self._fragments.close()
        self.index.finish()


def read_triples(index: GraphIndex, triples: Iterator[Any]) -> None:
    """File the features of pyoxigraph triples or quads (Turtle, TriG, RDF/XML input)."""
    import pyoxigraph as ox

    subject: Any = None
    pairs: Pairs = []
    skip = False
    location = index.P["location"]
    for t in triples:
        s = t.subject
        if s != subject:
            if pairs and not skip:
                index.add(subject.value, pairs)
            subject, pairs = s, []
            p = t.predicate.value
            skip = not isinstance(s, ox.NamedNode) or (
                p.startswith(FALDO) and p != location) or (
                p == RDF_TYPE and t.object.value.startswith(FALDO))
        if skip:
            continue
        o = t.object
        if isinstance(o, (ox.NamedNode, ox.Literal)):
            pairs.append((index.pred_id(t.predicate.value), o.value))
    if pairs and not skip:
        index.add(subject.value, pairs)
    index.finish()
