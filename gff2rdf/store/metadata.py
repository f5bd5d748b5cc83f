"""The metadata graph of a store: build IRIs, provenance, the current-build pointer, staleness.

Each genome version ``G`` (``{BASE}genome/{species}/{assembly}/{annotation}``) is described in
the metadata graph ``M = {BASE}meta``; its data live in a build graph
``B = {G}/build/{build id}`` that ``M`` points to::

    <M> a dcat:Catalog ; dcat:dataset <G> .
    <G> a dcat:Dataset, void:Dataset, prov:Entity ;         # written by convert (see
        dcterms:title ... ; g2r:species ... ; pav:version ...; # convert.dataset_description)
        g2r:sourceSha256 ... ; g2r:codeVersion ... ; g2r:schemaVersion ... ;
        void:triples ... ; void:classPartition <G/partition/SO_0000704> ... ;
        g2r:currentBuild <B> ;                               # the pointer (added by the store)
        g2r:shapesVersion ... ; dcterms:created ... .
    <B> a g2r:Build, prov:Entity ; prov:specializationOf <G> ;
        prov:wasGeneratedBy <B/activity> ; pav:createdOn ... ; pav:createdWith <software> ;
        g2r:codeVersion ... ; g2r:schemaVersion ... ; g2r:shapesVersion ... ; void:triples ... ;
        g2r:inputSha256 ... ; g2r:inputFormat ... ; g2r:conversionOptions ... .
    <B/activity> a prov:Activity ; prov:used <B/input> ; prov:wasAssociatedWith <software> ;
        prov:startedAtTime ... ; prov:endedAtTime ... ; g2r:host "build-01" ;
        g2r:gitCommit "9f3c..." ;                            # when gff2rdf runs from git
        prov:wasInformedBy <B/run> .                          # a pipeline load only
    <B/input> a prov:Entity ; dcterms:title "file name" ; g2r:path "data/file.gff3" ; ...
    # what the caller passes as RunProvenance (the pipeline: its dagster run and catalogue entry)
    <B/run> a prov:Activity, g2r:PipelineRun ; g2r:runId "1c0f..." ; prov:startedAtTime ... ;
        g2r:catalogue "examples/catalogue.yaml" ; g2r:catalogueEntry "genomes[2] ... line 12" ;
        g2r:assetCodeVersion "0.1.0+code.7c2580b6d6b8+schema.0.1.0" .      # of the rdf asset
    <B/source> a prov:Entity ; g2r:location "data/ITAG2.3.gff3" (or its URL) ;
        g2r:sourceSha256 ... .                                # and <B/input> prov:wasDerivedFrom it
    # written by gff2rdf pipeline run for a genome version its catalogue no longer lists
    <G> g2r:retired ... ; g2r:retiredFrom "examples/catalogue.yaml" .

``g2r:path`` is the input as the user named it relative to the directory the load ran in
(``data/file.gff3``), or only its file name when it lies outside that directory
(``recorded_path``): the metadata is served to anyone who can query, and an absolute path would
tell them the layout of the machine that loaded it. A catalogue and a source path of the
pipeline are recorded the same way; a source URL without its user and password.

Everything the store writes about ``G`` has ``G`` or ``G/...`` as subject, so replacing or
dropping a genome version's metadata is one DELETE by subject prefix in the same SPARQL UPDATE
that moves the pointer (``flip_update``): readers see the old description with the old build,
or the new with the new, never a mix.

Queries that name a genome version find its current build through the pointer::

    PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>
    SELECT ... WHERE {
      GRAPH <{BASE}meta> { <G> g2r:currentBuild ?g }
      GRAPH ?g { ?feature a <http://purl.obolibrary.org/obo/SO_0000704> ... }
    }

One query is one snapshot of the store, so such a query sees one build even while a rebuild
flips the pointer; two separate queries (first the pointer, then the data) may not.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from .._version import __version__, git_commit
from ..terms import literal, typed
from ..vocab import DCAT, DCTERMS, G2R, PAV, PROV, RDF_TYPE, VOID, XSD

if TYPE_CHECKING:
    from ..conversion.result import ConvertResult

__all__ = [
    "BUILD_GRAPH",
    "G2R",
    "BuildInfo",
    "DumpResult",
    "GenomeEntry",
    "LoadResult",
    "RunProvenance",
    "base_of",
    "build_iri",
    "code_version",
    "drop_update",
    "flip_update",
    "genome_path",
    "listing_query",
    "new_build_id",
    "now",
    "recorded_path",
    "recorded_source",
    "retire_update",
    "shapes_version",
    "staleness",
]

SOFTWARE = "https://w3id.org/gff2rdf/software/"

CURRENT_BUILD = f"{G2R}currentBuild"
# {genome}/build/{UTC time}-{random}: sortable by time, unique without a counter
BUILD_GRAPH = re.compile(r"^(?P<genome>.+)/build/(?P<id>\d{8}T\d{6}Z-[0-9a-f]{8})$")
_GENOME = re.compile(r"^(?P<base>.*)genome/(?P<path>[^/]+/[^/]+/[^/]+)$")

PREFIXES = f"""PREFIX g2r: <{G2R}>
PREFIX dcat: <{DCAT}>
PREFIX void: <{VOID}>
PREFIX prov: <{PROV}>
PREFIX pav: <{PAV}>
PREFIX dcterms: <{DCTERMS}>
PREFIX xsd: <{XSD}>
"""


def code_version() -> str:
    """The code version recorded for a build: the installed gff2rdf version."""
    return __version__


def shapes_version(schema_version: str) -> str:
    """The SHACL shapes version a build conforms to.

    The shapes are generated from the LinkML schema, so until they are versioned on their own
    the shapes version is the schema version; change it here only.
    """
    return schema_version


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_build_id() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)


def recorded_path(source: str | os.PathLike[str], cwd: str | None = None) -> str:
    """How a build records its input file: relative to ``cwd`` (the directory the load ran in)
    when the file lies beneath it, else only its name; never an absolute path.

    Example:
        >>> recorded_path("/home/ann/genomes/tair10.gff3", cwd="/home/ann")
        'genomes/tair10.gff3'
        >>> recorded_path("/srv/private/tair10.gff3", cwd="/home/ann")
        'tair10.gff3'
    """
    here = os.path.abspath(cwd or os.getcwd())
    path = os.path.abspath(os.path.join(here, source))
    try:
        relative = os.path.relpath(path, here)
    except ValueError:  # another drive (Windows)
        return os.path.basename(path)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep) or os.path.isabs(
            relative):
        return os.path.basename(path)
    return relative.replace(os.sep, "/")


def recorded_source(source: str, cwd: str | None = None) -> str:
    """A build's source as recorded: a URL without its user and password, a path as
    ``recorded_path`` records it.

    >>> recorded_source("https://ann:secret@example.org/g.gff3?v=2")
    'https://example.org/g.gff3?v=2'
    """
    if source.startswith(("http://", "https://")):
        parts = urlsplit(source)
        return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path,
                           parts.query, ""))
    return recorded_path(source, cwd)



def build_iri(genome: str, build_id: str) -> str:
    return f"{genome}/build/{build_id}"


def base_of(genome: str) -> str | None:
    """The base IRI of a genome version IRI (``{base}genome/{s}/{a}/{r}``), or None."""
    m = _GENOME.match(genome)
    return m.group("base") if m else None


def genome_path(genome: str) -> str:
    """``species/assembly/annotation`` as it appears in the genome IRI."""
    m = _GENOME.match(genome)
    return m.group("path") if m else genome


def _iri(value: str) -> str:
    return f"<{value}>"


@dataclass(frozen=True)
class RunProvenance:
    """What the caller of ``GenomeStore.load`` knows beyond the load itself: the pipeline passes
    its dagster run and the catalogue entry the genome version came from (``<B/run>`` and
    ``<B/source>`` in the module doc)."""

    run_id: str
    run_started: str = ""  # xsd:dateTime (UTC) when the run started
    catalogue: str = ""  # the catalogue file, recorded as recorded_path records it
    catalogue_entry: str = ""  # genomes[2] (Solanum lycopersicum SL2.40 ITAG2.3), line 12
    source: str = ""  # the GFF3 the loaded file was made from: a path or an http(s) URL
    source_sha256: str = ""
    asset_code_version: str = ""  # the pipeline's code version of rdf, which made the file

    def __post_init__(self) -> None:
        if not self.run_id.strip():
            raise ValueError("RunProvenance needs the run id")

    def rows(self, build: str, activity: str, input_node: str) -> list[tuple[str, str, str]]:
        run, source = _iri(build + "/run"), _iri(build + "/source")
        rows = [
            (activity, _iri(PROV + "wasInformedBy"), run),
            (run, _iri(RDF_TYPE), _iri(PROV + "Activity")),
            (run, _iri(RDF_TYPE), _iri(G2R + "PipelineRun")),
            (run, _iri(G2R + "runId"), literal(self.run_id)),
        ]
        if self.run_started:
            rows.append((run, _iri(PROV + "startedAtTime"),
                         typed(self.run_started, XSD + "dateTime")))
        if self.catalogue:
            rows.append((run, _iri(G2R + "catalogue"), literal(recorded_path(self.catalogue))))
        if self.catalogue_entry:
            rows.append((run, _iri(G2R + "catalogueEntry"), literal(self.catalogue_entry)))
        if self.asset_code_version:
            rows.append((run, _iri(G2R + "assetCodeVersion"), literal(self.asset_code_version)))
        if self.source:
            rows += [(input_node, _iri(PROV + "wasDerivedFrom"), source),
                     (activity, _iri(PROV + "used"), source),
                     (source, _iri(RDF_TYPE), _iri(PROV + "Entity")),
                     (source, _iri(G2R + "location"), literal(recorded_source(self.source)))]
            if self.source_sha256:
                rows.append((source, _iri(G2R + "sourceSha256"), literal(self.source_sha256)))
        return rows


@dataclass
class BuildInfo:
    """What the store records about one build besides the converter's own description."""

    genome: str
    build: str
    meta: str
    input_path: str
    input_name: str
    input_sha256: str
    input_format: str
    options: str
    schema_version: str
    started: str
    code_version: str = field(default_factory=code_version)
    triples: int = 0
    host: str = field(default_factory=socket.gethostname)
    commit: str | None = field(default_factory=git_commit)
    run: RunProvenance | None = None

    @classmethod
    def for_plan(cls, plan: Any, build: str, started: str,
                 run: RunProvenance | None = None) -> BuildInfo:
        """The record of a build of a ``inputs.LoadPlan`` (by ``run``, when one is given)."""
        return cls(genome=plan.genome, build=build, meta=plan.meta,
                   input_path=recorded_path(plan.source), input_name=Path(plan.source).name,
                   input_sha256=plan.sha256, input_format=plan.format, options=plan.options,
                   schema_version=plan.schema_version, started=started,
                   code_version=plan.code_version, run=run)

    def triples_text(self) -> str:
        """The store's provenance for this build and the pointer, as N-Triples-term lines."""
        g, b, m = _iri(self.genome), _iri(self.build), _iri(self.meta)
        activity, source = _iri(self.build + "/activity"), _iri(self.build + "/input")
        software = _iri(SOFTWARE + self.code_version)
        ended = typed(now(), XSD + "dateTime")
        started = typed(self.started, XSD + "dateTime")
        shapes = literal(shapes_version(self.schema_version))
        rows = [
            (m, _iri(RDF_TYPE), _iri(DCAT + "Catalog")),
            (m, _iri(DCTERMS + "title"), literal("gff2rdf genome versions")),
            (m, _iri(DCAT + "dataset"), g),
            (g, _iri(CURRENT_BUILD), b),
            (g, _iri(G2R + "shapesVersion"), shapes),
            (g, _iri(DCTERMS + "created"), ended),
            (b, _iri(RDF_TYPE), _iri(G2R + "Build")),
            (b, _iri(RDF_TYPE), _iri(PROV + "Entity")),
            (b, _iri(PROV + "wasGeneratedBy"), activity),
            (b, _iri(PAV + "createdOn"), ended),
            (b, _iri(PAV + "createdWith"), software),
            (b, _iri(G2R + "codeVersion"), literal(self.code_version)),
            (b, _iri(G2R + "schemaVersion"), literal(self.schema_version)),
            (b, _iri(G2R + "shapesVersion"), shapes),
            (b, _iri(G2R + "inputSha256"), literal(self.input_sha256)),
            (b, _iri(G2R + "inputFormat"), literal(self.input_format)),
            (b, _iri(G2R + "conversionOptions"), literal(self.options)),
            (activity, _iri(RDF_TYPE), _iri(PROV + "Activity")),
            (activity, _iri(PROV + "used"), source),
            (activity, _iri(PROV + "wasAssociatedWith"), software),
            (activity, _iri(PROV + "startedAtTime"), started),
            (activity, _iri(PROV + "endedAtTime"), ended),
            (source, _iri(RDF_TYPE), _iri(PROV + "Entity")),
            (source, _iri(DCTERMS + "title"), literal(self.input_name)),
            (source, _iri(G2R + "path"), literal(self.input_path)),
            (source, _iri(G2R + "sourceSha256"), literal(self.input_sha256)),
            (software, _iri(RDF_TYPE), _iri(PROV + "SoftwareAgent")),
            (software, _iri(PAV + "version"), literal(self.code_version)),
            (activity, _iri(G2R + "host"), literal(self.host)),
        ]
        if self.commit:
            rows.append((activity, _iri(G2R + "gitCommit"), literal(self.commit)))
        if self.run is not None:
            rows += self.run.rows(self.build, activity, source)
        if self.build != self.genome:
            rows.append((b, _iri(PROV + "specializationOf"), g))
        return "".join(f"{s} {p} {o} .\n" for s, p, o in rows)


