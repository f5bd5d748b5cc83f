"""The LinkML schema drives the mapping: changing it changes the output, with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import convert_text
from gff2rdf.errors import SchemaError
from gff2rdf.schema import compile_mapping, default_schema_path
from gff2rdf.sotypes import SequenceOntology

LINE = "##gff-version 3\nChr1\t.\tgene\t1\t9\t.\t+\t.\tID=g;Alias=x;Note=n\n"


def test_changing_a_slot_uri_changes_the_output(tmp_path: Path) -> None:
    schema = default_schema_path().read_text(encoding="utf-8")
    edited = schema.replace("slot_uri: skos:altLabel", "slot_uri: schema:alternateName")
    assert edited != schema
    copy = tmp_path / "schema.yaml"
    copy.write_text(edited, encoding="utf-8")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    _, before = convert_text(tmp_path / "a", LINE)
    _, after = convert_text(tmp_path / "b", LINE, mapping=compile_mapping(copy))
    assert "<http://www.w3.org/2004/02/skos/core#altLabel>" in before
    assert "<http://schema.org/alternateName>" in after
    assert "skos/core#altLabel" not in after


def test_attribute_mapping_comes_from_annotations(tmp_path: Path) -> None:
    schema = default_schema_path().read_text(encoding="utf-8")
    copy = tmp_path / "schema.yaml"
    copy.write_text(schema.replace('gff3_attribute: "Note description"',
                                   'gff3_attribute: "description"'), encoding="utf-8")
    _, nt = convert_text(tmp_path, LINE, mapping=compile_mapping(copy))
    assert "<https://w3id.org/gff2rdf/vocab#attr/Note> \"n\"" in nt


def test_schema_has_a_version_and_every_slot_an_iri() -> None:
    mapping = compile_mapping()
    assert mapping.schema_version
    assert all(term.startswith("<http") for term in mapping.predicates.values())


def test_schema_classes_are_real_so_terms() -> None:
    so = SequenceOntology.load()
    for name, term in compile_mapping().classes.items():
        if "obo/SO_" in term:
            accession = term.split("/")[-1].rstrip(">").replace("_", ":")
            assert accession in so.terms and not so.terms[accession].obsolete, name


def test_a_broken_schema_is_a_schema_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nname: x\nslots:\n  a: {}\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="bad.yaml"):
        compile_mapping(bad)


def test_so_table_is_the_shipped_release() -> None:
    so = SequenceOntology.load()
    assert so.version == "2024-11-18"
    assert len(so.terms) > 2500
    assert so.resolve("five prime UTR").name == "five_prime_UTR"  # exact synonym
