"""Running the compiled shapes in a pyoxigraph ``Store``: whole graphs and store graphs.

``execute`` runs the checks of ``gff2rdf.shacl.sparql`` in a store, merging checks that share
a scan into one query; ``validate_store`` turns the results into a ``ValidationReport``. The
store is only read, so it may be gff2rdf's own temporary store or a user's store
(``validate_graph`` validates one genome version of it together with its metadata).

Example:
    >>> import pyoxigraph
    >>> validate_store(pyoxigraph.Store()).conforms
    True
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from ..errors import ShapesError
from ..vocab import FALDO, G2R, SUBCLASS_OF
from .shapes import ValidationReport, load_shapes, shapes_version
from .sparql import VALUE, Check, compile_checks, oxigraph_term

__all__ = ["GFF_LINE", "checks_for", "execute", "gff_lines", "source_title", "validate_graph",
           "validate_store"]

GFF_LINE = f"{G2R}gffLine"
_SUBCLASS_ASK = f"ASK {{ ?a <{SUBCLASS_OF}> ?b }}"
_CHECKS: dict[bool, list[Check]] = {}


def checks_for(store: Any, default_graph: Any = None) -> list[Check]:
    """The compiled checks, following ``rdfs:subClassOf*`` only if the data has any."""
    subclasses = bool(store.query(_SUBCLASS_ASK, default_graph=default_graph))
    if subclasses not in _CHECKS:
        _CHECKS[subclasses] = compile_checks(load_shapes(), subclasses=subclasses)
    return _CHECKS[subclasses]


def execute(store: Any, checks: list[Check], default_graph: Any = None,
            mark_dangling: bool = False) -> Iterator[tuple[Check, Any]]:
    """Every violation of ``checks`` in ``store`` (its default graph, or ``default_graph``:
    a graph or a list of graphs whose union is validated), as (check, solution); see
    ``Check.violation`` and ``Check.terms``. Checks that share a scan run as one query.

    ``mark_dangling``: solutions of ``value`` checks say in ``?dangling`` whether the value
    node has no triples in the store (in a chunk: to be settled with what others know)."""
    groups: dict[tuple[str, ...], list[Check]] = defaultdict(list)
    alone: list[Check] = []
    for check in checks:
        (groups[check.batch] if check.batch else alone).append(check)
    for key, members in groups.items():
        shapes = {s: i for i, s in enumerate(sorted({m.node_shape for m in members}))}
        if key[0] == "focus":
            query = _focus_query(members)
        else:
            query = _scan_query(key[0], members, shapes, mark_dangling)
        for solution in _query(store, query, members[0], default_graph):
            for i, check in enumerate(members):
                if key[0] != "focus" and _false(solution[f"in{shapes[check.node_shape]}"]):
                    continue
                if key[0] == "max" or _false(solution[f"ok{i}"]):
                    yield check, solution
    for check in alone:
        for solution in _query(store, check.query, check, default_graph):
            yield check, solution


def _false(term: Any) -> bool:
    return term is not None and term.value == "false"


def _scan_query(kind: str, members: list[Check], shapes: dict[str, int],
                mark_dangling: bool = False) -> str:
    """Checks on one path, of one or several shapes: one scan of the path (``values``: for
    values failing any condition; ``max``: for focus nodes with too many values), then a test
    of which shapes' focus nodes the candidates are."""
    first = members[0]
    tests = {m.node_shape: m.test for m in members}
    binds = " ".join(f"BIND (({tests[s]}) AS ?in{i})" for s, i in shapes.items())
    inside = " || ".join(f"?in{i}" for i in shapes.values())
    if kind == "max":
        return (f"SELECT * WHERE {{ {{ SELECT ?this WHERE {{ ?this {first.path} ?value }} "
                f"GROUP BY ?this HAVING (COUNT(DISTINCT ?value) > {first.detail}) }} {binds} "
                f"FILTER ({inside}) }}")
    any_fails = " && ".join(f"({c.ok})" for c in members)
    oks = " ".join(f"BIND (({c.ok}) AS ?ok{i})" for i, c in enumerate(members))
    if mark_dangling and any(c.kind == VALUE for c in members):
        oks += " BIND (NOT EXISTS { ?value ?anyPredicate ?anyObject } AS ?dangling)"
    return (f"SELECT DISTINCT * WHERE {{ {{ SELECT ?this ?value WHERE {{ ?this {first.path} "
            f"?value FILTER (!({any_fails})) }} }} {binds} FILTER ({inside}) {oks} }}")


