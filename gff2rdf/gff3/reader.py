"""Streaming GFF3 reader.

Reads a GFF3 file line by line (plain, gzip or BGZF, or stdin with ``-``) and yields
``Feature`` records and ``Directive`` records in file order. It never raises for bad input
lines: every problem becomes a ``Problem`` (file:line, kind, message) in ``Gff3Reader.log``
and the offending line is skipped, so one pass reports all problems of a file.

Per-line checks follow the GFF3 specification 1.26: nine tab-separated columns, integer
coordinates >= 1 with start <= end (unless the sequence is circular), strand ``+ - . ?``,
phase ``0 1 2`` (required on CDS), a numeric score, ``tag=value`` attributes with valid percent
escapes (names starting with an uppercase letter are GFF3's own; ``Is_circular`` is true or
false), UTF-8 text, one ``##gff-version``. Structural checks that need more than one line (IDs,
parents, cycles) live in ``gff2rdf.conversion.assemble``.

Example:
    >>> from gff2rdf.gff3.reader import Gff3Reader
    >>> reader = Gff3Reader.from_text("chr1\\t.\\tgene\\t1\\t9\\t.\\t+\\t.\\tID=g1\\n")
    >>> [f.attributes["ID"] for f in reader.features()]
    [['g1']]
"""

from __future__ import annotations

import gzip
import hashlib
import io
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from sys import intern
from typing import Any, BinaryIO
from urllib.parse import unquote

from ..errors import InputError, ProblemLog
from .checks import (
    BAD_ESCAPE,
    SCORE,
    SEQID_OK,
    binary_reason,
    fasta_seqid,
    gap_problem,
    is_negative,
    is_uint,
    md5_ok,
    read_failure,
    valid_target,
)
from .records import (
    CDS_TYPES,
    LATE_SPECIES,
    MISSING_VERSION,
    PREDEFINED_ATTRIBUTES,
    STRANDS,
    Directive,
    Feature,
    SequenceInfo,
    ascii_unescape,
    decode_value,
)

__all__ = ["CDS_TYPES", "LATE_SPECIES", "MISSING_VERSION", "Directive", "Feature", "Gff3Reader",
           "SequenceInfo", "decode_value"]


