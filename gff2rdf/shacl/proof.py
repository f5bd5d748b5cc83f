"""A streaming proof that N-Triples / N-Quads conform to the shapes: the fast path of validation.

Loading a genome's 20 M triples into Oxigraph and running the compiled shapes there
(``gff2rdf.shacl.chunked``) costs about 6 us of CPU a triple, most of it parsing and indexing;
reading the lines in Python and checking each subject's triples as they stream by costs about
2 us. So ``prove`` reads the file once and answers one question: does the data conform? It
answers yes only when it has checked every constraint on every focus node; as soon as anything
fails or cannot be decided here, it stops and says why (``Proof.reason``), and the caller runs
the exact engine, which finds and reports the violations. It is sound, not complete: it never
reports conformance that the exact engine would deny. The tests hold it to that with mutations
of conforming genomes: generated from the shapes files, several for each constraint and target
of every file (``tests/shacl/test_shacl_fast_mutations.py``), random ones (hypothesis), and one per
rule by hand, alone and all at once (``tests/shacl/test_shacl_fast.py``). What it computes itself,
numbers and regular expressions, is held to Oxigraph's results
(``tests/shacl/test_shacl_fast_hypothesis.py``).

How a pass works, and what sends the file to the exact engine:

* Lines are grouped by subject (the converter writes each subject's triples together); a subject
  that comes back after other subjects hands the file over. Subjects are remembered by their
  64-bit hash for that check only, about 60 bytes each.
* When a subject's group ends, the shapes that target it by class or by predicate are checked
  with all its triples, in the way worked out once for each kind of node (its predicates and
  types: ``_Role``, ``_Kind``). Constraints that read other nodes (``sh:class`` and nested
  shapes on values, ``sh:targetObjectsOf`` targets, the FALDO rules) look those nodes up in a
  window of the last ``WINDOW`` subjects; a node not seen yet is checked when it comes (at the
  end: as a node without triples); one that has left the window hands the file over.
* ``sh:sparql`` constraints run as Python equivalents (``_NATIVE``), bound to a fingerprint of
  their query text; shapes with any other SPARQL constraint, or with SHACL features that
  ``_Compiler`` does not know, are handed over whole (``Proof.reason`` says which).
* Lines must be what Oxigraph's parser surely accepts (``_term_ok``: each distinct IRI is
  checked once); ``rdfs:subClassOf`` triples, IRIs with escapes and anything unusual hand the
  file over.
* A plain file is read in ``jobs`` parts at once, cut between subjects; what one part needs of
  nodes in another (the sequences at the end of the file) is asked of the others in a second
  round (``_prove_parts``). The cyclic garbage collector is off during a pass.

Terms are compared as their N-Triples text. Two spellings of one term (``"a"`` and
``"a"^^xsd:string``) can only make the pass count more values or miss an equality, and either
hands the file over.

The proof is five modules, each importing only those before it: ``shacl_fast_terms``
(N-Triples terms and lines), ``shacl_fast_natives`` (the SPARQL rules as Python),
``shacl_fast_compile`` (the shapes compiled into a plan), ``shacl_fast_pass`` (one pass over
lines) and this one (``prove``, and the parts on several cores).

Example (from the repository's root, as the tests run): a converted genome is proven; one that
lost a region's faldo:begin is handed over, with the rule and the node:

    >>> import tempfile
    >>> from gff2rdf.conversion.api import convert
    >>> out = Path(tempfile.mkdtemp()) / "mikado.nt"
    >>> _ = convert("tests/data/tair10_chr5_mikado.gff3", out, assembly="TAIR10")
    >>> proof = prove(out)
    >>> proof.conforms, proof.reason, proof.triples > 2000
    (True, '', True)
    >>> lines = out.read_text("utf-8").splitlines(keepends=True)
    >>> begin = "<http://biohackathon.org/resource/faldo#begin>"
    >>> first = next(line for line in lines if f" {begin} " in line)
    >>> _ = out.write_text("".join(line for line in lines if line != first), "utf-8")
    >>> proof = prove(out)
    >>> proof.conforms, proof.reason.split(": ")[0].rsplit("#")[-1]
    (False, 'FaldoRegionShape-begin')
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

from .proof_compile import _CURRENT, Unsupported, _Plan, _plan
from .proof_pass import WINDOW, _lines, _Pass, _scan
from .proof_terms import EMPTY, Unsure, _Facts

# deferred: the imports inside functions load multiprocessing only when the call needs them,
# to keep this module's import (and start-up) light

__all__ = ["WINDOW", "Proof", "prove"]


@dataclass
class Proof:
    """The outcome of a pass: ``conforms`` is True only when proven; else ``reason``."""

    conforms: bool
    reason: str = ""
    triples: int = 0
    subjects: int = 0
    seconds: float = 0.0


def prove(path: str | Path, fmt: str = "nt", shapes: Any = None, jobs: int = 1,
          progress: Callable[[int], None] | None = None) -> Proof:
    """Read an N-Triples (``fmt="nt"``) or N-Quads (``"nq"``) file, plain or gzipped, once,
    and prove that it conforms to the shapes; see the module docstring. ``jobs`` > 1 reads
    a plain file larger than ``PART_MIN`` in that many parts at once (``_prove_parts``).
    ``progress`` is called now and then with the number of bytes read so far (of all parts;
    uncompressed bytes for a gzipped file)."""
    started = time.perf_counter()
    path = str(path)
    try:
        plan = _plan(shapes)
    except Unsupported as exc:
        return Proof(False, f"the shapes use {exc}, which only the exact engine evaluates")
    if jobs > 1 and os.path.getsize(path) >= PART_MIN and not _gzipped(path):
        proof = _prove_parts(plan, path, fmt, jobs, progress)
    else:
        state = _Pass(plan)
        _CURRENT.append(state)
        try:
            with _lines(path, report=progress) as lines:
                _scan(state, lines, fmt)
            state.finish()
            proof = Proof(True, "", state.triples, state.subjects)
        except Unsure as exc:
            proof = Proof(False, str(exc), state.triples, state.subjects)
        finally:
            _CURRENT.pop()
    proof.seconds = time.perf_counter() - started
    return proof


# -- in parts, on several cores -----------------------------------------------------------------

PART_MIN = 64 << 20  # smaller files are read in one part


def _gzipped(path: str) -> bool:
    with open(path, "rb") as probe:
        return probe.read(2) == b"\x1f\x8b"


def _part_starts(path: str, parts: int) -> list[int]:
    """Byte offsets that cut the file into ``parts`` parts between two subjects."""
    size = os.path.getsize(path)
    starts = [0]
    with open(path, "rb") as fh:
        for k in range(1, parts):
            fh.seek(max(size * k // parts, starts[-1]))
            fh.readline()  # to a line start
            previous = None
            while True:
                at = fh.tell()
                line = fh.readline()
                if not line:
                    return starts
                subject = line.split(b" ", 1)[0]
                if previous is not None and subject != previous:
                    starts.append(at)
                    break
                previous = subject
    return starts


class _Scanned(NamedTuple):
    """A part's first reply: how its scan went, and what the other parts must settle."""

    reason: str  # empty when the part found nothing against conformance
    triples: int
    subjects: int
    pending: list[bytes]  # nodes it needs from other parts
    seen: set[int]  # hashes of its subjects
    incoming: dict[bytes, set[bytes]]  # objects of inverse-path predicates
    inverse: list[tuple[str, bytes, bytes]]  # (rule, predicate, node) to check

    @classmethod
    def failed(cls, reason: str, state: _Pass) -> _Scanned:
        return cls(reason, state.triples, state.subjects, [], set(), {}, [])


