"""Tests of gff2rdf.store."""
