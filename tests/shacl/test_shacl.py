"""The SHACL shapes: generation, targets, one test per rule, and the two engines agreeing.

Every rule test mutates a correct graph converted from a real fixture (tests/data/
tomato_ITAG2.3_test.gff3: both strands, Ontology_term) and expects exactly the violations of
that rule. The differential tests apply every mutation at once and hold the SPARQL engine
(whole, in small chunks, on shuffled lines) to pySHACL's verdicts.
"""

from __future__ import annotations

import importlib.util
import random
import sys
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff3Error, ShapesError
from gff2rdf.shacl.chunked import validate_lines
from gff2rdf.shacl.shapes import SH, load_shapes, pyshacl_validate, shapes_dir, shapes_version
from gff2rdf.shacl.sparql import compile_checks
from tests.conftest import DATA, ROOT, Converted, shared

G2RS = "https://w3id.org/gff2rdf/shapes#"
FALDO = "http://biohackathon.org/resource/faldo#"
G2R = "https://w3id.org/gff2rdf/vocab#"
PREFIXES = f"""PREFIX faldo: <{FALDO}> PREFIX g2r: <{G2R}>
PREFIX so: <http://purl.obolibrary.org/obo/so#> PREFIX obo: <http://purl.obolibrary.org/obo/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX up: <http://purl.uniprot.org/core/>
PREFIX dcat: <http://www.w3.org/ns/dcat#> """


def _nt(source: Path, tmp: Path) -> Path:
    out = tmp / (source.name + ".nt")
    try:
        convert(source, out, species="Solanum lycopersicum", taxon="4081",
                assembly="SL2.40", annotation="ITAG2.3")
    except Gff3Error:
        convert(source, out, lenient=True)
    return out


