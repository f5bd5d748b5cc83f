"""Tests of gff2rdf.pipeline."""
