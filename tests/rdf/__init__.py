"""Tests of gff2rdf.rdf."""