def _delete_genome_meta(genome: str, meta: str) -> str:
    prefix = literal(genome + "/")
    return (f"DELETE {{ GRAPH <{meta}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH <{meta}> {{ ?s ?p ?o }} "
            f"FILTER(?s = <{genome}> || STRSTARTS(STR(?s), {prefix})) }}")


def flip_update(info: BuildInfo, description_in_build: bool = True) -> str:
    """One SPARQL UPDATE (one transaction) that makes ``info.build`` the current build.

    It deletes the genome's old metadata (everything with subject ``G`` or ``G/...``), moves the
    converter's description of ``G`` (``G``, its class partitions and its source node) out of
    the build graph into the metadata graph when ``description_in_build``, and inserts the
    pointer and the build's provenance.
    """
    g, b, m = info.genome, info.build, info.meta
    ops = [_delete_genome_meta(g, m)]
    if description_in_build:
        # The description's own creation time (SOURCE_DATE_EPOCH) gives way to the load time.
        ops.append(f"DELETE {{ GRAPH <{b}> {{ <{g}> ?p ?o }} }} "
                   f"INSERT {{ GRAPH <{m}> {{ <{g}> ?p ?o }} }} "
                   f"WHERE {{ GRAPH <{b}> {{ <{g}> ?p ?o }} }}")
        ops.append(f"DELETE WHERE {{ GRAPH <{m}> {{ <{g}> dcterms:created ?created }} }}")
        for link in ("void:classPartition", "prov:wasDerivedFrom"):
            ops.append(f"DELETE {{ GRAPH <{b}> {{ ?s ?p ?o }} }} "
                       f"INSERT {{ GRAPH <{m}> {{ ?s ?p ?o }} }} "
                       f"WHERE {{ GRAPH <{m}> {{ <{g}> {link} ?s }} GRAPH <{b}> {{ ?s ?p ?o }} }}")
    ops.append(f"INSERT DATA {{ GRAPH <{m}> {{\n{info.triples_text()}}} }}")
    ops.append(f"INSERT {{ GRAPH <{m}> {{ <{b}> void:triples ?n }} }} "
               f"WHERE {{ GRAPH <{m}> {{ <{g}> void:triples ?n }} }}")
    return PREFIXES + " ;\n".join(ops)


