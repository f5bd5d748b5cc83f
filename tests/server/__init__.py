"""Tests of gff2rdf.server."""
