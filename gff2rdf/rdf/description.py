"""The description of a genome version: what it is (from directives and options), its
DCAT / VoID / PROV dataset description, and the writer set up for its graph."""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import IO
from urllib.parse import parse_qs, unquote, urlparse

from .._version import __version__
from ..errors import Gff2RdfError
from ..gff3.reader import Directive
from ..mapping.schema import Mapping
from ..terms import integer, iri, literal, typed
from ..vocab import DCAT, DCTERMS, OBO, PROV, VOID, XSD_DATETIME
from .emit import RDF_TYPE
from .genome import DEFAULT_BASE, GenomeVersion
from .writers import WRITERS, RdfWriter, TurtleWriter

__all__ = ["DESCRIPTION_VOCABULARY", "dataset_description", "genome_from_directives",
           "make_writer", "turtle_vocabulary"]

DESCRIPTION_VOCABULARY = [f"<{DCAT}Dataset>", f"<{VOID}Dataset>", f"<{PROV}Entity>",
                          f"<{VOID}classPartition>", f"<{VOID}class>", f"<{VOID}entities>",
                          f"<{DCTERMS}title>"]


def genome_from_directives(
    directives: list[Directive],
    source: str,
    species: str | None = None,
    taxon: str | None = None,
    assembly: str | None = None,
    annotation: str | None = None,
    base_iri: str = DEFAULT_BASE,
) -> GenomeVersion:
    """Genome metadata from options, else from the file's directives, else from its name.

    ``##species`` gives the taxon (NCBI Taxonomy URL ``?id=3702`` or ``?name=...``);
    ``##genome-build``, ``#!genome-version`` or ``#!genome-build`` give the assembly.
    """
    found: dict[str, str] = {}
    for d in directives:
        found.setdefault(d.name, d.args)
    if "species" in found:
        query = parse_qs(urlparse(found["species"]).query)
        if taxon is None and query.get("id"):
            taxon = query["id"][0]
        if species is None and query.get("name"):
            species = unquote(query["name"][0])
    if assembly is None:
        if found.get("genome-build"):
            parts = found["genome-build"].split()
            assembly = parts[-1] if parts else None
        assembly = assembly or found.get("genome-version") or None
    if taxon is not None:
        taxon = taxon.removeprefix("NCBITaxon:").removeprefix("taxon:")
        if not (taxon.isascii() and taxon.isdigit()):
            raise Gff2RdfError(f"taxon {taxon!r} is not an NCBI Taxonomy number (e.g. 3702)")
    stem = re.sub(r"(\.gz)?$", "", Path(source).name)
    stem = re.sub(r"\.(gff3?|gff)$", "", stem) or "annotation"
    if not base_iri.endswith(("/", "#")):
        base_iri += "/"
    return GenomeVersion(
        species=species or (f"taxon {taxon}" if taxon else "unknown species"),
        assembly=assembly or "unknown-assembly",
        annotation=annotation or (stem if source != "-" else "stdin"),
        taxon=taxon,
        base_iri=base_iri,
    )


def dataset_description(
    genome: GenomeVersion,
    mapping: Mapping,
    source: str,
    sha256: str,
    triples: int,
    features: int,
    class_counts: dict[str, int],
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The genome version's description (DCAT, VoID, PROV, PAV) as subject blocks.

    No creation time unless ``SOURCE_DATE_EPOCH`` is set, so that converting the same input
    twice gives byte-identical output; the store records load times in its metadata graph.
    """
    p = mapping.predicate
    g = f"<{genome.iri}>"
    source_node = f"<{genome.iri}/source/{sha256 or 'stdin'}>"
    pairs: list[tuple[str, str]] = [
        (RDF_TYPE, f"<{DCAT}Dataset>"),
        (RDF_TYPE, f"<{VOID}Dataset>"),
        (RDF_TYPE, f"<{PROV}Entity>"),
        (p("title"), literal(genome.title)),
        (p("species_name"), literal(genome.species)),
        (p("assembly_ref"), f"<{genome.assembly_iri}>"),
        (p("annotation_release"), literal(genome.annotation)),
        (p("source_file"), source_node),
        (p("source_sha256"), literal(sha256)),
        (p("code_version"), literal(__version__)),
        (p("schema_version"), literal(mapping.schema_version)),
        (p("triples"), integer(triples)),
        (p("feature_count"), integer(features)),
    ]
    if genome.taxon:
        pairs.append((p("in_taxon"), iri(f"{OBO}NCBITaxon_{genome.taxon}")))
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        stamp = datetime.fromtimestamp(int(epoch), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        pairs.append((p("created"), typed(stamp, XSD_DATETIME)))
    blocks: list[tuple[str, list[tuple[str, str]]]] = []
    for accession, n in sorted(class_counts.items()):
        local = accession.replace(":", "_")
        part = f"<{genome.iri}/partition/{local}>"
        pairs.append((f"<{VOID}classPartition>", part))
        blocks.append((part, [(f"<{VOID}class>", f"<{OBO}{local}>"),
                              (f"<{VOID}entities>", integer(n))]))
    blocks.insert(0, (g, pairs))
    blocks.append((source_node, [(RDF_TYPE, f"<{PROV}Entity>"),
                                 (f"<{DCTERMS}title>", literal(Path(source).name)),
                                 (p("source_sha256"), literal(sha256))]))
    return blocks


def turtle_vocabulary(mapping: Mapping) -> list[str]:
    """Terms the Turtle writer shows as prefixed names."""
    return [*mapping.predicates.values(), *mapping.classes.values(), *DESCRIPTION_VOCABULARY]


def make_writer(fmt: str, stream: IO[str], mapping: Mapping, graph: str) -> RdfWriter:
    writer_cls = WRITERS[fmt]
    prefixes = {k: v for k, v in mapping.prefixes.items() if k != "linkml"}
    if writer_cls is TurtleWriter:
        return TurtleWriter(stream, prefixes, graph, vocabulary=turtle_vocabulary(mapping))
    return writer_cls(stream, prefixes, graph)

