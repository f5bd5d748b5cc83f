"""Ontologies in the store for offline joins: SO, PO, GO (slims), FALDO, taxonomy modules.

``load_ontology`` reads an OBO file (``gff2rdf.obo.parse``), OWL in RDF/XML (``.owl``, ``.rdf``),
Turtle or N-Triples, and puts it in the named graph of its ontology IRI (the OBO header's
``ontology:``, else the one ``owl:Ontology`` of the file), replacing that graph. It also writes
a closure graph (``closure_graph(iri)``) shaped like Ubergraph's, so that the same canned
queries work locally and against Ubergraph:

* ``?x rdfs:subClassOf ?y`` for every ``y`` in the reflexive-transitive ``is_a`` closure of
  every named class ``x``;
* ``?x R ?y`` for each part-of relation ``R`` (``BFO_0000050``, and an ontology's own
  ``#part_of`` such as SO's), when ``x part_of y`` follows from the asserted ``is_a`` and
  ``part_of`` links: ``x is_a* a``, ``a part_of b``, ``b (is_a | part_of)* y``.

In the embedded store both graphs are written by one SPARQL UPDATE, so readers see the old
ontology or the new one; on a SPARQL server (``--endpoint``) each graph is replaced by the Graph
Store Protocol in bounded pieces, the closure after the ontology.

Example: a three-term ontology in which a leaf tip is part of a leaf, and a leaf is an organ;
the closure says that the leaf tip is part of the organ too:

    >>> import tempfile
    >>> from gff2rdf.store.store import GenomeStore
    >>> work = Path(tempfile.mkdtemp())
    >>> _ = (work / "demo.obo").write_text('''format-version: 1.2
    ... ontology: demo
    ... data-version: 2026-01-01
    ...
    ... [Term]
    ... id: DEMO:1
    ... name: organ
    ...
    ... [Term]
    ... id: DEMO:2
    ... name: leaf
    ... is_a: DEMO:1 ! organ
    ...
    ... [Term]
    ... id: DEMO:3
    ... name: leaf tip
    ... relationship: part_of DEMO:2 ! leaf
    ...
    ... [Typedef]
    ... id: part_of
    ... xref: BFO:0000050
    ... ''')
    >>> with GenomeStore.open(work / "store") as store:  # doctest: +ELLIPSIS
    ...     result = load_ontology(store, work / "demo.obo")
    ...     print(result.summary())
    ...     rows = store.select(f"SELECT ?y WHERE {{ GRAPH <{result.closure}> {{ "
    ...                         f"<{OBO}DEMO_3> <{PART_OF}> ?y }} }} ORDER BY ?y")
    ...     print([row["y"].removeprefix(OBO) for row in rows])
    ...     print([(o.iri, o.classes, o.closure) for o in list_ontologies(store)])
    demo.obo: http://purl.obolibrary.org/obo/demo.owl (2026-01-01): 3 classes, 21 triples, ...
    ['DEMO_1', 'DEMO_2']
    [('http://purl.obolibrary.org/obo/demo.owl', 3, True)]
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pyoxigraph as ox

from ..errors import OntologyError
from ..vocab import G2R, OBO, OWL, PROV, RDF, RDFS
from .parse import OboDocument

if TYPE_CHECKING:
    from ..store.remote import RemoteStore
    from ..store.store import GenomeStore

__all__ = ["CLOSURE_BASE", "OntologyInfo", "OntologyLoadResult", "closure_graph",
           "list_ontologies", "load_ontology", "part_of_relations"]

CLOSURE_BASE = "https://w3id.org/gff2rdf/closure/"
PART_OF = OBO + "BFO_0000050"

_FORMATS = {
    ".obo": "obo",
    ".owl": "owl",
    ".rdf": "owl",
    ".xml": "owl",
    ".ttl": "ttl",
    ".nt": "nt",
}
_RDF_FORMATS = {"owl": ox.RdfFormat.RDF_XML, "ttl": ox.RdfFormat.TURTLE,
                "nt": ox.RdfFormat.N_TRIPLES}


def closure_graph(ontology_iri: str) -> str:
    """The graph holding the closure of an ontology loaded from ``ontology_iri``."""
    return CLOSURE_BASE + quote(ontology_iri, safe="")


def part_of_relations(properties: Iterable[str]) -> set[str]:
    """Which of these property IRIs mean part-of: BFO_0000050 or an ontology's ``#part_of``."""
    return {p for p in properties if p == PART_OF or p.endswith("#part_of")}