def _focus_query(members: list[Check]) -> str:
    """Checks that need every focus node of one shape: one enumeration of its targets."""
    binds = " ".join(f"BIND (({c.ok}) AS ?ok{i})" for i, c in enumerate(members))
    # a condition that raises an error is no violation, as in a FILTER of its own
    fails = " || ".join(f"!COALESCE(?ok{i}, true)" for i in range(len(members)))
    return f"SELECT * WHERE {{ {members[0].targets} {binds} FILTER ({fails}) }}"


def _query(store: Any, query: str, check: Check, default_graph: Any) -> Iterator[Any]:
    try:
        yield from store.query(query, default_graph=default_graph)
    except (SyntaxError, OSError, ValueError) as exc:
        raise ShapesError(f"cannot evaluate {check.shape} ({check.component}): {exc}") from exc


def validate_store(store: Any, source: str = "<store>", default_graph: Any = None,
                   keep: int = 1_000_000, first: int = 10, triples: int = 0) -> ValidationReport:
    """Validate the whole data of ``store`` (or of ``default_graph``) at once."""
    started = time.perf_counter()
    checks = checks_for(store, default_graph)
    report = ValidationReport(source, shapes_version(), keep=keep, engine="Oxigraph SPARQL",
                              triples=triples)
    report.add(check.violation(solution) for check, solution in
               execute(store, checks, default_graph))
    name = source_title(store, default_graph) or "line"
    lines = gff_lines(store, _examples(report, first), default_graph)
    report.lines = {focus: f"{name}:{line}" for focus, line in lines.items()}
    report.seconds = time.perf_counter() - started
    return report


def validate_graph(store: Any, graph: str, meta_graph: str | None = None, keep: int = 1_000_000,
                   first: int = 10) -> ValidationReport:
    """Validate one genome version in a store: its named graph together with the metadata
    graph that describes it (``{BASE}meta`` by default, when the store has it)."""
    import pyoxigraph as ox

    graphs = [ox.NamedNode(graph)]
    names = {g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)}
    if graph not in names:
        raise ShapesError(f"the store has no graph <{graph}>")
    if meta_graph is None and "/genome/" in graph:
        meta_graph = graph.split("/genome/", 1)[0] + "/meta"
    if meta_graph and meta_graph in names:
        graphs.append(ox.NamedNode(meta_graph))
    count = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", default_graph=graphs)
    triples = int(next(iter(count))["n"].value)
    return validate_store(store, f"<{graph}>", graphs, keep=keep, first=first, triples=triples)


def _examples(report: ValidationReport, first: int) -> list[str]:
    shown: dict[tuple[str, str, str], int] = defaultdict(int)
    foci = []
    for v in sorted(report.results, key=lambda v: v.key):
        if shown[v.rule] < first:
            shown[v.rule] += 1
            foci.append(v.focus)
    return foci


def gff_lines(store: Any, foci: list[str], default_graph: Any = None) -> dict[str, int]:
    """The GFF3 line each focus node came from, where the data records it (``g2r:gffLine`` on
    features; a region or position takes the first line of a feature located there)."""
    nodes = sorted({f for f in foci if f.startswith("<")})
    if not nodes:
        return {}
    faldo = FALDO
    query = f"""
SELECT ?focus (MIN(?line) AS ?first) WHERE {{
  VALUES ?focus {{ {' '.join(nodes)} }}
  {{ ?focus <{GFF_LINE}> ?line }}
  UNION {{ ?feature <{faldo}location> ?focus . ?feature <{GFF_LINE}> ?line }}
  UNION {{ ?region <{faldo}begin>|<{faldo}end> ?focus . ?feature <{faldo}location> ?region .
          ?feature <{GFF_LINE}> ?line }}
  FILTER (isNumeric(?line))
}} GROUP BY ?focus"""
    found = {}
    for solution in store.query(query, default_graph=default_graph):
        if solution["first"] is not None:
            found[oxigraph_term(solution["focus"])] = int(solution["first"].value)
    return found


def source_title(store: Any, default_graph: Any = None) -> str | None:
    """The file name the genome version was converted from (its ``prov:wasDerivedFrom``)."""
    rows = store.query("""
SELECT ?title WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ;
  <http://www.w3.org/ns/prov#wasDerivedFrom> ?s . ?s <http://purl.org/dc/terms/title> ?title }
LIMIT 1""", default_graph=default_graph)
    return next((r["title"].value for r in rows), None)
