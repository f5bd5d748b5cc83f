"""``gff2rdf trace``: the provenance chain of a feature or a genome version, from the store.

It runs the canned query ``queries/trace.rq`` (``gff2rdf query trace -p iri=IRI`` gives the same
row; an endpoint gets it with ``--endpoint``) and prints its row as a chain: genome version,
build, load, pipeline run and catalogue entry, source, loaded file, versions.
"""

from __future__ import annotations

import json

import click

from ..errors import StoreError
from .options import handle_errors, store_option

# deferred: the imports inside functions load pyoxigraph only when the call needs them,
# to keep this module's import (and start-up) light

__all__ = ["chain", "trace"]


def chain(iri: str, row: dict[str, str]) -> list[tuple[str, str]]:
    """The lines of ``gff2rdf trace``: (what, text) from a row of the trace query."""
    def part(*items: tuple[str, str]) -> str:
        return ", ".join(f"{label} {row[key]}".strip() for label, key in items if row.get(key))

    genome = row.get("genome_iri", "")
    lines = [("feature", iri)] if iri != genome else []
    lines += [("genome", f"{row.get('genome', '')}  <{genome}>"), ("build", row.get("build", ""))]
    lines.append(("load", part(("started", "load_started"), ("ended", "load_ended"),
                               ("on", "host"), ("gff2rdf git commit", "git_commit"))))
    if row.get("run_id"):
        lines.append(("run", part(("dagster run", "run_id"), ("started", "run_started"))))
        lines.append(("catalogue", part(("", "catalogue"), ("entry", "catalogue_entry"))))
    else:
        lines.append(("run", "none (a gff2rdf load, not a pipeline run)"))
    lines.append(("source", part(("", "source"), ("sha256", "source_sha256"))))
    lines.append(("input", part(("", "input"), ("format", "input_format"),
                                ("sha256", "input_sha256"))))
    lines.append(("versions", part(("code", "code_version"),
                                   ("pipeline code", "asset_code_version"),
                                   ("schema", "schema_version"),
                                   ("shapes", "shapes_version"))))
    return lines


@click.command()
@click.argument("iri")
@store_option
@click.option("--json", "as_json", is_flag=True, help="The trace query's row as JSON.")
@handle_errors
def trace(iri: str, store_dir: str, as_json: bool) -> None:
    """Trace a feature or a genome version to its build, run and source.

    IRI is a feature's IRI (any subject of a genome version's data), a genome version's IRI,
    or species/assembly/annotation as gff2rdf graphs lists it. Prints the genome version, its
    current build, the load (times, host, git commit), the pipeline run and catalogue entry
    (for a pipeline load), the source (path or URL, sha256) and the code, schema and shapes
    versions.

    Example:

    \b
        gff2rdf trace arabidopsis_thaliana/TAIR10/Araport11 --store ./gff2rdf-store
        gff2rdf trace --store ./gff2rdf-store \\
            https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/mikado/feature/AT5G66600
    """
    from ..query.canned import get_query
    from ..store.store import GenomeStore

    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        if "://" not in iri:
            iri = store.resolve(iri).genome
        rows = get_query("trace").run(store, {"iri": iri}).values()
    if not rows:
        raise StoreError(f"{iri} is neither a genome version nor a subject of a genome "
                         f"version's current build in {store_dir} (gff2rdf graphs lists them)")
    if as_json:
        click.echo(json.dumps({"iri": iri, **rows[0]}, indent=2))
        return
    lines = chain(iri, rows[0])
    width = max(len(what) for what, _ in lines)
    for what, text in lines:
        click.echo(f"{what.ljust(width)}  {text}")
