"""The streaming proof (gff2rdf.shacl.proof): it proves converted genomes conform, and it never
proves a graph that the exact engine finds a violation in.

Soundness is tested the way tests/shacl/test_shacl.py tests the rules: every rule's mutation of a
correct graph (the tomato fixture), alone and all at once, in the converter's line order and in
Oxigraph's, in one part and in two. Each must be handed over to the exact engine, which then
reports exactly what it reports without the proof.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest

import gff2rdf.shacl.proof as fast
import gff2rdf.shacl.proof_pass as fast_pass
from gff2rdf.shacl.chunked import validate_lines
from gff2rdf.shacl.proof import prove
from gff2rdf.shacl.proof_compile import _plan
from gff2rdf.shacl.proof_natives import _NATIVE
from gff2rdf.shacl.shapes import load_shapes
from gff2rdf.shacl.validate import validate_rdf
from tests.conftest import DATA
from tests.shacl.test_shacl import MUTATIONS, PICK, SMALL_CORPUS, _nt, _store, _text, corpus, tomato

__all__ = ["corpus", "tomato"]  # fixtures shared with test_shacl.py


@pytest.fixture
def two_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let small files be read in two parts, as genomes are."""
    monkeypatch.setattr(fast, "PART_MIN", 0)


def _write(tmp_path: Path, text: str, name: str = "data.nt") -> Path:
    path = tmp_path / name
    path.write_text(text, "utf-8")
    return path


def test_converted_data_is_proven_in_one_part_and_in_two(tomato: str, tmp_path: Path,
                                                         two_parts: None) -> None:
    path = _write(tmp_path, tomato)
    one, two = prove(path), prove(path, jobs=2)
    assert one.conforms and two.conforms, (one.reason, two.reason)
    assert one.triples == two.triples == len(tomato.splitlines())
    assert one.subjects == two.subjects > 100
    # Oxigraph's order: positions after the regions that use them, sequences in between
    reordered = _write(tmp_path, _text(_store(tomato)), "reordered.nt")
    assert prove(reordered).conforms and prove(reordered, jobs=2).conforms


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda m: m.__name__)
def test_no_mutation_is_ever_proven(mutate: Callable[[ox.Store], object], tomato: str,
                                    tmp_path: Path, two_parts: None) -> None:
    store = _store(tomato)
    mutate(store)
    path = _write(tmp_path, _text(store))
    for jobs in (1, 2):
        proof = prove(path, jobs=jobs)
        assert not proof.conforms and proof.reason, jobs


def test_every_mutation_at_once_across_picks_is_handed_over(tomato: str, tmp_path: Path,
                                                            two_parts: None) -> None:
    """Mutations spread over other nodes (PICK), in the converter's order of subjects."""
    lines = tomato.splitlines(keepends=True)
    order = {}
    for n, line in enumerate(lines):
        order.setdefault(line.split(" ", 1)[0], n)
    for pick in (3, 11):
        for i, mutate in enumerate(MUTATIONS):
            PICK[0] = pick + 5 * i
            store = _store(tomato)
            try:
                mutate(store)
            finally:
                PICK[0] = 0
            # back in the converter's subject order, each subject's lines together
            dumped = _text(store).splitlines(keepends=True)
            dumped.sort(key=lambda line: order.get(line.split(" ", 1)[0], len(lines)))
            path = _write(tmp_path, "".join(dumped), f"m{pick}-{i}.nt")
            assert not prove(path, jobs=2).conforms, (pick, mutate.__name__)


def test_validate_rdf_uses_the_proof_and_else_the_exact_engine(tomato: str,
                                                               tmp_path: Path) -> None:
    good = validate_rdf(_write(tmp_path, tomato))
    assert good.conforms and "streaming proof" in good.engine and good.triples > 1000
    store = _store(tomato)
    MUTATIONS[0](store)
    bad_path = _write(tmp_path, _text(store), "bad.nt")
    bad = validate_rdf(bad_path)
    assert not bad.conforms and "chunk" in bad.engine
    assert bad.violation_keys() == validate_lines(bad_path).violation_keys()
    assert any("streaming proof stopped" in note for note in bad.notes)


