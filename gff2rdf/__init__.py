"""gff2rdf: plant genome annotations (GFF3) to a FALDO / Sequence Ontology knowledge graph.

The library surface, importable from here (each name is loaded when first used, so
``import gff2rdf`` stays fast):

* ``convert(source, output, ...)``: GFF3 to Turtle / N-Triples / N-Quads (``ConvertResult``);
* ``check_gff3(path)``: every problem of a GFF3 file, nothing written;
* ``validate_rdf(path)``: SHACL validation of an RDF file (``ValidationReport``);
* ``GenomeStore``: the embedded Oxigraph store, one named graph per genome version;
* ``Gff3Reader``, ``Feature``: the streaming GFF3 reader and its records;
* ``list_queries()``, ``get_query(name)``: the canned SPARQL queries (``CannedQuery.run``);
* the exceptions: ``Gff2RdfError`` and its subclasses (``gff2rdf.errors``).

Example:
    >>> import gff2rdf
    >>> log = gff2rdf.check_gff3("tests/data/tair10_chr5_mikado.gff3")
    >>> log.errors, log.warnings
    (0, 0)
    >>> reader = gff2rdf.Gff3Reader.from_text("c\\t.\\tgene\\t1\\t9\\t.\\t+\\t.\\tID=g\\n")
    >>> [(f.type, f.start, f.end) for f in reader.features()]
    [('gene', 1, 9)]

The package is the flow, one subpackage per stage, each importing only those before it (the
import contract in pyproject.toml):

    gff3 -> mapping -> rdf -> conversion -> store -> shacl | query | obo -> export
         -> server | pipeline -> cli

over ``files`` (inputs and outputs) and the foundation modules ``errors``, ``settings``,
``formats``, ``vocab`` and ``terms``. Each stage's ``__init__`` says what it owns.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    EndpointError,
    Gff2RdfError,
    Gff3Error,
    InputError,
    OntologyError,
    OutputError,
    Problem,
    ProblemLog,
    QueryError,
    QueryRefusedError,
    RequestError,
    SchemaError,
    ServerError,
    ShapesError,
    StoreError,
    StoreLockedError,
)

if TYPE_CHECKING:
    from .conversion.api import convert
    from .conversion.result import ConvertResult
    from .gff3.reader import Feature, Gff3Reader
    from .query.canned import CannedQuery, get_query, list_queries
    from .shacl.shapes import ValidationReport
    from .shacl.validate import check_gff3, validate_rdf
    from .store.store import GenomeStore

__all__ = [
    "CannedQuery", "ConvertResult", "EndpointError", "Feature", "GenomeStore", "Gff2RdfError",
    "Gff3Error", "Gff3Reader", "InputError", "OntologyError", "OutputError", "Problem",
    "ProblemLog", "QueryError", "QueryRefusedError", "RequestError", "SchemaError", "ServerError",
    "ShapesError", "StoreError", "StoreLockedError", "ValidationReport", "__version__",
    "check_gff3", "convert", "get_query", "list_queries", "validate_rdf",
]

# name -> module (relative to this package) that defines it; loaded on first use
_LAZY = {
    "convert": "conversion.api", "ConvertResult": "conversion.result",
    "Gff3Reader": "gff3.reader", "Feature": "gff3.reader",
    "CannedQuery": "query.canned", "get_query": "query.canned", "list_queries": "query.canned",
    "ValidationReport": "shacl.shapes",
    "GenomeStore": "store.store",
    "check_gff3": "shacl.validate", "validate_rdf": "shacl.validate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'gff2rdf' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
