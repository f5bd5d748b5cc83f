"""Triples of the shape in docs/modelling.md, written as N-Triples terms.

The ``Emitter`` knows the genome version (its IRIs), the compiled schema mapping, the SO table
and the Dbxref prefix map; it turns one feature (one or several GFF3 lines sharing an ID) into
subject blocks for a writer. FALDO region and position nodes are shared by identical coordinates
and written once; the set that remembers them holds small integers, not IRIs, to keep memory
low on a whole genome.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from .. import vocab
from ..errors import ProblemLog
from ..gff3.reader import Feature, SequenceInfo
from ..gff3.segments import biological_order, extent, split_attributes
from ..mapping.dbxref import PrefixMap
from ..mapping.schema import Mapping
from ..mapping.sotypes import SEQUENCE_FEATURE, SequenceOntology, SoTerm
from ..terms import boolean, double, encode_segment, integer, iri, literal
from ..vocab import OBO
from .genome import GenomeVersion
from .writers import RdfWriter

__all__ = ["Emitter", "Mark", "Node", "mark_nodes"]

RDF_TYPE = f"<{vocab.RDF_TYPE}>"  # as an N-Triples term
STRAND_CODE = {"+": "1", "-": "-1", ".": "0", "?": "u"}
STRAND_INDEX = {"+": 0, "-": 1, ".": 2, "?": 3}

# A FALDO node named by its coordinates, the same in every chunk (the Emitter's own keys depend
# on the order it met the sequences): (seqid, strand, start, end) a region, (seqid, strand,
# position) a position.
Node = tuple[str, str, int, int] | tuple[str, str, int]
Mark = tuple[str, int, int, str]  # a line's (seqid, start, end, strand)


def mark_nodes(mark: Mark) -> tuple[Node, Node, Node]:
    """The region a line's coordinates give and its two positions (``Emitter.location``)."""
    seqid, start, end, strand = mark
    return (seqid, strand, start, end), (seqid, strand, start), (seqid, strand, end)


@dataclass
class _TypeInfo:
    term: str  # <class IRI>
    label: str  # SO name (or the raw type) for ID-less IRIs
    accession: str
    known: bool
    # column 3 is not the SO name as written (a synonym, an accession, an alias, another
    # case): written as g2r:gffType, so that the file's text is not lost
    raw: bool = False
    folded: str = ""  # the SO name column 3 matches only when case is ignored (type-case)


