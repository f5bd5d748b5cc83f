"""The ``gff2rdf`` command line: parses options, calls the library, formats the result.

Exit status: 0 success, 1 an expected failure (bad input, failed validation), 2 bad usage.
Data goes to stdout only when asked for (``-o -``); summaries, warnings and progress go to
stderr.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from . import __version__, settings
from .errors import Gff2RdfError, Gff3Error, ProblemLog
from .interrupts import stop_signals_interrupt
from .settings import env_name, get

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def handle_errors(func: F) -> F:
    """Expected failures print ``Error: ...`` and exit 1, without a traceback. Ctrl-C, SIGTERM
    and SIGHUP stop the command after its clean-up (``gff2rdf.interrupts``), with the exit
    status of that signal as a shell reports it (128 + its number)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with stop_signals_interrupt():
                return func(*args, **kwargs)
        except Gff2RdfError as exc:
            _fail(str(exc))
        except KeyboardInterrupt as exc:
            signum = getattr(exc, "signum", signal.SIGINT)
            click.echo("Interrupted." if signum == signal.SIGINT else
                       f"Stopped by {signal.Signals(signum).name}.", err=True)
            sys.exit(128 + signum)

    return wrapper  # type: ignore[return-value]


def genome_options(func: F) -> F:
    """The options that name a genome version, shared by convert and load."""
    options = [
        click.option("--species", help="Species name, e.g. 'Arabidopsis thaliana'."),
        click.option("--taxon", help="NCBI Taxonomy id, e.g. 3702 (default: from ##species)."),
        click.option("--assembly", help="Assembly name, e.g. TAIR10 (default: from "
                     "##genome-build / #!genome-version)."),
        click.option("--annotation", help="Annotation release, e.g. Araport11 (default: the "
                     "file name)."),
        click.option("--base-iri", default=lambda: get("base-iri"), show_default=get("base-iri"),
                     help=f"Base of all data IRIs [env {env_name('base-iri')}]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def check_options(func: F) -> F:
    options = [
        click.option("--lenient", is_flag=True,
                     help="Skip bad lines and wrong links, listing each, instead of "
                     "failing; still fails on a file with no features or that is not text."),
        click.option("--strict", is_flag=True,
                     help="Treat warnings about the GFF3 text (unknown SO type, missing "
                     "##gff-version, ...) as errors; a Dbxref tag with no known IRI stays a "
                     "warning."),
        click.option("--window", type=click.IntRange(min=100), default=lambda: int(get("window")),
                     show_default=get("window"),
                     help="Lines after which an unfinished feature counts as complete."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def jobs_option(func: F) -> F:
    return click.option("--jobs", "-j", default=lambda: get("jobs"), show_default=get("jobs"),
                        help="Processes for large files ('auto': one per core) "
                        f"[env {env_name('jobs')}].")(func)


def report_warnings(log: ProblemLog, silent: bool) -> None:
    """Warnings on stderr, the first of each kind. Errors, which only ``--lenient`` lets
    through, get validate's grouped report of every problem with its line, ``--silent`` or
    not: what was skipped is never skipped silently."""
    if log.errors:
        from .validate import gff3_report

        click.echo(gff3_report(log).replace(": invalid GFF3: ", ": lenient: ", 1), err=True)
    elif log.warnings and not silent:
        click.echo(log.report(per_kind=3, severity="warning"), err=True)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="gff2rdf")
def main() -> None:
    """gff2rdf: plant genome annotations (GFF3) to a FALDO / Sequence Ontology knowledge graph."""


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--output", default="-", show_default=True,
              help="Output file; .ttl, .nt or .nq, optionally .gz; '-' for stdout.")
@click.option("--format", "fmt", type=click.Choice(["ttl", "nt", "nq"]),
              help="Output format (default: from the output name, else Turtle).")
@genome_options
@check_options
@jobs_option
@click.option("--silent", is_flag=True, help="No progress bar, warnings or summary.")
@handle_errors
def convert(source: str, output: str, fmt: str | None, species: str | None, taxon: str | None,
            assembly: str | None, annotation: str | None, base_iri: str, lenient: bool,
            strict: bool, window: int, jobs: str, silent: bool) -> None:
    """Convert a GFF3 file (or .gz, or - for stdin) to Turtle, N-Triples or N-Quads.

    The output file appears only when the whole input converted; on errors every problem of
    the file is listed with its line and nothing is written.

    Example:

    \b
        gff2rdf convert TAIR10_chr1.gff3.gz -o tair10.nt.gz \\
            --species "Arabidopsis thaliana" --taxon 3702 \\
            --assembly TAIR10 --annotation Araport11
    """
    from .convert import convert as run_convert

    with _progress_bar(source, silent, "converting") as progress:
        try:
            result = run_convert(source, output, fmt=fmt, species=species, taxon=taxon,
                                 assembly=assembly, annotation=annotation, base_iri=base_iri,
                                 lenient=lenient, strict=strict, window=window,
                                 progress=progress, jobs=settings.jobs(jobs))
        except Gff3Error as exc:
            click.echo(exc.log.report(per_kind=5, severity=None if not silent else "error"),
                       err=True)
            click.echo(f"Error: {exc.path}: {exc.log.errors} error(s); no output written",
                       err=True)
            sys.exit(1)
    report_warnings(result.log, silent)
    if not silent:
        click.echo(result.summary(), err=True)


# -- the store: load, graphs, drop, dump (gff2rdf.store, gff2rdf.gsp) ---------------------------


def store_option(func: F) -> F:
    """``--store DIR``: the embedded Oxigraph store, shared by load, graphs, drop and dump."""
    return click.option(
        "--store", "store_dir", default=lambda: get("store"), show_default=get("store"),
        type=click.Path(file_okay=False),
        help=f"Directory of the Oxigraph store [env {env_name('store')}].")(func)


@contextlib.contextmanager
def _progress_bar(source: str, silent: bool, label: str, *, smallest: int = 8 << 20,
                  again: str = "") -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr for a file over ``smallest`` bytes; yields the callback that
    the library calls with the number of bytes read so far. A call with fewer bytes than the
    one before starts a second bar, labelled ``again`` (a second pass over the file)."""
    total = os.path.getsize(source) if source != "-" and os.path.isfile(source) else 0
    hidden = silent or total <= smallest
    with contextlib.ExitStack() as stack:
        shown = stack.enter_context(click.progressbar(
            length=total or 1, label=label, file=sys.stderr, hidden=hidden))
        done = 0

        def progress(nbytes: int) -> None:
            nonlocal shown, done
            if nbytes < done:
                stack.close()
                shown = stack.enter_context(click.progressbar(
                    length=total or 1, label=again or label, file=sys.stderr, hidden=hidden))
                done = 0
            shown.update(nbytes - done)
            done = nbytes

        yield progress


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@store_option
@click.option("--endpoint", metavar="URL",
              help="Load into this SPARQL 1.1 Graph Store Protocol endpoint instead of the "
              "store, e.g. http://127.0.0.1:7878/store.")
@click.option("--query-endpoint", metavar="URL",
              help="Its SPARQL query endpoint (default: guessed for Oxigraph and Fuseki).")
@click.option("--update-endpoint", metavar="URL",
              help="Its SPARQL update endpoint (default: guessed for Oxigraph and Fuseki).")
@click.option("--no-update", is_flag=True,
              help="The endpoint has no update endpoint: PUT the genome's graph directly.")
@genome_options
@check_options
@jobs_option
@click.option("--force", is_flag=True, help="Rebuild even when the genome version is current.")
@click.option("--index/--no-index", default=True, show_default=True,
              help="Build the bin index of the new build in the store (fast region and "
              "nearest-genes queries; about a third more load time).")
@click.option("--silent", is_flag=True, help="No progress bar, warnings or summary.")
@handle_errors
def load(source: str, store_dir: str, endpoint: str | None, query_endpoint: str | None,
         update_endpoint: str | None, no_update: bool, species: str | None, taxon: str | None,
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
    with _progress_bar(source, silent, "converting") as progress:
        try:
            if endpoint:
                from .gsp import Endpoint, load_remote

                target = Endpoint.for_url(endpoint, query_endpoint, update_endpoint,
                                          direct=no_update)
                result = load_remote(target, source, progress=progress, **options)
            else:
                from .store import GenomeStore

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


@main.command()
@store_option
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout instead of a table.")
@handle_errors
def graphs(store_dir: str, as_json: bool) -> None:
    """List the genome versions in a store and whether each is current.

    Current means made by the installed code and schema versions; the provenance (source file
    and sha256, versions, load time, triple count) is listed too.

    Example:

        gff2rdf graphs --store ./gff2rdf-store --json
    """
    import json

    from .store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        entries = store.genomes()
        garbage = store.garbage()
    if as_json:
        click.echo(json.dumps([e.to_json() for e in entries], indent=2))
        return
    rows = [["GENOME", "TRIPLES", "SOURCE", "SHA256", "CODE", "SCHEMA", "LOADED", "STATUS"]]
    for e in entries:
        status = "current" if e.current else "stale: " + "; ".join(e.stale_reasons)
        rows.append([e.path, f"{e.triples:,}", e.source or e.input_path, e.source_sha256[:12],
                     e.code_version, e.schema_version, e.created, status])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    for r in rows:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True))
                   + "  " + r[-1])
    if garbage:
        click.echo(f"{len(garbage)} old graph(s) (builds, indexes) await removal (the next "
                   "load or drop removes them)", err=True)


@main.command()
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
    from .store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        seconds = store.optimize()
    click.echo(f"optimized {store_dir} in {seconds:.1f} s", err=True)


@main.command()
@click.argument("genome")
@store_option
@handle_errors
def drop(genome: str, store_dir: str) -> None:
    """Remove a genome version from a store.

    GENOME is its IRI, or species/assembly/annotation as graphs lists it; its metadata and
    pointer go in one step, then its build graph.

    Example:

        gff2rdf drop arabidopsis_thaliana/TAIR10/Araport11 --store ./gff2rdf-store
    """
    from .store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        entry = store.drop(genome)
    click.echo(f"dropped {entry.path} ({entry.triples:,} triples)", err=True)


@main.command()
@store_option
@click.option("--graph", "graph", required=True,
              help="A genome version (IRI or species/assembly/annotation) or any graph IRI.")
@click.option("-o", "--output", required=True,
              help="Output file; .nq, .nt or .ttl, optionally .gz.")
@click.option("--format", "fmt", type=click.Choice(["ttl", "nt", "nq"]),
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
    from .store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        result = store.dump(graph, output, fmt)
    click.echo(f"wrote {result.output} ({result.bytes:,} bytes) from {result.source_graph}",
               err=True)


@main.command()
@click.argument("source", required=False, type=click.Path(dir_okay=False))
@click.option("-o", "--output", default="-", show_default=True,
              help="GFF3 output file, .gz compressed by name; '-' for stdout.")
@store_option
@click.option("--genome", metavar="GENOME",
              help="Export this genome version (species/assembly/annotation or its IRI) of "
              "the store, or of --endpoint, instead of an RDF file.")
@click.option("--endpoint", metavar="URL",
              help="With --genome: a SPARQL endpoint (e.g. http://127.0.0.1:7878/sparql of "
              "gff2rdf serve) instead of the store.")
@click.option("--graph-store", metavar="URL",
              help="With --endpoint: its Graph Store Protocol URL (default: guessed, "
              "/store for gff2rdf serve and Oxigraph, /DATASET/data for Fuseki).")
@click.option("--region", metavar="SEQID:START-END",
              help="Only features overlapping this region (or a whole SEQID).")
@click.option("--type", "types", multiple=True, metavar="TERM",
              help="Only features of this SO class or its subclasses: a name, synonym or "
              "accession (gene, SO:0000704); repeat for more.")
@click.option("--ids", "ids_file", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Only the features with these IDs (one a line; '-' for stdin).")
@click.option("--query", "query_file", type=click.File("r", encoding="utf-8"), metavar="FILE",
              help="Only the features a SPARQL SELECT returns in its first column (run on the "
              "genome's graph as the default graph).")
@click.option("--with-ancestors", is_flag=True,
              help="Selected features bring their parents too (always their children).")
@click.option("--silent", is_flag=True, help="No summary.")
@handle_errors
def export(source: str | None, output: str, store_dir: str, genome: str | None,
           endpoint: str | None, graph_store: str | None, region: str | None,
           types: tuple[str, ...], ids_file: Any, query_file: Any, with_ancestors: bool,
           silent: bool) -> None:
    """Write GFF3 from an RDF file, a genome version of the store, or a SPARQL endpoint.

    The whole genome, or a selection (the options combine: --region with --type gives
    the features of that type in the region); a selected feature comes with everything below
    it (transcripts, exons, CDS), so the file has no dangling Parent. Features are written
    per sequence by start, each gene model whole (parents first) and followed by ###; a
    feature of several lines (a discontinuous CDS) gets its lines back. The output appears
    only when complete.

    Example:

    \b
        gff2rdf export tair10.nt.gz -o tair10.gff3
        gff2rdf export --store ./gff2rdf-store \\
            --genome arabidopsis_thaliana/TAIR10/Araport11 \\
            --region 1:1-50000 --type gene -o genes.gff3.gz
    """
    from .export import EndpointSource, FileSource, Selection, StoreSource
    from .export import export as run_export
    from .export_select import read_ids

    if endpoint and not genome:
        raise click.UsageError("--endpoint needs --genome")
    if (source is None) == (genome is None):
        raise click.UsageError("give an RDF FILE, or --genome (with --store or --endpoint)")
    if graph_store and not endpoint:
        raise click.UsageError("--graph-store goes with --endpoint")
    target: FileSource | StoreSource | EndpointSource
    if source is not None:
        target = FileSource(source)
    elif endpoint:
        target = EndpointSource(endpoint, genome or "", graph_store)
    else:
        target = StoreSource(store_dir, genome or "")
    selection = Selection(
        region=region, types=types, with_ancestors=with_ancestors,
        ids=tuple(read_ids(ids_file, f"--ids {ids_file.name}")) if ids_file else (),
        query=query_file.read() if query_file else None)
    result = run_export(target, output, selection)
    if not silent:
        click.echo(result.summary(), err=True)


# -- validate: GFF3 structure checks, SHACL shapes (gff2rdf.validate, gff2rdf.shacl) ---------


@main.command()
@click.argument("source", required=False, type=click.Path(dir_okay=False))
@click.option("--input-format", "input_fmt",
              type=click.Choice(["gff3", "nt", "nq", "ttl", "trig", "rdf"]),
              help="Format of SOURCE (default: from its extension, .gz looked through; "
              "anything else is read as GFF3).")
@click.option("--format", "out_fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Report format, written to stdout.")
@check_options
@click.option("--report", "report_path", type=click.Path(dir_okay=False),
              help="RDF: also write the full sh:ValidationReport to this Turtle file.")
@click.option("--first", type=click.IntRange(min=0), default=10, show_default=True,
              help="RDF: focus nodes shown per shape and constraint.")
@click.option("--store", "store_dir", default=lambda: get("store"), show_default=get("store"),
              type=click.Path(file_okay=False),
              help=f"With --graph: the Oxigraph store [env {env_name('store')}].")
@click.option("--graph", help="Validate this genome version of the store (IRI or "
              "species/assembly/annotation) instead of a file.")
@click.option("--silent", is_flag=True, help="No progress bar.")
@handle_errors
def validate(source: str | None, input_fmt: str | None, out_fmt: str, lenient: bool,
             strict: bool, window: int, report_path: str | None, first: int, store_dir: str,
             graph: str | None, silent: bool) -> None:
    """Check a GFF3 file, an RDF file or a loaded genome version; exit 1 on errors.

    A GFF3 file gets the converter's structure checks: every problem with file:line, grouped
    and counted by kind; warnings fail only with --strict. An RDF file (N-Triples, N-Quads,
    Turtle, ...) or a genome version in a store (--graph) is validated against the gff2rdf
    SHACL shapes: violations counted by shape and constraint, with the first focus nodes.

    Example:

    \b
        gff2rdf validate TAIR10_chr1.gff3.gz
        gff2rdf validate tair10.nt.gz --report tair10-shacl.ttl
        gff2rdf validate --store ./gff2rdf-store --graph arabidopsis_thaliana/TAIR10/Araport11
    """
    from .outputs import OutputFile, output_target
    from .validate import check_gff3, gff3_report, input_format, validate_rdf

    if (source is None) == (graph is None):
        raise click.UsageError("give a FILE to validate, or --graph (with --store) for a "
                               "genome version in a store")
    inputs = [source if source is not None else store_dir]
    if report_path and (source is None or input_format(source, input_fmt) != "gff3"):
        output_target(report_path, inputs)  # before the work: a bad report path fails at once
    if graph is None:
        assert source is not None
        if not os.path.isfile(source):
            raise Gff2RdfError(f"{source}: no such file")
        fmt = input_format(source, input_fmt)
        if fmt == "gff3":
            if report_path:
                raise click.UsageError("--report is for RDF input (the SHACL report)")
            with _progress_bar(source, silent, "checking") as progress:
                log = check_gff3(source, strict=strict, lenient=lenient, window=window,
                                 progress=progress)
            click.echo(gff3_report(log, out_fmt))
            sys.exit(1 if log.errors else 0)
        # the bytes counted are those of the plain text, so no bar for gzip
        with _progress_bar(source, silent or source.endswith(".gz"), "validating",
                           smallest=64 << 20, again="validating (exact engine)") as progress:
            report = validate_rdf(source, fmt, first=first, progress=progress)
    else:
        from .store import GenomeStore
        from .validate import validate_stored

        with GenomeStore.open(store_dir, create=False, collect=False) as store:
            report = validate_stored(store, graph, first=first)
    if report_path:
        with OutputFile(report_path, inputs=inputs) as out:
            out.stream.write(report.to_turtle())
            out.commit()
    click.echo(report.to_json(first) if out_fmt == "json" else report.summary(first))
    sys.exit(0 if report.conforms else 1)


# -- serve: the SPARQL endpoint and its web page (gff2rdf.server) -------------------------------


@main.command()
@store_option
@click.option("--host", default=lambda: get("host"), show_default=get("host"),
              help="Address to listen on; 0.0.0.0 listens on every interface, so anyone who "
              f"can reach this machine can query [env {env_name('host')}].")
@click.option("-p", "--port", type=click.IntRange(0, 65535), default=lambda: int(get("port")),
              show_default=get("port"), help="Port; 0 picks a free one. The URL is the first "
              f"line on stdout [env {env_name('port')}].")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=lambda: float(get("timeout")),
              show_default=get("timeout"), help="Seconds a query may run; then its worker "
              f"process is killed and the client gets 504 [env {env_name('timeout')}].")
@click.option("--max-rows", type=click.IntRange(min=0), default=lambda: int(get("max-rows")),
              show_default=get("max-rows"), help="Largest result in rows or triples; a larger "
              f"one is an error, never cut silently; 0: no limit [env {env_name('max-rows')}].")
@click.option("--allow-service", multiple=True, metavar="IRI",
              help="An endpoint SERVICE may call (repeat for more; 'none' for no federation). "
              "Default: the uniprot-endpoint and ubergraph-endpoint settings "
              f"[env {env_name('allow-service')}].")
@click.option("--update-token-file", type=click.Path(exists=True, dir_okay=False),
              help="Enable writes (/update, PUT/POST/DELETE /store) for requests that send "
              "'Authorization: Bearer TOKEN' with the token in this file; without it the "
              f"server is read-only [env {env_name('update-token-file')}].")
@click.option("--cors-origin", multiple=True, metavar="ORIGIN",
              help="A web origin allowed to read the endpoint from a browser (repeat for more); "
              f"default: none [env {env_name('cors-origin')}].")
@click.option("--workers", type=click.IntRange(min=1),
              help="Query worker processes (default: one per core, at least 2) "
              f"[env {env_name('serve-workers')}].")
@click.option("--union-default-graph", is_flag=True,
              help="Queries without GRAPH see the union of all graphs.")
@click.option("--quiet", is_flag=True, help="No access log on stderr.")
@handle_errors
def serve(store_dir: str, host: str, port: int, timeout: float, max_rows: int,
          allow_service: tuple[str, ...], update_token_file: str | None,
          cors_origin: tuple[str, ...], workers: int | None, union_default_graph: bool,
          quiet: bool) -> None:
    """Serve a store as a SPARQL 1.1 endpoint, with a web page.

    Queries at /sparql (SPARQL 1.1 Protocol), the Graph Store Protocol at /store, the page at
    /. Read-only unless --update-token-file is given. Each query runs in a worker process that
    is killed at --timeout; SERVICE may only call allowlisted endpoints; LOAD is refused.

    While it runs the server holds the store (gff2rdf load --store fails at once, naming it):
    stop it to load, or start it with --update-token-file and load through its Graph Store
    Protocol and /update routes with the token.

    Example:

    \b
        gff2rdf serve --store ./gff2rdf-store --port 7878
        curl http://127.0.0.1:7878/sparql -H 'Accept: text/csv' \\
            --data-urlencode 'query=SELECT * WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 3'
    """
    from .server import App, ServeConfig, read_token
    from .server_http import make_server, run

    allow = None if not allow_service else (() if allow_service == ("none",) else allow_service)
    config = ServeConfig.from_settings(
        store_dir, host=host, port=port, timeout=timeout, max_rows=max_rows,
        allow_service=allow, token=read_token(update_token_file) if update_token_file else None,
        cors_origins=cors_origin or None, workers=workers,
        union_default_graph=union_default_graph or None, access_log=not quiet)
    app = App(config)
    server = make_server(app, config.host, config.port, 2 * config.max_concurrent,
                         access_log=config.access_log)
    try:
        app.start()
    except BaseException:
        server.server_close()
        raise

    def ready(url: str) -> None:
        click.echo(url)
        sys.stdout.flush()
        mode = "read-write (bearer token)" if config.token else "read-only"
        services = ", ".join(config.allow_service) or "none"
        click.echo(f"gff2rdf serve: {config.store} at {url}sparql, {mode}, timeout "
                   f"{config.timeout:g} s, max rows {config.max_rows or 'unlimited'}, "
                   f"{config.workers} workers, SERVICE to: {services}; Ctrl-C stops",
                   err=True)

    run(server, ready)


# -- query and ontology: canned queries, bin index, ontologies (gff2rdf.queries, .ontologies) --


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="'--param'")
        params[name.strip()] = value
    return params


def _list_queries(as_json: bool) -> None:
    from .queries import list_queries

    queries = list_queries()
    if as_json:
        import json

        click.echo(json.dumps([{
            "name": q.name, "title": q.title, "description": q.description,
            "federated": q.federated, "parameters": [
                {"name": p.name, "type": p.type, "default": p.default, "example": p.example,
                 "help": p.help} for p in q.parameters]} for q in queries], indent=2))
        return
    for q in queries:
        params = " ".join(f"{p.name}={p.example or p.default or ''}" for p in q.parameters)
        mark = " [federated]" if q.federated else ""
        click.echo(f"{q.name}: {q.title}{mark}")
        if params:
            click.echo(f"    e.g. {params}")


@main.command()
@click.argument("name", required=False)
@click.option("--param", "-p", "pairs", multiple=True, metavar="NAME=VALUE",
              help="A parameter of the query (repeat for each).")
@store_option
@click.option("--endpoint", metavar="URL",
              help="Run on this SPARQL 1.1 endpoint instead of the store.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "tsv", "json"]),
              default="table", show_default=True, help="Output format.")
@click.option("--list", "list_only", is_flag=True, help="List the canned queries and exit.")
@click.option("--json", "as_json", is_flag=True, help="With --list: JSON.")
@click.option("--show-sparql", is_flag=True,
              help="Print the bound SPARQL instead of running it.")
@click.option("--index", "index_genome", metavar="GENOME",
              help="Build the bin index of a genome version (fast region and nearest-genes "
              "queries) and exit.")
@handle_errors
def query(name: str | None, pairs: tuple[str, ...], store_dir: str, endpoint: str | None,
          fmt: str, list_only: bool, as_json: bool, show_sparql: bool,
          index_genome: str | None) -> None:
    """Run a canned SPARQL query on the store or on a SPARQL endpoint.

    Parameters are bound with VALUES, never pasted into the query text; --list shows each
    query with example values. The same queries run on the embedded store and on any SPARQL
    1.1 endpoint (gff2rdf serve, Virtuoso, QLever ...). Federated queries call UniProt or
    Ubergraph at the uniprot-endpoint and ubergraph-endpoint settings.

    Example:

    \b
        gff2rdf query --list
        gff2rdf query region --store ./gff2rdf-store \\
            -p genome=arabidopsis_thaliana/TAIR10/Araport11 \\
            -p seqid=1 -p start=1 -p end=20000
        gff2rdf query --index arabidopsis_thaliana/TAIR10/Araport11
    """
    if list_only:
        _list_queries(as_json)
        return
    if index_genome:
        from .binindex import build_index
        from .store import GenomeStore

        with GenomeStore.open(store_dir, create=False, collect=False) as store:
            click.echo(build_index(store, index_genome).summary(), err=True)
        return
    if not name:
        raise click.UsageError("give a query NAME (gff2rdf query --list shows them)")
    from .queries import get_query
    from .results import format_result

    canned = get_query(name)
    params = _params(pairs)
    if show_sparql:
        click.echo(canned.bind(params), nl=False)
        return
    if endpoint:
        result = canned.run(endpoint, params)
    else:
        from .store import GenomeStore

        with GenomeStore.open(store_dir, create=False, collect=False) as store:
            result = canned.run(store, params)
    click.echo(format_result(result, fmt), nl=False)
    if fmt == "table":
        click.echo(f"{len(result.rows):,} row(s) in {result.seconds * 1000:.0f} ms", err=True)


@main.group()
def ontology() -> None:
    """Ontologies in the store (SO, PO, GO slims, FALDO) for offline joins.

    Example:

    \b
        gff2rdf ontology load po.obo --store ./gff2rdf-store
        gff2rdf ontology list --store ./gff2rdf-store
    """


@ontology.command("load")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
@store_option
@click.option("--format", "fmt", type=click.Choice(["obo", "owl", "ttl", "nt"]),
              help="Input format (default: from the extension).")
@click.option("--graph", metavar="IRI",
              help="Graph IRI (default: the ontology's own IRI).")
@handle_errors
def ontology_load(source: str, store_dir: str, fmt: str | None, graph: str | None) -> None:
    """Load an ontology (OBO, OWL, Turtle) into the graph named by its IRI.

    A closure graph is written with it (is_a closure as rdfs:subClassOf, part_of closure), so
    genes-by-term finds descendants offline. Loading an ontology again replaces it.

    Example:

        gff2rdf ontology load go-plant-slim.obo --store ./gff2rdf-store
    """
    from .ontologies import load_ontology
    from .store import GenomeStore

    with GenomeStore.open(store_dir, collect=False) as store:
        result = load_ontology(store, source, fmt=fmt, graph=graph)
    click.echo(result.summary(), err=True)


@ontology.command("list")
@store_option
@handle_errors
def ontology_list(store_dir: str) -> None:
    """List the ontologies loaded in a store.

    Example:

        gff2rdf ontology list --store ./gff2rdf-store
    """
    from .ontologies import list_ontologies
    from .store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        for info in list_ontologies(store):
            version = f" ({info.version})" if info.version else ""
            click.echo(f"{info.iri}{version}: {info.classes:,} classes")


# -- pipeline: dagster assets for many genome versions (gff2rdf.pipeline, extra [pipeline]) ----
# The commands are in gff2rdf/pipeline/commands.py; it imports only click here, and dagster
# when a command runs, so gff2rdf works without the extra.

def _add_pipeline() -> None:
    from .pipeline.commands import pipeline

    main.add_command(pipeline)


if __name__ == "__main__":  # pragma: no cover
    # ``python -m gff2rdf.cli``: run the importable module, which registers the pipeline group
    # (registering it from here would import gff2rdf.cli a second time, half-initialised)
    from gff2rdf.cli import main as _main

    _main()
else:
    _add_pipeline()
