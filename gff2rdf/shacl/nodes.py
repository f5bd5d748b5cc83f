"""What chunked validation remembers about nodes across chunks (``gff2rdf.shacl.chunked``).

* ``table``: for each subject, the chunk whose lines hold it (a subject met again in another
  chunk is *split*: its checks saw part of it) and its classes, as the id of an interned set,
  to decide checks that read the ``rdf:type`` of a node held by another chunk (the chromosome
  of a position);
* ``facts``: for each node that relational checks reach through a link (FALDO positions and
  their sequences), its triples on the predicates those checks read, packed into a few bytes,
  so that a later chunk pointing back at it can be given them;
* ``links_in``: the triples of predicates that checks follow backwards (``sh:inversePath``).

Nodes are keyed by the hash of their N-Triples term as bytes, which is how Oxigraph writes
query results in bulk (``tsv``): about 100 bytes per subject and 30 more per remembered node,
some 300 MB for a genome of 20 M triples. Two nodes share a 64-bit hash with a probability of
about 1e-7 at that size (see ``gff2rdf.shacl.chunked``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from ..vocab import RDF_TYPE

__all__ = ["NodeTable", "tsv", "tsv_columns"]

MAX_LINKS_IN = 200_000  # inverse-path triples kept; beyond that, re-reading settles them
_CHUNK = (1 << 20) - 1


def tsv(store: Any, query: str, graphs: Any = None) -> list[list[bytes]]:
    """The rows of a SELECT as lists of terms in Turtle syntax (bytes): Oxigraph writes the
    results in one go, much faster than one Python object per solution."""
    columns = tsv_columns(store, query, graphs)
    return [list(row) for row in zip(*columns, strict=True)]


def tsv_columns(store: Any, query: str, graphs: Any = None) -> list[list[bytes]]:
    """The columns of a SELECT (terms in Turtle syntax, bytes), split in one go."""
    import pyoxigraph as ox

    solutions = store.query(query, default_graph=graphs)
    width = len(solutions.variables)
    data = solutions.serialize(format=ox.QueryResultsFormat.TSV)
    body = data[data.find(b"\n") + 1:].rstrip(b"\n")
    if not body:
        return [[] for _ in range(width)]
    cells = body.replace(b"\t", b"\n").split(b"\n")
    return [cells[i::width] for i in range(width)]


@dataclass
class NodeTable:
    link_predicates: list[str]  # followed from a focus node to the nodes it points to
    fact_predicates: list[str]  # read on those nodes (besides rdf:type)
    inverse_predicates: list[str]  # followed backwards
    # node hash -> (type set id << 20) | (chunk + 1): one small int per subject
    table: dict[int, int] = field(default_factory=dict)
    type_sets: list[tuple[bytes, ...]] = field(default_factory=lambda: [()])
    type_set_ids: dict[tuple[bytes, ...], int] = field(default_factory=dict)
    facts: dict[int, bytes] = field(default_factory=dict)
    terms: list[bytes] = field(default_factory=list)
    term_ids: dict[bytes, int] = field(default_factory=dict)
    links_in: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    links_in_complete: bool = True
    split: set[str] = field(default_factory=set)

    # -- owners and types -------------------------------------------------------------------

    def own(self, subjects: set[bytes], chunk: int) -> None:
        table, mark = self.table, chunk + 1
        for s in subjects:
            h = hash(s)
            found = table.get(h)
            if found is None:
                table[h] = mark
            elif found & _CHUNK != mark:
                self.split.add(s.decode("utf-8"))

    def owned(self, node: str) -> bool:
        return hash(node.encode("utf-8")) in self.table

    def add_types(self, subjects: list[bytes], classes: list[bytes], proper: set[bytes]) -> None:
        """Record the classes of the subjects in ``proper`` (owned), given as two columns."""
        found: dict[bytes, list[bytes]] = defaultdict(list)
        for subject, cls in zip(subjects, classes, strict=True):
            found[subject].append(cls)
        table, ids, sets = self.table, self.type_set_ids, self.type_sets
        for subject, names in found.items():
            if subject not in proper:
                continue
            h = hash(subject)
            entry = table[h]
            old = entry >> 20
            if old:
                names = names + list(sets[old])
            key = (names[0],) if len(names) == 1 else tuple(sorted(set(names)))
            set_id = ids.get(key)
            if set_id is None:
                set_id = ids[key] = len(sets)
                sets.append(key)
            table[h] = (set_id << 20) | (entry & _CHUNK)

    def classes_of(self, node: str) -> list[str]:
        """The classes of ``node`` (IRIs) recorded so far."""
        entry = self.table.get(hash(node.encode("utf-8")))
        if entry is None:
            return []
        return [c.decode("utf-8")[1:-1] for c in self.type_sets[entry >> 20]]

    def type_lines(self, nodes: list[str]) -> list[str]:
        return [f"{n} <{RDF_TYPE}> <{c}> ." for n in nodes for c in self.classes_of(n)]

    # -- facts of linked nodes --------------------------------------------------------------

    def remember(self, store: Any, proper: set[bytes], graphs: Any) -> None:
        """Record the facts of this chunk's nodes that some node here links to. Each fact is
        a predicate byte, then a kind byte: an interned IRI (3-byte id) or a literal (length
        and its Turtle text, as Oxigraph wrote it)."""
        if not self.link_predicates or not self.fact_predicates:
            return
        links = " ".join(f"<{p}>" for p in self.link_predicates)
        preds = " ".join(f"<{p}>" for p in self.fact_predicates)
        # OPTIONAL: a node without such triples (a linear chromosome) is remembered too, so
        # that its absence of facts is known rather than unknown
        query = (f"SELECT ?n ?p ?o WHERE {{ {{ SELECT DISTINCT ?n WHERE {{ VALUES ?l {{ {links} }}"
                 f" ?x ?l ?n FILTER (!isLiteral(?n)) }} }} OPTIONAL {{ VALUES ?p {{ {preds} }} "
                 f"?n ?p ?o }} }}")
        packed: dict[bytes, bytearray] = defaultdict(bytearray)
        pred_ids = {f"<{p}>".encode(): i for i, p in enumerate(self.fact_predicates)}
        term_ids, terms = self.term_ids, self.terms
        for node, pred, obj in zip(*tsv_columns(store, query, graphs), strict=True):
            if node not in proper:
                continue
            if not pred:
                packed[node] += b""
            elif obj[:1] in (b"<", b"_"):
                term = term_ids.get(obj)
                if term is None:
                    term = term_ids[obj] = len(terms)
                    terms.append(obj)
                packed[node] += bytes((pred_ids[pred], 0)) + term.to_bytes(3, "little")
            else:
                packed[node] += bytes((pred_ids[pred], 1)) + len(obj).to_bytes(3, "little") + obj
        for node, data in packed.items():
            self.facts[hash(node)] = bytes(data)

    def fact_lines(self, node: str) -> list[str] | None:
        """The remembered triples of ``node`` (with its types) as Turtle lines, or None."""
        data = self.facts.get(hash(node.encode("utf-8")))
        if data is None:
            return None
        lines, i = self.type_lines([node]), 0
        while i < len(data):
            pred, kind, n = data[i], data[i + 1], int.from_bytes(data[i + 2:i + 5], "little")
            i += 5
            if kind == 0:
                obj = self.terms[n]
            else:
                obj, i = data[i:i + n], i + n
            lines.append(f"{node} <{self.fact_predicates[pred]}> {obj.decode('utf-8')} .")
        return lines

    def remember_links_in(self, store: Any, graphs: Any) -> None:
        if not self.inverse_predicates or not self.links_in_complete:
            return
        preds = " ".join(f"<{p}>" for p in self.inverse_predicates)
        query = f"SELECT ?s ?p ?o WHERE {{ VALUES ?p {{ {preds} }} ?s ?p ?o }}"
        for s, p, o in tsv(store, query, graphs):
            self.links_in[o.decode("utf-8")].add(f"{s.decode()} {p.decode()} {o.decode()} .")
        if sum(len(v) for v in self.links_in.values()) > MAX_LINKS_IN:
            self.links_in.clear()
            self.links_in_complete = False

    def neighbourhood(self, seeds: set[str]) -> tuple[list[str], set[str]]:
        """The remembered triples of ``seeds`` and of the nodes they link to, and the nodes
        among them that have triples somewhere but none remembered (or split ones)."""
        lines: list[str] = []
        missing: set[str] = set()
        links = {f"<{p}>" for p in self.link_predicates}
        frontier, seen = set(seeds), set(seeds)
        for _ in range(2):
            following: set[str] = set()
            for node in frontier:
                found = self.fact_lines(node)
                if found is None or node in self.split:
                    if self.owned(node):
                        missing.add(node)
                    continue
                for line in found:
                    lines.append(line)
                    _, pred, obj = line[:-2].split(" ", 2)
                    if pred in links and obj[:1] in "<_" and obj not in seen:
                        following.add(obj)
            seen |= following
            frontier = following
        return lines, missing
