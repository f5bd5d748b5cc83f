"""The GFF3-to-RDF mapping, compiled once from the LinkML schema.

``ontology/gff2rdf.yaml`` is the source of truth: every predicate IRI is a slot's ``slot_uri``,
every class IRI a class's ``class_uri``, and slot annotations say which GFF3 attribute fills
which slot (``gff3_attribute``) and how (``transform: curie_to_iri``). ``compile_mapping`` reads
it with LinkML's SchemaView (about 0.05 s after the import) into a plain ``Mapping`` of strings,
so the emitter never touches LinkML objects on the hot path.

Example:
    >>> m = compile_mapping()
    >>> m.predicate("label")
    '<http://www.w3.org/2000/01/rdf-schema#label>'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..errors import SchemaError
from ..terms import encode_segment, iri

__all__ = ["AttributeSlot", "Mapping", "compile_mapping", "default_schema_path"]


def default_schema_path() -> Path:
    return Path(str(resources.files("gff2rdf").joinpath("data/schema/gff2rdf.yaml")))


@dataclass(frozen=True)
class AttributeSlot:
    """One slot a GFF3 attribute fills: its predicate term and how values become objects."""

    slot: str
    predicate: str
    transform: str  # "literal" or "curie_to_iri"


@dataclass
class Mapping:
    schema_version: str
    schema_path: str
    predicates: dict[str, str]
    classes: dict[str, str]
    prefixes: dict[str, str]
    attribute_slots: dict[str, tuple[AttributeSlot, ...]]
    type_refining_attributes: tuple[str, ...]
    type_aliases: dict[str, str]
    attribute_predicate_base: str
    structural_attributes: frozenset[str]
    _attr_cache: dict[str, str] = field(default_factory=dict)

    def predicate(self, slot: str) -> str:
        try:
            return self.predicates[slot]
        except KeyError:
            raise SchemaError(f"{self.schema_path}: the schema has no slot {slot!r}") from None

    def class_term(self, name: str) -> str:
        try:
            return self.classes[name]
        except KeyError:
            raise SchemaError(f"{self.schema_path}: the schema has no class {name!r}") from None

    def attribute_predicate(self, key: str) -> str:
        """``g2r:attr/{percent-encoded key}`` for an attribute without a slot."""
        term = self._attr_cache.get(key)
        if term is None:
            term = iri(self.attribute_predicate_base + encode_segment(key))
            self._attr_cache[key] = term
        return term


def _words(value: object) -> tuple[str, ...]:
    return tuple(str(value).split()) if value else ()


def compile_mapping(schema: str | Path | None = None) -> Mapping:
    """Compile the mapping from a LinkML schema file (the packaged one by default)."""
    from linkml_runtime.utils.schemaview import SchemaView

    path = Path(schema) if schema is not None else default_schema_path()
    try:
        view = SchemaView(str(path))
        version = view.schema.version
        annotations = {k: v.value for k, v in (view.schema.annotations or {}).items()}
        predicates: dict[str, str] = {}
        attribute_slots: dict[str, list[AttributeSlot]] = {}
        for name, slot in view.all_slots().items():
            if not slot.slot_uri:
                raise SchemaError(f"{path}: slot {name!r} has no slot_uri; every predicate "
                                  "must have a fixed IRI")
            predicates[name] = iri(view.expand_curie(slot.slot_uri))
            slot_ann = {k: v.value for k, v in (slot.annotations or {}).items()}
            for key in _words(slot_ann.get("gff3_attribute")):
                transform = str(slot_ann.get("transform", "literal"))
                if transform not in ("literal", "curie_to_iri"):
                    raise SchemaError(f"{path}: slot {name!r}: unknown transform {transform!r}")
                attribute_slots.setdefault(key, []).append(
                    AttributeSlot(name, predicates[name], transform)
                )
        classes = {
            name: iri(view.expand_curie(cls.class_uri))
            for name, cls in view.all_classes().items()
            if cls.class_uri
        }
        prefixes = {
            p.prefix_prefix: p.prefix_reference for p in view.schema.prefixes.values()
        }
    except SchemaError:
        raise
    except Exception as exc:  # LinkML raises many kinds; translate at this boundary
        raise SchemaError(f"{path}: cannot compile the LinkML schema: {exc}") from exc
    if not version:
        raise SchemaError(f"{path}: the schema needs a version")
    aliases = dict(
        pair.split("=", 1) for pair in _words(annotations.get("type_aliases")) if "=" in pair
    )
    return Mapping(
        schema_version=str(version),
        schema_path=str(path),
        predicates=predicates,
        classes=classes,
        prefixes=prefixes,
        attribute_slots={k: tuple(v) for k, v in attribute_slots.items()},
        type_refining_attributes=_words(annotations.get("type_refining_attributes")),
        type_aliases=aliases,
        attribute_predicate_base=str(
            annotations.get("attribute_predicate_base", "https://w3id.org/gff2rdf/vocab#attr/")
        ),
        structural_attributes=frozenset(_words(annotations.get("structural_attributes"))),
    )
