"""What ``load`` is given: a GFF3 file, or an RDF file written by ``convert`` (or ``dump``).

Before any work, ``load`` needs to know which genome version an input is and whether the store
already holds it current. For GFF3 that comes from the header (``genome_from_directives``, the
same rule ``convert`` applies) plus the options; for RDF it comes from the dataset description
that ``convert`` writes at the end of its output, which ``rdf_description`` reads from the tail
of the file (the whole file is read only when it is gzipped, and only to reach its end).

Example:
    >>> from gff2rdf.mapping.schema import compile_mapping
    >>> plan = plan_load("tests/data/tair10_chr5_mikado.gff3", compile_mapping(),
    ...                  species="Arabidopsis thaliana", assembly="TAIR10", annotation="mikado")
    >>> plan.format, plan.genome
    ('gff3', 'https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/mikado')
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pyoxigraph as ox

from ..errors import Gff2RdfError, InputError
from ..files.compressed import open_input
from ..formats import FORMATS, GRAPH_FORMATS, format_of, ox_format
from ..gff3.reader import Feature, Gff3Reader
from ..mapping.schema import Mapping
from ..rdf.description import genome_from_directives
from ..rdf.genome import DEFAULT_BASE, GenomeVersion
from ..vocab import G2R
from .metadata import GenomeEntry, base_of, code_version, staleness

__all__ = [
    "LoadPlan",
    "RdfDescription",
    "change_reasons",
    "open_binary",
    "option_changes",
    "options_text",
    "peek_gff3_genome",
    "plan_load",
    "rdf_description",
    "sha256_file",
    "unchanged_reason",
]

_TAIL = 1 << 20


def _is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == b"\x1f\x8b"


def open_binary(path: str | Path) -> IO[bytes]:
    """The file's bytes, gunzipped when it is gzip (by its magic bytes, as the GFF3 reader);
    a gzip file cut short is an ``InputError`` (``gff2rdf.files.compressed``)."""
    return open_input(path)


def sha256_file(path: str | Path) -> str:
    """The sha256 of the file's bytes as stored (compressed or not), like the GFF3 reader's."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def peek_gff3_genome(
    path: str | Path,
    species: str | None = None,
    taxon: str | None = None,
    assembly: str | None = None,
    annotation: str | None = None,
    base_iri: str = DEFAULT_BASE,
) -> GenomeVersion:
    """The genome version ``convert`` will name for this file, from its header and options."""
    reader = Gff3Reader.open(path)
    try:
        for record in reader.records():
            if isinstance(record, Feature):
                break
    finally:
        reader.close()
    return genome_from_directives(reader.directives, reader.path, species, taxon, assembly,
                                  annotation, base_iri)


def options_text(genome: GenomeVersion, lenient: bool, strict: bool, window: int) -> str:
    """The conversion options that change the output, as a stable ``key=value`` string."""
    values = {"species": genome.species, "taxon": genome.taxon or "", "lenient": lenient,
              "strict": strict, "window": window}
    return " ".join(f"{k}={str(v).replace(' ', '%20')}" for k, v in values.items())


def option_changes(old: str, new: str) -> list[str]:
    """``key old -> new`` for each option that differs between two ``options_text`` strings."""
    def parse(text: str) -> dict[str, str]:
        return dict(p.split("=", 1) for p in text.split() if "=" in p)
    a, b = parse(old), parse(new)
    return [f"{k} {a.get(k) or 'none'} -> {b.get(k) or 'none'}".replace("%20", " ")
            for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]


@dataclass(frozen=True)
class RdfDescription:
    """The genome version an RDF file describes, and the versions that made it."""

    genome: str
    code_version: str
    schema_version: str


def _tail(path: str | Path, size: int) -> bytes:
    """The last ``size`` bytes of the (decompressed) file."""
    if not _is_gzip(path):
        with open(path, "rb") as f:
            f.seek(0, io.SEEK_END)
            end = f.tell()
            f.seek(max(0, end - size))
            return f.read()
    keep = b""
    with open_binary(path) as f:
        while chunk := f.read(1 << 22):
            keep = (keep + chunk)[-size:]
    return keep


def _head_prefixes(path: str | Path) -> bytes:
    lines = []
    with open_binary(path) as f:
        for line in f:
            if line.lstrip().lower().startswith((b"@prefix", b"prefix", b"@base", b"base")):
                lines.append(line)
            elif line.strip():
                break
    return b"".join(lines)


def _find_description(triples: list[ox.Triple | ox.Quad]) -> RdfDescription | None:
    values: dict[str, dict[str, str]] = {}
    for t in triples:
        p = t.predicate.value
        if (p in (G2R + "codeVersion", G2R + "schemaVersion")
                and isinstance(t.object, ox.Literal) and isinstance(t.subject, ox.NamedNode)):
            values.setdefault(t.subject.value, {})[p] = t.object.value
    for subject, found in values.items():
        if G2R + "codeVersion" in found and "/build/" not in subject:
            return RdfDescription(subject, found[G2R + "codeVersion"],
                                  found.get(G2R + "schemaVersion", ""))
    return None