def drop_update(genome: str, meta: str) -> str:
    """One SPARQL UPDATE that removes a genome version's metadata and pointer."""
    return PREFIXES + " ;\n".join([
        _delete_genome_meta(genome, meta),
        f"DELETE DATA {{ GRAPH <{meta}> {{ <{meta}> dcat:dataset <{genome}> }} }}",
    ])


def retire_update(retired: list[tuple[str, str]], listed: list[tuple[str, str]],
                  catalogue: str, when: str) -> str:
    """One SPARQL UPDATE that marks each (genome, metadata graph) of ``retired`` as no longer in
    ``catalogue`` since ``when`` (a mark already there keeps its date) and clears the mark of
    each one ``listed`` (a genome version put back in the catalogue)."""
    ops = []
    for genome, meta in listed:
        for term in ("g2r:retired", "g2r:retiredFrom"):
            ops.append(f"DELETE WHERE {{ GRAPH <{meta}> {{ <{genome}> {term} ?old }} }}")
    mark = f'g2r:retired {typed(when, XSD + "dateTime")} ; ' \
           f"g2r:retiredFrom {literal(recorded_path(catalogue))}"
    for genome, meta in retired:
        ops.append(f"INSERT {{ GRAPH <{meta}> {{ <{genome}> {mark} }} }} WHERE {{ GRAPH <{meta}> "
                   f"{{ <{genome}> g2r:currentBuild ?b FILTER NOT EXISTS {{ <{genome}> "
                   "g2r:retired ?since } } }")
    return PREFIXES + " ;\n".join(ops) if ops else ""


