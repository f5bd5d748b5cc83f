"""Tests of gff2rdf.conversion."""
