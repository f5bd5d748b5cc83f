"""Tests of gff2rdf.query."""