_FIELDS = {
    "title": "dcterms:title",
    "species": "g2r:species",
    "annotation": "pav:version",
    "taxon": "<http://purl.obolibrary.org/obo/RO_0002162>",
    "assembly_iri": "g2r:assembly",
    "source_sha256": "g2r:sourceSha256",
    "code_version": "g2r:codeVersion",
    "schema_version": "g2r:schemaVersion",
    "shapes_version": "g2r:shapesVersion",
    "created": "dcterms:created",
    "triples": "void:triples",
    "features": "void:entities",
    "retired": "g2r:retired",
    "retired_from": "g2r:retiredFrom",
}
_BUILD_FIELDS = {
    "input_sha256": "g2r:inputSha256",
    "input_format": "g2r:inputFormat",
    "options": "g2r:conversionOptions",
}


def listing_query(genome: str | None = None) -> str:
    """SELECT one row per genome version (or for one genome IRI) with its provenance."""
    optionals = "\n".join(f"    OPTIONAL {{ ?genome {p} ?{v} }}" for v, p in _FIELDS.items())
    optionals += "\n" + "\n".join(f"    OPTIONAL {{ ?build {p} ?{v} }}"
                                  for v, p in _BUILD_FIELDS.items())
    optionals += "\n    OPTIONAL { ?genome prov:wasDerivedFrom ?src . ?src dcterms:title ?source }"
    optionals += ("\n    OPTIONAL { ?build prov:wasGeneratedBy/prov:used ?input . "
                  "?input g2r:path ?input_path }")
    optionals += ("\n    OPTIONAL { ?build prov:wasGeneratedBy/prov:wasInformedBy ?run . "
                  "?run g2r:runId ?run_id OPTIONAL { ?run g2r:catalogue ?catalogue } }")
    where = f"    VALUES ?genome {{ <{genome}> }}\n" if genome else ""
    names = " ".join(f"?{v}" for v in [*_FIELDS, *_BUILD_FIELDS, "source", "input_path",
                                       "run_id", "catalogue"])
    return (PREFIXES + f"SELECT ?meta ?genome ?build {names} WHERE {{\n{where}"
            f"  GRAPH ?meta {{\n    ?genome g2r:currentBuild ?build .\n{optionals}\n  }}\n}}"
            " ORDER BY ?genome")


