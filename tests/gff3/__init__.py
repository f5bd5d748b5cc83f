"""Tests of gff2rdf.gff3."""
