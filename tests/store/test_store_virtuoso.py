"""Virtuoso 7 as an external store: the tests' own server (tests/virtuoso.py) and loads into it."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.errors import EndpointError
from gff2rdf.store.endpoint import Credentials
from gff2rdf.store.metadata import G2R
from gff2rdf.store.remote import Endpoint, load_remote
from tests.conftest import DATA
from tests.store.test_store_endpoint import graphs_and_drop_on
from tests.virtuoso import VirtuosoServer

MIKADO = DATA / "tair10_chr5_mikado.gff3"
ENSEMBL = DATA / "arabidopsis_TAIR10_40_small.gff3"
META = "https://w3id.org/gff2rdf/data/meta"
GENOMES = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10"
KW = dict(species="Arabidopsis thaliana", assembly="TAIR10")


def _ask(url: str) -> bytes:
    query = urllib.parse.urlencode({"query": "ASK {}"})
    with urllib.request.urlopen(f"{url}/sparql?{query}", timeout=10) as response:
        return bytes(response.read())


def test_the_server_is_ours_on_loopback_and_read_only_for_anonymous(
        virtuoso: VirtuosoServer) -> None:
    assert b"true" in _ask(virtuoso.url)
    assert virtuoso.process.poll() is None
    assert f"127.0.0.1:{virtuoso.http_port}" in (virtuoso.directory / "virtuoso.ini").read_text()
    # anonymous writes are refused: the Graph Store needs the loader account
    request = urllib.request.Request(
        f"{virtuoso.url}/sparql-graph-crud-auth?graph=urn%3Ax", data=b"<urn:a> <urn:b> <urn:c> .",
        method="PUT", headers={"Content-Type": "application/n-triples"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    caught.value.close()
    assert caught.value.code == 401
    # the well-known dba password no longer works
    with pytest.raises(RuntimeError, match="isql-vt failed"):
        virtuoso.isql("SELECT 1;", password="dba")
    assert "1" in virtuoso.isql("SELECT 1;")


def _endpoint(virtuoso: VirtuosoServer, scheme: str = "auto",
              password: str | None = None) -> Endpoint:
    auth = Credentials(virtuoso.user, password or virtuoso.password).auth(scheme)
    endpoint = Endpoint.for_url(f"{virtuoso.url}/sparql-graph-crud-auth", auth=auth)
    endpoint.timeout = 30  # a request Virtuoso does not answer fails the test in 30 s
    return endpoint


def _count(endpoint: Endpoint, genome: str) -> int:
    rows = endpoint.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{META}> {{ <{genome}> "
                           f"<{G2R}currentBuild> ?b }} GRAPH ?b {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"])


def _graphs(endpoint: Endpoint, genome: str) -> set[str]:
    rows = endpoint.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    return {r["g"] for r in rows if r["g"] == META or r["g"].startswith(genome)}


def test_load_into_virtuoso_through_its_authenticated_graph_store(
        virtuoso: VirtuosoServer) -> None:
    genome = f"{GENOMES}/lib"
    with _endpoint(virtuoso) as endpoint:
        assert endpoint.query_url == endpoint.update_url == f"{virtuoso.url}/sparql-auth"
        first = load_remote(endpoint, MIKADO, annotation="lib", **KW)  # type: ignore[arg-type]
        assert first.status == "loaded"
        assert first.triples == _count(endpoint, genome) > 2000  # the reported count is right
        again = load_remote(endpoint, MIKADO, annotation="lib", **KW)  # type: ignore[arg-type]
        assert again.status == "unchanged" and again.triples == first.triples
        # a build left by a load that failed before its flip is dropped by the next load
        stale = f"{genome}/build/19700101T000000Z-deadbeef"
        endpoint.update(f"INSERT DATA {{ GRAPH <{stale}> {{ <urn:a> <urn:b> <urn:c> }} }}")
        second = load_remote(endpoint, ENSEMBL, annotation="lib", **KW)  # type: ignore[arg-type]
        assert second.status == "rebuilt"
        assert second.triples == _count(endpoint, genome) != first.triples
        assert _graphs(endpoint, genome) == {META, second.build, second.build + "/bins"}


def test_load_in_pieces_gives_the_same_graph(virtuoso: VirtuosoServer) -> None:
    def lines(endpoint: Endpoint, graph: str) -> set[str]:
        return set(endpoint.get_graph(graph).decode("utf-8").splitlines())

    with _endpoint(virtuoso, "digest") as endpoint:
        whole = load_remote(endpoint, ENSEMBL, annotation="p", **KW)  # type: ignore[arg-type]
        expected = lines(endpoint, whole.build)
        endpoint.piece_bytes = 4096  # about 30 lines a piece: 300 requests, PUT then POSTs
        pieces = load_remote(endpoint, ENSEMBL, annotation="p", force=True,
                             **KW)  # type: ignore[arg-type]
        assert pieces.build != whole.build
        assert pieces.triples == whole.triples == _count(endpoint, f"{GENOMES}/p") > 10_000
        assert lines(endpoint, pieces.build) == expected and len(expected) > 10_000


def test_cli_load_with_credentials_from_a_file_or_the_environment(
        virtuoso: VirtuosoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"{virtuoso.url}/sparql-graph-crud-auth"
    args = ["load", str(MIKADO), "--endpoint", url, "--species", "Arabidopsis thaliana",
            "--assembly", "TAIR10", "--annotation"]
    secret = tmp_path / "credentials"
    secret.write_text(f"{virtuoso.user}:{virtuoso.password}\n")
    result = CliRunner().invoke(main, [*args, "cli", "--auth-file", str(secret)])
    assert result.exit_code == 0, result.output
    assert "arabidopsis_thaliana/TAIR10/cli: loaded (new genome version): 2,575 triples" \
        in result.stderr
    monkeypatch.setenv("GFF2RDF_ENDPOINT_CREDENTIALS", f"{virtuoso.user}:{virtuoso.password}")
    result = CliRunner().invoke(main, [*args, "cli-env", "--auth-scheme", "digest"])
    assert result.exit_code == 0, result.output
    assert virtuoso.password not in result.output
    monkeypatch.delenv("GFF2RDF_ENDPOINT_CREDENTIALS")
    # without credentials: what the server answered, and how to give them
    result = CliRunner().invoke(main, [*args, "none"])
    assert result.exit_code != 0
    assert "HTTP 401 Unauthorized (this server wants credentials: --auth-file" in result.stderr
    secret.write_text("no colon here\n")
    result = CliRunner().invoke(main, [*args, "bad", "--auth-file", str(secret)])
    assert result.exit_code != 0
    assert "the credentials file: expected one line 'user:password'" in result.stderr


@pytest.mark.parametrize("scheme", ["auto", "digest", "basic"])
def test_wrong_credentials_are_refused_with_a_clear_message(
        virtuoso: VirtuosoServer, scheme: str) -> None:
    with _endpoint(virtuoso, scheme, password="wrong") as endpoint, \
            pytest.raises(EndpointError, match=r"HTTP 401 Unauthorized \(the credentials were "
                                               r"refused\)"):
        load_remote(endpoint, MIKADO, annotation="wrong", **KW)  # type: ignore[arg-type]


def test_graphs_and_drop_on_virtuoso(virtuoso: VirtuosoServer, tmp_path: Path) -> None:
    secret = tmp_path / "credentials"
    secret.write_text(f"{virtuoso.user}:{virtuoso.password}\n")
    build = graphs_and_drop_on(f"{virtuoso.url}/sparql-graph-crud-auth", "--auth-file",
                               str(secret), annotation="listed")
    with _endpoint(virtuoso) as endpoint:  # the build and its index are empty now
        for graph in (build, build + "/bins"):
            rows = endpoint.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> "
                                   "{ ?s ?p ?o } }")
            assert rows == [{"n": "0"}], graph


def test_ontology_load_and_list_on_virtuoso(virtuoso: VirtuosoServer, tmp_path: Path) -> None:
    """The ontology and its closure graph go in through the authenticated Graph Store; the
    list then counts the same classes as the embedded store's."""
    from gff2rdf.obo.load import list_ontologies, load_ontology
    from gff2rdf.store.store import GenomeStore
    from tests.conftest import shared

    slim = shared("ontologies", "goslim_plant.obo")
    with GenomeStore.open(tmp_path / "store") as store:
        expected = load_ontology(store, slim)
        (info,) = list_ontologies(store)
    secret = tmp_path / "credentials"
    secret.write_text(f"{virtuoso.user}:{virtuoso.password}\n")
    url = f"{virtuoso.url}/sparql-graph-crud-auth"
    result = CliRunner().invoke(main, ["ontology", "load", str(slim), "--endpoint", url,
                                       "--auth-file", str(secret)])
    assert result.exit_code == 0, result.stderr
    listed = CliRunner().invoke(main, ["ontology", "list", "--endpoint", url,
                                       "--auth-file", str(secret)])
    assert listed.exit_code == 0, listed.stderr
    version = f" ({info.version})" if info.version else ""
    assert listed.stdout == f"{info.iri}{version}: {info.classes:,} classes\n" and info.classes
    with _endpoint(virtuoso) as endpoint:
        rows = endpoint.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{expected.closure}> "
                               "{ ?s ?p ?o } }")
    assert int(rows[0]["n"]) == expected.closure_triples > 100
