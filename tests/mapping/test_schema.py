"""The LinkML schema drives the mapping: changing it changes the output, with no code change."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gff2rdf.errors import SchemaError
from gff2rdf.mapping.schema import compile_mapping, default_schema_path
from gff2rdf.mapping.sotypes import SequenceOntology
from tests.conftest import ROOT, convert_text

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


G2R_TERM = re.compile(r'g2r:([A-Za-z][A-Za-z0-9]*)|\{G2R\}([A-Za-z][A-Za-z0-9]*)'
                      r'|G2R \+ "([A-Za-z][A-Za-z0-9]*)"|vocab#([A-Za-z][A-Za-z0-9]*)')


def _declared(schema: Path) -> dict[str, str]:
    """IRI -> the schema element that declares it (classes and slots, imports included)."""
    from linkml_runtime import SchemaView

    view = SchemaView(str(schema))
    found: dict[str, str] = {}
    for name, element in [*view.all_classes().items(), *view.all_slots().items()]:
        found.setdefault(str(view.get_uri(element, expand=True)), name)
    return found


def test_every_g2r_term_the_code_uses_is_declared_in_a_schema() -> None:
    """The converter takes its IRIs from ontology/gff2rdf.yaml; the store, the bin index and
    the ontology closures write theirs themselves, declared in ontology/store.yaml."""
    root = ROOT
    declared = _declared(root / "ontology" / "store.yaml")  # imports gff2rdf.yaml
    used: dict[str, str] = {}
    sources = [*(root / "gff2rdf").rglob("*.py"), *(root / "queries").glob("*.rq"),
               *(root / "shapes").glob("*.ttl")]
    for path in sources:
        for match in G2R_TERM.finditer(path.read_text(encoding="utf-8")):
            name = next(group for group in match.groups() if group)
            if name != "attr":  # g2r:attr/{key}: the predicates of unmodelled attributes
                used.setdefault(f"https://w3id.org/gff2rdf/vocab#{name}",
                                str(path.relative_to(root)))
    missing = {iri: where for iri, where in used.items() if iri not in declared}
    assert not missing, f"g2r terms used but declared in no schema: {missing}"
    assert len(used) > 30


def test_the_store_schema_adds_each_iri_once() -> None:
    root = ROOT
    from linkml_runtime import SchemaView

    view = SchemaView(str(root / "ontology" / "store.yaml"))
    base = _declared(root / "ontology" / "gff2rdf.yaml")
    own = [view.get_uri(view.get_slot(name), expand=True)
           for name in view.all_slots(imports=False)]
    assert len(own) == len(set(own))
    assert not set(own) & set(base), "a store slot repeats an IRI of gff2rdf.yaml"