@dataclass
class GenomeEntry:
    """One genome version in a store, as ``gff2rdf graphs`` lists it."""

    genome: str
    path: str
    build: str
    meta: str
    title: str = ""
    species: str = ""
    assembly: str = ""
    annotation: str = ""
    taxon: str = ""
    source: str = ""
    source_sha256: str = ""
    input_path: str = ""
    input_sha256: str = ""
    input_format: str = ""
    options: str = ""
    code_version: str = ""
    schema_version: str = ""
    shapes_version: str = ""
    created: str = ""
    triples: int = 0
    features: int = 0
    run_id: str = ""  # the pipeline run that made the build ("": a plain gff2rdf load)
    catalogue: str = ""  # the catalogue of that run
    retired: str = ""  # since when the last pipeline catalogue has not listed it ("": listed)
    retired_from: str = ""
    current: bool = True
    stale_reasons: list[str] = field(default_factory=list)

    @classmethod
    def from_row(cls, row: dict[str, str]) -> GenomeEntry:
        genome = row["genome"]
        assembly = row.get("assembly_iri", "")
        taxon = row.get("taxon", "")
        entry = cls(
            genome=genome, path=genome_path(genome), build=row["build"], meta=row["meta"],
            title=row.get("title", ""), species=row.get("species", ""),
            assembly=assembly.rsplit("/", 1)[-1] if assembly else "",
            annotation=row.get("annotation", ""),
            taxon=taxon.rsplit("NCBITaxon_", 1)[-1] if taxon else "",
            source=row.get("source", ""), source_sha256=row.get("source_sha256", ""),
            input_path=row.get("input_path", ""), input_sha256=row.get("input_sha256", ""),
            input_format=row.get("input_format", ""), options=row.get("options", ""),
            code_version=row.get("code_version", ""),
            schema_version=row.get("schema_version", ""),
            shapes_version=row.get("shapes_version", ""), created=row.get("created", ""),
            run_id=row.get("run_id", ""), catalogue=row.get("catalogue", ""),
            retired=row.get("retired", ""), retired_from=row.get("retired_from", ""),
        )
        for name in ("triples", "features"):
            value = row.get(name, "")
            setattr(entry, name, int(value) if value.lstrip("-").isdigit() else 0)
        return entry

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def staleness(code: str, schema: str, installed_code: str, installed_schema: str) -> list[str]:
    """Why a build made by ``code`` / ``schema`` is not current for the installed versions."""
    reasons = []
    if code != installed_code:
        reasons.append(f"code version {code or '?'} -> {installed_code}")
    if schema != installed_schema:
        reasons.append(f"schema version {schema or '?'} -> {installed_schema}")
    return reasons


