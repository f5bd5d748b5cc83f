"""``gff2rdf load``, ``graphs``, ``optimize``, ``drop`` and ``dump``: the embedded store (and
remote Graph Store endpoints) from the command line."""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import settings
from ..errors import Gff3Error
from ..formats import OUTPUT_FORMATS
from .options import (
    check_options,
    endpoint_options,
    genome_options,
    handle_errors,
    jobs_option,
    open_backend,
    open_endpoint,
    progress_bar,
    report_warnings,
    store_option,
)

# deferred: the imports inside functions load multiprocessing, pyoxigraph
# only when the call needs them, to keep this module's import (and start-up) light


@click.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@store_option
@endpoint_options
@click.option("--no-update", is_flag=True,
              help="The endpoint has no update endpoint: PUT the genome's graph directly.")
@genome_options
@check_options
@jobs_option
@click.option("--force", is_flag=True, help="Rebuild even when the genome version is current.")
@click.option("--index/--no-index", default=True, show_default=True,
              help="Build the bin index of the new build, in the store or on the endpoint "
              "(fast region and nearest-genes queries; about a third more load time).")
@click.option("--silent", is_flag=True, help="No progress bar, warnings or summary.")
@handle_errors
def load(source: str, store_dir: str, endpoint: str | None, query_endpoint: str | None,
         update_endpoint: str | None, no_update: bool, auth_file: str | None,
         auth_scheme: str | None, species: str | None, taxon: str | None,
         assembly: str | None, annotation: str | None, base_iri: str, lenient: bool,
         strict: bool, window: int, jobs: str, force: bool, index: bool,
         silent: bool) -> None:
    """Load a GFF3 or RDF file into the store as a genome version.

    A GFF3 file is converted on the way; an RDF file must be one written by convert (or dump).
    The genome version gets a new build graph, made current in one step, with its provenance.

    Loading an input that is already current (same file, options, code and schema versions)
    does nothing and says so; otherwise the genome version is rebuilt and the reasons are
    given. Readers see the old build or the new one, never a mix; a killed load leaves the old
    build in place. One process at a time uses a store.

    With --endpoint, the same builds go to a SPARQL 1.1 server over its Graph Store Protocol
    (Oxigraph, Fuseki, Virtuoso: --endpoint http://HOST:8890/sparql-graph-crud-auth with
    --auth-file), with their bin index (computed here from an in-memory copy of the build).

    Example:

    \b
        gff2rdf load TAIR10_chr1.gff3.gz --store ./gff2rdf-store \\
            --species "Arabidopsis thaliana" --taxon 3702 \\
            --assembly TAIR10 --annotation Araport11
    """
    options: dict[str, Any] = dict(species=species, taxon=taxon, assembly=assembly,
                                   annotation=annotation, base_iri=base_iri, lenient=lenient,
                                   strict=strict, window=window, force=force,
                                   jobs=settings.jobs(jobs))
    with progress_bar(source, silent, "converting") as progress:
        try:
            if endpoint:
                from ..store.remote import load_remote

                with open_endpoint(endpoint, query_endpoint, update_endpoint, auth_file,
                                   auth_scheme, direct=no_update) as target:
                    result = load_remote(target, source, progress=progress, index=index,
                                         **options)
            else:
                from ..store.store import GenomeStore

                with GenomeStore.open(store_dir) as store:
                    result = store.load(source, progress=progress, index=index, **options)
        except Gff3Error as exc:
            click.echo(exc.log.report(per_kind=5, severity=None if not silent else "error"),
                       err=True)
            click.echo(f"Error: {exc.path}: {exc.log.errors} error(s); nothing loaded",
                       err=True)
            sys.exit(1)
    if result.conversion is not None:
        report_warnings(result.conversion.log, silent)
    if not silent:
        click.echo(result.summary(), err=True)
        if result.collected:
            click.echo(f"removed {result.collected} old graph(s) (builds and their indexes)",
                       err=True)
        if result.pieces > 1 and not endpoint:
            click.echo(f"hint: gff2rdf optimize --store {store_dir} compacts the store after "
                       "loads in pieces: whole-genome scans get about 1.5x faster", err=True)


