"""The streaming proof (gff2rdf.shacl.proof) against one generated mutation per constraint.

Every SHACL parameter of every file of shapes/ (constraints and targets, nested ones too;
``tests/shacl/shacl_constraints.py``) is broken in a conforming genome (two real fixtures converted:
a circular plastome with segments, and a linear PASA file) by ``tests/shacl/shacl_mutations.py``.
For each, the test keeps the mutations in which the exact engine finds a violation under the
shapes isolated to that constraint, and asserts that the proof does not say "conforms": with
those shapes, where only that constraint can stop it, and with all the shapes, in one part and
in two.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import pyoxigraph as ox
import pytest

import gff2rdf.shacl.proof as fast
from gff2rdf.shacl.oxigraph import execute, validate_store
from gff2rdf.shacl.proof import prove
from gff2rdf.shacl.shapes import load_shapes, shapes_files
from gff2rdf.shacl.sparql import compile_checks
from tests.shacl.shacl_constraints import (
    CONSTRAINTS,
    TARGETS,
    Constraint,
    NoGenerator,
    Shapes,
    every_constraint,
    parameters,
)
from tests.shacl.shacl_mutations import Graph, Mutator, conforming_base

ALL = every_constraint()
TRIES = 12  # mutations tried per constraint
KEPT = 12  # violating mutations checked per constraint

__all__ = ["conforming_base"]  # the fixture "base", used here

@pytest.fixture(scope="module")
def shapes() -> Shapes:
    return Shapes()


@pytest.fixture(scope="module")
def every_shape() -> object:
    """The shipped shapes, parsed once (prove parses them on each call otherwise)."""
    return load_shapes()


def _store(g: Graph) -> ox.Store:
    store = ox.Store()
    store.load(g.text().encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


def _violations(store: ox.Store, checks: list) -> set[tuple[str, ...]]:  # type: ignore[type-arg]
    return {check.violation(solution).key for check, solution in execute(store, checks)}


def test_the_shapes_use_only_known_parameters() -> None:
    unknown = [name for path in shapes_files() for name in parameters(path)[1]]
    assert not unknown, f"SHACL terms with no mutation generator here: {unknown}"


def test_every_constraint_of_every_shapes_file_has_a_generator(shapes: Shapes,
                                                               base: Graph) -> None:
    """Each file's constraints are found, and each has mutations (a new kind of constraint,
    or a new SPARQL rule, fails here with its name until tests/shacl/shacl_mutations.py makes
    it)."""
    files = {c.file for c in ALL}
    assert files >= {"faldo.ttl", "features.ttl", "generated.ttl", "genome.ttl"}, files
    kinds = {c.parameter for c in ALL}
    assert kinds >= {"datatype", "class", "minCount", "maxCount", "pattern", "in", "nodeKind",
                     "minInclusive", "node", "or", "qualifiedMinCount", "qualifiedMaxCount",
                     "sparql", "targetClass", "targetSubjectsOf", "targetObjectsOf"}, kinds
    assert kinds <= CONSTRAINTS | set(TARGETS)
    missing = []
    mutator = Mutator(shapes, base)
    for c in ALL:
        try:
            shapes.isolate(c)
            if next(iter(mutator.mutations(c)), None) is None:
                missing.append(f"{c.id}: no mutation")
        except NoGenerator as exc:
            missing.append(f"{c.id}: {exc}")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("constraint", ALL, ids=lambda c: c.id)
def test_the_proof_never_passes_a_mutation(constraint: Constraint, shapes: Shapes, base: Graph,
                                           every_shape: object, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    isolated = shapes.isolate(constraint)
    checks = compile_checks(isolated)
    original = tmp_path / "base.nt"
    original.write_text(base.text(), "utf-8")
    # the isolated shapes are evaluated by the proof (not handed over), and the data passes
    assert prove(original, shapes=isolated).conforms
    assert not _violations(_store(base), checks)
    monkeypatch.setattr(fast, "PART_MIN", 0)  # jobs=2 reads even small files in two parts
    kept = 0
    for i, mutated in enumerate(islice(Mutator(shapes, base).mutations(constraint), TRIES)):
        path = tmp_path / f"mutated{i}.nt"
        path.write_text(mutated.text(), "utf-8")
        try:
            store = _store(mutated)
        except SyntaxError:  # not even RDF: not proven either
            assert not prove(path, shapes=every_shape).conforms
            continue
        found = _violations(store, checks)
        if not found:
            continue  # not a violation after all (the exact engine decides)
        kept += 1
        alone = prove(path, shapes=isolated)
        assert not alone.conforms, (sorted(found), mutated.changes(base))
        if kept == 1:  # with all the shapes: the same violations among others, not proven
            everything = {v.key for v in validate_store(store).results}
            assert found <= everything
            assert not prove(path, shapes=every_shape).conforms, mutated.changes(base)
            assert not prove(path, shapes=every_shape, jobs=2).conforms, mutated.changes(base)
        if kept == KEPT:
            break
    assert kept, f"none of {TRIES} mutations of {constraint.id} is a violation"
