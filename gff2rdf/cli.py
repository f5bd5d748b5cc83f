"""The ``gff2rdf`` command line: parses options, calls the library, formats the result.

Exit status: 0 success, 1 an expected failure (bad input, failed validation), 2 bad usage.
Data goes to stdout only when asked for (``-o -``); summaries, warnings and progress go to
stderr.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from . import __version__, settings
from .errors import Gff2RdfError, Gff3Error, ProblemLog
from .settings import env_name, get

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def handle_errors(func: F) -> F:
    """Expected failures print ``Error: ...`` and exit 1, without a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Gff2RdfError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

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
                     help="Skip bad lines with a warning instead of failing."),
        click.option("--strict", is_flag=True,
                     help="Treat warnings (unknown SO type, unresolvable Dbxref prefix, missing "
                     "##gff-version, ...) as errors."),
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
    if log.warnings and not silent:
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

    total = os.path.getsize(source) if source != "-" and os.path.isfile(source) else 0
    show = not silent and total > (8 << 20)
    with click.progressbar(length=total or 1, label="converting", file=sys.stderr,
                           hidden=not show) as bar:
        done = [0]

        def progress(nbytes: int) -> None:
            bar.update(nbytes - done[0])
            done[0] = nbytes

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



if __name__ == "__main__":  # pragma: no cover
    main()
