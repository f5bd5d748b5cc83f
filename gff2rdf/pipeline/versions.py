"""Code versions of the pipeline's assets, from the gff2rdf version and the schema version.

Fetching and checking a GFF3 file depend on gff2rdf only; the RDF file and the genome graph
also depend on the LinkML schema (the mapping), so a schema change makes them, and only them,
stale. The SHACL check records the shapes version it judged with; a new shapes version makes
the RDF file's check, and so the RDF asset, stale.

Example: a new schema version changes the code version of the RDF file and the genome graph,
and of nothing upstream of them:

    >>> old, new = code_versions("0.3.0"), code_versions("0.4.0")
    >>> [asset for asset in ASSETS if old[asset] != new[asset]]
    ['rdf', 'genome_graph']
    >>> new["rdf"] == f"{new['gff3_source']}+schema.0.4.0"
    True
"""

from __future__ import annotations

from ..mapping.schema import compile_mapping
from ..shacl.shapes import shapes_version as installed
from ..store.metadata import code_version

__all__ = ["ASSETS", "UPSTREAM", "code_versions", "schema_version", "shapes_version"]

# The assets of one genome version, upstream first.
ASSETS = ("gff3_source", "gff3_report", "rdf", "genome_graph")
UPSTREAM: dict[str, tuple[str, ...]] = {
    "gff3_source": (),
    "gff3_report": ("gff3_source",),
    "rdf": ("gff3_source",),
    "genome_graph": ("rdf",),
}


def schema_version() -> str:
    """The installed LinkML schema's version (tests monkeypatch this to simulate a change)."""
    return compile_mapping().schema_version


def shapes_version() -> str:
    """The installed SHACL shapes' version (``owl:versionInfo`` of the shapes graph)."""
    return installed()


def code_versions(schema: str | None = None) -> dict[str, str]:
    """Each asset's code version; ``schema`` stands in for the installed schema version."""
    code = code_version()
    schema = schema if schema is not None else schema_version()
    with_schema = f"{code}+schema.{schema}"
    return {"gff3_source": code, "gff3_report": code, "rdf": with_schema,
            "genome_graph": with_schema}
