"""Tests of gff2rdf.cli."""
