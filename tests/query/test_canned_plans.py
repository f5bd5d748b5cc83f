"""One code path for canned queries: for every canned query and its example parameters, the
SPARQL texts sent to the engine are the same from the library (``CannedQuery.run``), the CLI
(``gff2rdf query``, and ``--show-sparql``), the server's routes (``/queries/NAME``, and
``/queries/NAME/sparql``) and its page (the forms of ``/queries``, in headless Chromium when it is
installed).

The texts are recorded where they leave gff2rdf: ``gff2rdf.query.canned.run_on_store`` (the library
and the CLI call ``pyoxigraph.Store.query`` through it) and ``WorkerProcess.send`` (the server's
requests to its query workers). The store holds the Ensembl Plants demo as Araport11 and two
small tomato versions, ITAG2.3 and ITAG2.4, all with a bin index but ITAG2.4; SERVICE calls go to
a listener on 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.query import canned as queries_module
from gff2rdf.query.canned import get_query, list_queries
from gff2rdf.query.plans import GENOMES_QUERY
from gff2rdf.query.results import QueryResult
from gff2rdf.server.app import App
from gff2rdf.server.http import make_server
from gff2rdf.server.pool import WorkerProcess
from gff2rdf.store.store import GenomeStore
from tests.conftest import SHARED
from tests.server.test_server_page import browser
from tests.server.test_server_support import GENOME, Canary, copy_store, make_app

__all__ = ["browser"]  # the headless Chromium fixture of test_server_page

ENSEMBL = SHARED / "gff3" / "baitfindR__Arabidopsis_thaliana_TAIR10_40_small.gff3"
# Two small tomato versions for the examples of genes-by-term and version-diff (ITAG2.3 and
# ITAG2.4): one gene moved, one GO term gone, one gene added.
TOMATO = """##gff-version 3
##sequence-region SL2.40ch01 1 100000
SL2.40ch01\tITAG\tgene\t1000\t3000\t.\t+\t.\tID=gene:Solyc01g005000.2
SL2.40ch01\tITAG\tmRNA\t1000\t3000\t.\t+\t.\tID=mRNA:Solyc01g005000.2.1;\
Parent=gene:Solyc01g005000.2;Ontology_term=GO:0003676
SL2.40ch01\tITAG\texon\t1000\t3000\t.\t+\t.\tParent=mRNA:Solyc01g005000.2.1
SL2.40ch01\tITAG\tgene\t{start}\t9000\t.\t-\t.\tID=gene:Solyc01g005010.2
SL2.40ch01\tITAG\tmRNA\t{start}\t9000\t.\t-\t.\tID=mRNA:Solyc01g005010.2.1;\
Parent=gene:Solyc01g005010.2{go}
SL2.40ch01\tITAG\texon\t{start}\t9000\t.\t-\t.\tParent=mRNA:Solyc01g005010.2.1
{extra}"""
ARAPORT = "arabidopsis_thaliana/TAIR10/Araport11"
NAMES = [q.name for q in list_queries()]
JSON = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    """The stand-in for UniProt and Ubergraph (SERVICE calls never leave 127.0.0.1)."""
    listener = Canary()
    yield listener.url + "sparql"
    listener.close()


@pytest.fixture(autouse=True)
def endpoints(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GFF2RDF_UNIPROT_ENDPOINT", service)
    monkeypatch.setenv("GFF2RDF_UBERGRAPH_ENDPOINT", service)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("plans") / "store"
    old, new = directory.parent / "itag2.3.gff3", directory.parent / "itag2.4.gff3"
    old.write_text(TOMATO.format(start=7000, go=";Ontology_term=GO:0003677", extra=""))
    new.write_text(TOMATO.format(start=7500, go="", extra=(
        "SL2.40ch01\tITAG\tgene\t20000\t21000\t.\t+\t.\tID=gene:Solyc01g005020.2\n")))
    tomato = dict(species="Solanum lycopersicum", taxon="4081", assembly="SL2.40")
    with GenomeStore.open(directory) as store:
        store.load(ENSEMBL, species="Arabidopsis thaliana", taxon="3702", assembly="TAIR10",
                   annotation="Araport11")
        store.load(old, annotation="ITAG2.3", **tomato)
        store.load(new, annotation="ITAG2.4", **tomato, index=False)
    return directory


@pytest.fixture(scope="module")
def app(store_dir: Path, service: str, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[App]:
    store = copy_store(store_dir, tmp_path_factory.mktemp("served") / "store")
    with make_app(store, timeout=30.0, max_rows=10000, allow_service=(service,)) as served:
        yield served


class Sent:
    """The SPARQL texts gff2rdf sends to an engine, minus its reads of the genome versions."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.texts: list[str] = []
        self.lookups = 0
        self._lock = threading.Lock()
        original_run = queries_module.run_on_store
        original_send = WorkerProcess.send

        def run_on_store(store: Any, text: str, name: str = "query") -> QueryResult:
            self.record(text)
            return original_run(store, text, name)

        def send(worker: WorkerProcess, request: dict[str, Any]) -> None:
            if request.get("op") == "query":
                self.record(request["query"])
            original_send(worker, request)

        monkeypatch.setattr(queries_module, "run_on_store", run_on_store)
        monkeypatch.setattr(WorkerProcess, "send", send)

    def record(self, text: str) -> None:
        with self._lock:
            if text == GENOMES_QUERY:
                self.lookups += 1
            else:
                self.texts.append(text)

    def take(self) -> list[str]:
        with self._lock:
            taken, self.texts = self.texts, []
        return taken


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> Sent:
    return Sent(monkeypatch)