def _scan(path: str | Path, fmt: str) -> RdfDescription | None:
    """The slow way: stream-parse the whole file, keeping only the version triples."""
    wanted = (G2R + "codeVersion", G2R + "schemaVersion")
    kept: list[ox.Triple | ox.Quad] = []
    with open_binary(path) as data:
        try:
            for t in ox.parse(data, ox_format(fmt)):
                if t.predicate.value in wanted:
                    kept.append(t)
        except SyntaxError as exc:
            raise InputError(f"{path}: not valid {FORMATS[fmt].ox}: {exc}") from exc
    return _find_description(kept)


def rdf_description(path: str | Path, fmt: str) -> RdfDescription:
    """The gff2rdf dataset description of an RDF file made by ``convert`` (or ``dump``).

    ``convert`` writes it last, so the tail of the file is tried first (statements are cut at
    line boundaries, Turtle at the blank lines between subject blocks, with the head's
    prefixes); a file where that fails is parsed whole, streaming.
    """
    rdf_format = ox_format(fmt)
    head = _head_prefixes(path) if fmt == "ttl" else b""
    for size in ((8 * _TAIL,) if _is_gzip(path) else (_TAIL, 8 * _TAIL)):
        tail = _tail(path, size)
        whole = len(tail) < size
        if not whole:  # start at a statement boundary
            cut = tail.find(b"\n\n") + 2 if fmt == "ttl" else tail.find(b"\n") + 1
            tail = tail[cut:] if cut > 0 else b""
        try:
            found = _find_description(list(ox.parse(head + tail, rdf_format, lenient=True)))
        except SyntaxError:
            found = None
        if found is not None:
            return found
        if whole:
            break
    found = _scan(path, fmt)
    if found is None:
        raise Gff2RdfError(
            f"{path}: no gff2rdf dataset description (a dcat:Dataset with g2r:codeVersion); "
            "load the GFF3 file, or an RDF file written by gff2rdf convert or gff2rdf dump")
    return found


@dataclass(frozen=True)
class LoadPlan:
    """An input about to be loaded: its genome version and the versions its output has."""

    source: str
    format: str
    sha256: str
    genome: str
    meta: str
    options: str
    code_version: str
    schema_version: str


def plan_load(
    source: str | Path,
    mapping: Mapping,
    species: str | None = None,
    taxon: str | None = None,
    assembly: str | None = None,
    annotation: str | None = None,
    base_iri: str = DEFAULT_BASE,
    lenient: bool = False,
    strict: bool = False,
    window: int = 50_000,
) -> LoadPlan:
    """Read what is needed to decide whether ``source`` must be loaded, without converting."""
    source = str(source)
    if not Path(source).is_file():
        raise InputError(f"{source}: no such file")
    fmt = format_of(source, allowed=GRAPH_FORMATS)
    sha256 = sha256_file(source)
    if fmt == "gff3":
        genome = peek_gff3_genome(source, species, taxon, assembly, annotation, base_iri)
        iri, options = genome.iri, options_text(genome, lenient, strict, window)
        code, schema = code_version(), mapping.schema_version
    else:
        if any(v is not None for v in (species, taxon, assembly, annotation)):
            raise Gff2RdfError(f"{source}: an RDF file names its genome version itself; "
                               "--species, --taxon, --assembly and --annotation apply to GFF3 "
                               "input only")
        description = rdf_description(source, fmt)
        iri, options = description.genome, ""
        code, schema = description.code_version, description.schema_version
    base = base_of(iri)
    if base is None:
        raise Gff2RdfError(f"{source}: {iri} is not a gff2rdf genome version IRI "
                           "({BASE}genome/{species}/{assembly}/{annotation})")
    return LoadPlan(source, fmt, sha256, iri, base + "meta", options, code, schema)


def change_reasons(entry: GenomeEntry | None, plan: LoadPlan) -> list[str]:
    """Why a genome version must be (re)built; empty when the current build is up to date."""
    if entry is None:
        return ["new genome version"]
    reasons = []
    if entry.input_sha256 != plan.sha256:
        reasons.append(f"source changed (sha256 {entry.input_sha256[:12] or '?'} -> "
                       f"{plan.sha256[:12]})")
    if plan.options and entry.options != plan.options:
        reasons.append("options changed ("
                       + ", ".join(option_changes(entry.options, plan.options)) + ")")
    reasons.extend(staleness(entry.code_version, entry.schema_version, plan.code_version,
                             plan.schema_version))
    return reasons


def unchanged_reason(plan: LoadPlan) -> str:
    return (f"current: same source sha256 {plan.sha256[:12]}, code version "
            f"{plan.code_version}, schema version {plan.schema_version}")
