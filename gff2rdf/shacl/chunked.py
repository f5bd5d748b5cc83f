"""Validating a genome's N-Triples / N-Quads in bounded chunks, with whole-graph verdicts.

A genome of 1 M GFF3 lines is about 20 M triples: about 8 GB in one in-memory Oxigraph store,
and hours in pySHACL. ``validate_lines`` reads the file in chunks of ``chunk_bytes`` (cut between
subjects), loads each chunk with the last lines of the previous one (``context_lines``) and the
end of the file (where writers put what everything points to: sequences, the genome's
description) into a fresh in-memory store while the previous chunk is being checked, and runs
the compiled shapes on it (``gff2rdf.shacl.pieces``). Memory stays bounded by two chunks plus the
node table (``gff2rdf.shacl.nodes``).

The verdicts equal those of validating the whole graph at once (``tests/shacl/test_shacl.py`` holds
them to it with chunks of a few hundred triples and with shuffled lines). What one chunk cannot
decide is settled with what the chunks remember:

* a check that reads the ``rdf:type`` of a node held by another chunk (a parent feature far
  above) is decided at the end from the recorded types;
* a node that a relational check reaches through a link but that an earlier chunk holds (a
  position shared with a feature far above) is given to the chunk from the remembered facts;
* a node checked in a chunk that does not hold its triples is settled by the chunk that does
  when that chunk's shape targeted it by class;
* every violation of a ``relational`` check (SPARQL rules, inverse paths: they may read links
  from other chunks or nodes two steps away) is checked again at the end with its own triples
  and the remembered facts around it;
* what is still open (subjects whose lines are split over chunks, links to nodes no chunk
  remembered) is checked again with everything around it, read from the file again: rare.

Node identity in the tables is Python's 64-bit string hash: two distinct nodes share one with
a probability of about 1e-7 for 2 M subjects, which could only hide a type from a ``value``
check. Data with ``rdfs:subClassOf`` triples is validated again with them in every chunk.
Oxigraph renames blank nodes per store, so a blank node shared by two chunks would count as two
(gff2rdf writes none).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..formats import ox_format
from ..vocab import RDF_TYPE, SUBCLASS_OF
from .nodes import NodeTable, tsv_columns
from .oxigraph import execute, gff_lines, source_title
from .pieces import Chunk, loaded_chunks, open_lines, term_of
from .shapes import ValidationReport, Violation, load_shapes, shapes_version
from .sparql import RELATIONAL, VALUE, Check, compile_checks

__all__ = ["DEFAULT_CHUNK_BYTES", "DEFAULT_CONTEXT_LINES", "validate_lines"]

DEFAULT_CHUNK_BYTES = 96 << 20
DEFAULT_CONTEXT_LINES = 5_000

Key = tuple[str, str, str, str, str, str]


@dataclass
class _State:
    """What the chunks found, final or to be settled at the end."""

    checks: list[Check]
    nodes: NodeTable
    results: dict[Key, Violation] = field(default_factory=dict)
    decided: list[tuple[int, Violation]] = field(default_factory=list)  # value checks
    dangling: dict[Key, tuple[int, Violation]] = field(default_factory=dict)
    pending: dict[tuple[int, str], list[bytes]] = field(
        default_factory=lambda: defaultdict(list))  # (check, value) -> focus nodes
    dangling_values: list[tuple[int, str, str]] = field(default_factory=list)
    suspects: set[str] = field(default_factory=set)  # to check again at the end
    captured: dict[str, list[str]] = field(default_factory=dict)  # their triples
    lines: dict[str, int] = field(default_factory=dict)
    source_title: str | None = None
    subclass_triples: set[str] = field(default_factory=set)
    triples: int = 0
    chunks: int = 0

    def __post_init__(self) -> None:
        self.index = {id(check): i for i, check in enumerate(self.checks)}


def _node_table(checks: list[Check]) -> NodeTable:
    relational = [c for c in checks if c.kind == RELATIONAL]
    follows = sorted({p for c in relational for p in c.follows} - {RDF_TYPE})
    inverse = sorted({p for c in relational if c.path and c.path.startswith("^")
                      for p in c.follows})
    return NodeTable(follows, follows, inverse)


def validate_lines(
    path: str | Path,
    fmt: str = "nt",
    *,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    context_lines: int = DEFAULT_CONTEXT_LINES,
    keep: int = 1_000_000,
    first: int = 10,
    progress: Callable[[int], None] | None = None,
    threads: bool = True,
) -> ValidationReport:
    """Validate an N-Triples (``fmt="nt"``) or N-Quads (``"nq"``) file, plain or gzipped,
    in chunks; the union of all graphs of an N-Quads file is validated.

    Example (from the repository's root, as the tests run): the sample, converted, in chunks of
    64 kB; then with a second ``faldo:end`` on one region:

    >>> import gzip, tempfile
    >>> from gff2rdf.conversion.api import convert
    >>> directory = Path(tempfile.mkdtemp())
    >>> _ = convert("tests/data/tair10_chr5_mikado.gff3", directory / "mikado.nt.gz",
    ...             species="Arabidopsis thaliana", assembly="TAIR10", annotation="mikado")
    >>> report = validate_lines(directory / "mikado.nt.gz", chunk_bytes=64 << 10)
    >>> report.conforms, report.triples, report.engine
    (True, 2615, 'Oxigraph SPARQL, 8 chunk(s)')
    >>> lines = gzip.open(directory / "mikado.nt.gz", "rt").readlines()
    >>> begin = next(line for line in lines if "faldo#begin>" in line)
    >>> _ = (directory / "bad.nt").write_text("".join(lines) + begin.replace("#begin>", "#end>"))
    >>> report = validate_lines(directory / "bad.nt", chunk_bytes=64 << 10)
    >>> report.conforms, [(v.shape.split("#")[1], v.message) for v in report.results]
    (False, [('RegionShape-end', 'more than 1 value(s) of faldo:end')])
    """
    started = time.perf_counter()
    path = str(path)
    checks = compile_checks(load_shapes())
    state = _run(path, fmt, checks, chunk_bytes, context_lines, first, progress, threads, [])
    if state.subclass_triples:  # targets and sh:class must follow them everywhere
        checks = compile_checks(load_shapes(), subclasses=True)
        state = _run(path, fmt, checks, chunk_bytes, context_lines, first, progress, threads,
                     sorted(state.subclass_triples))
    report = ValidationReport(path, shapes_version(), keep=keep,
                              engine=f"Oxigraph SPARQL, {state.chunks} chunk(s)",
                              triples=state.triples)
    _finish(state, path, fmt, report)
    name = state.source_title or "line"
    report.lines = {focus: f"{name}:{line}" for focus, line in state.lines.items()}
    report.seconds = time.perf_counter() - started
    return report


# -- the chunks ------------------------------------------------------------------------------


def _run(path: str, fmt: str, checks: list[Check], chunk_bytes: int, context_lines: int,
         first: int, progress: Callable[[int], None] | None, threads: bool,
         preload: list[str]) -> _State:
    state = _State(checks, _node_table(checks))
    shown: dict[tuple[str, str, str], int] = defaultdict(int)

    def record(chunk: Chunk) -> None:
        """What the node table learns from a chunk; runs on the loading thread, one chunk
        ahead of the checks (a chunk may then get facts from the next one: more of the whole
        graph, never less)."""
        store, nodes = chunk.store, state.nodes
        graphs = _data_graphs(store, fmt)
        nodes.own(chunk.proper, chunk.index)
        subjects, classes = tsv_columns(store, f"SELECT ?s ?t WHERE {{ ?s <{RDF_TYPE}> ?t }}",
                                        graphs)
        nodes.add_types(subjects, classes, chunk.proper)

    for chunk in loaded_chunks(path, fmt, chunk_bytes, context_lines, preload, threads,
                                progress, record):
        state.chunks += 1
        examples = []
        for check, focus in _check_chunk(state, chunk, fmt):
            rule = (check.shape, check.constraint or check.component, check.path or "")
            if shown[rule] < first:
                shown[rule] += 1
                examples.append(focus)
        state.lines.update(gff_lines(chunk.store, examples, _data_graphs(chunk.store, fmt)))
        chunk.store = None  # free it before the next one is loaded
    return state


def _data_graphs(store: Any, fmt: str) -> Any:
    import pyoxigraph as ox

    if fmt != "nq":
        return None
    return [ox.DefaultGraph(), *store.named_graphs()]


def _subjects(store: Any, graphs: Any) -> set[bytes]:
    return set(tsv_columns(store, "SELECT DISTINCT ?s WHERE { ?s ?p ?o }", graphs)[0])


def _check_chunk(state: _State, chunk: Chunk, fmt: str) -> list[tuple[Check, str]]:
    """Check one chunk; returns the (check, focus node) of what it found, final or not."""
    store = chunk.store
    graphs = _data_graphs(store, fmt)
    state.triples += chunk.size
    for row in store.query(f"SELECT ?a ?b WHERE {{ ?a <{SUBCLASS_OF}> ?b }}",
                           default_graph=graphs):
        state.subclass_triples.add(f"{row['a']} <{SUBCLASS_OF}> {row['b']} .")
    state.source_title = source_title(store, graphs) or state.source_title
    subjects = {s.decode("utf-8") for s in chunk.held}
    given, missing = _give_remembered_facts(state, store, graphs, subjects)
    known = subjects | given
    seen = []
    relational: set[str] = set()
    for check, solution in execute(store, state.checks, graphs, mark_dangling=True):
        focus, value = check.terms(solution)
        seen.append((check, focus))
        index = state.index[id(check)]
        # a value node without triples here: settled at the end from the recorded types
        open_value = (check.kind == VALUE and value is not None and value[0] != '"'
                      and solution["dangling"] is not None
                      and solution["dangling"].value == "true")
        if focus not in subjects:  # checked here through a link, held elsewhere (or nowhere)
            if open_value:
                state.dangling_values.append((index, focus, value or ""))
            else:
                v = check.violation(solution)
                state.dangling.setdefault(v.key, (index, v))
        elif check.kind == RELATIONAL:
            relational.add(focus)
        elif open_value:
            state.pending[(index, value or "")].append(focus.encode("utf-8"))
        elif check.kind == VALUE and value and value[0] != '"':
            state.decided.append((index, check.violation(solution)))
        else:
            v = check.violation(solution)
            state.results.setdefault(v.key, v)
    if missing:  # some linked node is in no chunk seen so far (or in none at all)
        relational |= _relational_dangling(state, store, graphs, known)
    _capture(state, store, graphs, relational)
    state.nodes.remember(store, chunk.proper, graphs)
    state.nodes.remember_links_in(store, graphs)
    return seen


def _give_remembered_facts(state: _State, store: Any, graphs: Any,
                           subjects: set[str]) -> tuple[set[str], bool]:
    """Load the remembered facts of nodes this chunk links to but does not hold (two links
    deep); returns the nodes given, and whether some linked node is still missing."""
    import pyoxigraph as ox

    nodes = state.nodes
    if not nodes.link_predicates:
        return set(), False
    links = " ".join(f"<{p}>" for p in nodes.link_predicates)
    query = (f"SELECT DISTINCT ?n WHERE {{ VALUES ?l {{ {links} }} ?x ?l ?n "
             "FILTER (!isLiteral(?n)) FILTER NOT EXISTS { ?n ?q ?o } }")
    given: set[str] = set()
    missing = False
    for _ in range(2):
        lines = []
        missing = False
        for node_b in tsv_columns(store, query, graphs)[0]:
            node = node_b.decode("utf-8")
            facts = nodes.fact_lines(node) if node not in given else None
            if facts:
                lines.extend(facts)
                given.add(node)
            else:
                missing = True
        if not lines:
            break
        store.load("\n".join(lines).encode("utf-8"), format=ox.RdfFormat.TURTLE)
    return given, missing


def _relational_dangling(state: _State, store: Any, graphs: Any, known: set[str]) -> set[str]:
    """Focus nodes of relational checks that link to a node this chunk does not have."""
    found: set[str] = set()
    done: set[str] = set()
    links = " ".join(f"<{p}>" for p in state.nodes.link_predicates)
    if not links:
        return found
    for check in state.checks:
        if check.kind != RELATIONAL or check.node_shape in done:
            continue
        done.add(check.node_shape)
        query = (f"SELECT DISTINCT ?this WHERE {{ {{ SELECT ?this WHERE {{ VALUES ?p {{ {links} "
                 f"}} ?this ?p ?n FILTER (!isLiteral(?n)) FILTER NOT EXISTS {{ ?n ?q ?o }} }} }} "
                 f"FILTER ({check.test}) }}")
        found.update(str(r["this"]) for r in store.query(query, default_graph=graphs))
    return found


def _capture(state: _State, store: Any, graphs: Any, suspects: set[str]) -> None:
    """Keep the triples of relational suspects and the links to them, to check them again."""
    if not suspects:
        return
    state.suspects |= suspects
    values = " ".join(sorted(suspects))
    query = (f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?n {{ {values} }} "
             "{ ?n ?p ?o BIND (?n AS ?s) } UNION { ?s ?p ?n BIND (?n AS ?o) } }")
    for triple in store.query(query, default_graph=graphs):
        line = f"{triple.subject} {triple.predicate} {triple.object} ."
        for node in (str(triple.subject), str(triple.object)):
            if node in suspects:
                state.captured.setdefault(node, []).append(line)


# -- the end ---------------------------------------------------------------------------------


def _finish(state: _State, path: str, fmt: str, report: ValidationReport) -> None:
    nodes, results = state.nodes, state.results
    rescan: set[str] = set(nodes.split)
    for index, v in state.dangling.values():
        check = state.checks[index]
        if not nodes.owned(v.focus):
            results.setdefault(v.key, v)  # nothing anywhere: the verdict stands
        elif not (check.target_classes & set(nodes.classes_of(v.focus))):
            rescan.add(v.focus)  # held elsewhere, and maybe not a focus node there
        # else the chunk holding it targeted it by class and checked it with all its triples
    for index, focus, value in state.dangling_values:
        check = state.checks[index]
        if not nodes.owned(focus):
            state.pending[(index, value)].append(focus.encode("utf-8"))
        elif not (check.target_classes & set(nodes.classes_of(focus))):
            rescan.add(focus)
    for index, v in state.decided:
        if v.value in nodes.split:  # judged on part of the value's triples: judge again
            state.pending[(index, v.value or "")].append(v.focus.encode("utf-8"))
        else:
            results.setdefault(v.key, v)
    if state.chunks <= 1 and not rescan:  # one store held everything: every verdict is final
        rechecked = _recheck_captured(state, set(state.suspects), everything=True)
    else:
        rechecked = _recheck_captured(state, state.suspects - rescan)
        rescan |= state.suspects - set(rechecked)
    fixed = list(rechecked.values())
    if rescan:
        fixed += _rescan(state, path, fmt, rescan)
        report.notes.append(f"{len(rescan):,} node(s) checked again after re-reading the file")
    done = rescan | set(rechecked)
    for v in _resolve_pending(state, state.pending):
        results.setdefault(v.key, v)
    report.add(v for v in results.values() if v.focus not in done)
    report.add({v.key: v for group in fixed for v in group}.values())


def _recheck_captured(state: _State, suspects: set[str],
                      everything: bool = False) -> dict[str, list[Violation]]:
    """Check relational suspects again with their triples and the remembered facts around
    them; returns the verdicts of those that could be settled that way."""
    import pyoxigraph as ox

    if not suspects:
        return {}
    lines = sorted({line for s in suspects for line in state.captured.get(s, ())})
    seeds = set()  # the nodes the suspects link to
    for line in lines:
        subject, _, obj = line[:-2].split(" ", 2)
        if subject in suspects and obj[:1] in "<_" and obj not in suspects:
            seeds.add(obj)
    facts, missing = state.nodes.neighbourhood(seeds)
    inverse = [line for s in suspects for line in state.nodes.links_in.get(s, ())]
    settled = {s for s in suspects if s not in state.nodes.split}
    if not everything:
        if missing or (state.nodes.inverse_predicates and not state.nodes.links_in_complete):
            return {}
        settled = {s for s in settled if s in state.captured}
    store = ox.Store()
    text = "\n".join([*lines, *facts, *inverse, *sorted(state.subclass_triples)])
    store.load(text.encode("utf-8"), format=ox.RdfFormat.TURTLE)
    verdicts: dict[str, list[Violation]] = {s: [] for s in settled}
    pending: dict[tuple[int, str], list[bytes]] = defaultdict(list)
    # whole here: the suspects (their own triples) and the nodes given their remembered facts;
    # the subjects of captured incoming links are not
    known = settled | {line.split(" ", 1)[0] for line in facts}
    for check, solution in execute(store, state.checks):
        focus, value = check.terms(solution)
        if focus not in settled:
            continue
        if check.kind == VALUE and value and value[0] != '"' and value not in known:
            pending[(state.index[id(check)], value)].append(focus.encode("utf-8"))
        else:
            verdicts[focus].append(check.violation(solution))
    for v in _resolve_pending(state, pending):
        verdicts[v.focus].append(v)
    return verdicts


def _resolve_pending(state: _State,
                     pending: dict[tuple[int, str], list[bytes]]) -> list[Violation]:
    """Decide ``value`` checks on nodes held by other chunks, from the recorded types."""
    import pyoxigraph as ox

    if not pending:
        return []
    by_check: dict[int, set[str]] = defaultdict(set)
    for index, value in pending:
        by_check[index].add(value)
    values = sorted({v for vs in by_check.values() for v in vs})
    store = ox.Store()
    lines = [*state.nodes.type_lines(values), *sorted(state.subclass_triples)]
    if lines:
        store.load("\n".join(lines).encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    out: list[Violation] = []
    for index, group in by_check.items():
        check = state.checks[index]
        query = (f"SELECT ?value WHERE {{ VALUES ?value {{ {' '.join(sorted(group))} }} "
                 f"FILTER (!({check.value_condition})) }}")
        for row in store.query(query):  # type: ignore[union-attr]
            value = str(row["value"])
            out.extend(check.make(focus.decode("utf-8"), value)
                       for focus in pending[(index, value)])
    return out


def _rescan(state: _State, path: str, fmt: str, nodes: set[str]) -> list[list[Violation]]:
    """Check ``nodes`` again in one store with everything around them, read from the file."""
    import pyoxigraph as ox

    text, whole = _gather(path, nodes, state.nodes.split)
    store = ox.Store()
    store.load(text, format=ox_format(fmt))
    if state.subclass_triples:
        store.load("\n".join(sorted(state.subclass_triples)).encode("utf-8"),
                   format=ox.RdfFormat.N_TRIPLES)
    graphs = _data_graphs(store, fmt)
    found: list[Violation] = []
    pending: dict[tuple[int, str], list[bytes]] = defaultdict(list)
    for check, solution in execute(store, state.checks, graphs):
        focus, value = check.terms(solution)
        if focus not in nodes:
            continue
        if check.kind == VALUE and value and value[0] != '"' and value not in whole:
            pending[(state.index[id(check)], value)].append(focus.encode("utf-8"))
        else:
            found.append(check.violation(solution))
    return [found, _resolve_pending(state, pending)]


def _gather(path: str, suspects: set[str], split: set[str]) -> tuple[bytes, set[str]]:
    """The lines about the suspects, read from the file again: their own triples, the triples
    pointing at them, and the triples of the nodes up to two links away; and the nodes whose
    triples are all there. The subjects of links into a split node become suspects too
    (their checks saw part of it)."""
    seeds = {s.encode("utf-8") for s in suspects}
    split_b = {s.encode("utf-8") for s in split}
    type_b = f"<{RDF_TYPE}>".encode()
    kept: dict[bytes, None] = {}
    depth: dict[bytes, int] = dict.fromkeys(seeds, 0)
    frontier = set(seeds)
    first = True
    while frontier:
        following: set[bytes] = set()
        with open_lines(path) as stream:
            for line in stream:
                parts = line.split(None, 3)
                if len(parts) < 3 or parts[0].startswith(b"#"):
                    continue
                s, p, o = term_of(parts[0]), parts[1], term_of(parts[2])
                linked = o[:1] in (b"<", b"_") and p != type_b
                if s in frontier:
                    kept[line] = None
                    if linked and depth[s] < 2 and o not in depth:
                        depth[o] = depth[s] + 1
                        following.add(o)
                elif first and linked and o in seeds:
                    kept[line] = None  # an incoming link: targets and inverse paths need it
                    if o in split_b and s not in depth:
                        suspects.add(s.decode("utf-8"))
                        depth[s] = 0
                        following.add(s)
        first = False
        frontier = following
    text = b"".join(line if line.endswith(b"\n") else line + b"\n" for line in kept)
    return text, {node.decode("utf-8") for node in depth}
