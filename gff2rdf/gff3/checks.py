"""Checks of single GFF3 values: seqids, scores, Target and Gap attributes, FASTA headers, and
why a file is not GFF3 text (binary, compressed, unreadable)."""

from __future__ import annotations

import re
import zlib

__all__ = ["BAD_ESCAPE", "GAP_OP", "MAGIC", "SCORE", "SEQID_OK", "binary_reason", "fasta_seqid",
           "gap_problem", "is_negative", "is_uint", "md5_ok", "read_failure", "valid_target"]

BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


# A finite xsd:double lexical form; float() would also take "1_000", " 2", "nan", "inf".
SCORE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


SEQID_OK = re.compile(r"[a-zA-Z0-9.:^*$@!+_?|%-]+")


def read_failure(exc: Exception) -> tuple[str, str]:
    """The problem (kind, message) that a read error ends a file with."""
    if isinstance(exc, EOFError):  # gzip: the data stops before the end-of-stream marker
        return "truncated", ("the compressed file ends early, at this line (cut short by an "
                             "interrupted download or copy?); fetch it again")
    if isinstance(exc, zlib.error):
        return "unreadable", (f"the compressed data is damaged from this line on ({exc}); "
                              "fetch the file again")
    return "unreadable", f"cannot read past this line: {exc}"


# magic bytes of the compressions that are not gzip: a user who gives such a file needs to hear
# which one, not a column-count error per line of compressed bytes
MAGIC = ((b"BZh", "bzip2 (decompress it with bunzip2, or recompress it with gzip)"),
          (b"\xfd7zXZ\x00", "xz (decompress it with unxz, or recompress it with gzip)"),
          (b"\x28\xb5\x2f\xfd", "zstd (decompress it with unzstd, or recompress it with gzip)"),
          (b"PK\x03\x04", "zip (unzip it first)"))


def binary_reason(first: bytes) -> str:
    """Why the first line shows that the file is not GFF3 text, or ''."""
    for magic, what in MAGIC:
        if first.startswith(magic):
            return f"the file is compressed with {what}; expected GFF3 text, plain or gzip"
    if first.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "the file is UTF-16 text; GFF3 files must be UTF-8 (convert it with iconv)"
    if b"\x00" in first:
        return "a NUL byte on the first line: this is binary data, not GFF3 text"
    return ""


MD5_SEQID = re.compile(r"md5:[0-9a-fA-F]{32}:.+")


def md5_ok(seqid: str) -> bool:
    """GenomeTools' convention: a seqid starting ``md5:`` is ``md5:<32 hex>:<seqid>``."""
    return not seqid.startswith("md5:") or MD5_SEQID.fullmatch(seqid) is not None


def valid_target(values: list[str]) -> bool:
    """Each value (several targets are comma-separated) is 'target_id start end [strand]'."""
    for value in values:
        parts = value.split(" ")
        if len(parts) not in (3, 4) or not parts[0] or not md5_ok(parts[0]):
            return False
        if not (is_uint(parts[1]) and is_uint(parts[2])) or int(parts[1]) > int(parts[2]):
            return False
        if len(parts) == 4 and parts[3] not in ("+", "-"):
            return False
    return True


def fasta_seqid(header: str) -> str:
    words = header[1:].split(maxsplit=1)
    return words[0] if words else ""


def is_uint(text: str) -> bool:
    """ASCII digits only: str.isdigit() also takes '²' (which int() rejects) and '١'."""
    return text.isascii() and text.isdigit()


def is_negative(text: str) -> bool:
    return text.startswith("-") and is_uint(text[1:])


GAP_OP = re.compile(r"([MIDFR])(\d+)")


def gap_problem(attributes: dict[str, list[str]], length: int) -> str | None:
    """What is wrong with a Gap attribute, or None. Lengths are checked against the feature and
    the Target, for nucleotide (1:1) and protein-to-nucleotide (1:3) alignments."""
    gap = ",".join(attributes["Gap"])
    counts = {"M": 0, "I": 0, "D": 0, "F": 0, "R": 0}
    for token in gap.split():
        match = GAP_OP.fullmatch(token)
        if match is None:
            return (f"Gap {gap!r}: {token!r} is not an operation M, I, D, F or R followed by a "
                    "length (e.g. 'M8 D3 M6')")
        counts[match.group(1)] += int(match.group(2))
    target = attributes.get("Target")
    target_len = None
    if target:
        parts = target[0].split(" ")
        if len(parts) >= 3 and is_uint(parts[1]) and is_uint(parts[2]):
            target_len = int(parts[2]) - int(parts[1]) + 1
    m, i, d, f, r = (counts[k] for k in "MIDFR")
    for scale in (1, 3):
        ref = scale * (m + d) + f - r
        if ref == length and (target_len is None or m + i == target_len):
            return None
    expected = f"{length} bases of the feature"
    if target_len is not None:
        expected += f" and {target_len} of the Target"
    return (f"Gap {gap!r} covers {m + d + f - r} reference and {m + i} target positions, which "
            f"fits neither a nucleotide nor a protein alignment of {expected}")
