"""One feature of a gff2rdf graph back to GFF3 lines: the inverse of the emitter's mapping.

The mapping of docs/modelling.md, read backwards with the same compiled schema
(``gff2rdf.schema``), so a predicate the schema renames is read back under its new name:

* columns 1, 4, 5, 7 from the region IRI of ``faldo:location`` (the sequence's
  ``dcterms:identifier`` for column 1); 2 from ``g2r:source`` (``.`` without one); 3 from
  ``g2r:gffType`` when the converter kept column 3 as written, else the SO name of the class;
  6 and 8 from ``g2r:score`` and ``g2r:phase``;
* ``ID`` from ``g2r:gffId``; ``Parent`` and ``Derives_from`` from ``so:part_of`` and
  ``so:derives_from`` (the IDs of their targets); ``Is_circular`` from ``g2r:isCircular``;
* attributes with a slot from its predicate: a key that has a literal slot from that (Dbxref
  from ``oboInOwl:hasDbXref``, not from the resolved ``rdfs:seeAlso``), a key with only IRI
  slots (Ontology_term) from the value the converter keeps as written under ``attr:{key}``.
  Two keys sharing a predicate (Note and description, both ``dcterms:description``): the
  second key's values are also kept as ``attr:{key}`` and the first has the rest. ``Name`` is
  ``rdfs:label`` unless that label is the ID (the label of a feature without Name), plus the
  values ``attr:Name`` keeps (a second Name, a Name equal to the ID);
* every other ``attr:{key}`` back as ``key``.

A feature on several lines (segments ``{feature}/segment/{n}``) gives one line per segment:
the segment's own location, score, phase and attributes, with the feature's attributes.

Values are percent-encoded as GFF3 1.26 says: in column 9 ``; = & ,``, tab, newline, carriage
return, ``%`` and control characters; in columns 2 and 3 the same but ``; = & ,``; a seqid
keeps only ``[a-zA-Z0-9.:^*$@!+_?-|]``.

Example:
    >>> escape_value("a;b=c, 50%")
    'a%3Bb%3Dc%2C 50%25'
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote, unquote

from .export_read import GraphIndex, Pairs, parse_region
from .sotypes import SEQUENCE_FEATURE, SequenceOntology

__all__ = ["FeatureWriter", "escape_column", "escape_seqid", "escape_value"]

OBO = "http://purl.obolibrary.org/obo/"
# GFF3's own attributes first, in the order of the specification, then the others by name
ORDER = {k: n for n, k in enumerate(("ID", "Name", "Alias", "Parent", "Target", "Gap",
                                     "Derives_from", "Note", "Dbxref", "Ontology_term",
                                     "Is_circular"))}
_VALUE_UNSAFE = re.compile(r"[\x00-\x1f\x7f%;=&,]")
_COLUMN_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_SEQID_SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.:^*$@!+_?-|"
_OBO_TERM = re.compile(r"http://purl\.obolibrary\.org/obo/([A-Za-z]+)_([0-9A-Za-z]+)$")


def _percent(m: re.Match[str]) -> str:
    return f"%{ord(m.group(0)):02X}"


def escape_value(text: str) -> str:
    """An attribute tag or value, escaped for column 9."""
    return _VALUE_UNSAFE.sub(_percent, text) if _VALUE_UNSAFE.search(text) else text


def escape_column(text: str) -> str:
    """Columns 2 and 3 as the graph keeps them: as written, since the reader does not decode
    them (``%`` stays as it is); a tab, newline or control character, which column text
    cannot hold, is escaped."""
    return _COLUMN_UNSAFE.sub(_percent, text) if _COLUMN_UNSAFE.search(text) else text


def escape_seqid(text: str) -> str:
    """Column 1 (and ``##sequence-region``): every character outside GFF3's seqid set."""
    return quote(text, safe=_SEQID_SAFE)


class FeatureWriter:
    """Renders entries of a ``GraphIndex`` as GFF3 lines."""

    def __init__(self, index: GraphIndex, seqids: list[str], feature_id: Callable[[str], str],
                 keep: Callable[[str], bool] | None = None,
                 so: SequenceOntology | None = None) -> None:
        """``seqids`` names the sequences of ``index.seq_list``; ``feature_id`` gives the ID of
        a link's target IRI; ``keep`` says whether a link's target is written (a dropped link
        is counted in ``dropped``)."""
        self.index = index
        self.seqids = seqids
        self.feature_id = feature_id
        self.keep = keep
        self.so = so or SequenceOntology.load()
        self.dropped = 0
        mapping = index.mapping
        P = index.P
        self.base = mapping.attribute_predicate_base
        self._type_names: dict[str, str] = {}
        # role of each predicate IRI: a structural slot, a mapped attribute key, or attr:
        self.roles = {"http://www.w3.org/1999/02/22-rdf-syntax-ns#type": "type",
                      P["gff_id"]: "id", P["label"]: "label", P["gff_type"]: "gff_type",
                      P["source"]: "source", P["score"]: "score", P["phase"]: "phase",
                      P["location"]: "location", P["part_of"]: "Parent",
                      P["derives_from"]: "Derives_from", P["is_circular"]: "Is_circular"}
        keys_of: dict[str, list[str]] = {}
        self.iri_only: list[str] = []  # keys whose slots all make IRIs (Ontology_term)
        for key, slots in mapping.attribute_slots.items():
            literal = [s.predicate[1:-1] for s in slots if s.transform == "literal"]
            if not literal:
                self.iri_only.append(key)
                for slot in slots:
                    self.roles.setdefault(slot.predicate[1:-1], "iri:" + key)
            for pred in literal:
                keys_of.setdefault(pred, []).append(key)
        # predicate -> its keys, the first the one that has the values not kept as attr:
        self.keys_of = {p: keys for p, keys in keys_of.items() if p != P["label"]}
        self.names: dict[int, str] = {}

    def _name(self, pid: int) -> str:
        """The role of predicate ``pid``: a structural name, ``@pred`` for a slot's
        predicate, ``attr:key`` for an attribute without a slot, or '' (ignored)."""
        role = self.names.get(pid)
        if role is None:
            iri = self.index.predicates[pid]
            role = self.roles.get(iri, "")
            if not role:
                if iri.startswith(self.base):
                    role = "attr:" + unquote(iri[len(self.base):])
                elif iri in self.keys_of:
                    role = "@" + iri
            self.names[pid] = role
        return role

    def _group(self, pairs: Pairs, into: dict[str, list[str]]) -> None:
        name = self._name
        for pid, value in pairs:
            role = name(pid)
            if role:
                values = into.setdefault(role, [])
                if value not in values:
                    values.append(value)

    def type_name(self, classes: list[str]) -> str:
        """The SO name of a feature's class (the most specific, should it have several)."""
        key = " ".join(classes)
        found = self._type_names.get(key)
        if found is None:
            accessions = [c[len(OBO):].replace("_", ":", 1) for c in classes
                          if c.startswith(OBO + "SO_")]
            known = [a for a in accessions if a in self.so.terms]
            specific = [a for a in known if not any(
                b != a and self.so.is_a(b, a) for b in known)]
            accession = specific[0] if specific else SEQUENCE_FEATURE
            found = self._type_names[key] = self.so.terms[accession].name
        return found

    def lines(self, i: int) -> list[str]:
        """The GFF3 lines of entry ``i`` (without line ends)."""
        own: dict[str, list[str]] = {}
        segments: dict[int, dict[str, list[str]]] = {}
        for segment, pairs in self.index.records(i):
            self._group(pairs, own if not segment else segments.setdefault(segment, {}))
        gff_id = own.get("id", [None])[0]
        ftype = own["gff_type"][0] if "gff_type" in own else self.type_name(own.get("type", []))
        source = own.get("source", ["."])[0]
        attributes = self._attributes(own, gff_id, False)
        if not segments:
            return [self._line(own, ftype, source, attributes)]
        parts = []
        for n in sorted(segments):
            values = segments[n]
            mine = self._attributes(values, None, True)
            merged = {k: list(v) for k, v in attributes.items()}
            for key, vals in mine.items():
                have = merged.setdefault(key, [])
                have.extend(v for v in vals if v not in have)
            place = parse_region(values["location"][0]) if "location" in values else None
            parts.append((place, n, values, merged))
        if not _in_file_order(parts, attributes):
            parts.sort(key=lambda p: (p[0][1], p[0][2], p[1]) if p[0] else (0, 0, p[1]))
        return [self._line(values, ftype, values.get("source", [source])[0], merged)
                for _, _, values, merged in parts]

    def _line(self, values: dict[str, list[str]], ftype: str, source: str,
              attributes: dict[str, list[str]]) -> str:
        place = parse_region(values["location"][0]) if "location" in values else None
        if place is None:
            raise ValueError("a feature without a location")  # located entries only get here
        seq_iri, start, end, strand = place
        seqid = self.seqids[self.index.seq_iris[seq_iri]]
        score = values.get("score", ["."])[0]
        phase = values.get("phase", ["."])[0]
        column9 = ";".join(
            f"{escape_value(k)}={','.join(escape_value(v) for v in vals)}"
            for k, vals in sorted(attributes.items(), key=_key_order) if vals) or "."
        return "\t".join((escape_seqid(seqid), escape_column(source), escape_column(ftype),
                          str(start), str(end), score, strand, phase, column9))

    def _attributes(self, values: dict[str, list[str]], gff_id: str | None,
                    segment: bool) -> dict[str, list[str]]:
        attrs: dict[str, list[str]] = {}
        raw = {role[5:]: vals for role, vals in values.items() if role.startswith("attr:")}
        if gff_id is not None:
            attrs["ID"] = [gff_id]
        names = list(raw.pop("Name", []))
        for label in values.get("label", [])[:1]:
            if (segment or label != gff_id) and label not in names:
                names.insert(0, label)
        if names:
            attrs["Name"] = names
        for pred, keys in self.keys_of.items():
            found = values.get("@" + pred, [])
            later = {v for key in keys[1:] for v in raw.get(key, [])}
            for n, key in enumerate(keys):
                vals = [v for v in found if v not in later] if n == 0 else []
                vals += [v for v in raw.pop(key, []) if v not in vals]
                if vals:
                    attrs[key] = vals
        for key in self.iri_only:
            if key in raw:
                attrs[key] = raw.pop(key)
            else:  # a graph converted before the value was kept as written: OBO terms
                terms = [t for v in values.get("iri:" + key, []) if (t := _curie(v))]
                if terms:
                    attrs[key] = terms
        for key, vals in raw.items():
            attrs[key] = vals
        for link in ("Parent", "Derives_from"):
            targets = values.get(link) if not segment else None  # a segment's is its feature
            if targets:
                kept = [t for t in targets if self.keep is None or self.keep(t)]
                self.dropped += len(targets) - len(kept)
                if kept:
                    attrs[link] = [self.feature_id(t) for t in kept]
        for flag in values.get("Is_circular", []):
            attrs.setdefault("Is_circular", []).append(flag)
        for vals in attrs.values():
            vals.sort()
        return attrs


def _key_order(item: tuple[str, list[str]]) -> tuple[int, str]:
    return ORDER.get(item[0], len(ORDER)), item[0]


def _curie(iri: str) -> str | None:
    m = _OBO_TERM.match(iri)
    return f"{m.group(1)}:{m.group(2)}" if m else None


def _in_file_order(parts: list[tuple[tuple[str, int, int, str] | None, int,
                                     dict[str, list[str]], dict[str, list[str]]]],
                   attributes: dict[str, list[str]]) -> bool:
    """Whether the segments keep the order of their ranks (the converter's file order): on
    different strands, or marked trans-spliced (gff2rdf.segments)."""
    strands = {p[0][3] for p in parts if p[0]}
    marks = set(attributes.get("exception", []))
    for p in parts:
        marks.update(p[3].get("exception", []))
    return len(strands) > 1 or bool(marks & {"trans-splicing", "trans_splicing"})

