"""The file formats gff2rdf reads and writes, in one table: names, extensions, media types and
pyoxigraph's format for each.

Every command that takes a file decides its format here: by the name the user gave
(``--format``), else by the file's extension with ``.gz`` looked through.

Example:
    >>> format_of("genome.nq.gz"), format_of("TAIR10.gff"), format_of("x.out", default="ttl")
    ('nq', 'gff3', 'ttl')
    >>> format_of("x", declared="ttl")
    'ttl'
    >>> FORMATS["nt"].media_type
    'application/n-triples'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Gff2RdfError

__all__ = ["FORMATS", "GRAPH_FORMATS", "OUTPUT_FORMATS", "Format", "format_of", "ox_format"]


@dataclass(frozen=True)
class Format:
    """One format: ``ox`` names the ``pyoxigraph.RdfFormat`` member (None: not RDF)."""

    name: str
    extensions: tuple[str, ...]
    media_type: str
    ox: str | None
    datasets: bool = False  # holds named graphs (N-Quads, TriG)


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("gff3", (".gff3", ".gff"), "text/x-gff3", None),
    Format("nt", (".nt",), "application/n-triples", "N_TRIPLES"),
    Format("nq", (".nq",), "application/n-quads", "N_QUADS", datasets=True),
    Format("ttl", (".ttl", ".turtle"), "text/turtle", "TURTLE"),
    Format("trig", (".trig",), "application/trig", "TRIG", datasets=True),
    Format("rdf", (".rdf", ".owl", ".xml"), "application/rdf+xml", "RDF_XML"),
)}
OUTPUT_FORMATS = ("ttl", "nt", "nq")  # what convert and dump write
GRAPH_FORMATS = ("nq", "nt", "ttl")   # RDF that load takes (a converted genome)


def format_of(path: str | Path, declared: str | None = None, default: str = "gff3",
              allowed: tuple[str, ...] | None = None) -> str:
    """``declared`` if given (checked), else the format of ``path``'s extension (``.gz``
    looked through, any case), else ``default``."""
    names = allowed or tuple(FORMATS)
    if declared:
        if declared not in names:
            raise Gff2RdfError(f"unknown format {declared!r}; expected one of "
                               + ", ".join(names))
        return declared
    name = str(path).lower()
    name = name[:-3] if name.endswith(".gz") else name
    for fmt in names:
        if name.endswith(FORMATS[fmt].extensions):
            return fmt
    return default


def ox_format(name: str) -> Any:
    """The ``pyoxigraph.RdfFormat`` of format ``name``."""
    import pyoxigraph as ox  # deferred: the GFF3 path of the CLI starts without it

    member = FORMATS[name].ox
    if member is None:
        raise Gff2RdfError(f"{name} is not an RDF format")
    return getattr(ox.RdfFormat, member)
