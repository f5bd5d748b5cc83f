"""OBO flat files to RDF triples, following the OBO 1.4 to OWL mapping for the tags needed here.

Mapped (everything else is counted in ``OboDocument.skipped`` and left out):

=====================  ==========================================================================
OBO                    RDF (``obo:`` = ``http://purl.obolibrary.org/obo/``)
=====================  ==========================================================================
header ``ontology``    ``<obo:{ontology}.owl> a owl:Ontology``; ``data-version`` as
                       ``owl:versionIRI <obo:{ontology}/{version}/{ontology}.owl>`` and
                       ``owl:versionInfo``
``id: GO:0008150``     ``obo:GO_0008150 a owl:Class ; oboInOwl:id "GO:0008150"``
``name``               ``rdfs:label``
``def``                ``obo:IAO_0000115`` (the quoted text)
``comment``            ``rdfs:comment``
``namespace``          ``oboInOwl:hasOBONamespace`` (else the header's ``default-namespace``)
``synonym``            ``oboInOwl:has{Exact,Broad,Narrow,Related}Synonym`` by scope
``alt_id``, ``xref``   ``oboInOwl:hasAlternativeId``, ``oboInOwl:hasDbXref`` (literals)
``subset``             ``oboInOwl:inSubset <obo:{ontology}#{subset}>``
``is_a``               ``rdfs:subClassOf`` the parent class
``relationship: R Y``  ``rdfs:subClassOf [ a owl:Restriction ; owl:onProperty R ;
                       owl:someValuesFrom Y ]``
``is_obsolete: true``  ``owl:deprecated true``; ``replaced_by`` as ``obo:IAO_0100001``,
                       ``consider`` as ``oboInOwl:consider``
``[Typedef]``          ``owl:ObjectProperty``; ``is_transitive`` adds ``owl:TransitiveProperty``;
                       ``is_a`` as ``rdfs:subPropertyOf``, ``inverse_of`` as ``owl:inverseOf``
=====================  ==========================================================================

Identifiers: ``PREFIX:LOCAL`` becomes ``obo:PREFIX_LOCAL``; a URL stays itself; an identifier
without prefix (``part_of``) becomes ``obo:{ontology}#part_of`` unless its ``[Typedef]`` has an
``xref`` to a prefixed identifier (``xref: BFO:0000050``), which then names the relation: so GO
and PO ``part_of`` is ``obo:BFO_0000050`` and SO's (no xref) is ``obo:so#part_of``, as in the
released OWL files. ``intersection_of``, ``union_of``, ``equivalent_to`` and ``disjoint_from``
are not mapped (they add no asserted subclass links).

The reader is line based and forgiving where real files are (``so.obo`` trips strict parsers on
backslash escapes in xref URLs): ``!`` comments, ``{...}`` trailing qualifiers and backslash
escapes are handled; a stanza without ``id`` is skipped with a count.

Example:
    >>> doc = OboDocument.parse(["ontology: demo", "", "[Term]", "id: X:1", "name: one",
    ...                          "is_a: X:2 ! two"], "demo.obo")
    >>> doc.ontology_iri, len(doc.terms), doc.terms[0].parents
    ('http://purl.obolibrary.org/obo/demo.owl', 1, ['X:2'])
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..vocab import OBO, OIO, OWL, RDF, RDFS

__all__ = ["OBO", "OboDocument", "Stanza", "id_to_iri"]


_SCOPES = {"EXACT": "hasExactSynonym", "BROAD": "hasBroadSynonym",
           "NARROW": "hasNarrowSynonym", "RELATED": "hasRelatedSynonym"}
_MAPPED = {"id", "name", "def", "comment", "namespace", "synonym", "alt_id", "xref", "subset",
           "is_a", "relationship", "is_obsolete", "replaced_by", "consider", "is_transitive",
           "inverse_of"}
_PREFIXED = re.compile(r"^([A-Za-z][A-Za-z0-9_.-]*):([^\s]+)$")
_UNESCAPE = {"n": "\n", "t": "\t", "W": " "}


@dataclass
class Stanza:
    """One ``[Term]`` or ``[Typedef]`` stanza: its tag values, in file order."""

    kind: str
    line: int
    tags: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.first("id")

    def first(self, tag: str) -> str:
        values = self.tags.get(tag)
        return values[0] if values else ""

    @property
    def parents(self) -> list[str]:
        return [v.split()[0] for v in self.tags.get("is_a", []) if v.split()]


def _unescape(text: str) -> str:
    out = []
    chars = iter(text)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars, "")
            out.append(_UNESCAPE.get(nxt, nxt))
        else:
            out.append(ch)
    return "".join(out)


def _strip_value(value: str) -> str:
    """A tag value without its ``! comment`` and trailing ``{qualifiers}``, escapes kept."""
    quoted = False
    i = 0
    end = len(value)
    while i < len(value):
        ch = value[i]
        if ch == "\\":
            i += 2
            continue
        if ch == '"':
            quoted = not quoted
        elif ch == "!" and not quoted:
            end = i
            break
        i += 1
    value = value[:end].rstrip()
    if value.endswith("}") and not quoted:
        depth, j = 0, len(value) - 1
        while j >= 0:
            if value[j] == "}" and (j == 0 or value[j - 1] != "\\"):
                depth += 1
            elif value[j] == "{" and (j == 0 or value[j - 1] != "\\"):
                depth -= 1
                if depth == 0:
                    break
            j -= 1
        if j > 0 and value[:j].count('"') % 2 == 0:
            value = value[:j].rstrip()
    return value


def _quoted(value: str) -> tuple[str, str]:
    """The leading ``"quoted string"`` of a value (unescaped) and the rest after it."""
    if not value.startswith('"'):
        return _unescape(value), ""
    i = 1
    while i < len(value):
        if value[i] == "\\":
            i += 2
            continue
        if value[i] == '"':
            return _unescape(value[1:i]), value[i + 1:].strip()
        i += 1
    return _unescape(value[1:]), ""


def id_to_iri(identifier: str, ontology: str, relations: dict[str, str] | None = None) -> str:
    """The IRI of an OBO identifier (see the module documentation)."""
    if relations and identifier in relations:
        return relations[identifier]
    if identifier.startswith(("http://", "https://")):
        return identifier
    m = _PREFIXED.match(identifier)
    if m:
        return f"{OBO}{m.group(1)}_{m.group(2)}"
    return f"{OBO}{ontology}#{identifier}"


@dataclass
class OboDocument:
    """A parsed OBO file: header tags, terms and typedefs."""

    path: str
    header: dict[str, list[str]]
    terms: list[Stanza]
    typedefs: list[Stanza]
    skipped: Counter[str] = field(default_factory=Counter)

    @classmethod
    def read(cls, path: str | Path) -> OboDocument:
        with open(path, encoding="utf-8") as lines:
            return cls.parse(lines, str(path))

    @classmethod
    def parse(cls, lines: Iterable[str], path: str = "<obo>") -> OboDocument:
        header: dict[str, list[str]] = {}
        stanzas: list[Stanza] = []
        current: Stanza | None = None
        skipped: Counter[str] = Counter()
        for number, raw in enumerate(lines, 1):
            line = raw.rstrip("\r\n")
            stripped = line.strip()
            if not stripped or stripped.startswith("!"):
                continue
            if stripped.startswith("[") and stripped.endswith("]"):
                current = Stanza(stripped[1:-1], number)
                stanzas.append(current)
                continue
            tag, sep, value = stripped.partition(":")
            if not sep:
                skipped["malformed line"] += 1
                continue
            tag, value = tag.strip(), _strip_value(value.strip())
            target = header if current is None else current.tags
            target.setdefault(tag, []).append(value)
        terms = [s for s in stanzas if s.kind == "Term" and s.id]
        typedefs = [s for s in stanzas if s.kind == "Typedef" and s.id]
        skipped["stanza without id"] += sum(1 for s in stanzas if not s.id)
        skipped.update(f"[{s.kind}] stanza" for s in stanzas
                       if s.kind not in ("Term", "Typedef"))
        for stanza in terms + typedefs:
            skipped.update(f"{tag} tag" for tag in stanza.tags if tag not in _MAPPED)
        return cls(path, header, terms, typedefs, +skipped)

    @property
    def ontology(self) -> str:
        """The ontology's short name (``go/subsets/goslim_plant``), else the file stem."""
        values = self.header.get("ontology")
        return values[0].strip() if values else Path(self.path).stem

    @property
    def ontology_iri(self) -> str:
        name = self.ontology
        if name.startswith(("http://", "https://")):
            return name
        return f"{OBO}{name}.owl"

    @property
    def version(self) -> str:
        values = self.header.get("data-version")
        return values[0].strip() if values else ""

    def relation_iris(self) -> dict[str, str]:
        """Typedef ids named by their first prefixed ``xref`` (``part_of`` -> BFO_0000050)."""
        found = {}
        for typedef in self.typedefs:
            for xref in typedef.tags.get("xref", []):
                target = xref.split()[0] if xref.split() else ""
                if _PREFIXED.match(target) and not target.startswith(("http:", "https:")):
                    found[typedef.id] = id_to_iri(target, self.ontology)
                    break
        return found

    def triples(self) -> Iterator[ox.Triple]:
        """The document as OWL in RDF (see the module documentation)."""
        ontology = self.ontology
        relations = self.relation_iris()

        def node(identifier: str) -> ox.NamedNode:
            return ox.NamedNode(id_to_iri(identifier, ontology, relations))

        def p(iri: str) -> ox.NamedNode:
            return ox.NamedNode(iri)

        a = p(RDF + "type")
        onto = p(self.ontology_iri)
        yield ox.Triple(onto, a, p(OWL + "Ontology"))
        if self.version:
            short = ontology.rsplit("/", 1)[-1]
            yield ox.Triple(onto, p(OWL + "versionIRI"),
                            p(f"{OBO}{ontology}/{self.version}/{short}.owl"))
            yield ox.Triple(onto, p(OWL + "versionInfo"), ox.Literal(self.version))
        default_namespace = (self.header.get("default-namespace") or [""])[0]
        prefix = "b" + secrets.token_hex(4)
        counter = itertools.count(1)
        for stanza in self.terms + self.typedefs:
            subject = node(stanza.id)
            is_term = stanza.kind == "Term"
            yield ox.Triple(subject, a, p(OWL + ("Class" if is_term else "ObjectProperty")))
            yield ox.Triple(subject, p(OIO + "id"), ox.Literal(stanza.id))
            if not is_term and id_to_iri(stanza.id, ontology) != subject.value:
                yield ox.Triple(subject, p(OIO + "shorthand"), ox.Literal(stanza.id))
            tags = stanza.tags
            for name in tags.get("name", [])[:1]:
                yield ox.Triple(subject, p(RDFS + "label"), ox.Literal(_unescape(name)))
            for value in tags.get("def", [])[:1]:
                yield ox.Triple(subject, p(OBO + "IAO_0000115"), ox.Literal(_quoted(value)[0]))
            for value in tags.get("comment", []):
                yield ox.Triple(subject, p(RDFS + "comment"), ox.Literal(_unescape(value)))
            for value in tags.get("namespace", []) or ([default_namespace] if is_term and
                                                       default_namespace else []):
                yield ox.Triple(subject, p(OIO + "hasOBONamespace"), ox.Literal(value))
            for value in tags.get("synonym", []):
                text, rest = _quoted(value)
                scope = rest.split()[0] if rest.split() else "RELATED"
                predicate = _SCOPES.get(scope, "hasRelatedSynonym")
                yield ox.Triple(subject, p(OIO + predicate), ox.Literal(text))
            for tag, predicate in (("alt_id", "hasAlternativeId"), ("xref", "hasDbXref"),
                                   ("consider", "consider")):
                for value in tags.get(tag, []):
                    first = value.split()[0] if value.split() else ""
                    if first:
                        yield ox.Triple(subject, p(OIO + predicate), ox.Literal(_unescape(first)))
            for value in tags.get("subset", []):
                yield ox.Triple(subject, p(OIO + "inSubset"), p(f"{OBO}{ontology}#{value}"))
            if stanza.first("is_obsolete").lower() == "true":
                yield ox.Triple(subject, p(OWL + "deprecated"), ox.Literal(True))
            for value in tags.get("replaced_by", []):
                if value.split():
                    yield ox.Triple(subject, p(OBO + "IAO_0100001"), node(value.split()[0]))
            sub = p(RDFS + ("subClassOf" if is_term else "subPropertyOf"))
            for parent in stanza.parents:
                yield ox.Triple(subject, sub, node(parent))
            if is_term:
                for value in tags.get("relationship", []):
                    parts = value.split()
                    if len(parts) < 2:
                        continue
                    restriction = ox.BlankNode(f"{prefix}r{next(counter)}")
                    yield ox.Triple(subject, sub, restriction)
                    yield ox.Triple(restriction, a, p(OWL + "Restriction"))
                    yield ox.Triple(restriction, p(OWL + "onProperty"), node(parts[0]))
                    yield ox.Triple(restriction, p(OWL + "someValuesFrom"), node(parts[1]))
            else:
                if stanza.first("is_transitive").lower() == "true":
                    yield ox.Triple(subject, a, p(OWL + "TransitiveProperty"))
                for value in tags.get("inverse_of", []):
                    if value.split():
                        yield ox.Triple(subject, p(OWL + "inverseOf"), node(value.split()[0]))
