"""The ``gff2rdf`` command line: parses options, calls the library, formats the result.

Exit status: 0 success, 1 an expected failure (bad input, failed validation), 2 bad usage.
Data goes to stdout only when asked for (``-o -``); summaries, warnings and progress go to
stderr.
"""

from __future__ import annotations

import os
import sys

import click

from .. import settings
from .._version import __version__
from ..errors import Gff2RdfError, Gff3Error
from ..files.outputs import OutputFile, output_target
from ..formats import FORMATS, OUTPUT_FORMATS, format_of
from ..server.http import make_server, run
from ..settings import env_name, get
from ..shacl.validate import check_gff3, gff3_report, validate_rdf, validate_stored
from .export import export
from .options import (
    CONTEXT,
    check_options,
    genome_options,
    handle_errors,
    jobs_option,
    progress_bar,
    report_warnings,
    store_option,
)
from .pipeline import pipeline
from .query import ontology, query
from .store import drop, dump, graphs, load, optimize
from .trace import trace

# deferred: the imports inside functions load multiprocessing, pyoxigraph, yaml
# only when the call needs them, to keep this module's import (and start-up) light


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "--version", prog_name="gff2rdf")
def main() -> None:
    """gff2rdf: plant genome annotations (GFF3) to a FALDO / Sequence Ontology knowledge graph."""


for _command in (load, graphs, optimize, drop, dump, trace, export, query, ontology, pipeline):
    main.add_command(_command)


@main.command()
@click.argument("source", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("-o", "--output", default="-", show_default=True,
              help="Output file; .ttl, .nt or .nq, optionally .gz; '-' for stdout.")
@click.option("--format", "fmt", type=click.Choice(OUTPUT_FORMATS),
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
    from ..conversion.api import convert as run_convert

    with progress_bar(source, silent, "converting") as progress:
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



@main.command()
@click.argument("source", required=False, type=click.Path(dir_okay=False))
@click.option("--input-format", "input_fmt",
              type=click.Choice(list(FORMATS)),
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
    if (source is None) == (graph is None):
        raise click.UsageError("give a FILE to validate, or --graph (with --store) for a "
                               "genome version in a store")
    inputs = [source if source is not None else store_dir]
    if report_path and (source is None or format_of(source, input_fmt) != "gff3"):
        output_target(report_path, inputs)  # before the work: a bad report path fails at once
    if graph is None:
        assert source is not None
        if not os.path.isfile(source):
            raise Gff2RdfError(f"{source}: no such file")
        fmt = format_of(source, input_fmt)
        if fmt == "gff3":
            if report_path:
                raise click.UsageError("--report is for RDF input (the SHACL report)")
            with progress_bar(source, silent, "checking") as progress:
                log = check_gff3(source, strict=strict, lenient=lenient, window=window,
                                 progress=progress)
            click.echo(gff3_report(log, out_fmt))
            sys.exit(1 if log.errors else 0)
        # the bytes counted are those of the plain text, so no bar for gzip
        with progress_bar(source, silent or source.endswith(".gz"), "validating",
                           smallest=64 << 20, again="validating (exact engine)") as progress:
            report = validate_rdf(source, fmt, first=first, progress=progress)
    else:
        from ..store.store import GenomeStore

        with GenomeStore.open(store_dir, create=False, collect=False) as store:
            report = validate_stored(store, graph, first=first)
    if report_path:
        with OutputFile(report_path, inputs=inputs) as out:
            out.stream.write(report.to_turtle())
            out.commit()
    click.echo(report.to_json(first) if out_fmt == "json" else report.summary(first))
    sys.exit(0 if report.conforms else 1)


# -- serve: the SPARQL endpoint and its web page (gff2rdf.server.app) ------------------------------


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
              help="Query worker processes (default: one per core, plus two kept for light "
              "queries) "
              f"[env {env_name('serve-workers')}].")
@click.option("--max-connections", type=click.IntRange(min=1),
              help="Open connections accepted in all, idle and slow ones included; more get "
              f"503 (default {get('max-connections')}) [env {env_name('max-connections')}].")
@click.option("--max-client-connections", type=click.IntRange(min=1),
              help="Open connections accepted from one client address; more get 429 "
              f"(default {get('max-client-connections')}) [env "
              f"{env_name('max-client-connections')}].")
@click.option("--request-timeout", type=click.FloatRange(min=0.1),
              help="Seconds a request head may take once started; slower clients get 408 "
              f"(default {get('request-timeout')}) [env {env_name('request-timeout')}].")
@click.option("--idle-timeout", type=click.FloatRange(min=0.1),
              help="Seconds an idle keep-alive connection stays open "
              f"(default {get('idle-timeout')}) [env {env_name('idle-timeout')}].")
@click.option("--shutdown-grace", type=click.FloatRange(min=0),
              help="Seconds queries in progress may finish after SIGTERM or Ctrl-C, then 503 "
              f"(default {get('shutdown-grace')}) [env {env_name('shutdown-grace')}].")
@click.option("--union-default-graph", is_flag=True,
              help="Queries without GRAPH see the union of all graphs.")
@click.option("--quiet", is_flag=True, help="No access log on stderr.")
@handle_errors
def serve(store_dir: str, host: str, port: int, timeout: float, max_rows: int,
          allow_service: tuple[str, ...], update_token_file: str | None,
          cors_origin: tuple[str, ...], workers: int | None, max_connections: int | None,
          max_client_connections: int | None,
          request_timeout: float | None, idle_timeout: float | None,
          shutdown_grace: float | None, union_default_graph: bool, quiet: bool) -> None:
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
    from ..server.app import App, ServeConfig, read_token

    allow = None if not allow_service else (() if allow_service == ("none",) else allow_service)
    config = ServeConfig.from_settings(
        store_dir, host=host, port=port, timeout=timeout, max_rows=max_rows,
        allow_service=allow, token=read_token(update_token_file) if update_token_file else None,
        cors_origins=cors_origin or None, workers=workers,
        max_connections=max_connections, max_client_connections=max_client_connections,
        request_timeout=request_timeout,
        idle_timeout=idle_timeout, shutdown_grace=shutdown_grace,
        union_default_graph=union_default_graph or None, access_log=not quiet)
    app = App(config)
    limits = config.limits()
    server = make_server(app, config.host, config.port, limits.max_connections,
                         access_log=config.access_log, limits=limits)
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

    run(server, ready, grace=config.shutdown_grace)


if __name__ == "__main__":  # pragma: no cover
    main(prog_name="gff2rdf")
