"""Tests of gff2rdf.shacl."""