def test_progress_counts_the_bytes_read_by_every_pass(tomato: str, tmp_path: Path,
                                                     two_parts: None) -> None:
    path = _write(tmp_path, tomato)
    for jobs in (1, 2):
        seen: list[int] = []
        assert prove(path, jobs=jobs, progress=seen.append).conforms
        assert seen and seen == sorted(seen) and seen[-1] == path.stat().st_size, jobs
    # handed over: the proof's pass, then the exact engine's, from the start again
    store = _store(tomato)
    MUTATIONS[0](store)
    bad = _write(tmp_path, _text(store), "bad.nt")
    seen = []
    assert not validate_rdf(bad, progress=seen.append).conforms
    again = [i for i in range(1, len(seen)) if seen[i] < seen[i - 1]]
    assert len(again) == 1, seen
    assert seen[again[0] - 1] > 0 and seen[-1] == bad.stat().st_size


def test_what_the_proof_hands_over(tomato: str, tmp_path: Path) -> None:
    lines = tomato.splitlines(keepends=True)
    cases = {
        "not together": tomato + lines[0],  # the first subject comes back at the end
        "subClassOf": tomato + "<urn:a> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
                               "<urn:b> .\n",
        "does not check: b'<urn:b> <urn:g>": tomato + "<urn:a> <urn:p> <urn:b> <urn:g> .\n",
        "does not check": tomato + "<urn:a> <urn:p> <urn:b\\u0041> .\n",
    }
    # what Oxigraph's parser refuses must not be proven: IRIs it rejects, a bad escape
    for bad in ("<urn:a|b>", "<urn:a%zz>", "<relative>", "<http://[::1>", '"a\\qb"',
                '"x"^^<not an iri>', "_:"):
        with pytest.raises(SyntaxError):
            ox.Store().load(f"<urn:s> <urn:p> {bad} .\n".encode(), format=ox.RdfFormat.N_TRIPLES)
        proof = prove(_write(tmp_path, tomato + f"<urn:s> <urn:p> {bad} .\n"))
        assert not proof.conforms and ("does not check" in proof.reason or
                                       "not a plain" in proof.reason), (bad, proof.reason)
    for expected, text in cases.items():
        proof = prove(_write(tmp_path, text))
        assert not proof.conforms and expected in proof.reason, (expected, proof.reason)
    latin1 = tmp_path / "latin1.nt"
    latin1.write_bytes(tomato.encode("utf-8") + b'<urn:s> <urn:p> "caf\xe9" .\n')
    assert "does not check" in prove(latin1).reason  # not UTF-8
    # comments, blank lines, N-Quads and gzip are read
    quads = "".join(f"{line[:-3]} <urn:g> .\n" for line in lines)
    assert prove(_write(tmp_path, "# a comment\n\n" + tomato)).conforms
    assert prove(_write(tmp_path, quads, "data.nq"), "nq").conforms
    bad_graph = quads + "<urn:s> <urn:p> <urn:o> <urn:g|h> .\n"
    assert not prove(_write(tmp_path, bad_graph, "bad.nq"), "nq").conforms
    gz = tmp_path / "data.nt.gz"
    gz.write_bytes(gzip.compress(tomato.encode("utf-8")))
    assert prove(gz).conforms


def test_a_changed_sparql_rule_sends_the_shapes_to_the_exact_engine(tomato: str,
                                                                    tmp_path: Path) -> None:
    """The Python equivalents are bound to the exact text of each rule: a changed rule is
    evaluated by the exact engine until its equivalent is brought in line."""
    import rdflib

    shapes = load_shapes()
    select = rdflib.URIRef("http://www.w3.org/ns/shacl#select")
    rule = rdflib.URIRef("https://w3id.org/gff2rdf/shapes#RegionOrder")
    text = str(shapes.value(rule, select))
    shapes.set((rule, select, rdflib.Literal(text.replace("?begin > ?end", "?begin >= ?end"))))
    proof = prove(_write(tmp_path, tomato), shapes=shapes)
    assert not proof.conforms and "SPARQL constraint" in proof.reason