# -- change management: what a load did and why -------------------------------------------------


@dataclass
class LoadResult:
    """What ``load`` did: ``unchanged``, ``loaded`` (a new genome version) or ``rebuilt``."""

    genome: str
    status: str
    reasons: list[str]
    build: str
    previous_build: str | None = None
    triples: int = 0
    seconds: float = 0.0
    collected: int = 0
    conversion: ConvertResult | None = field(default=None, repr=False)
    indexed: dict[str, int] | None = None  # features, genes and bins of the bin index
    index_seconds: float = 0.0
    pieces: int = 1  # bulk loads of the build graph (see GenomeStore.optimize)

    @property
    def path(self) -> str:
        return genome_path(self.genome)

    def summary(self) -> str:
        why = "; ".join(self.reasons)
        if self.status == "unchanged":
            return f"{self.path}: unchanged, nothing to do ({why})"
        index = ""
        if self.indexed is not None:
            index = (f", bin index of {self.indexed.get('features', 0):,} features in "
                     f"{self.index_seconds:.1f} s")
        pieces = f", loaded in {self.pieces} pieces" if self.pieces > 1 else ""
        return (f"{self.path}: {self.status} ({why}): {self.triples:,} triples in "
                f"{self.seconds:.1f} s{index}{pieces}")


@dataclass
class DumpResult:
    graph: str
    source_graph: str
    output: str
    format: str
    bytes: int