def _example(name: str) -> dict[str, str]:
    return get_query(name).example


def _route(name: str, params: dict[str, str], tail: str = "") -> str:
    return f"/queries/{urllib.parse.quote(name, safe='')}{tail}?{urllib.parse.urlencode(params)}"


@pytest.mark.parametrize("name", NAMES)
def test_library_cli_routes_and_page_send_the_same_plan(
        name: str, store_dir: Path, app: App, sent: Sent) -> None:
    params = _example(name)
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        result = get_query(name).run(store, params)
        first = get_query(name).explain(store, params)
    library = sent.take()
    assert library and library[0] == first.sparql

    args = ["query", name, "--store", str(store_dir), "--format", "json"]
    for key, value in params.items():
        args += ["-p", f"{key}={value}"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert sent.take() == library
    shown = CliRunner().invoke(main, [*args, "--show-sparql"])
    assert shown.exit_code == 0, shown.output
    assert shown.output == first.sparql
    sent.take()

    response = app.request("GET", _route(name, params), headers=JSON)
    assert response.status == 200, response.body
    assert sent.take() == library
    rows = json.loads(response.body)["results"]["bindings"]
    assert len(rows) == len(result.rows)

    # the page: a form per query of GET /queries, filled in with the examples, sent to the route
    listed = {q["name"]: q for q in json.loads(app.request("GET", "/queries").body)}
    form = {p["name"]: p["example"] or p["default"] for p in listed[name]["parameters"]}
    assert form == params
    assert app.request("GET", _route(name, form), headers=JSON).body == response.body
    assert sent.take() == library
    edit = app.request("GET", _route(name, form, "/sparql"))
    assert edit.status == 200 and edit.body.decode() == first.sparql
    assert edit.header("Content-Type") == "application/sparql-query; charset=utf-8"


def test_the_page_shows_and_runs_the_same_plans(store_dir: Path, app: App, browser: Any,
                                                sent: Sent) -> None:
    """In Chromium: each canned query's form, filled in with the examples, shows (Edit) the
    SPARQL that the library sends first, and runs (Run) the texts that the library sends."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    plans = {}
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        for name in NAMES:
            first = get_query(name).explain(store, _example(name)).sparql
            get_query(name).run(store, _example(name))
            plans[name] = first, sent.take()
    server = make_server(app, "127.0.0.1", 0, 64, access_log=False)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        browser.get(f"http://127.0.0.1:{server.port}/")
        wait = WebDriverWait(browser, 30)
        wait.until(lambda d: "genome version" in d.find_element(By.ID, "genomes-status").text)
        boxes = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#canned .canned"))
        by_title = {box.find_element(By.TAG_NAME, "h3").text: box for box in boxes}
        editor = browser.find_element(By.ID, "query")
        status = browser.find_element(By.ID, "status")
        assert len(by_title) == len(NAMES)
        sent.take()  # the page's list of genome versions
        for name in NAMES:
            query, params = get_query(name), _example(name)
            first, library = plans[name]
            box = by_title[query.title]
            for key, value in params.items():
                field = box.find_element(By.NAME, key)
                field.clear()
                field.send_keys(value)
            browser.execute_script("arguments[0].value = ''; arguments[1].textContent = ''",
                                   editor, status)
            box.find_element(By.XPATH, ".//button[text()='Edit']").click()
            assert wait.until(lambda d: editor.get_property("value")) == first, name
            sent.take()
            box.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
            shown = wait.until(lambda d: status.text if status.text and "Running" not in
                               status.text else None)
            assert "row" in shown, (name, shown)
            assert sent.take() == library, name
    finally:
        server.shutdown()
        server.server_close()


def test_the_plans_use_the_builds_and_the_bin_index(store_dir: Path) -> None:
    """Guards the test above against agreeing on an unplanned query: on this store the plans
    pin each genome version's current build, and region and nearest-genes use the index."""
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        builds = get_query("gene").genomes(store).builds
        for name in NAMES:
            plan = get_query(name).explain(store, _example(name))
            pinned = [b for b in builds.values() if f"GRAPH <{b}>" in plan.sparql]
            assert pinned or not get_query(name).needs_genomes, name
            if name in ("region", "nearest-genes"):
                assert plan.indexed and plan.source.path.endswith(f"{name}.index.rq")
                assert plan.need == (None if name == "region" else 5)
            else:
                assert not plan.indexed and plan.source is get_query(name)


def test_nearest_genes_widens_the_same_way_everywhere(store_dir: Path, app: App,
                                                      sent: Sent) -> None:
    """More genes asked for than the sequence has: the index plan runs again with a radius four
    times larger until it covers every position, in the library and in the server alike."""
    params = {"genome": ARAPORT, "seqid": "1", "position": "10000", "n": "40"}
    with GenomeStore.open(store_dir, create=False, collect=False) as store:
        faldo = get_query("nearest-genes").run(store, params, use_index=False)
        sent.take()
        wide = get_query("nearest-genes").run(store, params)
    library = sent.take()
    assert 10 < len(faldo.rows) < 40 and wide.values() == faldo.values()
    assert len(library) > 3 and len(set(library)) == len(library)  # widened each time
    response = app.request("GET", _route("nearest-genes", params), headers=JSON)
    assert response.status == 200, response.body
    assert sent.take() == library  # the same attempts, widened alike
    assert len(json.loads(response.body)["results"]["bindings"]) == len(faldo.rows)


def test_the_server_reads_the_genome_versions_again_after_a_write(
        store_dir: Path, tmp_path: Path, sent: Sent) -> None:
    store = copy_store(store_dir, tmp_path / "store")
    params = {"genome": ARAPORT, "seqid": "1", "start": "1", "end": "20000"}
    with make_app(store, token="s3cret-token-for-tests", workers=1) as served:
        first = served.request("GET", _route("region", params), headers=JSON)
        again = served.request("GET", _route("region", params), headers=JSON)
        assert first.status == again.status == 200 and first.body == again.body
        assert sent.lookups == 1  # cached while nothing is written
        plan = served.request("GET", _route("region", params, "/sparql")).body.decode()
        assert "g2r:binKey" in plan  # the index plan
        bins = json.loads(served.request("GET", "/sparql?" + urllib.parse.urlencode(
            {"query": "PREFIX g2r: <https://w3id.org/gff2rdf/vocab#> SELECT ?b WHERE { GRAPH ?m "
                      f"{{ <{GENOME}> g2r:currentBuild ?g }} GRAPH ?b {{ ?b g2r:indexOf ?g }} }}"
             }), headers=JSON).body)
        index = bins["results"]["bindings"][0]["b"]["value"]
        dropped = served.request("POST", "/update", f"DROP GRAPH <{index}>".encode(), {
            "Content-Type": "application/sparql-update",
            "Authorization": "Bearer s3cret-token-for-tests"})
        assert dropped.status == 204, dropped.body
        sent.take()
        after = served.request("GET", _route("region", params), headers=JSON)
        assert after.status == 200 and sent.lookups == 2
        assert "g2r:binKey" not in sent.take()[0]  # the FALDO query, planned afresh
        rows = json.loads(after.body)["results"]["bindings"]
        assert rows == json.loads(first.body)["results"]["bindings"]


def test_errors_name_what_was_expected(app: App) -> None:
    good = _example("region")
    cases = [
        ("region", {**good, "start": "x"}, 400, "region: parameter start must be an integer"),
        ("region", {**good, "end": "0"}, 400, "must be at least 1"),
        ("region", {k: v for k, v in good.items() if k != "seqid"}, 400,
         "missing parameter(s) seqid (e.g. --param seqid=1)"),
        ("region", {**good, "colour": "red"}, 400, "no parameter 'colour'"),
        ("region", {**good, "genome": "nope/x/y"}, 400,
         f"no genome version 'nope/x/y' here (gff2rdf graphs lists them: {ARAPORT}"),
        ("genes-by-term", {**_example("genes-by-term"), "term": "not a term"}, 400,
         "must be an ontology term such as GO:0008150"),
        ("no-such-query", {}, 404, "no canned query 'no-such-query' (GET /queries lists them)"),
    ]
    for name, params, status, message in cases:
        for tail in ("", "/sparql"):
            response = app.request("GET", _route(name, params, tail))
            assert response.status == status, (name, params, response.body)
            assert message in response.body.decode(), response.body


def test_values_are_bound_never_pasted(app: App) -> None:
    injected = '" } } ?s ?p ?o . { "'
    response = app.request("GET", _route("gene", {"genome": ARAPORT, "id": injected}),
                           headers=JSON)
    assert response.status == 200 and json.loads(response.body)["results"]["bindings"] == []
    shown = app.request("GET", _route("gene", {"genome": ARAPORT, "id": injected}, "/sparql"))
    assert json.dumps(injected) in shown.body.decode()  # one escaped literal in a VALUES row


def test_max_rows_applies_to_canned_queries(store_dir: Path, tmp_path: Path) -> None:
    store = copy_store(store_dir, tmp_path / "store")
    with make_app(store, workers=1, max_rows=3) as small:
        response = small.request("GET", _route("region", _example("region")), headers=JSON)
        assert response.status == 422 and b"more than 3 rows (--max-rows)" in response.body
        one = small.request("GET", _route("gene", _example("gene")), headers=JSON)
        assert one.status == 422  # the gene's model has more than 3 features
        counts = small.request("GET", _route("genome-versions", {}), headers=JSON)
        assert counts.status == 200  # 3 genome versions: within the limit


def test_identifier_keys_are_bound_not_computed() -> None:
    """gene looks its ID up by keys bound from the header's prefixes (an index look-up each),
    not by a key computed with BIND in the query (a join with every identifier)."""
    from gff2rdf.errors import QueryError
    from gff2rdf.query.canned import parse_query

    gene = get_query("gene")
    text = gene.bind({"genome": GENOME, "id": "AT1G01010"})
    assert '"gene:AT1G01010" "gene-AT1G01010" "transcript:AT1G01010"' in text
    assert "|skos:altLabel ?id_key" in text and not re.search(r"BIND\(CONCAT\([^)]*\?id\b", text)
    header = "# title: t\n# parameters:\n#   - {name: n, type: integer, prefixes: ['x']}\n"
    with pytest.raises(QueryError, match="prefixes are a list, for a string parameter"):
        parse_query(header + "SELECT * WHERE { ?s ?p ?n }", "t")
