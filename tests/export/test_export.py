"""``gff2rdf export``: its sources (file, store, endpoint), selections, output and errors.

The round trip through the store (``GenomeStore.load``, export ``--store --genome``) and
through ``gff2rdf serve`` (started here on a free loopback port, export ``--endpoint``) on a
few files with the patterns that matter: multi-line features, a trans-spliced gene on a
circular plastome, escaped values, Ensembl-style IDs.
"""

from __future__ import annotations

import gzip
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff2RdfError, InputError
from gff2rdf.export.api import EndpointSource, FileSource, Selection, StoreSource, export
from gff2rdf.store.store import GenomeStore
from tests.conftest import DATA
from tests.export.gff3_compare import compare, read_lines

FILES = {  # annotation name -> file: the store holds each as a genome version
    "mikado": "tair10_chr5_mikado.gff3",
    "itag": "tomato_ITAG2.3_test.gff3",
    "rps12": "plastome_rps12_trans_spliced.gff3",
    "loci": "ncbi_annotwriter_loci.gff3",
}
OPTIONS = {"species": "Arabidopsis thaliana", "taxon": "3702", "assembly": "TAIR10"}
GENOME = "arabidopsis_thaliana/TAIR10/"


@pytest.fixture(scope="module")
def nt_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("nt")
    out = {}
    for name, file in FILES.items():
        out[name] = work / f"{name}.nt"
        convert(DATA / file, out[name], annotation=name, **OPTIONS)  # type: ignore[arg-type]
    return out


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("store") / "store"
    with GenomeStore.open(path) as store:
        for name, file in FILES.items():
            store.load(DATA / file, annotation=name, index=False, **OPTIONS)  # type: ignore[arg-type]
    return path


def same_features(source: Path, exported: Path, *allow: str) -> None:
    problem, _ = compare(read_lines(source), read_lines(exported), allow)
    assert not problem, problem


# -- the three sources ----------------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_round_trip_through_the_store(name: str, store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.gff3"
    result = export(StoreSource(str(store_dir), GENOME + name), out)
    assert result.features > 0 and result.dropped_links == 0
    # a store keeps xsd:double values, not their spelling (1.50 comes back as 1.5)
    same_features(DATA / FILES[name], out, "score-spelling")