def _prove_parts(plan: _Plan, path: str, fmt: str, jobs: int,
                 progress: Callable[[int], None] | None = None) -> Proof:
    """Each part is read by a process of its own; what one part needs of nodes in another
    (the sequences at the end of the file, a parent just before the cut) is asked of the
    others in a second round, from the windows they end with. Each part counts the bytes it
    has read in shared memory, for ``progress``."""
    import multiprocessing

    starts = _part_starts(path, jobs)
    ends = [*starts[1:], None]
    context = multiprocessing.get_context("fork")
    done = context.RawArray("q", len(starts))  # bytes read by each part
    workers = []
    finished = [False]
    for k, (start, end) in enumerate(zip(starts, ends, strict=True)):
        here, there = context.Pipe()
        process = context.Process(target=_part_worker,
                                  args=(os.getpid(), plan, path, fmt, start, end, there,
                                        partial(done.__setitem__, k)),
                                  daemon=True)
        process.start()
        there.close()
        workers.append((process, here))
    try:
        def tick() -> None:
            if progress is not None:
                progress(sum(done))

        _await([conn for _, conn in workers], tick)
        first: list[_Scanned] = [conn.recv() for _, conn in workers]
        triples = sum(r.triples for r in first)
        subjects = sum(r.subjects for r in first)
        for reply in first:
            if reply.reason:
                return Proof(False, reply.reason, triples, subjects)
        seen_sets = [reply.seen for reply in first]
        for i, a in enumerate(seen_sets):
            for b in seen_sets[i + 1:]:
                if not a.isdisjoint(b):
                    return Proof(False, "the triples of a subject are in two parts of the file")
        wanted = sorted({node for reply in first for node in reply.pending})
        for _, conn in workers:
            conn.send(wanted)
        answers = [conn.recv() for _, conn in workers]
        facts: dict[bytes, dict[bytes, list[bytes]] | None] = {}
        for answer in answers:
            for node, props in answer.items():
                if props is None:
                    return Proof(False, f"{node.decode('utf-8', 'replace')} is needed more "
                                 f"than {WINDOW:,} subjects after its triples")
                facts[node] = props
        for _, conn in workers:
            conn.send(facts)
        last: list[str] = [conn.recv() for _, conn in workers]  # why not, or ""
        finished[0] = True
        for reason in last:
            if reason:
                return Proof(False, reason, triples, subjects)
        incoming: dict[bytes, set[bytes]] = {}
        for reply in first:
            for predicate, nodes in reply.incoming.items():
                incoming.setdefault(predicate, set()).update(nodes)
        for reply in first:
            for name, predicate, node in reply.inverse:
                if node not in incoming.get(predicate, ()):
                    return Proof(False, f"{name}: {node.decode('utf-8', 'replace')}",
                                 triples, subjects)
        return Proof(True, "", triples, subjects)
    except (EOFError, OSError) as exc:  # a part's process died (killed, out of memory)
        return Proof(False, f"a part of the pass ended early ({type(exc).__name__})")
    finally:
        # a worker still waiting for the next round is not needed any more (it would not see
        # its pipe close: the other workers hold copies of it)
        for process, conn in workers:
            conn.close()
            process.join(timeout=1 if finished[0] else 0)
            if process.is_alive():
                process.kill()
                process.join()


