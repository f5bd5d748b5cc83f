"""Tests of gff2rdf.mapping."""