@dataclass
class OntologyLoadResult:
    """What ``load_ontology`` did."""

    source: str
    iri: str
    graph: str
    closure: str
    version: str
    classes: int
    triples: int
    closure_triples: int
    seconds: float
    skipped: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        version = f" ({self.version})" if self.version else ""
        return (f"{Path(self.source).name}: {self.iri}{version}: {self.classes:,} classes, "
                f"{self.triples:,} triples, {self.closure_triples:,} closure triples in "
                f"{self.seconds:.1f} s")


@dataclass
class OntologyInfo:
    """An ontology graph of a store, as ``gff2rdf ontology list`` shows it."""

    iri: str
    version: str
    classes: int
    closure: bool


def _format_of(path: str, fmt: str | None) -> str:
    if fmt:
        if fmt not in ("obo", *_RDF_FORMATS):
            raise OntologyError(f"unknown ontology format {fmt!r}; expected obo, owl, ttl or nt")
        return fmt
    name = path[:-3] if path.endswith(".gz") else path
    found = _FORMATS.get(Path(name).suffix.lower())
    if found is None:
        raise OntologyError(f"{path}: cannot tell the format from the name; give --format "
                            "obo, owl, ttl or nt")
    return found


def _read(path: str, fmt: str) -> tuple[ox.Store, list[str], str, dict[str, int]]:
    """The ontology in a scratch in-memory store, its owl:Ontology IRIs, version and the
    counts of OBO tags left out."""
    scratch = ox.Store()
    try:
        if fmt == "obo":
            doc = OboDocument.read(path)
            scratch.extend(ox.Quad(t.subject, t.predicate, t.object) for t in doc.triples())
            return scratch, [doc.ontology_iri], doc.version, dict(doc.skipped)
        scratch.bulk_load(path=path, format=_RDF_FORMATS[fmt])
    except FileNotFoundError as exc:
        raise OntologyError(f"{path}: no such file") from exc
    except UnicodeDecodeError as exc:
        raise OntologyError(f"{path}: not UTF-8 text: {exc}") from exc
    except SyntaxError as exc:
        raise OntologyError(f"{path}: not valid {fmt.upper()}: {exc}") from exc
    except OSError as exc:
        raise OntologyError(f"{path}: cannot read: {exc}") from exc
    iris = [str(r["o"].value) for r in scratch.query(  # type: ignore[union-attr]
        f"SELECT DISTINCT ?o WHERE {{ ?o a <{OWL}Ontology> FILTER(isIRI(?o)) }} ORDER BY ?o")]
    version = ""
    if len(iris) == 1:
        for row in scratch.query(  # type: ignore[union-attr]
                f"SELECT ?v WHERE {{ <{iris[0]}> <{OWL}versionInfo>|<{OWL}versionIRI> ?v }} "
                "ORDER BY ?v LIMIT 1"):
            version = str(row["v"].value)
    return scratch, iris, version, {}


