"""One feature of a gff2rdf graph back to GFF3 lines: the inverse of the emitter's mapping.

The mapping of docs/modelling.md, read backwards with the same compiled schema
(``gff2rdf.mapping.schema``), so a predicate the schema renames is read back under its new name:

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

from ..errors import InputError
from ..mapping.sotypes import SEQUENCE_FEATURE, SequenceOntology
from ..vocab import OBO, RDF_TYPE
from .read import GraphIndex, Pairs, parse_region

__all__ = ["FeatureWriter", "escape_column", "escape_seqid", "escape_value"]

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
        self.roles = {RDF_TYPE: "type",
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
        self._slot_roles = [("@" + p, keys[0], keys[1:]) for p, keys in self.keys_of.items()]
        self.names: list[str | None] = []  # role of each predicate number (``_name``)
        # Rendering caches, measured with callgrind on 15k lines of the benchmark genome
        # (RefSeq attributes: Dbxref lists, long Notes): the escaped text of values, the
        # written order of each set of keys, each sequence's column 1, and one column 9 for
        # the lines of a feature that have none of their own, with columns 1, 4, 5 and 7 of a
        # one-line feature from the index, took the rendering from 5.68 G to 2.49 G
        # instructions.
        self._escaped: dict[str, str] = {}
        self._order: dict[str, tuple[int, str]] = {}
        self._sorted: dict[tuple[str, ...], list[tuple[str, str]]] = {}  # keys -> written order
        self._column1 = [escape_seqid(s) for s in seqids]

    def _name(self, pid: int) -> str:
        """The role of predicate ``pid``: a structural name, ``@pred`` for a slot's
        predicate, ``attr:key`` for an attribute without a slot, or '' (ignored)."""
        names = self.names
        while len(names) <= pid:
            names.append(None)
        role = names[pid]
        if role is None:
            iri = self.index.predicates[pid]
            role = self.roles.get(iri, "")
            if not role:
                if iri.startswith(self.base):
                    role = "attr:" + unquote(iri[len(self.base):])
                elif iri in self.keys_of:
                    role = "@" + iri
            names[pid] = role
        return role

    def _group(self, pairs: Pairs, into: dict[str, list[str]]) -> None:
        names = self.names
        for pid, value in pairs:
            role = names[pid] if pid < len(names) else None
            if role is None:
                role = self._name(pid)
            if role:
                values = into.get(role)
                if values is None:
                    into[role] = [value]
                else:
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
        gff_id = own["id"][0] if "id" in own else None
        ftype = own["gff_type"][0] if "gff_type" in own else self.type_name(own.get("type", []))
        source = escape_column(own["source"][0]) if "source" in own else "."
        columns = f"{source}\t{escape_column(ftype)}\t"
        attributes = self._attributes(own, gff_id, False)
        column9 = self._column9(attributes)
        if not segments:
            index = self.index
            return [f"{self._column1[index.seq[i]]}\t{columns}{index.start[i]}\t{index.end[i]}"
                    f"\t{own['score'][0] if 'score' in own else '.'}\t{chr(index.strand[i])}"
                    f"\t{own['phase'][0] if 'phase' in own else '.'}\t{column9}"]
        parts = []
        for n in sorted(segments):
            values = segments[n]
            mine = self._attributes(values, None, True)
            if mine:
                merged = {k: list(v) for k, v in attributes.items()}
                for key, vals in mine.items():
                    have = merged.setdefault(key, [])
                    have.extend(v for v in vals if v not in have)
                    have.sort()
                text = self._column9(merged)
            else:
                text = column9
            place = parse_region(values["location"][0]) if "location" in values else None
            if place is None:  # a segment without one: only in a graph cut short
                raise InputError(f"a line of feature {gff_id!r} has no faldo:location: the "
                                 "graph is incomplete (a file cut short?)")
            here = columns if "source" not in values else \
                f"{escape_column(values['source'][0])}\t{escape_column(ftype)}\t"
            parts.append((place, n, values, text, mine, here))
        if not _in_file_order([(p[0][3], p[4]) for p in parts], attributes):
            parts.sort(key=lambda p: (p[0][1], p[0][2], p[1]))
        seqids = self._column1
        seq_iris = self.index.seq_iris
        return [f"{seqids[seq_iris[place[0]]]}\t{here}{place[1]}\t{place[2]}"
                f"\t{values['score'][0] if 'score' in values else '.'}\t{place[3]}"
                f"\t{values['phase'][0] if 'phase' in values else '.'}\t{text}"
                for place, _, values, text, _, here in parts]

    def _column9(self, attributes: dict[str, list[str]]) -> str:
        if not attributes:
            return "."
        escaped, order = self._escaped, self._order
        if len(escaped) > 50_000:  # values repeat within a gene model (IDs, Dbxref lists)
            escaped.clear()
        keys = tuple(attributes)
        ordered = self._sorted.get(keys)
        if ordered is None:
            if len(self._sorted) > 10_000:
                self._sorted.clear()
            ordered = self._sorted[keys] = [
                (k, escape_value(k)) for k in sorted(keys, key=lambda k: order.get(k)
                                                     or _order_of(order, k))]
        parts = []
        for key, key_text in ordered:
            values = attributes[key]
            if not values:
                continue
            texts = []
            for v in values:
                e = escaped.get(v)
                if e is None:
                    e = escaped[v] = escape_value(v)
                texts.append(e)
            parts.append(f"{key_text}={','.join(texts)}")
        return ";".join(parts) or "."

    def _attributes(self, values: dict[str, list[str]], gff_id: str | None,
                    segment: bool) -> dict[str, list[str]]:
        attrs: dict[str, list[str]] = {}
        raw = {role[5:]: vals for role, vals in values.items() if role[:5] == "attr:"}
        if gff_id is not None:
            attrs["ID"] = [gff_id]
        names = raw.pop("Name", None) or []
        if "label" in values:
            label = values["label"][0]
            if (segment or label != gff_id) and label not in names:
                names = [label, *names]
        if names:
            attrs["Name"] = names
        for role, first, later in self._slot_roles:
            theirs: set[str] = set()
            for key in later:  # their values are kept as attr:{key} (gff2rdf.rdf.emit)
                kept = raw.pop(key, None)
                if kept:
                    attrs[key] = kept
                    theirs.update(kept)
            found = values.get(role)
            mine = raw.pop(first, None)
            if found:
                vals = [v for v in found if v not in theirs] if theirs else found
                if mine:
                    vals = vals + mine
            else:
                vals = mine or []
            if vals:
                attrs[first] = vals
        for key in self.iri_only:
            if key in raw:
                attrs[key] = raw.pop(key)
            elif "iri:" + key in values:  # converted before the value was kept: OBO terms
                terms = [t for v in values["iri:" + key] if (t := _curie(v))]
                if terms:
                    attrs[key] = terms
        attrs.update(raw)
        if not segment:  # a segment's part_of is its feature
            for link in ("Parent", "Derives_from"):
                targets = values.get(link)
                if targets:
                    kept_links = [t for t in targets if self.keep is None or self.keep(t)]
                    self.dropped += len(targets) - len(kept_links)
                    if kept_links:
                        attrs[link] = [self.feature_id(t) for t in kept_links]
        if "Is_circular" in values:
            attrs.setdefault("Is_circular", []).extend(values["Is_circular"])
        for key, vals in attrs.items():
            if len(vals) > 1:
                attrs[key] = sorted(set(vals))
        return attrs


def _order_of(cache: dict[str, tuple[int, str]], key: str) -> tuple[int, str]:
    found = cache[key] = (ORDER.get(key, len(ORDER)), key)
    return found


def _curie(iri: str) -> str | None:
    m = _OBO_TERM.match(iri)
    return f"{m.group(1)}:{m.group(2)}" if m else None


def _in_file_order(parts: list[tuple[str, dict[str, list[str]]]],
                   attributes: dict[str, list[str]]) -> bool:
    """Whether the segments keep the order of their ranks (the converter's file order): on
    different strands, or marked trans-spliced (gff2rdf.gff3.segments). ``parts`` are each
    segment's strand and own attributes."""
    marks = set(attributes.get("exception", []))
    for _, mine in parts:
        marks.update(mine.get("exception", []))
    return len({strand for strand, _ in parts}) > 1 or \
        bool(marks & {"trans-splicing", "trans_splicing"})
