"""``gff2rdf pipeline run`` and ``gff2rdf pipeline ui``: the click commands of the pipeline.

Registered on the main group by ``gff2rdf.cli.commands``. Only click is imported here;
dagster and PyYAML (the ``pipeline`` extra) are imported when a command runs, so ``gff2rdf``
works without them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from ..errors import Gff2RdfError
from ..files.forked import descendants
from ..pipeline.catalogue import load_catalogue
from ..pipeline.layout import Layout, open_instance, setting
from ..settings import env_name
from .options import CONTEXT, handle_errors, store_option

# deferred: the imports inside functions load pyoxigraph and dagster only when the call needs them,
# to keep this module's import (and start-up) light

__all__ = ["pipeline"]

F = TypeVar("F", bound=Callable[..., Any])
EXTRA = "pip install 'gff2rdf[pipeline]' (or make install)"


def require_extra() -> None:
    """A clear error, not an ImportError, when the ``pipeline`` extra is not installed."""
    for module in ("dagster", "yaml"):
        try:
            __import__(module)
        except ImportError as exc:
            raise Gff2RdfError(f"gff2rdf pipeline needs the optional extra 'pipeline' "
                               f"({module} is not installed): {EXTRA}") from exc


def pipeline_options(func: F) -> F:
    """--catalogue, --store, --pipeline-dir and --dagster-home, shared by run and ui."""
    options = [
        click.option("--catalogue", "catalogue", metavar="FILE",
                     default=lambda: setting("catalogue") or None,
                     type=click.Path(dir_okay=False),
                     help="Genome catalogue (YAML: a 'genomes:' list) "
                     f"[env {env_name('catalogue')}]."),
        store_option,
        click.option("--pipeline-dir", metavar="DIR", type=click.Path(file_okay=False),
                     help="Directory for the dagster instance, downloads, reports and RDF "
                     "files (default: STORE-pipeline next to the store) "
                     f"[env {env_name('pipeline-dir')}]."),
        click.option("--dagster-home", metavar="DIR", type=click.Path(file_okay=False),
                     help="The dagster instance (DAGSTER_HOME; default: dagster/ in the "
                     f"pipeline directory) [env {env_name('dagster-home')}]."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _catalogue(value: str | None) -> str:
    if not value:
        raise click.UsageError(f"give --catalogue FILE (or set {env_name('catalogue')})")
    return value


@click.group(context_settings=CONTEXT)
def pipeline() -> None:
    """Build many genome versions with dagster: one partition per catalogue entry.

    Each genome version has the assets gff3_source, gff3_report, rdf (with a blocking SHACL
    check) and genome_graph; a run materialises only what is stale and remembers what it did
    in a dagster instance next to the store. Needs the 'pipeline' extra.

    Example:

    \b
        gff2rdf pipeline run --catalogue examples/catalogue.yaml --store ./gff2rdf-store
        gff2rdf pipeline ui --catalogue examples/catalogue.yaml --store ./gff2rdf-store
    """


@pipeline.command("run")
@pipeline_options
@click.option("--select", multiple=True, metavar="GLOB",
              help="Only these genome versions (species/assembly/annotation, globs allowed; "
              "repeat for more).")
@click.option("--force", is_flag=True,
              help="Materialise every selected asset even when it is current (and retry "
              "failed or blocked ones).")
@click.option("--executor", type=click.Choice(["in_process", "multiprocess", "dask"]),
              default="in_process", show_default=True,
              help="Run each genome version's steps in this process, each step in a "
              "process of its own, or each step as a task on a dask cluster (the genome "
              "versions side by side for both).")
@click.option("--max-concurrent", type=click.IntRange(min=1), metavar="N",
              help="multiprocess: steps at once; dask: genome versions at once (default: one "
              "per core).")
@click.option("--dask-address", metavar="ADDR", default=lambda: setting("dask-address") or None,
              help="dask: the scheduler of a running cluster, e.g. tcp://HOST:8786 (default: "
              "a local cluster on 127.0.0.1 for this run) "
              f"[env {env_name('dask-address')}].")
@click.option("--workers", type=click.IntRange(min=1), metavar="N",
              help="dask: worker processes of the local cluster (default: one per core).")
@click.option("--dry-run", is_flag=True, help="Only say what is stale and why.")
@click.option("--prune", is_flag=True,
              help="Drop the genome versions a pipeline run built that the catalogue no "
              "longer lists (without it they are reported as orphaned and marked retired).")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout instead of text.")
@handle_errors
def pipeline_run(catalogue: str | None, store_dir: str, pipeline_dir: str | None,
                 dagster_home: str | None, select: tuple[str, ...], force: bool, executor: str,
                 max_concurrent: int | None, dask_address: str | None, workers: int | None,
                 dry_run: bool, prune: bool, as_json: bool) -> None:
    """Materialise the stale assets of every genome version of a catalogue.

    Prints, per genome version, which assets were materialised (and why) and which were left
    alone because they were current. A genome version that fails (a download, a conversion, a
    SHACL check) does not stop the others; the exit status is then 1. A genome version a
    pipeline run loaded that the catalogue no longer lists is reported as orphaned (and
    marked retired for gff2rdf graphs); --prune drops it.

    Example:

    \b
        gff2rdf pipeline run --catalogue examples/catalogue.yaml \\
            --store ./gff2rdf-store --select 'arabidopsis_thaliana/*' --json
    """
    require_extra()
    from ..pipeline.runner import run_pipeline

    result = run_pipeline(_catalogue(catalogue), store_dir, pipeline_dir=pipeline_dir,
                          dagster_home=dagster_home, select=select, force=force,
                          executor=executor, max_concurrent=max_concurrent,
                          dask_address=dask_address, workers=workers, dry_run=dry_run,
                          prune=prune)
    if as_json:
        click.echo(json.dumps(result.to_json(), indent=2))
    else:
        click.echo(result.summary())
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    click.echo(result.totals(), err=True)
    sys.exit(0 if result.ok else 1)


@pipeline.command("ui")
@pipeline_options
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address of the dagster UI; 0.0.0.0 lets anyone who can reach this "
              "machine start runs.")
@click.option("-p", "--port", type=click.IntRange(1, 65535), default=3000, show_default=True,
              help="Port of the dagster UI.")
@handle_errors
def pipeline_ui(catalogue: str | None, store_dir: str, pipeline_dir: str | None,
                dagster_home: str | None, host: str, port: int) -> None:
    """Start the dagster UI (dagster dev) for a catalogue, on 127.0.0.1 by default.

    The UI shows each genome version's assets, their metadata (feature and triple counts,
    warnings by kind, timings, output paths, the graph IRI) and check results, and can
    materialise partitions. It uses the same dagster instance as gff2rdf pipeline run.
    Ctrl-C stops it.

    Example:

    \b
        gff2rdf pipeline ui --catalogue examples/catalogue.yaml \\
            --store ./gff2rdf-store --port 3000
    """
    require_extra()
    from ..pipeline.automation import sync_partitions

    path = os.path.abspath(_catalogue(catalogue))
    keys = load_catalogue(path).keys  # a mistake is reported here, not as a code location error
    layout = Layout.for_store(store_dir, pipeline_dir, dagster_home)
    instance = open_instance(layout.dagster_home)
    try:  # the UI's partitions are the instance's; the local_sources sensor keeps them in step
        sync_partitions(instance, keys)
    finally:
        instance.dispose()
    env = dict(os.environ, DAGSTER_HOME=str(layout.dagster_home))
    env[env_name("catalogue")] = path
    env[env_name("store")] = str(layout.store)
    env[env_name("pipeline-dir")] = str(layout.pipeline_dir)
    command = [sys.executable, "-m", "dagster", "dev", "-m", "gff2rdf.pipeline.definitions",
               "-h", host, "-p", str(port)]
    click.echo(f"gff2rdf pipeline ui: http://{host}:{port}/ for {path}; dagster instance "
               f"{layout.dagster_home}; Ctrl-C stops", err=True)
    sys.stderr.flush()
    sys.exit(_supervise(command, env))


STOP_GRACE = 6.0  # seconds dagster dev gets to stop after SIGTERM, then it and its tree are killed


def _supervise(command: list[str], env: dict[str, str]) -> int:
    """Run ``dagster dev`` in a process group of its own and wait; SIGINT or SIGTERM to this
    process stops it and every process it started within about ``STOP_GRACE`` s (dagster dev
    alone, signalled in the background, left 6 processes running 40 s later)."""
    process = subprocess.Popen(command, env=env, start_new_session=True)
    stopping: list[int] = []

    def stop(signum: int, _frame: Any) -> None:
        stopping.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, stop)
    while not stopping:
        try:
            return process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            continue
    tree = [process.pid, *descendants(process.pid)]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=STOP_GRACE)
    for pid in [*tree, *descendants(process.pid)]:  # what left the group, or ignored SIGTERM
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return 128 + stopping[0]

