"""Loading over the SPARQL 1.1 Graph Store Protocol into a real Oxigraph server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.errors import EndpointError, StoreLockedError
from gff2rdf.store.metadata import G2R
from gff2rdf.store.remote import Endpoint, load_remote
from gff2rdf.store.store import GenomeStore
from tests.conftest import DATA
from tests.servers import free_port, oxigraph_server

MIKADO = DATA / "tair10_chr5_mikado.gff3"
ENSEMBL = DATA / "arabidopsis_TAIR10_40_small.gff3"
META = "https://w3id.org/gff2rdf/data/meta"
GENOME = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/remote"
DIRECT = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/direct"
KW = dict(species="Arabidopsis thaliana", assembly="TAIR10")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, int]]:
    """``oxigraph serve`` on a free loopback port; stopped at the end of the module."""
    location = tmp_path_factory.mktemp("oxigraph")
    with oxigraph_server(location) as (url, pid):
        yield url, location, pid


def pointer_count(endpoint: Endpoint, genome: str) -> int:
    rows = endpoint.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{META}> {{ <{genome}> "
                           f"<{G2R}currentBuild> ?g }} GRAPH ?g {{ ?s ?p ?o }} }}")
    return int(rows[0]["n"])


def graphs(endpoint: Endpoint) -> set[str]:
    return {r["g"] for r in endpoint.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }")}


def test_load_through_the_graph_store_protocol(server: tuple[str, Path, int]) -> None:
    url, _, _ = server
    endpoint = Endpoint.for_url(f"{url}/store")
    assert endpoint.query_url == f"{url}/query" and endpoint.update_url == f"{url}/update"
    first = load_remote(endpoint, MIKADO, annotation="remote", **KW)  # type: ignore[arg-type]
    assert first.status == "loaded" and first.build.startswith(GENOME + "/build/")
    assert pointer_count(endpoint, GENOME) == first.triples > 1000
    again = load_remote(endpoint, MIKADO, annotation="remote", **KW)  # type: ignore[arg-type]
    assert again.status == "unchanged"
    second = load_remote(endpoint, ENSEMBL, annotation="remote", **KW)  # type: ignore[arg-type]
    assert second.status == "rebuilt" and second.reasons[0].startswith("source changed")
    assert pointer_count(endpoint, GENOME) == second.triples != first.triples
    # the old build and its index are gone; the new build has its bin index
    assert graphs(endpoint) == {META, second.build, second.build + "/bins"}
    # the description moved out of the build into the metadata graph
    rows = endpoint.select(f"SELECT ?v WHERE {{ GRAPH <{META}> {{ <{GENOME}> "
                           f"<{G2R}codeVersion> ?v }} }}")
    assert len(rows) == 1
    assert not endpoint.select(f"SELECT ?p WHERE {{ GRAPH <{second.build}> {{ <{GENOME}> ?p ?o"
                               " } }")


def test_load_without_an_update_endpoint(server: tuple[str, Path, int]) -> None:
    url, _, _ = server
    endpoint = Endpoint.for_url(f"{url}/store", direct=True)
    assert endpoint.update_url is None
    first = load_remote(endpoint, MIKADO, annotation="direct", **KW)  # type: ignore[arg-type]
    assert first.build == DIRECT
    assert pointer_count(endpoint, DIRECT) == first.triples > 1000
    second = load_remote(endpoint, ENSEMBL, annotation="direct", **KW)  # type: ignore[arg-type]
    assert second.status == "rebuilt"
    assert pointer_count(endpoint, DIRECT) == second.triples
    rows = endpoint.select(f"SELECT ?b WHERE {{ GRAPH <{META}> {{ <{DIRECT}> "
                           f"<{G2R}currentBuild> ?b }} }}")
    assert rows == [{"b": DIRECT}]  # one pointer, to the genome's own graph


def test_cli_load_endpoint_and_errors(server: tuple[str, Path, int]) -> None:
    url, location, pid = server
    result = CliRunner().invoke(main, ["load", str(MIKADO), "--endpoint", f"{url}/store",
                                       "--annotation", "cli", "--species",
                                       "Arabidopsis thaliana", "--assembly", "TAIR10"])
    assert result.exit_code == 0, result.stderr
    assert "arabidopsis_thaliana/TAIR10/cli: loaded (new genome version)" in result.stderr
    # the server holds the RocksDB lock of its directory: the embedded store names it
    with pytest.raises(StoreLockedError) as caught:
        GenomeStore.open(location)
    assert caught.value.pid == pid and "oxigraph serve" in str(caught.value)
    bad = Endpoint.for_url(f"http://127.0.0.1:{free_port()}/store")
    with pytest.raises(EndpointError, match="cannot reach the server"):
        load_remote(bad, MIKADO)


def test_a_server_that_never_answers_fails_fast_and_says_so() -> None:
    """Virtuoso's answer to POST application/sparql-query: it takes the connection and the
    request, then says nothing. The client gives up at its timeout with that message."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        endpoint = Endpoint.for_url(f"http://127.0.0.1:{port}/store")
        endpoint.timeout = 1.0
        started = time.monotonic()
        with endpoint, pytest.raises(EndpointError) as caught:
            endpoint.select("ASK {}")
        assert time.monotonic() - started < 10
        assert str(caught.value) == (f"POST http://127.0.0.1:{port}/query: the server took the "
                                     "connection but did not answer within 1 s")