G2RS = "https://w3id.org/gff2rdf/shapes#"


@pytest.mark.parametrize("change, expected", [
    # patterns that Python's re and Oxigraph's regex crate read differently, or only one reads
    (("GenomeMetadataShape-sha256_form", "pattern", '"^[0-9a-f&&[^x]]{64}$"'), "sh:pattern"),
    (("GenomeMetadataShape-sha256_form", "pattern", '"^\\\\p{Ll}{64}$"'), "sh:pattern"),
    (("GenomeMetadataShape-sha256_form", "pattern", '"^[0-9a-f]{64}\\\\Z"'), "sh:pattern"),
    (("GenomeMetadataShape-sha256_form", "pattern", '"^\\\\d{64}$"'), "sh:pattern"),
    (("GenomeMetadataShape-sha256_form", "pattern", '"^(?=[0-9])[0-9a-f]{64}$"'), "sh:pattern"),
    # values conforming to a sibling's qualified shape would not count
    (("FaldoPositionShape-strand", "qualifiedValueShapesDisjoint", "true"), "Disjoint"),
    # a property shape as a nested shape: its constraints are on its path's values
    (("FeatureShape-part_of", "node", "<https://w3id.org/gff2rdf/shapes#DefinedNodeShape-type>"),
     "a property shape as the value of sh:node"),
], ids=["set-operation", "unicode-class", "end-of-text", "digit-class", "lookahead",
        "disjoint", "property-shape-as-node"])
def test_shapes_the_proof_cannot_evaluate_as_oxigraph_does_are_handed_over(
        change: tuple[str, str, str], expected: str, tomato: str, tmp_path: Path) -> None:
    import rdflib

    shapes = load_shapes()
    shape, parameter, value = change
    node = rdflib.URIRef(G2RS + shape)
    predicate = rdflib.URIRef("http://www.w3.org/ns/shacl#" + parameter)
    shapes.remove((node, predicate, None))
    shapes.parse(data=f"<{node}> <{predicate}> {value} .", format="turtle")
    proof = prove(_write(tmp_path, tomato), shapes=shapes)
    assert not proof.conforms and "the shapes use" in proof.reason, proof.reason
    assert expected in proof.reason, proof.reason


def test_every_shipped_rule_has_its_python_equivalent() -> None:
    plan = _plan()
    natives = [n for shape in plan.shapes for n in shape.natives]
    assert len(natives) == len(_NATIVE) == 3


@pytest.mark.parametrize("name", SMALL_CORPUS)
def test_corpus_files_are_proven(corpus: dict[str, Path], name: str, two_parts: None) -> None:
    path = corpus[name]
    assert validate_lines(path).conforms
    for jobs in (1, 2):
        proof = prove(path, jobs=jobs)
        assert proof.conforms, (jobs, proof.reason)


def test_a_node_needed_far_below_its_triples_is_handed_over(tomato: str, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    monkeypatch.setattr(fast_pass, "WINDOW", 5)
    proof = prove(_write(tmp_path, _nt(DATA / "tomato_ITAG2.3_test.gff3", tmp_path)
                         .read_text("utf-8")))
    assert not proof.conforms and "subjects after its triples" in proof.reason


def test_a_part_that_dies_hands_the_file_over(tomato: str, tmp_path: Path, two_parts: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    monkeypatch.setattr(fast, "_scan", lambda *args: os._exit(3))  # as if killed
    proof = prove(_write(tmp_path, tomato), jobs=2)
    assert not proof.conforms and "ended early" in proof.reason
