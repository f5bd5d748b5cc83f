"""gff2rdf: plant genome annotations (GFF3) to a FALDO / Sequence Ontology knowledge graph."""

from ._version import __version__

__all__ = ["__version__"]
