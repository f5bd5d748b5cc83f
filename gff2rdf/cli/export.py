"""``gff2rdf export``: GFF3 back from an RDF file, a genome version of the store or a SPARQL
endpoint (gff2rdf.export.api)."""

from __future__ import annotations

from typing import Any

import click

from .options import handle_errors, store_option

# deferred: the imports inside functions load pyoxigraph only when the call needs them,
# to keep this module's import (and start-up) light


@click.command()
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
    from ..export.api import EndpointSource, FileSource, Selection, StoreSource
    from ..export.api import export as run_export
    from ..export.select import read_ids

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
