"""The embedded store: genome versions side by side, provenance, change management, drop, dump.

Crash safety, concurrent readers and locking are in test_store_crash.py; the remote Graph Store
Protocol loader is in test_store_endpoint.py.
"""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff2RdfError, Gff3Error, StoreError
from gff2rdf.mapping.schema import compile_mapping, default_schema_path
from gff2rdf.store.metadata import G2R
from gff2rdf.store.store import GenomeStore, current_graph
from tests.conftest import DATA

MIKADO = DATA / "tair10_chr5_mikado.gff3"
ENSEMBL = DATA / "arabidopsis_TAIR10_40_small.gff3"
BASE = "https://w3id.org/gff2rdf/data/"
META = BASE + "meta"
ATH = dict(species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10")
MIKADO_GENOME = BASE + "genome/arabidopsis_thaliana/TAIR10/mikado"
ENSEMBL_GENOME = BASE + "genome/arabidopsis_thaliana/TAIR10/Ensembl40"

POINTER_COUNT = f"""SELECT (COUNT(*) AS ?n) WHERE {{
  GRAPH <{META}> {{ <%s> <{G2R}currentBuild> ?g }}
  GRAPH ?g {{ ?s ?p ?o }} }}"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def quads(store_dir: Path) -> bytes:
    """Every quad of a store, byte for byte (after opening it the way load does)."""
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        return bytes(store.store.dump(format=ox.RdfFormat.N_QUADS))


def count(store: GenomeStore, genome: str) -> int:
    return int(next(iter(store.store.query(POINTER_COUNT % genome)))["n"].value)


@pytest.fixture
def two_versions(tmp_path: Path) -> Path:
    """A store with two Arabidopsis genome versions: mikado (TAIR10 chr5) and Ensembl 40."""
    path = tmp_path / "store"
    with GenomeStore.open(path) as store:
        assert store.load(MIKADO, annotation="mikado", **ATH).status == "loaded"
        assert store.load(ENSEMBL, annotation="Ensembl40", **ATH).status == "loaded"
    return path


def test_two_genome_versions_side_by_side(two_versions: Path) -> None:
    with GenomeStore.open(two_versions) as store:
        entries = {e.path: e for e in store.genomes()}
        assert set(entries) == {"arabidopsis_thaliana/TAIR10/mikado",
                                "arabidopsis_thaliana/TAIR10/Ensembl40"}
        for entry in entries.values():
            assert entry.current and entry.species == "Arabidopsis thaliana"
            assert entry.taxon == "3702" and entry.assembly == "TAIR10"
            assert entry.build == current_graph(store, entry.genome)
            assert entry.build.startswith(entry.genome + "/build/")
            assert store.triples_in(entry.build) == entry.triples > 1000
            assert count(store, entry.genome) == entry.triples  # the documented pattern
        mikado = entries["arabidopsis_thaliana/TAIR10/mikado"]
        ensembl = entries["arabidopsis_thaliana/TAIR10/Ensembl40"]
        assert mikado.source == MIKADO.name and ensembl.source == ENSEMBL.name
        assert len(store.genomes()) == 2 and store.garbage() == []
        # only the two builds, their bin indexes and the metadata graph
        graphs = {g.value for g in store.store.named_graphs()}
        assert graphs == {META, mikado.build, ensembl.build, mikado.build + "/bins",
                          ensembl.build + "/bins"}
        # each version's features are in its own graph, under its own IRIs
        rows = store.select(f"""SELECT ?genome (COUNT(?f) AS ?n) WHERE {{
            GRAPH <{META}> {{ ?genome <{G2R}currentBuild> ?g }}
            GRAPH ?g {{ ?f <http://purl.org/dc/terms/identifier> ?id }}
            FILTER(STRSTARTS(STR(?f), STR(?genome))) }} GROUP BY ?genome""")
        found = {r["genome"]: int(r["n"]) for r in rows}
        assert set(found) == {mikado.genome, ensembl.genome} and min(found.values()) > 40


def test_metadata_is_valid_prov_pav_void_dcat(two_versions: Path) -> None:
    with GenomeStore.open(two_versions) as store:
        def ask(pattern: str) -> bool:
            return bool(store.store.query(f"""PREFIX dcat: <http://www.w3.org/ns/dcat#>
                PREFIX void: <http://rdfs.org/ns/void#> PREFIX prov: <http://www.w3.org/ns/prov#>
                PREFIX pav: <http://purl.org/pav/> PREFIX dcterms: <http://purl.org/dc/terms/>
                PREFIX g2r: <{G2R}> PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
                ASK {{ GRAPH <{META}> {{ {pattern} }} }}"""))

        for genome in (MIKADO_GENOME, ENSEMBL_GENOME):
            g = f"<{genome}>"
            assert ask(f"<{META}> a dcat:Catalog ; dcat:dataset {g}")
            assert ask(f"{g} a dcat:Dataset, void:Dataset, prov:Entity ; dcterms:title ?t ; "
                       "g2r:species ?s ; pav:version ?a ; g2r:sourceSha256 ?h ; "
                       "g2r:codeVersion ?c ; g2r:schemaVersion ?v ; g2r:shapesVersion ?sv ; "
                       "void:triples ?n ; g2r:currentBuild ?b")
            assert ask(f"{g} dcterms:created ?t FILTER(datatype(?t) = xsd:dateTime)")
            assert ask(f"{g} prov:wasDerivedFrom ?src . ?src a prov:Entity ; dcterms:title ?f")
            assert ask(f"{g} g2r:currentBuild ?b . ?b a prov:Entity ; prov:specializationOf {g}"
                       " ; prov:wasGeneratedBy ?act ; pav:createdOn ?when ; pav:createdWith ?sw"
                       " ; void:triples ?n . ?act a prov:Activity ; prov:used ?in ; "
                       "prov:startedAtTime ?s ; prov:endedAtTime ?e ; prov:wasAssociatedWith ?sw"
                       " . ?in g2r:sourceSha256 ?h . ?sw a prov:SoftwareAgent")
            # per-SO-class counts: every partition has a class and a count, and they add up
            rows = store.select(f"""SELECT (SUM(?n) AS ?total) (COUNT(?p) AS ?parts) ?features
                WHERE {{ GRAPH <{META}> {{ <{genome}> <http://rdfs.org/ns/void#classPartition> ?p ;
                <http://rdfs.org/ns/void#entities> ?features .
                ?p <http://rdfs.org/ns/void#class> ?c ; <http://rdfs.org/ns/void#entities> ?n }}
                }} GROUP BY ?features""")
            assert int(rows[0]["parts"]) > 3
            assert int(rows[0]["total"]) >= int(rows[0]["features"]) > 0
            # no description left in the build graph
            build = current_graph(store, genome)
            assert not store.store.query(f"ASK {{ GRAPH <{build}> {{ <{genome}> ?p ?o }} }}")


def test_reload_unchanged_is_a_noop(two_versions: Path) -> None:
    before = quads(two_versions)
    with GenomeStore.open(two_versions) as store:
        result = store.load(MIKADO, annotation="mikado", **ATH)
    assert result.status == "unchanged" and "same source" in result.summary()
    assert quads(two_versions) == before
    code, _, err = run("load", str(MIKADO), "--store", str(two_versions), "--annotation",
                       "mikado", "--species", "Arabidopsis thaliana", "--taxon", "3702",
                       "--assembly", "TAIR10")
    assert code == 0 and "unchanged, nothing to do" in err
    assert quads(two_versions) == before


def test_changed_source_or_options_rebuild_and_say_why(two_versions: Path,
                                                       tmp_path: Path) -> None:
    changed = tmp_path / MIKADO.name
    changed.write_text(MIKADO.read_text().replace("\tCDS\t", "\tCDS\t", 1) + "###\n")
    with GenomeStore.open(two_versions) as store:
        old = current_graph(store, MIKADO_GENOME)
        result = store.load(changed, annotation="mikado", **ATH)
        assert result.status == "rebuilt" and "source changed (sha256" in result.reasons[0]
        assert result.previous_build == old != result.build
        assert current_graph(store, MIKADO_GENOME) == result.build
        graphs = {g.value for g in store.store.named_graphs()}
        # the old build and its bin index are gone; the new build has its index
        assert result.collected == 2 and old not in graphs and old + "/bins" not in graphs
        assert result.build + "/bins" in graphs
        result = store.load(changed, annotation="mikado", species="Arabidopsis thaliana",
                            assembly="TAIR10")
        assert result.status == "rebuilt"
        assert result.reasons == ["options changed (taxon 3702 -> none)"]
        assert not store.store.query(f"ASK {{ GRAPH <{result.build}> {{ ?s "
                                     "<http://purl.obolibrary.org/obo/RO_0002162> ?t } }")
        # the other genome version is untouched
        assert len(store.genomes()) == 2


@pytest.fixture
def bumped_schema(tmp_path: Path) -> Path:
    text = default_schema_path().read_text(encoding="utf-8")
    assert "\nversion: 0.1.0\n" in text
    path = tmp_path / "gff2rdf.yaml"
    path.write_text(text.replace("\nversion: 0.1.0\n", "\nversion: 0.2.0\n"), encoding="utf-8")
    return path


def test_schema_version_bump_marks_graphs_stale_and_rebuilds(
        two_versions: Path, bumped_schema: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bumped = compile_mapping(bumped_schema)
    assert bumped.schema_version == "0.2.0"
    with GenomeStore.open(two_versions) as store:
        stale = store.genomes(schema_version=bumped.schema_version)
        assert [e.current for e in stale] == [False, False]
        assert stale[0].stale_reasons == ["schema version 0.1.0 -> 0.2.0"]
        result = store.load(MIKADO, annotation="mikado", mapping=bumped, **ATH)
        assert result.status == "rebuilt"
        assert result.reasons == ["schema version 0.1.0 -> 0.2.0"]
        states = {e.path: e.current for e in store.genomes(schema_version="0.2.0")}
        assert states == {"arabidopsis_thaliana/TAIR10/mikado": True,
                          "arabidopsis_thaliana/TAIR10/Ensembl40": False}
    # the CLI asks the installed schema: make the bumped one the installed one
    monkeypatch.setattr("gff2rdf.store.listing.compile_mapping", lambda *a: bumped)
    code, out, _ = run("graphs", "--store", str(two_versions))
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines()[1:]}
    assert lines["arabidopsis_thaliana/TAIR10/mikado"].endswith("current")
    assert "stale: schema version 0.1.0 -> 0.2.0" in lines[
        "arabidopsis_thaliana/TAIR10/Ensembl40"]
    code, out, _ = run("graphs", "--store", str(two_versions), "--json")
    listed = {e["path"]: e for e in json.loads(out)}
    assert listed["arabidopsis_thaliana/TAIR10/Ensembl40"]["current"] is False
    assert listed["arabidopsis_thaliana/TAIR10/mikado"]["schema_version"] == "0.2.0"


def test_code_version_bump_rebuilds(two_versions: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for module in ("gff2rdf.store.inputs", "gff2rdf.store.listing"):
        monkeypatch.setattr(f"{module}.code_version", lambda: "0.9.0")
    with GenomeStore.open(two_versions) as store:
        assert [e.stale_reasons for e in store.genomes()] == [["code version 0.1.0 -> 0.9.0"]] * 2
        result = store.load(ENSEMBL, annotation="Ensembl40", **ATH)
        assert result.reasons == ["code version 0.1.0 -> 0.9.0"]


def test_bad_input_at_the_last_line_changes_nothing(two_versions: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.gff3"
    bad.write_text(MIKADO.read_text() + "Chr5\tx\tgene\t10\tnot-a-number\t.\t+\t.\tID=zz\n")
    before = quads(two_versions)
    with GenomeStore.open(two_versions) as store, pytest.raises(Gff3Error) as caught:
        store.load(bad, annotation="mikado", **ATH)
    assert f"bad.gff3:{len(MIKADO.read_text().splitlines()) + 1}:" in str(caught.value)
    assert quads(two_versions) == before
    assert not (two_versions / "gff2rdf-tmp").exists() or not any(
        (two_versions / "gff2rdf-tmp").iterdir())
    code, _, err = run("load", str(bad), "--store", str(two_versions), "--annotation", "mikado")
    assert code == 1 and err.rstrip().endswith("error(s); nothing loaded")
    assert quads(two_versions) == before


def test_load_builds_the_bin_index_before_the_flip(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from gff2rdf.query.canned import get_query
    from gff2rdf.store import binindex

    seen: list[tuple[bool, bool]] = []
    write_index = binindex.write_index

    def spy(store: GenomeStore, build: str, path: str, atomic: bool = True) -> dict[str, int]:
        # not current yet, so it may be loaded in pieces
        seen.append((current_graph(store, MIKADO_GENOME) == build, atomic))
        return write_index(store, build, path, atomic)

    monkeypatch.setattr("gff2rdf.store.store.write_index", spy)
    with GenomeStore.open(tmp_path / "s") as store:
        result = store.load(MIKADO, annotation="mikado", **ATH)
        assert seen == [(False, False)] and result.indexed is not None
        assert result.indexed["features"] > 100 and "bin index of" in result.summary()
        assert binindex.has_index(store, MIKADO_GENOME)
        canned = get_query("region")
        params = {"genome": MIKADO_GENOME, "seqid": "Chr5", "start": "1", "end": "30000000"}
        indexed = canned.run(store.store, params)
        assert indexed.rows == canned.run(store.store, params, use_index=False).rows
        assert len(indexed.rows) == result.indexed["features"]
    code, _, err = run("load", str(MIKADO), "--store", str(tmp_path / "plain"), "--no-index",
                       "--annotation", "mikado", "--species", "Arabidopsis thaliana",
                       "--taxon", "3702", "--assembly", "TAIR10")
    assert code == 0 and "bin index" not in err
    with GenomeStore.open(tmp_path / "plain") as store:
        assert not binindex.has_index(store, MIKADO_GENOME)


def test_failure_at_the_flip_changes_nothing(two_versions: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    before = quads(two_versions)

    def broken(info: object, description_in_build: bool = True) -> str:
        raise StoreError("disk on fire")

    monkeypatch.setattr("gff2rdf.store.store.flip_update", broken)
    with GenomeStore.open(two_versions) as store, pytest.raises(StoreError, match="on fire"):
        store.load(MIKADO, annotation="mikado", force=True, **ATH)
    assert quads(two_versions) == before


def test_leftovers_of_a_killed_load_are_cleaned_on_open(two_versions: Path) -> None:
    with GenomeStore.open(two_versions) as store:
        orphan = MIKADO_GENOME + "/build/20000101T000000Z-deadbeef"
        store.update(f"INSERT DATA {{ GRAPH <{orphan}> {{ <urn:a> <urn:b> <urn:c> }} }}")
        store.update(f"INSERT DATA {{ GRAPH <{orphan}/bins> {{ <urn:a> <urn:b> <urn:c> }} }}")
    (two_versions / "bulk-1234567890.sst").write_bytes(b"half a table")
    (two_versions / "gff2rdf-tmp").mkdir(exist_ok=True)
    (two_versions / "gff2rdf-tmp" / "x.nq").write_text("")
    with GenomeStore.open(two_versions, collect=False) as store:  # as graphs and dump do
        assert store.cleaned == ["bulk-1234567890.sst", "x.nq"]
        assert store.garbage() == [orphan, orphan + "/bins"]
    assert not list(two_versions.glob("bulk-*.sst"))
    assert not (two_versions / "gff2rdf-tmp").exists()
    code, _, err = run("graphs", "--store", str(two_versions))
    assert code == 0 and "2 old graph(s) (builds, indexes) await removal" in err
    with GenomeStore.open(two_versions) as store:  # as load and drop do
        assert store.garbage() == []
        assert orphan not in {g.value for g in store.store.named_graphs()}


def test_rdf_files_from_convert_load_like_gff3(tmp_path: Path) -> None:
    made = {}
    for name in ("mikado.nt", "mikado.ttl", "mikado.nq.gz"):
        made[name] = tmp_path / name
        convert(MIKADO, made[name], annotation="mikado", **ATH)
    with GenomeStore.open(tmp_path / "store") as store:
        first = store.load(MIKADO, annotation="mikado", **ATH)
        for name, path in made.items():
            result = store.load(path)
            assert result.genome == MIKADO_GENOME, name
            assert result.status == "rebuilt" and result.triples == first.triples, name
            assert count(store, MIKADO_GENOME) == first.triples, name
            assert store.load(path).status == "unchanged", name
        with pytest.raises(Gff2RdfError, match="GFF3 input only"):
            store.load(made["mikado.nt"], species="Oryza sativa")


def test_drop_and_dump_cli(two_versions: Path, tmp_path: Path) -> None:
    out = tmp_path / "ensembl.nq.gz"
    code, stdout, err = run("dump", "--store", str(two_versions), "--graph",
                            "arabidopsis_thaliana/TAIR10/Ensembl40", "-o", str(out))
    assert code == 0 and stdout == "" and out.exists() and "wrote" in err
    assert not list(tmp_path.glob(".ensembl.nq.gz.*"))  # no temporary file left
    with gzip.open(out, "rb") as data:
        dataset = ox.Dataset(ox.parse(data, format=ox.RdfFormat.N_QUADS))
    graphs = {q.graph_name.value for q in dataset}
    assert graphs == {ENSEMBL_GENOME, META}  # the data in the genome's own graph
    code, _, err = run("dump", "--store", str(two_versions), "--graph", META, "-o",
                       str(tmp_path / "meta.ttl"))
    assert code == 0
    code, _, err = run("dump", "--store", str(two_versions), "--graph", "urn:nothing", "-o",
                       str(tmp_path / "x.nt"))
    assert code == 1 and err.startswith("Error: no graph urn:nothing")
    code, _, err = run("dump", "--store", str(two_versions), "--graph", "oryza/IRGSP/none",
                       "-o", str(tmp_path / "x.nt"))  # neither a genome version nor an IRI
    assert code == 1 and err.startswith("Error: no graph oryza/IRGSP/none")
    assert not (tmp_path / "x.nt").exists()
    code, _, err = run("drop", "arabidopsis_thaliana/TAIR10/Ensembl40", "--store",
                       str(two_versions))
    assert code == 0 and "dropped arabidopsis_thaliana/TAIR10/Ensembl40" in err
    code, _, err = run("drop", "arabidopsis_thaliana/TAIR10/Ensembl40", "--store",
                       str(two_versions))
    assert code == 1 and err.startswith("Error: no genome version")
    with GenomeStore.open(two_versions) as store:
        assert [e.genome for e in store.genomes()] == [MIKADO_GENOME]
        assert not store.store.query(f"ASK {{ GRAPH <{META}> {{ ?s ?p ?o FILTER(STRSTARTS("
                                     f"STR(?s), \"{ENSEMBL_GENOME}\")) }} }}")
        # the dump loads back as the same genome version
        result = store.load(out)
        assert result.status == "loaded" and result.genome == ENSEMBL_GENOME
    code, _, err = run("drop", MIKADO_GENOME, "--store", str(two_versions))
    assert code == 0


def test_store_errors_are_messages(tmp_path: Path) -> None:
    code, _, err = run("graphs", "--store", str(tmp_path / "none"))
    assert code == 1 and err.startswith("Error: no store at")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("x")
    code, _, err = run("load", str(MIKADO), "--store", str(tmp_path / "notes"))
    assert code == 1 and "not empty and not an Oxigraph store" in err
    shutil.rmtree(tmp_path / "notes")


def test_a_build_loaded_in_pieces_is_whole(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    with GenomeStore.open(tmp_path / "whole") as store:
        whole = store.load(ENSEMBL, annotation="Ensembl40", **ATH)
        expected = store.store.dump(format=ox.RdfFormat.N_TRIPLES,
                                    from_graph=ox.NamedNode(whole.build))
    monkeypatch.setattr("gff2rdf.store.store.LOAD_PART_BYTES", 100_000)  # about 30 pieces
    with GenomeStore.open(tmp_path / "pieces") as store:
        pieces = store.load(ENSEMBL, annotation="Ensembl40", **ATH)
        got = store.store.dump(format=ox.RdfFormat.N_TRIPLES,
                               from_graph=ox.NamedNode(pieces.build))
        # the bin index, loaded before the flip, comes in pieces too
        index = store.store.dump(format=ox.RdfFormat.N_TRIPLES,
                                 from_graph=ox.NamedNode(pieces.build + "/bins"))
    assert pieces.triples == whole.triples
    assert sorted(bytes(got).splitlines()) == sorted(bytes(expected).splitlines())
    assert pieces.indexed == whole.indexed and pieces.indexed is not None
    assert len(bytes(index).splitlines()) > 4 * pieces.indexed["features"]


def test_the_load_piece_setting_and_optimize(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """GFF2RDF_LOAD_PIECE sets the pieces of a load; the CLI then suggests gff2rdf optimize,
    which compacts the store and changes no data."""
    store = tmp_path / "s"
    options = ["--species", "Arabidopsis thaliana", "--taxon", "3702", "--assembly", "TAIR10",
               "--annotation", "Ensembl40"]
    monkeypatch.setenv("GFF2RDF_LOAD_PIECE", "100K")
    code, _, err = run("load", str(ENSEMBL), "--store", str(store), *options)
    assert code == 0, err
    assert "pieces" in err and f"gff2rdf optimize --store {store}" in err
    with GenomeStore.open(store) as s:
        before = sorted(bytes(s.store.dump(format=ox.RdfFormat.N_QUADS)).splitlines())
    code, _, err = run("optimize", "--store", str(store))
    assert code == 0 and err.startswith(f"optimized {store} in "), err
    with GenomeStore.open(store) as s:
        assert sorted(bytes(s.store.dump(format=ox.RdfFormat.N_QUADS)).splitlines()) == before
    monkeypatch.setenv("GFF2RDF_LOAD_PIECE", "0")  # one piece: no hint
    code, _, err = run("load", str(ENSEMBL), "--store", str(tmp_path / "one"), *options)
    assert code == 0 and "pieces" not in err and "optimize" not in err, err
    monkeypatch.setenv("GFF2RDF_LOAD_PIECE", "lots")
    code, _, err = run("load", str(ENSEMBL), "--store", str(tmp_path / "bad"), *options)
    assert code == 1 and "not a size: 'lots'" in err
    code, _, err = run("optimize", "--store", str(tmp_path / "none"))
    assert code == 1 and "none" in err
