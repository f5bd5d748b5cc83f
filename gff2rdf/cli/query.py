"""``gff2rdf query`` and ``gff2rdf ontology``: canned SPARQL queries on the store or an endpoint,
and ontologies loaded for offline joins."""

from __future__ import annotations

import click

from .options import endpoint_options, handle_errors, open_backend, store_option

# deferred: the imports inside functions load multiprocessing, pyoxigraph, yaml
# only when the call needs them, to keep this module's import (and start-up) light


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="'--param'")
        params[name.strip()] = value
    return params


def _list_queries(as_json: bool) -> None:
    from ..query.canned import list_queries

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


@click.command()
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
              help="Print the SPARQL that would run first (bound, with the store's or "
              "endpoint's current build and bin index) instead of running it.")
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
        from ..store.binindex import build_index
        from ..store.store import GenomeStore

        with GenomeStore.open(store_dir, create=False, collect=False) as store:
            click.echo(build_index(store, index_genome).summary(), err=True)
        return
    if not name:
        raise click.UsageError("give a query NAME (gff2rdf query --list shows them)")
    from ..query.canned import get_query
    from ..query.results import format_result

    canned = get_query(name)
    params = _params(pairs)
    if endpoint:
        if show_sparql:
            click.echo(canned.explain(endpoint, params).sparql, nl=False)
            return
        result = canned.run(endpoint, params)
    else:
        from ..store.store import GenomeStore

        with GenomeStore.open(store_dir, create=False, collect=False) as store:
            if show_sparql:
                click.echo(canned.explain(store, params).sparql, nl=False)
                return
            result = canned.run(store, params)
    click.echo(format_result(result, fmt), nl=False)
    if fmt == "table":
        click.echo(f"{len(result.rows):,} row(s) in {result.seconds * 1000:.0f} ms", err=True)


@click.group()
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
@endpoint_options
@click.option("--format", "fmt", type=click.Choice(["obo", "owl", "ttl", "nt"]),
              help="Input format (default: from the extension).")
@click.option("--graph", metavar="IRI",
              help="Graph IRI (default: the ontology's own IRI).")
@handle_errors
def ontology_load(source: str, store_dir: str, endpoint: str | None,
                  query_endpoint: str | None, update_endpoint: str | None,
                  auth_file: str | None, auth_scheme: str | None, fmt: str | None,
                  graph: str | None) -> None:
    """Load an ontology (OBO, OWL, Turtle) into the graph named by its IRI.

    A closure graph is written with it (is_a closure as rdfs:subClassOf, part_of closure), so
    genes-by-term finds descendants offline. Loading an ontology again replaces it.

    Example:

        gff2rdf ontology load go-plant-slim.obo --store ./gff2rdf-store
    """
    from ..obo.load import load_ontology

    with open_backend(store_dir, endpoint, query_endpoint, update_endpoint, auth_file,
                      auth_scheme, create=True) as backend:
        result = load_ontology(backend, source, fmt=fmt, graph=graph)
    click.echo(result.summary(), err=True)


@ontology.command("list")
@store_option
@endpoint_options
@handle_errors
def ontology_list(store_dir: str, endpoint: str | None, query_endpoint: str | None,
                  update_endpoint: str | None, auth_file: str | None,
                  auth_scheme: str | None) -> None:
    """List the ontologies loaded in a store.

    Example:

        gff2rdf ontology list --store ./gff2rdf-store
    """
    from ..obo.load import list_ontologies

    with open_backend(store_dir, endpoint, query_endpoint, update_endpoint, auth_file,
                      auth_scheme) as backend:
        found = list_ontologies(backend)
    for info in found:
        version = f" ({info.version})" if info.version else ""
        click.echo(f"{info.iri}{version}: {info.classes:,} classes")