@dataclass
class Emitter:
    genome: GenomeVersion
    mapping: Mapping
    writer: RdfWriter
    log: ProblemLog
    so: SequenceOntology = field(default_factory=SequenceOntology.load)
    prefixes: PrefixMap = field(default_factory=PrefixMap.load)
    features: int = 0
    class_counts: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        m = self.mapping
        p = m.predicate
        self.P_LABEL, self.P_IDENT, self.P_GFFID = p("label"), p("identifier"), p("gff_id")
        self.P_SOURCE, self.P_SCORE, self.P_PHASE = p("source"), p("score"), p("phase")
        self.P_TAXON, self.P_LOCATION = p("in_taxon"), p("location")
        self.P_PART_OF, self.P_DERIVES = p("part_of"), p("derives_from")
        self.P_GFFTYPE, self.P_CROSSES = p("gff_type"), p("crosses_origin")
        self.P_BEGIN, self.P_END = p("begin"), p("end")
        self.P_POSITION, self.P_REFERENCE = p("position"), p("reference")
        self.P_RANK, self.P_LENGTH = p("rank"), p("length")
        self.P_CIRCULAR = p("is_circular")
        self.C_REGION = m.class_term("Region")
        self.C_SEGMENT = m.class_term("FeatureSegment")
        self.C_EXACT = m.class_term("ExactPosition")
        self.STRAND_CLASS = {
            "+": m.class_term("ForwardStrandPosition"),
            "-": m.class_term("ReverseStrandPosition"),
            "?": m.class_term("StrandedPosition"),
        }
        self.taxon_term = iri(f"{OBO}NCBITaxon_{self.genome.taxon}") if self.genome.taxon else None
        self._types: dict[tuple[str, tuple[str, ...]], _TypeInfo] = {}
        self._seq_index: dict[str, int] = {}
        self._seq_iri: dict[str, str] = {}
        self._seen_nodes: set[int | tuple[int, ...]] = set()
        # nodes another chunk's lines write (gff2rdf.conversion.chunks): not written here; those the
        # lines refer to are kept in ``needed``, for the main process to write once
        self.reserved: set[Node] = set()
        self.needed: set[Node] = set()
        self._refiners = m.type_refining_attributes
        # keys _attributes treats apart, for one look-up per key: False skip (structural,
        # Name), True a key that shares its predicate with another (Note and description)
        self._special_keys = dict.fromkeys(_keys_sharing_a_predicate(m), True)
        self._kept_as_written, self._sharing_groups = _written_keys(m)
        self._special_keys.update(dict.fromkeys([*m.structural_attributes, "Name"], False))
        self.seq_info: dict[str, SequenceInfo] = {}
        self._value_cache: dict[tuple[str, str], tuple[tuple[tuple[str, str], ...], str]] = {}
        self._values_cache: dict[tuple[str, tuple[str, ...]],
                                 tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {}
        self._feature_base = f"{self.genome.iri}/feature/"
        self._feature_iris: dict[str, str] = {}

    # -- IRIs ---------------------------------------------------------------------------------

    def feature_iri(self, feature_id: str) -> str:
        """``{genome}/feature/{ID}``, the ID exactly as in the file, percent-encoded as one
        path segment. Injective: distinct IDs never share an IRI, whatever the provider's
        naming (stripping ``gene-`` and ``rna-`` made NCBI's ``gene-LOC_X`` and ``rna-LOC_X``
        one node), and a ``/`` in an ID is always encoded, so no ID's IRI is another's
        child, segment or anonymous IRI, which all add path segments."""
        # asked for by a feature and again by each child and link to it (127k calls for 66k
        # features on 100k RefSeq lines); GenomeVersion.feature_iri rebuilds the genome's
        # IRI each time: about 6 us a call, 5 % of a conversion's CPU, against 0.1 us a hit
        value = self._feature_iris.get(feature_id)
        if value is None:
            if len(self._feature_iris) >= 100_000:
                self._feature_iris.clear()
            value = self._feature_base + encode_segment(feature_id)
            self._feature_iris[feature_id] = value
        return value

    def seq_iri(self, seqid: str) -> str:
        value = self._seq_iri.get(seqid)
        if value is None:
            value = self.genome.seqregion_iri(seqid)
            self._seq_iri[seqid] = value
            self._seq_index[seqid] = len(self._seq_index)
        return value

    @staticmethod
    def anonymous_iri(genome: GenomeVersion, feature: Feature) -> str:
        """A parent-less line without ID: ``{genome}/feature/_/{hash of its columns}``. One
        path segment more than a feature with an ID (whose ``/`` is encoded) and one less
        than its children and segments, so it is never any other feature's IRI."""
        columns = "\t".join([
            feature.seqid, feature.source, feature.type, str(feature.start), str(feature.end),
            feature.score or ".", feature.strand,
            "." if feature.phase is None else str(feature.phase),
            ";".join(f"{k}={','.join(v)}" for k, v in sorted(feature.attributes.items())),
        ])
        digest = hashlib.sha256(columns.encode("utf-8")).hexdigest()[:16]
        return f"{genome.iri}/feature/_/{digest}"

    # -- types --------------------------------------------------------------------------------

    def type_info(self, feature: Feature, warn: bool = True) -> _TypeInfo:
        """The class of a feature; ``warn`` reports an unknown or case-folded column 3 (once
        per line: only ``feature`` passes it)."""
        attrs = feature.attributes
        hints = tuple(attrs[k][0] for k in self._refiners if k in attrs) if attrs else ()
        key = (feature.type, hints)
        info = self._types.get(key)
        if info is None:
            info = self._resolve_type(feature.type, hints)
            self._types[key] = info
        if warn and not info.known:
            self.log.warn(feature.line, "unknown-type",
                          f"column 3 type {feature.type!r} is not a Sequence Ontology term, "
                          "synonym or accession; typed as sequence_feature (SO:0000110) with "
                          "g2r:gffType")
        elif warn and info.folded:
            how = "with spaces for underscores" if " " in feature.type else "in another case"
            self.log.warn(feature.line, "type-case",
                          f"column 3 type {feature.type!r} is the SO term {info.folded!r} "
                          f"written {how}; typed as that term, with column 3 kept as "
                          f"g2r:gffType (write {info.folded!r})")
        return info

    def _resolve_type(self, text: str, hints: tuple[str, ...]) -> _TypeInfo:
        alias = self.mapping.type_aliases.get(text)
        term: SoTerm | None = self.so.resolve(alias or text)
        if term is None:
            fallback = self.so.terms[SEQUENCE_FEATURE]
            return _TypeInfo(iri(fallback.iri), encode_segment(text), fallback.accession, False)
        # compared before refinement: a biotype's more specific class comes from an attribute,
        # which is kept, not from column 3
        folded = term.name if term.name != text and alias is None and \
            not self.so.is_exact(text) else ""
        if hints:
            term = self.so.refine(term, hints)
        # compared after refinement: "gene" typed protein_coding_gene by its biotype keeps
        # column 3 as g2r:gffType, else export could not tell it from "protein_coding_gene"
        raw = term.name != text
        return _TypeInfo(iri(term.iri), term.name, term.accession, True, raw, folded)

    # -- locations ----------------------------------------------------------------------------

    def location(self, seqid: str, start: int, end: int, strand: str) -> str:
        """The region term for these coordinates; writes region and positions the first time."""
        seq = self.seq_iri(seqid)
        code = STRAND_CODE[strand]
        region = f"<{seq}:{start}-{end}:{code}>"
        sidx = self._seq_index[seqid] * 4 + STRAND_INDEX[strand]
        key: int | tuple[int, ...]
        if start < (1 << 40) and end < (1 << 40):
            key = (((sidx << 40) | start) << 40) | end
        else:
            key = (sidx, start, end)
        seen = self._seen_nodes
        if key in seen:
            return region
        seen.add(key)
        # a new node (one in a few lines): a look-up only when a chunk has reserved nodes
        if self.reserved and (seqid, strand, start, end) in self.reserved:
            self.needed.add((seqid, strand, start, end))
            return region  # and its positions, which are reserved too
        if strand == "-":
            begin, finish = end, start
        else:
            begin, finish = start, end
        b = self._position(seq, seqid, begin, strand, code)
        e = self._position(seq, seqid, finish, strand, code)
        self.writer.subject(region, [(RDF_TYPE, self.C_REGION), (self.P_BEGIN, b),
                                     (self.P_END, e)])
        return region

    def _position(self, seq: str, seqid: str, pos: int, strand: str, code: str) -> str:
        term = f"<{seq}:{pos}:{code}>"
        sidx = self._seq_index[seqid] * 4 + STRAND_INDEX[strand]
        key = -((sidx << 40) | pos) - 1 if pos < (1 << 40) else (sidx, pos)
        if key in self._seen_nodes:
            return term
        self._seen_nodes.add(key)
        if self.reserved and (seqid, strand, pos) in self.reserved:
            self.needed.add((seqid, strand, pos))
            return term
        pairs = [(RDF_TYPE, self.C_EXACT)]
        strand_class = self.STRAND_CLASS.get(strand)
        if strand_class:
            pairs.append((RDF_TYPE, strand_class))
        pairs.append((self.P_POSITION, integer(pos)))
        pairs.append((self.P_REFERENCE, f"<{seq}>"))
        self.writer.subject(term, pairs)
        return term

    def write_node(self, node: Node) -> None:
        """Write a region (with its positions) or a position, as ``location`` would, unless
        written already or reserved."""
        if len(node) == 4:
            seqid, strand, start, end = node
            self.location(seqid, start, end, strand)
        else:
            seqid, strand, pos = node
            self._position(self.seq_iri(seqid), seqid, pos, strand, STRAND_CODE[strand])

    def wrote(self, node: Node) -> bool:
        """Whether this emitter wrote the node (the keys of ``location`` and ``_position``)."""
        if node in self.needed or node[0] not in self._seq_index:
            return False
        sidx = self._seq_index[node[0]] * 4 + STRAND_INDEX[node[1]]
        key: int | tuple[int, ...]
        if len(node) == 4:
            start, end = node[2], node[3]
            key = (((sidx << 40) | start) << 40) | end \
                if start < (1 << 40) and end < (1 << 40) else (sidx, start, end)
        else:
            pos = node[2]
            key = -((sidx << 40) | pos) - 1 if pos < (1 << 40) else (sidx, pos)
        return key in self._seen_nodes

    # -- features -----------------------------------------------------------------------------

    def feature(
        self,
        subject: str,
        lines: Sequence[Feature],
        feature_id: str | None,
        links: list[tuple[str, str]],
    ) -> None:
        """Write one feature: ``lines`` share its ID (several for a discontinuous feature);
        ``links`` are (predicate, object) pairs for parents whose existence is known.

        A discontinuous feature (docs/modelling.md) is one feature IRI with one bounding region
        as its ``faldo:location`` (without a strand when its lines lie on different strands)
        and ordered segments ``{feature}/segment/{n}``, n its rank in biological order (the
        ``segments`` module), each with its own region, phase and score, ``so:part_of`` the
        feature. Attribute values all lines share are the feature's; the others stay on the
        segment of their line."""
        first = lines[0]
        info = self.type_info(first)
        self.features += 1
        self.class_counts[info.accession] += 1
        pairs: list[tuple[str, str]] = [(RDF_TYPE, info.term)]
        if not info.known or info.raw:
            pairs.append((self.P_GFFTYPE, literal(first.type)))
        own: list[dict[str, list[str]]] | None = None
        if len(lines) == 1:
            attrs = first.attributes
        else:
            attrs, own = split_attributes(lines)
        self._names(attrs.get("Name"), feature_id, pairs)
        if feature_id:
            # the ID itself: identifiers stay distinct where the IDs are (with "exon-" and
            # "id-" removed, an exon had its gene's identifier)
            ident = literal(feature_id)
            pairs.append((self.P_IDENT, ident))
            pairs.append((self.P_GFFID, ident))
        if first.source != ".":
            pairs.append((self.P_SOURCE, literal(first.source)))
        if self.taxon_term:
            pairs.append((self.P_TAXON, self.taxon_term))
        self._attributes(attrs, pairs, first.line)
        if "Is_circular" in attrs:
            self._unread_flag(attrs["Is_circular"], pairs)
        pairs.extend(links)
        subject_term = f"<{subject}>"
        if len(lines) == 1:
            if first.score is not None:
                pairs.append((self.P_SCORE, double(first.score)))
            if first.phase is not None:
                pairs.append((self.P_PHASE, integer(first.phase)))
            pairs.append((self.P_LOCATION, self._located(first, pairs)))
            self.writer.subject(subject_term, pairs)
            return
        sequence = self.seq_info.get(first.seqid)
        bounds = extent(lines, sequence)
        if bounds.mixed or any(f.seqid != first.seqid for f in lines):
            # kept for trans-splicing too: a region without a strand is rare in a graph, and
            # a reader of the warnings should know why this one has one
            self.log.warn(first.line, "mixed-segments",
                          f"the lines of {feature_id} lie on different sequences or strands "
                          "(expected one strand, unless trans-spliced); its bounding region "
                          f"spans its lines on {first.seqid} without a strand, its segments "
                          "keep their own and are ranked in file order")
        if bounds.crosses_origin:
            pairs.append((self.P_CROSSES, boolean(True)))
        pairs.append((self.P_LOCATION, self.location(first.seqid, bounds.start, bounds.end,
                                                     bounds.strand)))
        self.writer.subject(subject_term, pairs)
        own_of = {id(f): mine for f, mine in zip(lines, own, strict=True)} if own else {}
        several_sources = any(f.source != first.source for f in lines)
        for rank, seg in enumerate(biological_order(lines, sequence), 1):
            seg_pairs = [(RDF_TYPE, self.C_SEGMENT), (self.P_PART_OF, subject_term),
                         (self.P_RANK, integer(rank))]
            if seg.phase is not None:
                seg_pairs.append((self.P_PHASE, integer(seg.phase)))
            if seg.score is not None:
                seg_pairs.append((self.P_SCORE, double(seg.score)))
            if several_sources:  # else the feature's g2r:source is each line's column 2
                seg_pairs.append((self.P_SOURCE, literal(seg.source)))
            mine = own_of.get(id(seg))
            if mine:
                if mine.get("Name"):
                    self._names(mine["Name"], None, seg_pairs)
                self._attributes(mine, seg_pairs, seg.line)
            seg_pairs.append((self.P_LOCATION, self._located(seg, seg_pairs)))
            self.writer.subject(f"<{subject}/segment/{rank}>", seg_pairs)

    def _located(self, f: Feature, pairs: list[tuple[str, str]]) -> str:
        if f.start > f.end or self._beyond_circular_end(f):
            pairs.append((self.P_CROSSES, boolean(True)))
        return self.location(f.seqid, f.start, f.end, f.strand)

    def _beyond_circular_end(self, f: Feature) -> bool:
        info = self.seq_info.get(f.seqid)
        return bool(info and info.circular and info.length and f.end > info.length)

    def _attributes(self, attrs: dict[str, list[str]], pairs: list[tuple[str, str]],
                    line: int) -> None:
        # (key, value) -> its (predicate, object) pairs: values repeat a lot within a gene model
        # (RefSeq repeats the gene's four Dbxref values on every exon and CDS line), and
        # expanding a Dbxref costs about 1.5 us, a dict hit about 0.1 us.
        # A triple written twice would be counted twice (void:triples, the result) though the
        # graph holds it once. A repeat needs a key with several values (Dbxref=A;Dbxref=A
        # merged by the reader; GeneID:1 and NCBIGene:1, one IRI), looked up as one list whose
        # pairs are kept without repeats, or two keys of one predicate (Note and description),
        # rare enough that the feature's pairs are then filtered. A single value, the common
        # case, pays a length test. Measured with callgrind, whole conversions of 10k lines:
        # 0.5 % more instructions on RefSeq (a Dbxref list on every line), 0.3 % on Phytozome.
        cache = self._value_cache
        special = self._special_keys
        sharing = 0
        for key, values in attrs.items():
            if key in special:
                if not special[key]:
                    continue
                sharing += 1
            if len(values) == 1:
                value = values[0]
                if not value:
                    continue
                hit = cache.get((key, value))
                if hit is None:
                    hit = self._value_terms(key, value)
                pairs.extend(hit[0])
                if hit[1]:
                    self.log.warn(line, "unresolved-xref", hit[1])
            else:
                several = self._values_cache.get((key, tuple(values)))
                if several is None:
                    several = self._values_terms(key, values)
                pairs.extend(several[0])
                for warning in several[1]:
                    self.log.warn(line, "unresolved-xref", warning)
        if sharing > 1:
            self._shared_values(attrs, pairs)
            pairs[:] = dict.fromkeys(pairs)

    def _shared_values(self, attrs: dict[str, list[str]], pairs: list[tuple[str, str]]) -> None:
        """A value that two keys of one predicate both have (Note=x;description=x) is kept as
        ``attr:{first key}`` too: the predicate gives it to the first key unless the later
        key's ``attr:`` has it, so without this the first key would lose it."""
        for first, later in self._sharing_groups:
            values = attrs.get(first)
            if not values:
                continue
            theirs = {v for key in later for v in attrs.get(key, ())}
            predicate = self.mapping.attribute_predicate(first)
            pairs.extend((predicate, literal(v)) for v in values if v and v in theirs)

    def _value_terms(self, key: str, value: str) -> tuple[tuple[tuple[str, str], ...], str]:
        """``_attribute_terms``, kept in the cache of single values."""
        cache = self._value_cache
        if len(cache) > 100_000:
            cache.clear()
        hit = cache[(key, value)] = self._attribute_terms(key, value)
        return hit

    def _values_terms(self, key: str, values: list[str]
                      ) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
        """The pairs of several values of one key, each pair once, and their warnings, kept in
        the cache of lists: RefSeq repeats a transcript's Dbxref list on each of its lines, so
        that one look-up replaces one per value."""
        cache = self._value_cache
        terms: list[tuple[str, str]] = []
        warnings: list[str] = []
        for value in values:
            if value:
                hit = cache.get((key, value)) or self._value_terms(key, value)
                terms.extend(hit[0])
                if hit[1]:
                    warnings.append(hit[1])
        lists = self._values_cache
        if len(lists) > 10_000:  # a list repeats within its gene model, a few lines apart
            lists.clear()
        found = lists[(key, tuple(values))] = (tuple(dict.fromkeys(terms)),
                                               tuple(dict.fromkeys(warnings)))
        return found

    def _names(self, names: list[str] | None, feature_id: str | None,
               pairs: list[tuple[str, str]]) -> None:
        """``rdfs:label`` is the first Name (else the ID); the Names it cannot give back are
        kept as ``attr:Name`` too: the second and later ones, and a Name equal to the ID,
        which the label alone would not tell from a feature without Name (for export)."""
        given = [n for n in dict.fromkeys(names) if n] if names else []
        if given:
            pairs.append((self.P_LABEL, literal(given[0])))
        elif feature_id:
            pairs.append((self.P_LABEL, literal(feature_id)))
        if len(given) > 1 or (given and given[0] == feature_id):
            predicate = self.mapping.attribute_predicate("Name")
            pairs.extend((predicate, literal(n)) for n in given
                         if n != given[0] or n == feature_id)

    def _unread_flag(self, values: list[str], pairs: list[tuple[str, str]]) -> None:
        """Is_circular=true or false makes its sequence circular or not, and is kept on the
        feature that says it as ``g2r:isCircular``; any other value (which the reader
        reports) is kept as written, as an attribute without a slot."""
        if values == ["true"] or values == ["false"]:
            pairs.append((self.P_CIRCULAR, boolean(values == ["true"])))
        else:
            predicate = self.mapping.attribute_predicate("Is_circular")
            pairs.extend((predicate, literal(v)) for v in values if v)

    def _attribute_terms(self, key: str, value: str
                         ) -> tuple[tuple[tuple[str, str], ...], str]:
        """The pairs for one attribute value, and a warning ('' when none)."""
        slots = self.mapping.attribute_slots.get(key)
        if slots is None:
            return ((self.mapping.attribute_predicate(key), literal(value)),), ""
        out: list[tuple[str, str]] = []
        warning = ""
        for slot in slots:
            if slot.transform == "literal":
                out.append((slot.predicate, literal(value)))
                continue
            target = self.prefixes.expand(value)
            if target is not None:
                out.append((slot.predicate, iri(target)))
            elif key == "Dbxref":
                warning = (f"Dbxref value {value!r} has no known prefix (expected DBTAG:ID with "
                           "a DBTAG known to bioregistry); kept as oboInOwl:hasDbXref only")
            else:
                warning = (f"{key} value {value!r} has no known prefix (expected an ontology "
                           "CURIE such as GO:0008150); kept as a literal")
        if key in self._kept_as_written:
            # a value that no slot gives back as written: one made an IRI only (Ontology_term:
            # the IRI cannot tell GO:1 from go:1), or one of a key sharing its predicate with
            # an earlier key (description, whose dcterms:description Note also fills)
            out.append((self.mapping.attribute_predicate(key), literal(value)))
        return tuple(out), warning

    # -- sequence regions and the dataset description ------------------------------------------

    def sequence_regions(self, sequences: dict[str, SequenceInfo]) -> None:
        """One node per seqid used or declared: type, identifier, length, part of the assembly."""
        assembly = f"<{self.genome.assembly_iri}>"
        for seqid in sorted(set(self._seq_iri) | set(sequences)):
            info = sequences.get(seqid) or SequenceInfo(seqid)
            so_class = self.mapping.class_term("Chromosome") if info.so_type == "chromosome" \
                else self.mapping.class_term("SequenceRegion")
            pairs = [(RDF_TYPE, so_class),
                     (self.P_IDENT, literal(seqid)),
                     (self.P_PART_OF, assembly)]
            if info.length:
                pairs.append((self.P_LENGTH, integer(info.length)))
            if info.circular:
                pairs.append((self.mapping.predicate("is_circular"), boolean(True)))
            if self.taxon_term:
                pairs.append((self.P_TAXON, self.taxon_term))
            self.writer.subject(f"<{self.seq_iri(seqid)}>", pairs)
        pairs = [(RDF_TYPE, self.mapping.class_term("Assembly")),
                 (self.P_IDENT, literal(self.genome.assembly))]
        if self.taxon_term:
            pairs.append((self.P_TAXON, self.taxon_term))
        self.writer.subject(assembly, pairs)


def _written_keys(mapping: Mapping) -> tuple[frozenset[str], list[tuple[str, list[str]]]]:
    """The attribute keys whose values are also kept as written (``attr:{key}``) so that
    export gives them back: keys without a literal slot (their values become IRIs only), and
    every key after the first of those sharing a literal slot's predicate; and those groups,
    ``(first key, later keys)``. The order is the schema's (``Mapping.attribute_slots``),
    which gff2rdf.export.gff3 reads the same way."""
    kept = set()
    sharing: dict[str, list[str]] = {}
    for key, slots in mapping.attribute_slots.items():
        literal_slots = [s.predicate for s in slots if s.transform == "literal"]
        if not literal_slots:
            kept.add(key)
        for predicate in literal_slots:
            sharing.setdefault(predicate, []).append(key)
    groups = [(keys[0], keys[1:]) for p, keys in sharing.items()
              if len(keys) > 1 and p != mapping.predicate("label")]
    kept.update(k for _, later in groups for k in later)
    return frozenset(kept), groups


def _keys_sharing_a_predicate(mapping: Mapping) -> frozenset[str]:
    """Attribute keys mapped to a predicate that another key is also mapped to (Note and
    description): a feature with two of them may repeat a triple."""
    keys: dict[str, set[str]] = {}
    for key, slots in mapping.attribute_slots.items():
        for slot in slots:
            keys.setdefault(slot.predicate, set()).add(key)
    return frozenset(k for group in keys.values() if len(group) > 1 for k in group)