def _await(conns: list[Any], tick: Callable[[], None], every: float = 0.25) -> None:
    """Wait until each connection has a reply (or is closed), calling ``tick`` meanwhile."""
    from multiprocessing.connection import wait

    waiting = list(conns)
    while waiting:
        tick()
        ready = wait(waiting, timeout=every)
        waiting = [conn for conn in waiting if conn not in ready]
    tick()


def _part_worker(parent: int, plan: _Plan, path: str, fmt: str, start: int, end: int | None,
                 conn: Any, report: Callable[[int], None] | None = None) -> None:
    """One part: scan it, report what it needs of other parts, answer what they need of it,
    then settle its own checks with the answers."""
    from ..files.forked import worker_setup

    worker_setup(parent)
    state = _Pass(plan)
    _CURRENT.append(state)
    try:
        try:
            with _lines(path, start, end, report) as lines:
                _scan(state, lines, fmt)
        except Unsure as exc:
            conn.send(_Scanned.failed(str(exc), state))
            return
        except Exception as exc:  # a fault here must not cost the user the verdict
            conn.send(_Scanned.failed(f"the pass failed ({type(exc).__name__}: {exc})", state))
            return
        inverse = [(name, prop.path, node) for prop, node, name in state.inverse_checks]
        conn.send(_Scanned("", state.triples, state.subjects, list(state.pending), state.seen,
                           state.incoming, inverse))
        wanted = conn.recv()
        answer: dict[bytes, dict[bytes, list[bytes]] | None] = {}
        for node in wanted:
            facts = state.window.get(node)
            if facts is not None:
                answer[node] = facts.props
            elif hash(node) in state.seen:
                answer[node] = None  # seen, but no longer in the window
        conn.send(answer)
        known = conn.recv()
        try:
            for node in list(state.pending):
                waiting = state.pending.pop(node)
                props = known.get(node)
                facts = _Facts(props) if props is not None else EMPTY
                for then in waiting:
                    then(facts)
            if state.pending:
                raise Unsure("a check needs a node that another part of the file holds")
            conn.send("")
        except Unsure as exc:
            conn.send(str(exc))
    finally:
        _CURRENT.pop()
        conn.close()
        # the parent has every answer: leave without freeing millions of objects one by one
        # (about 0.2 s a part)
        os._exit(0)