@pytest.fixture(scope="module")
def tomato(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The correct graph every rule test mutates, as N-Triples text."""
    path = _nt(DATA / "tomato_ITAG2.3_test.gff3", tmp_path_factory.mktemp("tomato"))
    return path.read_text("utf-8")


def _store(text: str) -> ox.Store:
    store = ox.Store()
    store.load(text.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES)
    return store


def _text(store: ox.Store) -> str:
    return store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()).decode("utf-8")


PICK = [0]  # which solution mutations take: the combined graph spreads them over nodes


def _one(store: ox.Store, where: str, *names: str) -> list[str]:
    """One solution (the first in IRI order, or the PICK-th) of a selection, as terms."""
    query = f"{PREFIXES} SELECT DISTINCT {' '.join('?' + n for n in names)} WHERE {{ {where} }} " \
            f"ORDER BY {' '.join('?' + n for n in names)}"
    rows = list(store.query(query))
    assert rows, f"no node for the mutation: {where}"
    row = rows[PICK[0] % len(rows)]
    return [str(row[n]) for n in names]


def _found(path: Path, **options: int) -> set[tuple[str, str, str]]:
    report = validate_lines(path, **options)  # type: ignore[arg-type]
    return {(v.focus, v.shape.removeprefix(G2RS), (v.constraint or v.component).split("#")[-1])
            for v in report.results}


# -- the rule mutations: each returns the violations it must cause ---------------------------

Expected = set[tuple[str, str, str]]
FORWARD = "?b a faldo:ForwardStrandPosition"
ONLY_BEGIN = "FILTER NOT EXISTS { ?x faldo:end ?b }"


def region_two_begins(s: ox.Store) -> Expected:
    r, e = _one(s, f"?r faldo:begin ?b ; faldo:end ?e . {FORWARD}", "r", "e")
    s.update(f"INSERT DATA {{ {r} <{FALDO}begin> {e} }}")
    return {(r, "RegionShape-begin", "MaxCountConstraintComponent")}


def region_without_begin(s: ox.Store) -> Expected:
    (r,) = _one(s, "?r faldo:begin ?b", "r")
    s.update(f"DELETE WHERE {{ {r} <{FALDO}begin> ?b }}")
    return {(r, "FaldoRegionShape-begin", "MinCountConstraintComponent")}


def region_without_end(s: ox.Store) -> Expected:
    (r,) = _one(s, "?r faldo:end ?e", "r")
    s.update(f"DELETE WHERE {{ {r} <{FALDO}end> ?e }}")
    return {(r, "FaldoRegionShape-end", "MinCountConstraintComponent")}


def position_two_values(s: ox.Store) -> Expected:
    (b,) = _one(s, f"?r faldo:begin ?b . {FORWARD} {ONLY_BEGIN}", "b")
    s.update(f"INSERT DATA {{ {b} <{FALDO}position> 1 }}")
    return {(b, "ExactPositionShape-position", "MaxCountConstraintComponent")}


def position_without_value(s: ox.Store) -> Expected:
    (b,) = _one(s, "?r faldo:begin ?b", "b")
    s.update(f"DELETE WHERE {{ {b} <{FALDO}position> ?v }}")
    return {(b, "FaldoPositionShape-position", "MinCountConstraintComponent")}


def position_not_integer(s: ox.Store) -> Expected:
    (b,) = _one(s, "?r faldo:begin ?b", "b")
    s.update(f'DELETE {{ {b} <{FALDO}position> ?v }} INSERT {{ {b} <{FALDO}position> "12" }} '
             f'WHERE {{ {b} <{FALDO}position> ?v }}')
    return {(b, "ExactPositionShape-position", "DatatypeConstraintComponent"),
            (b, "FaldoPositionShape-position-range", "MinInclusiveConstraintComponent")}


def position_zero(s: ox.Store) -> Expected:
    (b,) = _one(s, f"?r faldo:begin ?b . {FORWARD} {ONLY_BEGIN}", "b")
    s.update(f"DELETE {{ {b} <{FALDO}position> ?v }} INSERT {{ {b} <{FALDO}position> 0 }} "
             f"WHERE {{ {b} <{FALDO}position> ?v }}")
    return {(b, "FaldoPositionShape-position-range", "MinInclusiveConstraintComponent")}


def position_without_reference(s: ox.Store) -> Expected:
    (b,) = _one(s, "?r faldo:begin ?b", "b")
    s.update(f"DELETE WHERE {{ {b} <{FALDO}reference> ?q }}")
    return {(b, "FaldoPositionShape-reference", "MinCountConstraintComponent")}


def _swap(s: ox.Store, strand: str) -> Expected:
    r, b, e = _one(s, f"?r faldo:begin ?b ; faldo:end ?e . ?b a faldo:{strand} . "
                      "?b faldo:position ?p . ?e faldo:position ?q FILTER (?p != ?q)",
                   "r", "b", "e")
    s.update(f"DELETE DATA {{ {r} <{FALDO}begin> {b} . {r} <{FALDO}end> {e} }} ; "
             f"INSERT DATA {{ {r} <{FALDO}begin> {e} . {r} <{FALDO}end> {b} }}")
    return {(r, "FaldoRegionShape", "RegionOrder")}


def begin_after_end_forward(s: ox.Store) -> Expected:
    return _swap(s, "ForwardStrandPosition")


def begin_before_end_reverse(s: ox.Store) -> Expected:
    return _swap(s, "ReverseStrandPosition")


def position_forward_and_reverse(s: ox.Store) -> Expected:
    r, e = _one(s, "?r faldo:end ?e . ?e a faldo:ForwardStrandPosition "
                   "FILTER NOT EXISTS { ?x faldo:begin ?e } "
                   "FILTER NOT EXISTS { ?y faldo:end ?e FILTER (?y != ?r) }", "r", "e")
    s.update(f"INSERT DATA {{ {e} a <{FALDO}ReverseStrandPosition> }}")
    return {(e, "FaldoPositionShape-strand", "QualifiedMaxCountConstraintComponent"),
            (r, "FaldoRegionShape", "RegionOneStrand")}


def _replace_end(s: ox.Store, strand: str | None = None, reference: str | None = None) -> str:
    r, e = _one(s, f"?r faldo:end ?e ; faldo:begin ?b . {FORWARD}", "r", "e")
    new = "<urn:test:end>"
    s.update(f"INSERT {{ {new} ?p ?o }} WHERE {{ {e} ?p ?o }}")
    if strand:
        s.update(f"DELETE DATA {{ {new} a <{FALDO}ForwardStrandPosition> }} ; "
                 f"INSERT DATA {{ {new} a <{FALDO}{strand}> }}")
    if reference:
        s.update(f"DELETE WHERE {{ {new} <{FALDO}reference> ?q }} ; "
                 f"INSERT DATA {{ {new} <{FALDO}reference> {reference} . "
                 f"{reference} a <http://purl.obolibrary.org/obo/SO_0000340> }}")
    s.update(f"DELETE DATA {{ {r} <{FALDO}end> {e} }} ; INSERT DATA {{ {r} <{FALDO}end> {new} }}")
    return r


def begin_and_end_on_two_strands(s: ox.Store) -> Expected:
    r = _replace_end(s, strand="ReverseStrandPosition")
    return {(r, "FaldoRegionShape", "RegionOneStrand")}


def begin_and_end_on_two_sequences(s: ox.Store) -> Expected:
    r = _replace_end(s, reference="<urn:test:other-chromosome>")
    return {(r, "FaldoRegionShape", "RegionOneReference")}


def feature_two_locations(s: ox.Store) -> Expected:
    f, other = _one(s, "?f g2r:gffId ?id ; faldo:location ?l . ?o a faldo:Region "
                       "FILTER (?o != ?l)", "f", "o")
    s.update(f"INSERT DATA {{ {f} <{FALDO}location> {other} }}")
    return {(f, "SequenceFeatureShape-location", "MaxCountConstraintComponent")}


def feature_without_location(s: ox.Store) -> Expected:
    (f,) = _one(s, "?f g2r:gffId ?id ; faldo:location ?l", "f")
    s.update(f"DELETE WHERE {{ {f} <{FALDO}location> ?l }}")
    return {(f, "FeatureShape-location", "MinCountConstraintComponent")}


def feature_without_so_class(s: ox.Store) -> Expected:
    # a leaf: an untyped parent also fails its children's part_of rule ("has no rdf:type here")
    (f,) = _one(s, "?f g2r:gffId ?id ; faldo:location ?l FILTER NOT EXISTS { ?c so:part_of ?f } "
                   "FILTER NOT EXISTS { ?d so:derives_from ?f }", "f")
    s.update(f"DELETE WHERE {{ {f} a ?t }}")
    return {(f, "FeatureShape", "OrConstraintComponent")}


def part_of_target_missing(s: ox.Store) -> Expected:
    f, p = _one(s, "?f so:part_of ?p ; g2r:gffId ?id", "f", "p")
    s.update(f"DELETE DATA {{ {f} <http://purl.obolibrary.org/obo/so#part_of> {p} }} ; "
             f"INSERT DATA {{ {f} <http://purl.obolibrary.org/obo/so#part_of> <urn:test:gone> }}")
    return {(f, "FeatureShape-part_of", "NodeConstraintComponent")}


def derives_from_target_missing(s: ox.Store) -> Expected:
    (f,) = _one(s, "?f g2r:gffId ?id ; a obo:SO_0000234", "f")
    s.update(f"INSERT DATA {{ {f} <http://purl.obolibrary.org/obo/so#derives_from> "
             "<urn:test:gone> }")
    return {(f, "FeatureShape-derives_from", "NodeConstraintComponent")}


def dbxref_as_literal(s: ox.Store) -> Expected:
    (f,) = _one(s, "?f g2r:gffId ?id ; a obo:SO_0000704", "f")
    s.update(f'INSERT DATA {{ {f} <http://www.w3.org/2000/01/rdf-schema#seeAlso> '
             '"UniProtKB:Q5MK24" }')
    return {(f, "SequenceFeatureShape-see_also", "NodeKindConstraintComponent")}


def ontology_term_as_literal(s: ox.Store) -> Expected:
    f, t = _one(s, "?f up:classifiedWith ?t", "f", "t")
    s.update(f"DELETE DATA {{ {f} <http://purl.uniprot.org/core/classifiedWith> {t} }} ; "
             f'INSERT DATA {{ {f} <http://purl.uniprot.org/core/classifiedWith> "GO:0005634" }}')
    return {(f, "SequenceFeatureShape-classified_with", "NodeKindConstraintComponent")}


def _drop_metadata(s: ox.Store, predicate: str, shape: str) -> Expected:
    (d,) = _one(s, "?d a dcat:Dataset", "d")
    s.update(f"DELETE WHERE {{ {d} <{G2R}{predicate}> ?v }}")
    return {(d, shape, "MinCountConstraintComponent")}


def no_source_checksum(s: ox.Store) -> Expected:
    return _drop_metadata(s, "sourceSha256", "GenomeMetadataShape-source_sha256")


def no_code_version(s: ox.Store) -> Expected:
    return _drop_metadata(s, "codeVersion", "GenomeMetadataShape-code_version")


def no_schema_version(s: ox.Store) -> Expected:
    return _drop_metadata(s, "schemaVersion", "GenomeMetadataShape-schema_version")


def no_genome_description(s: ox.Store) -> Expected:
    (a,) = _one(s, "?a a obo:SO_0001248", "a")
    s.update("DELETE WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; ?p ?o }")
    return {(a, "GenomeGraphShape-described", "MinCountConstraintComponent")}


MUTATIONS: list[Callable[[ox.Store], Expected]] = [
    region_two_begins, region_without_begin, region_without_end, position_two_values,
    position_without_value, position_not_integer, position_zero, position_without_reference,
    begin_after_end_forward, begin_before_end_reverse, position_forward_and_reverse,
    begin_and_end_on_two_strands, begin_and_end_on_two_sequences, feature_two_locations,
    feature_without_location, feature_without_so_class, part_of_target_missing,
    derives_from_target_missing, dbxref_as_literal, ontology_term_as_literal,
    no_source_checksum, no_code_version, no_schema_version, no_genome_description,
]


def test_the_unmutated_graph_conforms(tomato: str, tmp_path: Path) -> None:
    path = tmp_path / "tomato.nt"
    path.write_text(tomato, "utf-8")
    assert _found(path) == set()


@pytest.mark.parametrize("mutate", MUTATIONS, ids=lambda m: m.__name__)
def test_each_rule_reports_exactly_its_violation(mutate: Callable[[ox.Store], Expected],
                                                 tomato: str, tmp_path: Path) -> None:
    store = _store(tomato)
    expected = mutate(store)
    path = tmp_path / "mutated.nt"
    path.write_text(_text(store), "utf-8")
    assert _found(path) == expected  # in chunks: test_chunked_verdicts_equal_whole_graph_...


# -- the engines agree -----------------------------------------------------------------------


def _all_mutations(tomato: str) -> str:
    store = _store(tomato)
    try:
        for i, mutate in enumerate(MUTATIONS):
            PICK[0] = 7 * i
            mutate(store)
    finally:
        PICK[0] = 0
    return _text(store)


def test_sparql_engine_agrees_with_pyshacl_on_every_rule(tomato: str, tmp_path: Path) -> None:
    text = _all_mutations(tomato)
    path = tmp_path / "all.nt"
    path.write_text(text, "utf-8")
    reference = pyshacl_validate(rdflib.Graph().parse(data=text, format="nt"))
    assert len(reference.counts) >= 20  # nearly every rule broken somewhere
    whole = validate_lines(path)
    assert whole.violation_keys() == reference.violation_keys()
    assert whole.counts == reference.counts
    assert {v.rule for v in reference.results} >= {
        (G2RS + "FaldoRegionShape", G2RS + "RegionOrder", ""),
        (G2RS + "FeatureShape", SH + "OrConstraintComponent", ""),
    }


@pytest.mark.parametrize("chunk_bytes, context_lines", [(15_000, 0), (40_000, 25),
                                                        (120_000, 3)])
def test_chunked_verdicts_equal_whole_graph_verdicts(tomato: str, tmp_path: Path,
                                                     chunk_bytes: int,
                                                     context_lines: int) -> None:
    path = tmp_path / "all.nt"
    path.write_text(_all_mutations(tomato), "utf-8")
    whole = validate_lines(path)
    chunked = validate_lines(path, chunk_bytes=chunk_bytes, context_lines=context_lines,
                             threads=chunk_bytes != 15_000)
    assert chunked.violation_keys() == whole.violation_keys()
    assert chunked.counts == whole.counts


def test_shuffled_lines_split_every_subject_and_still_agree(tomato: str, tmp_path: Path) -> None:
    """Lines in random order: subjects split over chunks, links to later chunks everywhere."""
    lines = _all_mutations(tomato).splitlines(keepends=True)
    random.Random(7).shuffle(lines)
    path = tmp_path / "shuffled.nt"
    path.write_text("".join(lines), "utf-8")
    whole = validate_lines(path)
    chunked = validate_lines(path, chunk_bytes=60_000, context_lines=50)
    assert chunked.violation_keys() == whole.violation_keys()
    assert "re-reading the file" in " ".join(chunked.notes)


def test_nquads_gzip_and_turtle_give_the_same_verdicts(tomato: str, tmp_path: Path) -> None:
    import gzip

    from gff2rdf.shacl.validate import validate_rdf

    store = _store(_all_mutations(tomato))
    nt = tmp_path / "all.nt"
    nt.write_bytes(store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.DefaultGraph()))
    expected = validate_rdf(nt).violation_keys()
    quads = ox.Dataset()
    for i, q in enumerate(store):
        quads.add(ox.Quad(q.subject, q.predicate, q.object,
                          ox.NamedNode(f"urn:test:g{i % 3}")))
    nq = tmp_path / "all.nq.gz"
    with gzip.open(nq, "wb") as out:
        ox.serialize(quads, out, format=ox.RdfFormat.N_QUADS)
    ttl = tmp_path / "all.ttl"
    ttl.write_bytes(store.dump(format=ox.RdfFormat.TURTLE, from_graph=ox.DefaultGraph()))
    assert validate_rdf(nq).violation_keys() == expected
    assert validate_rdf(nq, chunk_bytes=30_000).violation_keys() == expected
    assert validate_rdf(ttl).violation_keys() == expected


def test_large_turtle_is_streamed_to_lines_and_chunked(tomato: str, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import gff2rdf.shacl.validate as validate

    store = _store(_all_mutations(tomato))
    ttl = tmp_path / "all.ttl"
    ttl.write_bytes(store.dump(format=ox.RdfFormat.TURTLE, from_graph=ox.DefaultGraph()))
    expected = validate.validate_rdf(ttl).violation_keys()
    monkeypatch.setattr(validate, "WHOLE_LIMIT", 0)
    streamed = validate.validate_rdf(ttl, chunk_bytes=50_000)
    assert streamed.violation_keys() == expected
    assert streamed.source == str(ttl) and "chunk" in streamed.engine


def test_subclass_triples_in_the_data_are_followed(tomato: str, tmp_path: Path) -> None:
    """sh:targetClass and sh:class follow rdfs:subClassOf* when the data has it, as pySHACL."""
    store = _store(tomato)
    (r,) = _one(store, "?r a faldo:Region", "r")
    store.update(f"DELETE DATA {{ {r} a <{FALDO}Region> }} ; INSERT DATA {{ {r} a <urn:test:R> . "
                 f"<urn:test:R> <http://www.w3.org/2000/01/rdf-schema#subClassOf> "
                 f"<{FALDO}Region> }} ; DELETE WHERE {{ {r} <{FALDO}begin> ?b }}")
    text = _text(store)
    path = tmp_path / "sub.nt"
    path.write_text(text, "utf-8")
    reference = pyshacl_validate(rdflib.Graph().parse(data=text, format="nt"))
    assert (r, G2RS + "FaldoRegionShape-begin",
            SH + "MinCountConstraintComponent") in {v.key[:3] for v in reference.results}
    assert validate_lines(path).violation_keys() == reference.violation_keys()
    chunked = validate_lines(path, chunk_bytes=40_000)
    assert chunked.violation_keys() == reference.violation_keys()


# -- the shared corpus ---------------------------------------------------------------------

SMALL_CORPUS = ["agat__Athaliana_EnsemblPlants_Araport11_Mt_35_test.gff",
                "agat__Athaliana_NCBI_formatter0.2_9_test.gff", "jcvi__sample_TAIR10_Chr2.gff",
                "mikado__reference_TAIR10_Chr5.gff3"]


@pytest.fixture(scope="module")
def corpus(corpus_nt: Callable[[str], Converted]) -> dict[str, Path]:
    """Every file of ../shared/data/gff3 converted (leniently where it fails by design), once a
    session (``corpus_nt``)."""
    return {p.name: corpus_nt(f"gff3/{p.name}").nt for p in sorted(shared("gff3").glob("*.gff*"))}


def test_every_corpus_file_converts_to_conforming_rdf(corpus: dict[str, Path]) -> None:
    failures = {}
    for name, path in corpus.items():
        report = validate_lines(path)
        if not report.conforms:
            failures[name] = report.summary(2)
    assert not failures, "\n".join(failures.values())


@pytest.mark.parametrize("name", SMALL_CORPUS)
def test_pyshacl_agrees_on_corpus_files(corpus_nt: Callable[[str], Converted], name: str) -> None:
    path = corpus_nt(f"gff3/{name}").nt
    reference = pyshacl_validate(rdflib.Graph().parse(path, format="nt"))
    assert validate_lines(path).violation_keys() == reference.violation_keys() == set()


def test_every_shape_targets_nodes_of_converted_data(corpus: dict[str, Path]) -> None:
    """Shapes whose targets miss the data judge nothing: the SO:/so: prefix mix-up once made
    invalid data "conform". Every shape must reach focus nodes in the converted corpus, and
    every target class must be a term of the SO shipped with gff2rdf or of FALDO/DCAT."""
    from gff2rdf.mapping.sotypes import SequenceOntology

    store = ox.Store()
    for path in corpus.values():
        if path.stat().st_size < 50 << 20:  # the 110k-line RefSeq file adds no class, only time
            store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    occurring = {str(r["t"].value) for r in store.query("SELECT DISTINCT ?t WHERE { ?s a ?t }")}
    shapes = load_shapes()
    sh = rdflib.Namespace(SH)
    so = SequenceOntology.load()
    faldo_terms = {str(s) for s in rdflib.Graph().parse(
        shared("ontologies", "faldo.ttl")).subjects()}
    for shape, cls in shapes.subject_objects(sh.targetClass):
        text = str(cls)
        if text.startswith("http://purl.obolibrary.org/obo/SO_"):
            term = so.terms.get("SO:" + text.rsplit("_", 1)[1])
            assert term is not None and not term.obsolete, f"{shape}: {text} is not in the SO"
        elif text.startswith(FALDO):
            assert text in faldo_terms, f"{shape}: {text} is not a FALDO class"
        else:
            assert text in occurring, f"{shape}: nothing in the data is a {text}"
    missed = []
    for check in compile_checks(shapes):
        query = f"ASK {{ {check.targets} }}"
        if not store.query(query):
            missed.append(check.node_shape)
    assert not missed, f"shapes that reach no node of the converted corpus: {sorted(set(missed))}"
    # the classes the converter emits most are targeted by the schema's own shape
    gene = "http://purl.obolibrary.org/obo/SO_0000704"
    assert gene in occurring
    assert (rdflib.URIRef(G2RS + "SequenceFeatureShape"), sh.targetClass,
            rdflib.URIRef(gene)) in shapes


# -- the shapes themselves -------------------------------------------------------------------


def _generator() -> object:
    pytest.importorskip("linkml")
    spec = importlib.util.spec_from_file_location("gen_shapes", ROOT / "tools" / "gen_shapes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_shapes"] = module
    spec.loader.exec_module(module)
    return module


def test_generated_shapes_are_up_to_date_with_the_schema() -> None:
    gen = _generator()
    fresh = gen.generate()  # type: ignore[attr-defined]
    committed = (shapes_dir() / "generated.ttl").read_text("utf-8")
    assert committed == fresh, "shapes/generated.ttl is out of date: run make shapes"


def test_generated_shapes_are_open_and_named_apart_from_classes() -> None:
    graph = rdflib.Graph().parse(shapes_dir() / "generated.ttl")
    sh = rdflib.Namespace(SH)
    assert (None, sh.closed, rdflib.Literal(True)) not in graph
    classes = set(graph.objects(None, sh.targetClass))
    for shape in graph.subjects(rdflib.RDF.type, sh.NodeShape):
        assert str(shape).startswith(G2RS) and shape not in classes
    assert not list(graph.subjects(sh.node, None)), "ranges must be sh:class, not sh:node"


def test_generation_refuses_targets_outside_the_schema_namespaces(tmp_path: Path) -> None:
    """The SO:/so: trap: a second prefix expanding SO: into obo/so# must fail generation."""
    gen = _generator()
    schema = (ROOT / "ontology" / "gff2rdf.yaml").read_text("utf-8")
    bad = schema.replace("class_uri: obo:SO_0000704", "class_uri: so:SO_0000704")
    path = tmp_path / "bad.yaml"
    path.write_text(bad, "utf-8")
    with pytest.raises(gen.GenerationError, match="SO_0000704"):  # type: ignore[attr-defined]
        gen.generate(path)  # type: ignore[attr-defined]


def test_shapes_version_is_declared() -> None:
    version = shapes_version()
    assert version and version[0].isdigit()
    graph = rdflib.Graph().parse(shapes_dir() / "generated.ttl")
    schema_version = graph.value(rdflib.URIRef("https://w3id.org/gff2rdf/shapes/generated"),
                                 rdflib.URIRef(G2R + "schemaVersion"))
    from gff2rdf.mapping.schema import compile_mapping

    assert str(schema_version) == compile_mapping().schema_version


def test_no_constraint_is_stated_twice_for_the_same_targets() -> None:
    """Hand-written rules add what the schema cannot say; they must not repeat it."""
    seen: dict[tuple[str, str, str, str], str] = {}
    for check in compile_checks():
        key = (check.targets, check.path or "", check.component, check.detail)
        assert key not in seen or check.constraint, \
            f"{check.shape} repeats {seen.get(key)} ({check.component})"
        seen[key] = check.shape


def test_a_feature_across_the_origin_of_a_circular_sequence_conforms(tmp_path: Path) -> None:
    """begin > end on the forward strand is allowed only on a circular sequence (hand-made:
    the phage f1 genome of the conformance corpus with a CDS across its origin)."""
    source = tmp_path / "circular.gff3"
    source.write_text("##gff-version 3\n"
                      "J02448\tGenBank\tregion\t1\t6407\t.\t+\t.\tID=J02448;Is_circular=true\n"
                      "J02448\tGenBank\tCDS\t6006\t100\t.\t+\t0\tID=geneII;Name=II\n", "utf-8")
    circular = tmp_path / "circular.nt"
    convert(source, circular)
    assert validate_lines(circular).conforms
    linear = tmp_path / "linear.nt"
    linear.write_text(circular.read_text("utf-8").replace(
        f'<{G2R}isCircular> "true"', f'<{G2R}isCircular> "false"'), "utf-8")
    report = validate_lines(linear)
    assert {(v.shape, v.constraint) for v in report.results} == {
        (G2RS + "FaldoRegionShape", G2RS + "RegionOrder")}
    reference = pyshacl_validate(rdflib.Graph().parse(linear, format="nt"))
    assert reference.violation_keys() == report.violation_keys()


def test_a_graph_of_a_store_is_validated_in_place(tmp_path: Path) -> None:
    """The hook for stores: validate_graph reads a genome graph and its metadata graph where
    they are (nothing is written), with the verdicts of the file engine."""
    from gff2rdf.shacl.oxigraph import validate_graph

    nq = tmp_path / "tomato.nq"
    convert(DATA / "tomato_ITAG2.3_test.gff3", nq, species="Solanum lycopersicum",
            taxon="4081", assembly="SL2.40", annotation="ITAG2.3")
    store = ox.Store()
    store.load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    genome = "https://w3id.org/gff2rdf/data/genome/solanum_lycopersicum/SL2.40/ITAG2.3"
    assert validate_graph(store, genome).conforms
    store.update(f"DELETE WHERE {{ GRAPH <{genome}> {{ ?r <{FALDO}begin> ?b }} }}")
    before = len(store)
    report = validate_graph(store, genome)
    assert len(store) == before
    assert {v.shape for v in report.results} == {G2RS + "FaldoRegionShape-begin"}
    dumped = tmp_path / "mutated.nq"
    dumped.write_bytes(store.dump(format=ox.RdfFormat.N_QUADS))
    assert validate_lines(dumped, "nq").violation_keys() == report.violation_keys()
    with pytest.raises(ShapesError, match="no graph"):
        validate_graph(store, genome + "/nothing")