class Serve:
    """``gff2rdf serve --port 0`` on 127.0.0.1 in its own process; the URL is its first line."""

    def __init__(self, store: Path) -> None:
        self.err = open(store.parent / "serve.err", "w+b")  # noqa: SIM115 - closed in stop
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gff2rdf", "serve", "--store", str(store), "--port", "0",
             "--quiet", "--allow-service", "none", "--timeout", "30"],
            stdout=subprocess.PIPE, stderr=self.err)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise AssertionError(f"gff2rdf serve did not start: {self.url!r}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.err.close()
            assert self.proc.stdout is not None
            self.proc.stdout.close()


@pytest.fixture(scope="module")
def server(store_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    copy = tmp_path_factory.mktemp("served") / "store"
    shutil.copytree(store_dir, copy, ignore=shutil.ignore_patterns("gff2rdf.lock"))
    running = Serve(copy)
    yield running
    running.stop()


@pytest.mark.parametrize("name", ["mikado", "rps12"])
def test_round_trip_through_an_endpoint(name: str, server: Serve, tmp_path: Path) -> None:
    out = tmp_path / "out.gff3"
    result = export(EndpointSource(server.url + "sparql", GENOME + name), out)
    assert result.features > 0
    same_features(DATA / FILES[name], out, "score-spelling")
    # the same bytes as from the store the server serves
    again = tmp_path / "again.gff3"
    run = CliRunner().invoke(main, ["export", "--endpoint", server.url + "sparql", "--genome",
                                    GENOME + name, "-o", str(again), "--silent"])
    assert run.exit_code == 0, run.output
    assert again.read_bytes() == out.read_bytes()


def test_endpoint_selection_by_query(server: Serve, tmp_path: Path) -> None:
    query = tmp_path / "genes.rq"
    query.write_text("PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>\n"
                     'SELECT ?f WHERE { ?f g2r:gffId "AT5G66620" }\n', encoding="utf-8")
    out = tmp_path / "out.gff3"
    run = CliRunner().invoke(main, ["export", "--endpoint", server.url + "sparql", "--genome",
                                    GENOME + "mikado", "--query", str(query), "-o", str(out)])
    assert run.exit_code == 0, run.output
    ids = {v for x in read_lines(out) for v in x.values("ID")}
    assert "AT5G66620" in ids and "AT5G66620.1" in ids and "AT5G66600" not in ids


def test_endpoint_errors(server: Serve, tmp_path: Path) -> None:
    with pytest.raises(Gff2RdfError, match="no genome version 'nope/x/y'.*it has: "
                       "arabidopsis_thaliana/TAIR10/itag"):
        export(EndpointSource(server.url + "sparql", "nope/x/y"), tmp_path / "o.gff3")
    with pytest.raises(Gff2RdfError, match="cannot guess the Graph Store Protocol address"):
        export(EndpointSource(server.url + "elsewhere", GENOME + "mikado"), tmp_path / "o.gff3")
    assert not (tmp_path / "o.gff3").exists()


@pytest.mark.parametrize("suffix", [".nt", ".nt.gz", ".nq", ".ttl"])
def test_every_rdf_format_and_order_gives_the_same_file(suffix: str, tmp_path: Path) -> None:
    """Convert's order, a shuffled order (a feature's triples far apart), N-Quads, Turtle,
    gzip: one export."""
    source = DATA / FILES["rps12"]
    reference = tmp_path / "reference.gff3"
    convert(source, tmp_path / "ref.nt", **OPTIONS)  # type: ignore[arg-type]
    export(FileSource(str(tmp_path / "ref.nt")), reference)
    rdf = tmp_path / f"in{suffix}"
    convert(source, rdf, **OPTIONS)  # type: ignore[arg-type]
    if suffix == ".nt":  # shuffled
        lines = rdf.read_text(encoding="utf-8").splitlines(keepends=True)
        random.Random(17).shuffle(lines)
        rdf.write_text("".join(lines), encoding="utf-8")
    out = tmp_path / "out.gff3"
    export(FileSource(str(rdf)), out)
    assert out.read_bytes() == reference.read_bytes()
    same_features(source, out)


# -- selections -----------------------------------------------------------------------------


def ids_of(path: Path) -> list[str]:
    return [v for x in read_lines(path) for v in x.values("ID")]


def test_region_type_and_ids(nt_files: dict[str, Path], tmp_path: Path) -> None:
    source = FileSource(str(nt_files["mikado"]))
    out = tmp_path / "out.gff3"
    export(source, out, Selection(region="Chr5:26588000-26592000", types=("gene",)))
    lines = read_lines(out)
    genes = [x for x in lines if x.type == "gene"]
    assert [g.values("ID") for g in genes] == [["AT5G66620"]]
    assert all(x.start <= 26592006 for x in lines)  # the gene's own model, whole
    assert {x.type for x in lines} >= {"mRNA", "exon", "CDS", "protein"}
    export(source, out, Selection(ids=("AT5G66620.1",)))
    lines = read_lines(out)
    assert "AT5G66620" not in ids_of(out)  # not an ancestor unless asked
    assert not [x for x in lines if x.values("Parent") == ["AT5G66620"]]  # no dangling Parent
    result = export(source, out, Selection(ids=("AT5G66620.1",), with_ancestors=True))
    assert "AT5G66620" in ids_of(out) and result.dropped_links == 0
    export(source, out, Selection(types=("SO:0000316",)))  # CDS, by accession
    assert {x.type for x in read_lines(out)} == {"CDS"}


def test_selection_by_a_query_on_a_file(nt_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.gff3"
    query = ("PREFIX so: <http://purl.obolibrary.org/obo/so#>\n"
             "PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>\n"
             'SELECT ?t WHERE { ?t so:part_of/g2r:gffId "AT5G66600" }')
    export(FileSource(str(nt_files["mikado"])), out, Selection(query=query))
    ids = ids_of(out)
    assert "AT5G66600.1" in ids and "AT5G66600" not in ids


def test_subclasses_of_a_type(nt_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.gff3"
    export(FileSource(str(nt_files["itag"])), out, Selection(types=("transcript",)))
    assert {x.type for x in read_lines(out) if not x.values("Parent")} == {"mRNA"}


@pytest.mark.parametrize("selection, message", [
    (Selection(region="Chr9:1-10"), "no sequence 'Chr9'"),
    (Selection(region="Chr5:10-1"), "expected 1 <= start <= end"),
    (Selection(types=("genee",)), "not a Sequence Ontology term"),
    (Selection(ids=("AT5G66620", "nope1", "nope2")), "no feature with ID 'nope1', 'nope2'"),
    (Selection(query="ASK { ?s ?p ?o }"), "must be a SELECT"),
    (Selection(query="SELECT ?x WHERE { ?x ?p"), "not a valid SPARQL query"),
    (Selection(query='SELECT ?x WHERE { BIND("a" AS ?x) }'), "selected no feature"),
])
def test_bad_selections_are_errors(selection: Selection, message: str,
                                   nt_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.gff3"
    with pytest.raises(Gff2RdfError, match=message):
        export(FileSource(str(nt_files["mikado"])), out, selection)
    assert not out.exists()


# -- output ---------------------------------------------------------------------------------


def test_header_order_and_groups(nt_files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "out.gff3.gz"
    export(FileSource(str(nt_files["rps12"])), out)
    text = gzip.decompress(out.read_bytes()).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == "##gff-version 3"
    assert lines[1] == "##species https://www.ncbi.nlm.nih.gov/Taxonomy/Browser/wwwtax.cgi?id=3702"
    assert lines[2].startswith("##sequence-region NC_000932.1 1 ")
    features = [line.split("\t") for line in lines if not line.startswith("#")]
    # within a group parents come first; groups are sorted by start
    seen: set[str] = set()
    group_starts = []
    new_group = True
    for line in lines[3:]:
        if line == "###":
            new_group = True
            continue
        cols = line.split("\t")
        if new_group:
            group_starts.append(int(cols[3]))
            new_group = False
        attrs = dict(p.split("=", 1) for p in cols[8].split(";"))
        for parent in attrs.get("Parent", "").split(","):
            assert not parent or parent in seen, f"{parent} after its child"
        seen.update(attrs.get("ID", "").split(","))
    assert group_starts == sorted(group_starts)
    assert len(features) == len(read_lines(DATA / FILES["rps12"]))


def test_escaping(tmp_path: Path) -> None:
    source = tmp_path / "in.gff3"
    source.write_text("##gff-version 3\n"
                      "ctg%201\tmy%09source\tgene\t1\t90\t.\t+\t.\tID=a%3Bb;"
                      "Note=x%2Cy,50%25 %26 %3D;custom%3Dkey=caf\u00e9\n", encoding="utf-8")
    convert(source, tmp_path / "in.nt")
    out = tmp_path / "out.gff3"
    export(FileSource(str(tmp_path / "in.nt")), out)
    line = out.read_text(encoding="utf-8").splitlines()[-1]
    assert line.split("\t")[:2] == ["ctg%201", "my%09source"]  # column 2 as the file has it
    assert line.split("\t")[8] == "ID=a%3Bb;Note=50%25 %26 %3D,x%2Cy;custom%3Dkey=caf\u00e9"
    same_features(source, out)


def test_cli(nt_files: dict[str, Path], tmp_path: Path) -> None:
    runner = CliRunner()
    run = runner.invoke(main, ["export", str(nt_files["mikado"]), "--type", "gene",
                               "--region", "Chr5:26588000-26592000"])
    assert run.exit_code == 0, run.output
    assert run.stdout.startswith("##gff-version 3\n")
    assert "mikado.nt: 25 features in 1 groups, 25 lines in" in run.stderr
    ids = tmp_path / "ids.txt"
    ids.write_text("# genes\nAT5G66620\n\n", encoding="utf-8")
    out = tmp_path / "genes.gff3"
    run = runner.invoke(main, ["export", str(nt_files["mikado"]), "--ids", str(ids), "-o",
                               str(out), "--silent"])
    assert run.exit_code == 0 and run.stderr == ""
    assert "AT5G66620.1" in ids_of(out)


@pytest.mark.parametrize("args, code, message", [
    ([], 2, "Error: give an RDF FILE, or --genome (with --store or --endpoint)"),
    (["x.nt", "--genome", "a/b/c"], 2, "Error: give an RDF FILE, or --genome"),
    (["--endpoint", "http://127.0.0.1:9/sparql"], 2, "Error: --endpoint needs --genome"),
    (["missing.nt"], 1, "Error: missing.nt: no such file"),
    (["--genome", "a/b/c", "--store", "nowhere"], 1, "Error: no store at nowhere"),
])
def test_cli_errors(args: list[str], code: int, message: str, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    run = CliRunner().invoke(main, ["export", *args])
    assert run.exit_code == code, run.output
    assert message in run.stderr


def test_not_a_gff2rdf_graph(tmp_path: Path) -> None:
    rdf = tmp_path / "other.nt"
    rdf.write_text("<http://x/f> <http://biohackathon.org/resource/faldo#location> "
                   "<http://x/somewhere> .\n", encoding="utf-8")
    with pytest.raises(InputError, match="is not a region IRI that gff2rdf convert writes"):
        export(FileSource(str(rdf)), tmp_path / "out.gff3")
    rdf.write_text("<http://x/f> <http://x/p> .\n", encoding="utf-8")
    with pytest.raises(InputError, match="line 1: not an N-Triples or N-Quads line"):
        export(FileSource(str(rdf)), tmp_path / "out.gff3")
    rdf.write_text('<http://x/f> <http://x/p> "bad \\q escape" .\n', encoding="utf-8")
    with pytest.raises(InputError, match="line 1: a literal with a bad escape"):
        export(FileSource(str(rdf)), tmp_path / "out.gff3")
    with pytest.raises(InputError, match="a GFF3 file needs no export"):
        export(FileSource(str(DATA / FILES["mikado"])), tmp_path / "out.gff3")


def test_output_never_replaces_the_input(nt_files: dict[str, Path]) -> None:
    source = nt_files["mikado"]
    before = source.read_bytes()
    with pytest.raises(Gff2RdfError, match="input"):
        export(FileSource(str(source)), source)
    assert source.read_bytes() == before


def test_a_store_graph_query(store_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.gff3"
    query = ('PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>\n'
             'SELECT ?f WHERE { ?f g2r:gffId "rna-ArthCp047" }')
    export(StoreSource(str(store_dir), GENOME + "rps12"), out, Selection(query=query))
    assert "rna-ArthCp047" in ids_of(out)
    assert ox.Store  # the store was opened read-write and closed again
    with GenomeStore.open(store_dir, create=False, collect=False):
        pass


# -- GFF3 as a result format of gff2rdf serve (the page's "Download as GFF3") ---------------


def get(url: str, accept: str) -> tuple[int, str, str]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_a_select_as_gff3(server: Serve, nt_files: dict[str, Path], tmp_path: Path) -> None:
    """The features of a SELECT's first column, with all below them: the same lines as
    gff2rdf export --ids gives from the file."""
    import urllib.parse

    query = ("PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>\n"
             'SELECT ?f ?id WHERE { GRAPH ?g { ?f g2r:gffId ?id FILTER(?id IN ("AT5G66620", '
             '"AT5G66600.2")) } }')
    status, kind, body = get(f"{server.url}sparql?{urllib.parse.urlencode({'query': query})}",
                             "text/x-gff3")
    assert status == 200, body
    assert kind.startswith("text/x-gff3")
    served = tmp_path / "served.gff3"
    served.write_text(body, encoding="utf-8")
    exported = tmp_path / "exported.gff3"
    export(FileSource(str(nt_files["mikado"])), exported,
           Selection(ids=("AT5G66620", "AT5G66600.2")))
    assert served.read_text() == exported.read_text()
    assert "AT5G66600.2-Protein" in ids_of(served)
    # a plain Accept still gets SPARQL results
    status, kind, _ = get(f"{server.url}sparql?{urllib.parse.urlencode({'query': query})}",
                          "*/*")
    assert status == 200 and kind.startswith("application/sparql-results+json")


def test_a_canned_query_as_gff3(server: Serve) -> None:
    status, _, body = get(f"{server.url}queries/gene?genome={GENOME}mikado&id=AT5G66620",
                          "text/x-gff3")
    assert status == 200, body
    lines = [x.split("\t") for x in body.splitlines() if not x.startswith("#")]
    assert lines[0][2] == "gene" and "ID=AT5G66620;" in lines[0][8] + ";"
    assert len(lines) == 25


@pytest.mark.parametrize("query, message", [
    ("SELECT ?x WHERE { BIND(1 AS ?x) }", "feature IRIs of one genome version"),
    ("PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>\nSELECT ?f WHERE { GRAPH ?g { ?f g2r:gffId "
     '?id FILTER(?id IN ("AT5G66620", "rna-ArthCp047")) } }', "it has 2 genome versions"),
])
def test_a_gff3_result_needs_features_of_one_genome(query: str, message: str,
                                                    server: Serve) -> None:
    import urllib.parse

    status, _, body = get(f"{server.url}sparql?{urllib.parse.urlencode({'query': query})}",
                          "text/x-gff3")
    assert status == 400 and message in body


def test_cli_store_summary(store_dir: Path, tmp_path: Path) -> None:
    run = CliRunner().invoke(main, ["export", "--store", str(store_dir), "--genome",
                                    GENOME + "rps12", "-o", str(tmp_path / "out.gff3.gz")])
    assert run.exit_code == 0, run.output
    assert run.stderr.startswith(f"{GENOME}rps12: ")
    assert gzip.decompress((tmp_path / "out.gff3.gz").read_bytes()).startswith(b"##gff-version")
