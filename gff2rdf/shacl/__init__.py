"""Validation: the SHACL shapes generated from the schema (``shapes``), the SPARQL checks compiled
from them (``check``, ``sparql``), the exact engine on Oxigraph (``oxigraph``, over chunks in
``chunked`` and ``pieces``), the streaming proof that a converter's output conforms without
loading it (``proof`` and its ``proof_*`` parts), and ``validate``, the entry points used by
``gff2rdf validate``.
"""