def _closure(scratch: ox.Store) -> tuple[list[tuple[str, str, str]], int]:
    """Ubergraph-shaped closure triples (s, p, o) of the scratch store's classes."""
    is_a: dict[str, set[str]] = {}
    classes: set[str] = set()
    for row in scratch.query(  # type: ignore[union-attr]
            f"SELECT ?c WHERE {{ ?c a <{OWL}Class> FILTER(isIRI(?c)) }}"):
        classes.add(str(row["c"].value))
    for row in scratch.query(  # type: ignore[union-attr]
            f"SELECT ?c ?p WHERE {{ ?c <{RDFS}subClassOf> ?p FILTER(isIRI(?c) && isIRI(?p)) }}"):
        is_a.setdefault(str(row["c"].value), set()).add(str(row["p"].value))
    links: dict[str, dict[str, set[str]]] = {}
    for row in scratch.query(  # type: ignore[union-attr]
            f"SELECT ?c ?r ?y WHERE {{ ?c <{RDFS}subClassOf> ?x . ?x a <{OWL}Restriction> ; "
            f"<{OWL}onProperty> ?r ; <{OWL}someValuesFrom> ?y "
            "FILTER(isIRI(?c) && isIRI(?y)) }"):
        links.setdefault(str(row["r"].value), {}).setdefault(
            str(row["c"].value), set()).add(str(row["y"].value))
    nodes = classes | set(is_a) | {p for ps in is_a.values() for p in ps}
    up: dict[str, set[str]] = {}

    def ancestors(start: str) -> set[str]:
        found = up.get(start)
        if found is None:
            found = {start}
            stack = [start]
            while stack:
                for parent in is_a.get(stack.pop(), ()):
                    if parent not in found:
                        found.add(parent)
                        stack.append(parent)
            up[start] = found
        return found

    out: list[tuple[str, str, str]] = []
    for x in sorted(nodes):
        out.extend((x, RDFS + "subClassOf", y) for y in sorted(ancestors(x)))
    for relation in sorted(part_of_relations(links)):
        direct = links[relation]
        for x in sorted(nodes):
            # x is_a* a, a part_of b, then b (is_a | part_of)* y
            targets: set[str] = set()
            for a in ancestors(x):
                for b in direct.get(a, ()):
                    stack = [b]
                    while stack:
                        y = stack.pop()
                        if y in targets:
                            continue
                        targets.add(y)
                        stack.extend(is_a.get(y, ()))
                        stack.extend(direct.get(y, ()))
            out.extend((x, relation, y) for y in sorted(targets))
    return out, len(classes)


def _ntriples(triples: Iterable[ox.Triple | ox.Quad]) -> str:
    return "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in triples)


def load_ontology(store: GenomeStore | RemoteStore, path: str | Path, *, fmt: str | None = None,
                  graph: str | None = None) -> OntologyLoadResult:
    """Load an ontology file into ``store`` (the embedded store, or a SPARQL server's
    ``RemoteStore``) in the graph of its IRI; both graphs are written by ``replace_graphs``.

    ``graph`` overrides the graph IRI (for a file without, or with several, ``owl:Ontology``).
    Loading the same ontology again replaces its graph and its closure graph.
    """
    started = time.perf_counter()
    path = str(path)
    fmt = _format_of(path, fmt)
    if graph is not None:
        try:
            ox.NamedNode(graph)
        except ValueError as exc:
            raise OntologyError(f"--graph {graph!r} is not an IRI: {exc}") from exc
    scratch, iris, version, skipped = _read(path, fmt)
    if graph is None and len(iris) != 1:
        found = ", ".join(iris) if iris else "none"
        raise OntologyError(f"{path}: expected one owl:Ontology IRI to name the graph, found "
                            f"{found}; give the graph IRI with --graph")
    iri = iris[0] if len(iris) == 1 else graph or ""
    closure, classes = _closure(scratch)
    target = graph or iri
    closure_iri = closure_graph(target)
    data = _ntriples(scratch.quads_for_pattern(None, None, None, ox.DefaultGraph()))
    triples = len(scratch)
    closure_text = "".join(f"<{s}> <{p}> <{o}> .\n" for s, p, o in closure)
    about = (f"<{closure_iri}> <{RDF}type> <{G2R}OntologyClosure> .\n"
             f"<{closure_iri}> <{PROV}wasDerivedFrom> <{target}> .\n")
    store.replace_graphs({target: data, closure_iri: about + closure_text})
    return OntologyLoadResult(path, iri, target, closure_iri, version, classes, triples,
                              len(closure) + 2, time.perf_counter() - started, skipped)


def list_ontologies(store: GenomeStore | RemoteStore) -> list[OntologyInfo]:
    """The ontologies loaded by ``load_ontology``: graph, version, class count."""
    query = (f"SELECT ?g (SAMPLE(?v) AS ?version) (COUNT(DISTINCT ?c) AS ?classes) WHERE {{ "
             f"GRAPH ?cl {{ ?cl a <{G2R}OntologyClosure> ; <{PROV}wasDerivedFrom> ?g }} "
             f"OPTIONAL {{ GRAPH ?g {{ ?o a <{OWL}Ontology> ; <{OWL}versionInfo> ?v }} }} "
             f"OPTIONAL {{ GRAPH ?g {{ ?c a <{OWL}Class> }} }} }} GROUP BY ?g ORDER BY ?g")
    return [OntologyInfo(r["g"], r.get("version", ""), int(r.get("classes", "0")), True)
            for r in store.select(query)]