def graphs_and_drop_on(url: str, *credentials: str, annotation: str) -> str:
    """gff2rdf load, graphs and drop with --endpoint URL: graphs lists the genome version as
    the embedded store would (current, triples, source), drop removes its pointer and metadata
    and leaves the others alone. Returns the dropped build, whose graph the caller checks."""
    path = f"arabidopsis_thaliana/TAIR10/{annotation}"
    runner = CliRunner()
    for name, source in (("", MIKADO), ("-other", ENSEMBL)):
        loaded = runner.invoke(main, ["load", str(source), "--endpoint", url, *credentials,
                                      "--annotation", annotation + name, "--species",
                                      "Arabidopsis thaliana", "--assembly", "TAIR10"])
        assert loaded.exit_code == 0, loaded.stderr
    listed = runner.invoke(main, ["graphs", "--endpoint", url, *credentials, "--json"])
    assert listed.exit_code == 0, listed.stderr
    entries = {e["path"]: e for e in json.loads(listed.stdout)}
    assert {path, path + "-other"} <= set(entries)
    assert entries[path]["current"] and entries[path]["triples"] == 2575
    assert entries[path]["source"] == MIKADO.name
    table = runner.invoke(main, ["graphs", "--endpoint", url, *credentials])
    assert f"{path}  " in table.stdout and "current" in table.stdout
    build = entries[path]["build"]
    dropped = runner.invoke(main, ["drop", path, "--endpoint", url, *credentials])
    assert dropped.exit_code == 0, dropped.stderr
    assert f"dropped {path} (2,575 triples)" in dropped.stderr
    after = json.loads(runner.invoke(main, ["graphs", "--endpoint", url, *credentials,
                                            "--json"]).stdout)
    assert path not in {e["path"] for e in after} and path + "-other" in {e["path"] for e in after}
    again = runner.invoke(main, ["drop", path, "--endpoint", url, *credentials])
    assert again.exit_code != 0 and f"no genome version {path!r}" in again.stderr
    return str(build)


def test_graphs_and_drop_on_an_endpoint(server: tuple[str, Path, int]) -> None:
    url, _, _ = server
    build = graphs_and_drop_on(f"{url}/store", annotation="listed")
    left = graphs(Endpoint.for_url(f"{url}/store"))
    assert build not in left and not any("/TAIR10/listed/" in g for g in left), left
    assert any("/TAIR10/listed-other/build/" in g for g in left)


def test_an_ontology_on_an_endpoint_gives_the_same_closure_as_in_the_store(
        server: tuple[str, Path, int], tmp_path: Path) -> None:
    """gff2rdf ontology load/list --endpoint: genes-by-term on the server finds what it finds
    in the embedded store, descendants of the term included (the closure graph is there)."""
    from collections import Counter

    from gff2rdf.obo.load import load_ontology
    from gff2rdf.query.canned import get_query
    from tests.conftest import shared

    slim = shared("ontologies", "goslim_plant.obo")
    tomato = DATA / "tomato_ITAG2.3_test.gff3"
    kw = dict(species="Solanum lycopersicum", taxon="4081", assembly="SL2.40",
              annotation="ITAG2.3")
    params = {"genome": "solanum_lycopersicum/SL2.40/ITAG2.3", "term": "GO:0003676"}
    with GenomeStore.open(tmp_path / "store") as store:
        store.load(tomato, **kw)
        load_ontology(store, slim)
        local = get_query("genes-by-term").run(store, params).values()
    assert local

    url, _, _ = server
    runner = CliRunner()
    loaded = runner.invoke(main, ["load", str(tomato), "--endpoint", f"{url}/store",
                                  *(f"--{k}={v}" for k, v in kw.items())])
    assert loaded.exit_code == 0, loaded.stderr
    before = get_query("genes-by-term").run(f"{url}/query", params).values()
    result = runner.invoke(main, ["ontology", "load", str(slim), "--endpoint", f"{url}/store"])
    assert result.exit_code == 0, result.stderr
    listed = runner.invoke(main, ["ontology", "list", "--endpoint", f"{url}/store"])
    assert "http://purl.obolibrary.org/obo/go/subsets/goslim_plant.owl" in listed.stdout, \
        listed.stdout
    served = get_query("genes-by-term").run(f"{url}/query", params).values()

    def rows(found: list[dict[str, str]]) -> Counter[tuple[tuple[str, str], ...]]:
        return Counter(tuple(sorted(r.items())) for r in found)

    assert rows(served) == rows(local)
    assert len(served) > len(before)  # the closure finds the descendants' genes too


def test_region_queries_on_an_endpoint_use_the_bin_index_loaded_with_the_build(
        server: tuple[str, Path, int], tmp_path: Path) -> None:
    """load --endpoint puts the build's bin index on the server before the flip: region and
    nearest-genes run their index plan there and give the embedded store's rows."""
    from collections import Counter

    from gff2rdf.query.canned import get_query

    url, _, _ = server
    kw = dict(species="Arabidopsis thaliana", assembly="TAIR10", annotation="bins")
    with GenomeStore.open(tmp_path / "store") as store:
        store.load(MIKADO, **kw)  # type: ignore[arg-type]
    loaded = load_remote(Endpoint.for_url(f"{url}/store"), MIKADO, **kw)  # type: ignore[arg-type]
    assert loaded.status == "loaded"
    genome = "arabidopsis_thaliana/TAIR10/bins"
    cases = [("region", {"genome": genome, "seqid": "Chr5", "start": "26575000",
                         "end": "26590000"}),
             ("nearest-genes", {"genome": genome, "seqid": "Chr5", "position": "26600000",
                                "n": "3"})]
    for name, params in cases:
        query = get_query(name)
        assert query.explain(f"{url}/query", params).indexed  # the index plan
        with GenomeStore.open(tmp_path / "store", create=False, collect=False) as store:
            local = query.run(store, params).values()
        served = query.run(f"{url}/query", params).values()
        assert local and Counter(map(str, served)) == Counter(map(str, local)), name
