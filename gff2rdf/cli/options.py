"""What the commands of ``gff2rdf`` share: error handling, the genome, check, jobs and store
options, warnings and progress bars on stderr."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from ..errors import Gff2RdfError, ProblemLog
from ..files.interrupts import stop_signals_interrupt
from ..settings import env_name, get
from ..shacl.validate import gff3_report

F = TypeVar("F", bound=Callable[..., Any])

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def handle_errors(func: F) -> F:
    """Expected failures print ``Error: ...`` and exit 1, without a traceback. Ctrl-C, SIGTERM
    and SIGHUP stop the command after its clean-up (``gff2rdf.files.interrupts``), with the exit
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
        click.echo(gff3_report(log).replace(": invalid GFF3: ", ": lenient: ", 1), err=True)
    elif log.warnings and not silent:
        click.echo(log.report(per_kind=3, severity="warning"), err=True)



def store_option(func: F) -> F:
    """``--store DIR``: the embedded Oxigraph store, shared by load, graphs, drop and dump."""
    return click.option(
        "--store", "store_dir", default=lambda: get("store"), show_default=get("store"),
        type=click.Path(file_okay=False),
        help=f"Directory of the Oxigraph store [env {env_name('store')}].")(func)


def endpoint_options(func: F) -> F:
    """``--endpoint URL`` and what goes with it (query and update URLs, credentials): a SPARQL
    1.1 server instead of the embedded store, for load, graphs and drop."""
    options = [
        click.option("--endpoint", metavar="URL",
                     help="A SPARQL 1.1 Graph Store Protocol endpoint instead of the store, "
                     "e.g. http://127.0.0.1:7878/store (Oxigraph) or "
                     "http://HOST:8890/sparql-graph-crud-auth (Virtuoso, with --auth-file)."),
        click.option("--query-endpoint", metavar="URL",
                     help="Its SPARQL query endpoint (default: guessed for Oxigraph, Fuseki "
                     "and Virtuoso)."),
        click.option("--update-endpoint", metavar="URL",
                     help="Its SPARQL update endpoint (default: guessed likewise)."),
        click.option("--auth-file", type=click.Path(exists=True, dir_okay=False),
                     help="With --endpoint: a file holding one line 'user:password' for HTTP "
                     "authentication; or the environment variable "
                     f"{env_name('endpoint-credentials')} [env {env_name('endpoint-auth-file')}]."),
        click.option("--auth-scheme", type=click.Choice(["auto", "basic", "digest"]),
                     help="basic, digest, or auto: what the server's challenge asks for "
                     f"(Virtuoso's /sparql-graph-crud-auth: digest) [env "
                     f"{env_name('endpoint-auth')}; default auto]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def open_endpoint(endpoint: str, query_endpoint: str | None, update_endpoint: str | None,
                  auth_file: str | None, auth_scheme: str | None, direct: bool = False) -> Any:
    """The ``gff2rdf.store.endpoint.Endpoint`` that ``endpoint_options`` describe, with the
    credentials of ``--auth-file`` or the environment (never the command line)."""
    from ..store.endpoint import Credentials, Endpoint

    credentials = Credentials.find(auth_file or get("endpoint-auth-file"))
    auth = credentials.auth(auth_scheme or get("endpoint-auth")) if credentials else None
    return Endpoint.for_url(endpoint, query_endpoint, update_endpoint, direct=direct, auth=auth)


@contextlib.contextmanager
def open_backend(store_dir: str, endpoint: str | None, query_endpoint: str | None,
                 update_endpoint: str | None, auth_file: str | None, auth_scheme: str | None,
                 *, create: bool = False) -> Iterator[Any]:
    """The genome versions a command works on: with ``endpoint``, that server's
    ``gff2rdf.store.remote.RemoteStore``; else the embedded store at ``store_dir``, made if
    missing only with ``create``. Both answer ``gff2rdf.store.listing.Listing``."""
    if endpoint:
        from ..store.remote import RemoteStore

        with open_endpoint(endpoint, query_endpoint, update_endpoint, auth_file,
                           auth_scheme) as target:
            yield RemoteStore(target)
    else:
        from ..store.store import GenomeStore

        with GenomeStore.open(store_dir, create=create, collect=False) as store:
            yield store


@contextlib.contextmanager
def progress_bar(source: str, silent: bool, label: str, *, smallest: int = 8 << 20,
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