@click.command()
@store_option
@endpoint_options
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout instead of a table.")
@handle_errors
def graphs(store_dir: str, endpoint: str | None, query_endpoint: str | None,
           update_endpoint: str | None, auth_file: str | None, auth_scheme: str | None,
           as_json: bool) -> None:
    """List the genome versions in a store and whether each is current.

    Current means made by the installed code and schema versions; the provenance (source file
    and sha256, versions, load time, triple count) is listed too. A genome version that the
    catalogue of the last gff2rdf pipeline run no longer listed is marked retired. With
    --endpoint, the genome versions that gff2rdf load --endpoint put on that server.

    Example:

        gff2rdf graphs --store ./gff2rdf-store --json
    """
    import json

    with open_backend(store_dir, endpoint, query_endpoint, update_endpoint, auth_file,
                      auth_scheme) as backend:
        entries = backend.genomes()
        garbage: list[str] = [] if endpoint else backend.garbage()
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], indent=2))
        return
    rows = [["GENOME", "TRIPLES", "SOURCE", "SHA256", "CODE", "SCHEMA", "LOADED", "STATUS"]]
    for e in entries:
        status = "current" if e.current else "stale: " + "; ".join(e.stale_reasons)
        if e.retired:
            status = (f"retired: not in {e.retired_from or 'the catalogue'} since {e.retired} "
                      f"(gff2rdf pipeline run --prune drops it); {status}")
        rows.append([e.path, f"{e.triples:,}", e.source or e.input_path, e.source_sha256[:12],
                     e.code_version, e.schema_version, e.created, status])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True))
                   + "  " + r[-1])
    if garbage:
        click.echo(f"{len(garbage)} old graph(s) (builds, indexes) await removal (the next "
                   "load or drop removes them)", err=True)


@click.command()
@store_option
@handle_errors
def optimize(store_dir: str) -> None:
    """Compact a store, for faster queries after loads.

    A genome version loaded in pieces (the load-piece setting, which bounds the load's memory)
    leaves files that whole-genome scans must merge; this compacts them (about 46 s for a
    genome of 20 M triples). Run it once after loading several genome versions.

    Example:

        gff2rdf optimize --store ./gff2rdf-store
    """
    from ..store.store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        seconds = store.optimize()
    click.echo(f"optimized {store_dir} in {seconds:.1f} s", err=True)


@click.command()
@click.argument("genome")
@store_option
@endpoint_options
@handle_errors
def drop(genome: str, store_dir: str, endpoint: str | None, query_endpoint: str | None,
         update_endpoint: str | None, auth_file: str | None, auth_scheme: str | None) -> None:
    """Remove a genome version from a store.

    GENOME is its IRI, or species/assembly/annotation as graphs lists it; its metadata and
    pointer go in one step, then its build graph. With --endpoint, from that server.

    Example:

        gff2rdf drop arabidopsis_thaliana/TAIR10/Araport11 --store ./gff2rdf-store
    """
    with open_backend(store_dir, endpoint, query_endpoint, update_endpoint, auth_file,
                      auth_scheme) as backend:
        entry = backend.drop(genome)
    click.echo(f"dropped {entry.path} ({entry.triples:,} triples)", err=True)


@click.command()
@store_option
@click.option("--graph", "graph", required=True,
              help="A genome version (IRI or species/assembly/annotation) or any graph IRI.")
@click.option("-o", "--output", required=True,
              help="Output file; .nq, .nt or .ttl, optionally .gz.")
@click.option("--format", "fmt", type=click.Choice(OUTPUT_FORMATS),
              help="Output format (default: from the output name, else Turtle).")
@handle_errors
def dump(store_dir: str, graph: str, output: str, fmt: str | None) -> None:
    """Write one graph of a store to a file.

    The file appears only when complete (a temporary file renamed into place). A genome version
    is written from its current build with its description, so the file loads again like
    convert's output.

    Example:

    \b
        gff2rdf dump --store ./gff2rdf-store \\
            --graph arabidopsis_thaliana/TAIR10/Araport11 -o araport11.nq.gz
    """
    from ..store.dump import dump_graph
    from ..store.store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        result = dump_graph(store, graph, output, fmt)
    click.echo(f"wrote {result.output} ({result.bytes:,} bytes) from {result.source_graph}",
               err=True)


# -- validate: GFF3 structure checks, SHACL shapes (gff2rdf.shacl.validate, gff2rdf.shacl.shapes)


