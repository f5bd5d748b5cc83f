"""Tests of gff2rdf.export."""