class _HashingReader(io.RawIOBase):
    """Passes bytes through and feeds them to a sha256, so the source digest costs no re-read."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.sha256 = hashlib.sha256()
        self.count = 0

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if self._raw is not sys.stdin.buffer:
            self._raw.close()
        super().close()

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.sha256.update(data)
        self.count += n
        return n


@dataclass
class Gff3Reader:
    """A one-pass reader over a GFF3 source.

    Use ``Gff3Reader.open(path)`` (``"-"`` is stdin) or ``Gff3Reader.from_text(text)``, then
    iterate ``records()`` (features and directives) or ``features()``. Problems found so far are
    in ``log``; ``sequences`` holds what ``##sequence-region``, ``Is_circular`` and the
    FASTA section say about each seqid; ``sha256`` is the digest of the bytes read.
    """

    stream: BinaryIO
    path: str
    log: ProblemLog = field(default_factory=lambda: ProblemLog(""))
    sequences: dict[str, SequenceInfo] = field(default_factory=dict)
    directives: list[Directive] = field(default_factory=list)
    lines_read: int = 0
    skipped_lines: int = 0
    saw_version: bool = False
    version_line: int = 0  # the first ##gff-version line (a chunk is given the header's)
    failed_ids: dict[str, int] = field(default_factory=dict)
    # a part of a larger file (parallel conversion): line numbers start at first_line, and the
    # whole-file checks (empty file, missing ##gff-version) are the caller's
    first_line: int = 1
    chunk: bool = False
    _hasher: _HashingReader | None = None
    _buffered: io.BufferedReader[Any] | None = None
    # the last attribute column parsed without a problem, and its dict (see _attributes)
    _last_attr_text: str = field(default="", repr=False)
    _last_attrs: dict[str, list[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, path: str | Path) -> Gff3Reader:
        """Open a file (gzip detected by its magic bytes, not its name) or ``-`` for stdin."""
        label = str(path)
        try:
            raw: BinaryIO = sys.stdin.buffer if label == "-" else open(path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"{label}: cannot open: {exc.strerror or exc}") from exc
        hasher = _HashingReader(raw)
        buffered = io.BufferedReader(hasher, buffer_size=1 << 20)
        stream: BinaryIO = buffered
        if buffered.peek(2)[:2] == b"\x1f\x8b":
            stream = gzip.GzipFile(fileobj=buffered, mode="rb")  # type: ignore[assignment]
        return cls(stream=stream, path=label, _hasher=hasher, _buffered=buffered)

    @classmethod
    def from_text(cls, text: str, path: str = "<text>") -> Gff3Reader:
        return cls(stream=io.BytesIO(text.encode("utf-8")), path=path)

    @property
    def bytes_read(self) -> int:
        """Bytes of the (possibly compressed) input consumed so far, for progress bars."""
        return self._hasher.count if self._hasher else 0

    @property
    def sha256(self) -> str:
        return self._hasher.sha256.hexdigest() if self._hasher else ""

    def close(self) -> None:
        self.stream.close()
        if self._buffered is not None:
            self._buffered.close()  # GzipFile does not close the file it reads from

    def __post_init__(self) -> None:
        if not self.log.path:
            self.log.path = self.path
        self.error = self.log.error
        self.warn = self.log.warn

    # -- reading --------------------------------------------------------------------------------

    def features(self) -> Iterator[Feature]:
        for record in self.records():
            if isinstance(record, Feature):
                yield record

    def records(self) -> Iterator[Feature | Directive]:
        """Yield features and directives in file order; bad lines become problems."""
        number = self.first_line - 1
        in_fasta = False
        fasta_id: str | None = None
        fasta_len = 0
        parse = self._parse_feature
        try:
            for raw in self.stream:
                number += 1
                if number == self.first_line:
                    if raw.startswith(b"\xef\xbb\xbf"):
                        raw = raw[3:]
                    elif not_text := binary_reason(raw):
                        self.error(number, "not-text", not_text)
                        break
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    if b"\x00" in raw:  # binary data further on, not a stray Latin-1 byte
                        self.error(number, "not-text", "a NUL byte: this is binary data, not "
                                   "GFF3 text (expected UTF-8 text, plain or gzip)")
                        break
                    self.error(
                        number,
                        "not-utf8",
                        f"byte {raw[exc.start]:#04x} at column {exc.start + 1} is not UTF-8 "
                        "text; GFF3 files must be UTF-8",
                    )
                    self.skipped_lines += 1
                    continue
                text = text.rstrip("\r\n")
                if in_fasta:
                    if text.startswith(">"):
                        self._end_fasta(fasta_id, fasta_len)
                        fasta_id, fasta_len = fasta_seqid(text), 0
                    else:
                        fasta_len += len(text.strip())
                    continue
                if not text or text.isspace():
                    continue
                first = text[0]
                if first == "#":
                    if text.startswith("##"):
                        directive = self._directive(text, number)
                        if directive is not None:
                            if directive.name == "FASTA":
                                in_fasta = True
                            yield directive
                    elif text.startswith("#!"):
                        name, _, args = text[2:].partition(" ")
                        directive = Directive(name.strip(), args.strip(), number)
                        self.directives.append(directive)
                        yield directive
                    continue
                if first == ">":
                    self.warn(number, "implicit-fasta", "a line starting with '>' begins the FASTA "
                              "section without a ##FASTA directive")
                    in_fasta = True
                    fasta_id, fasta_len = fasta_seqid(text), 0
                    yield Directive("FASTA", "", number)
                    continue
                feature = parse(text, number)
                if feature is not None:
                    yield feature
                else:
                    self.skipped_lines += 1
        except (OSError, EOFError, zlib.error) as exc:
            self.error(number + 1, *read_failure(exc))
        if in_fasta:
            self._end_fasta(fasta_id, fasta_len)
        self.lines_read = number - self.first_line + 1
        if self.chunk:
            return
        if number == 0:
            self.error(0, "empty-file", "the file is empty; expected GFF3 lines")
        if not self.saw_version and number:
            self.warn(1, "missing-version", MISSING_VERSION)

    def lines(self) -> Iterator[bytes]:
        """The raw lines, for a caller that cuts them itself (the chunked conversion). A read
        error ends them and is logged on the line it cut, as ``records`` logs it."""
        number = self.first_line - 1
        try:
            for raw in self.stream:
                number += 1
                yield raw
        except (OSError, EOFError, zlib.error) as exc:
            self.error(number + 1, *read_failure(exc))

    def _end_fasta(self, seqid: str | None, length: int) -> None:
        if seqid:
            info = self.sequences.setdefault(seqid, SequenceInfo(seqid))
            if info.length is None:
                info.length = length

    def _directive(self, text: str, number: int) -> Directive | None:
        body = text[2:]
        if body.startswith("#"):
            return Directive("###", "", number) if body.strip() == "#" else None
        parts = body.strip().split(None, 1)
        name = parts[0] if parts else ""
        args = parts[1].strip() if len(parts) > 1 else ""
        if name.startswith("gff-version"):
            if name != "gff-version":  # "##gff-version3"
                args = name[len("gff-version"):]
                name = "gff-version"
            if not args.startswith("3"):
                self.error(number, "bad-version", f"gff-version is {args!r}; expected 3")
            if self.version_line:
                self.error(number, "second-version",
                           f"a second ##gff-version line (the first is on line "
                           f"{self.version_line}); a GFF3 file has one, at the top: merge "
                           "files with a GFF3 tool (gt gff3 -sort) rather than concatenating "
                           "them")
            else:
                self.version_line = number
            self.saw_version = True
        elif name == "sequence-region":
            parts = args.split()
            if len(parts) == 3 and is_uint(parts[1]) and is_negative(parts[2]):
                self.warn(number, "bad-directive",
                          f"##sequence-region {parts[0]}: end {parts[2]} is negative; ignored")
            elif len(parts) != 3 or not is_uint(parts[1]) or not is_uint(parts[2]):
                self.error(number, "bad-directive",
                           f"##sequence-region needs 'seqid start end' with positive integers, "
                           f"got {args!r}")
            else:
                seqid = decode_value(parts[0]) if "%" in parts[0] else parts[0]
                start, end = int(parts[1]), int(parts[2])
                if not md5_ok(seqid):
                    self.error(number, "bad-seqid", f"##sequence-region {seqid!r}: {_MD5_HINT}")
                info = self.sequences.setdefault(seqid, SequenceInfo(seqid))
                if info.used_line:
                    self.error(number, "late-sequence-region",
                               f"##sequence-region for {seqid!r} comes after a feature on it "
                               f"(line {info.used_line}); put it before the features")
                elif info.declared_line:
                    self.error(number, "duplicate-sequence-region",
                               f"second ##sequence-region for {seqid!r} (first on line "
                               f"{info.declared_line})")
                elif start < 1 or start > end:
                    self.error(number, "bad-directive",
                               f"##sequence-region {seqid}: start {start} must be >= 1 and "
                               f"<= end {end}")
                else:
                    info.length, info.region_start, info.declared_line = end, start, number
        directive = Directive(name, args, number)
        self.directives.append(directive)
        return directive

    def _parse_feature(self, text: str, number: int) -> Feature | None:
        cols = text.split("\t")
        if len(cols) != 9:
            if len(cols) > 9 and not "".join(cols[9:]).strip():
                self.warn(number, "trailing-tab",
                          f"{len(cols) - 9} empty column(s) after column 9 ignored")
                cols = cols[:9]
            else:
                hint = " (columns must be separated by tabs, not spaces)" if len(cols) < 9 and \
                    len(text.split()) >= 9 else ""
                self.error(number, "column-count",
                           f"expected 9 tab-separated columns, found {len(cols)}{hint}")
                return None
        seqid, source, ftype, start_s, end_s, score_s, strand, phase_s, attr_s = cols
        ok = True
        if seqid != seqid.rstrip():
            self.warn(number, "seqid-whitespace",
                      f"column 1 (seqid) {seqid!r} ends with white space; removed")
            seqid = seqid.rstrip()
        if not seqid or seqid == "." or seqid[0] == ">":
            self.error(number, "bad-seqid",
                       f"column 1 (seqid) {seqid!r} must be non-empty and not start with '>'")
            ok = False
        elif SEQID_OK.fullmatch(seqid) is None:
            self.warn(number, "seqid-escape",
                      f"column 1 (seqid) {seqid!r} has characters outside "
                      "[a-zA-Z0-9.:^*$@!+_?-|] that GFF3 says to percent-encode")
        if ok and not md5_ok(seqid):
            self.error(number, "bad-seqid", f"column 1 (seqid) {seqid!r}: {_MD5_HINT}")
            ok = False
        if ok and "%" in seqid:
            decoded = self._decode(seqid, number, "column 1 (seqid)")
            if decoded is None:
                return None
            seqid = decoded
        if not ftype or ftype == ".":
            self.error(number, "bad-type", "column 3 (type) is empty; expected an SO term")
            ok = False
        start = int(start_s) if is_uint(start_s) else 0
        end = int(end_s) if is_uint(end_s) else 0
        if start < 1:
            self.error(number, "bad-start",
                       f"column 4 (start) {start_s!r} is not a positive integer")
            ok = False
        if end < 1:
            self.error(number, "bad-end", f"column 5 (end) {end_s!r} is not a positive integer")
            ok = False
        if ok and start > end:
            info = self.sequences.get(seqid)
            if info is None or not info.circular:
                self.error(number, "start-after-end",
                           f"column 4 (start) {start} is greater than column 5 (end) {end}; "
                           "GFF3 needs start <= end (for a feature across the origin of a "
                           "circular sequence, mark the sequence Is_circular=true)")
                ok = False
        if ok:
            info = self.sequences.get(seqid)
            if info is None:
                self.sequences[seqid] = info = SequenceInfo(seqid)
            if not info.used_line:
                info.used_line = number
            if info.declared_line and not info.circular and (
                    start < info.region_start or end > (info.length or end)):
                self.error(number, "outside-sequence-region",
                           f"{start}-{end} lies outside ##sequence-region {seqid} "
                           f"{info.region_start} {info.length} (line {info.declared_line})")
                ok = False
        score: str | None = None
        if score_s != ".":
            if SCORE.fullmatch(score_s):
                score = score_s
            else:
                self.error(number, "bad-score",
                           f"column 6 (score) {score_s!r} is not a number or '.'")
                ok = False
        if strand not in STRANDS or len(strand) != 1:
            self.error(number, "bad-strand",
                       f"column 7 (strand) {strand!r} is not one of '+', '-', '.', '?'")
            ok = False
        phase: int | None = None
        if phase_s == ".":
            if ftype in CDS_TYPES:
                self.error(number, "missing-phase",
                           "column 8 (phase) is '.' on a CDS; a CDS needs phase 0, 1 or 2")
                ok = False
        elif phase_s in ("0", "1", "2"):
            phase = int(phase_s)
        else:
            self.error(number, "bad-phase", f"column 8 (phase) {phase_s!r} is not 0, 1, 2 or '.'")
            ok = False
        attributes = self._attributes(attr_s, number)
        if attributes is None or not ok:
            if attributes and attributes.get("ID"):
                self.failed_ids.setdefault(attributes["ID"][0], number)
            return None
        if "Target" in attributes and not valid_target(attributes["Target"]):
            self.error(number, "bad-target",
                       f"Target {','.join(attributes['Target'])!r} must be 'target_id start end "
                       "[strand]' with integer start <= end and strand + or -")
            if attributes.get("ID"):
                self.failed_ids.setdefault(attributes["ID"][0], number)
            return None
        if "Gap" in attributes and "Target" in attributes:
            problem = gap_problem(attributes, end - start + 1 if start <= end else 0)
            if problem:
                self.error(number, "bad-gap", problem)
                return None
        circular = attributes.get("Is_circular")
        if circular is not None and circular != ["false"]:
            if circular == ["true"]:
                info = self.sequences.setdefault(seqid, SequenceInfo(seqid))
                info.circular = True
                if info.length is None and start == 1:
                    info.length = end
            else:
                self.warn(number, "bad-circular",
                          f"Is_circular={','.join(circular)!r} is neither true nor false; the "
                          "sequence is not taken as circular and the value is kept as the "
                          "attribute Is_circular (write Is_circular=true)")
        # interned: the ID registry keeps type and seqid per ID, and a genome has few of each
        return Feature(intern(seqid), intern(source), intern(ftype), start, end, score, strand,
                       phase, attributes, number)

    def _decode(self, text: str, number: int, what: str, tag: str = "") -> str | None:
        """Percent-decode ``text``, or report why not (``what``, with ``tag`` filled in: the
        message is built only for a problem)."""
        decoded = ascii_unescape(text)
        if decoded is not None:
            return decoded
        if BAD_ESCAPE.search(text):
            self.error(number, "bad-escape",
                       f"{what.format(tag)} {text!r} has a '%' that is not followed by two hex "
                       "digits; write a literal '%' as %25")
            return None
        try:
            return unquote(text, errors="strict")
        except UnicodeDecodeError:
            self.error(number, "bad-escape",
                       f"{what.format(tag)} {text!r} has percent escapes that are not UTF-8")
            return None

    def _attributes(self, text: str, number: int) -> dict[str, list[str]] | None:
        # The lines of a discontinuous feature repeat their attribute column word for word
        # (every CDS segment in RefSeq and Ensembl files: a third of the lines of the RefSeq
        # benchmark input), so the last column parsed without a problem is kept with its dict.
        # Measured on 300k lines of it in one process: 10.55 s of CPU before, 8.5-8.7 s after.
        if text == self._last_attr_text:
            return self._last_attrs
        attributes, clean = self._parse_attributes(text, number)
        if clean:
            self._last_attr_text = text
            self._last_attrs = attributes  # type: ignore[assignment]
        return attributes

    def _parse_attributes(self, text: str, number: int
                          ) -> tuple[dict[str, list[str]] | None, bool]:
        """The attributes, or None after reporting an error; and whether no problem (not
        even a warning) was reported, so that a repeat of ``text`` may reuse the result."""
        attributes: dict[str, list[str]] = {}
        if text == "." or not text:
            return attributes, True
        clean = True
        for pair in text.split(";"):
            if not pair:
                continue
            tag, eq, value = pair.partition("=")
            # the common case in one test; anything unusual takes the careful path
            if not (eq and tag and value) or "=" in value or tag[0] == " " or \
                    tag[-1] == " " or value.isspace():
                if pair.isspace():
                    continue
                tag = tag.strip()
                if not eq or not tag:
                    self.error(number, "bad-attribute",
                               f"attribute {pair.strip()!r} is not tag=value (escape ';' and "
                               "'=' inside values as %3B and %3D)")
                    return None, False
                if not value.strip():
                    self.error(number, "empty-value",
                               f"attribute {tag}= has no value (drop the attribute or give a "
                               "value)")
                    return None, False
                if "=" in value:
                    self.error(number, "bad-attribute",
                               f"attribute {pair.strip()!r} has an unescaped '=' in its value "
                               "(write it as %3D)")
                    return None, False
            if "%" in tag:
                decoded_tag = self._decode(tag, number, "attribute tag")
                if decoded_tag is None:
                    return None, False
                tag = decoded_tag
            if tag[0].isupper() and tag not in PREDEFINED_ATTRIBUTES:
                self.warn(number, "reserved-attribute",
                          f"attribute {tag!r} starts with an uppercase letter, which GFF3 "
                          "reserves for its predefined attributes (ID, Name, Alias, Parent, "
                          "Target, Gap, Derives_from, Note, Dbxref, Ontology_term, "
                          f"Is_circular); kept as data, but name it in lower case "
                          f"(e.g. {tag.lower()!r})")
                clean = False
            if "%" in value:
                values: list[str] = []
                for part in value.split(","):
                    decoded = self._decode(part, number, "value of {}", tag)
                    if decoded is None:
                        return None, False
                    values.append(decoded)
            else:
                values = value.split(",")
            if tag in attributes:
                self.warn(number, "repeated-attribute",
                          f"attribute {tag} appears twice; values merged (write one "
                          f"{tag}=a,b instead)")
                attributes[tag].extend(values)
                clean = False
            else:
                attributes[tag] = values
        return attributes, clean


_MD5_HINT = "a seqid starting with 'md5:' must be 'md5:<32 hex digits>:<seqid>'"


