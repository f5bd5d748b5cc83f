"""The web page in headless Chromium: it lists the genome versions, runs a query, shows rows.

Needs Debian's chromium and chromium-driver and selenium from PyPI (``make browser-deps``
installs all three); skipped with the reason when any is missing.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from gff2rdf.server.app import App
from gff2rdf.server.http import HttpServer, make_server
from tests.server.test_server_support import GENE_BY_ID, copy_store, make_app, store_template

__all__ = ["store_template"]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000"]


def _requirements() -> None:
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not Path(path).exists():
            pytest.skip(f"{path} not found: install the Debian package {package} "
                        "(make browser-deps)")
    pytest.importorskip("selenium", reason="selenium is not installed (make browser-deps)")


@pytest.fixture(scope="module")
def site(store_template: Path, tmp_path_factory: pytest.TempPathFactory
         ) -> Iterator[tuple[App, HttpServer]]:
    _requirements()
    store = copy_store(store_template, tmp_path_factory.mktemp("page") / "store")
    with make_app(store) as app:
        server = make_server(app, "127.0.0.1", 0, 64, access_log=False)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield app, server
        finally:
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    _requirements()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_page_lists_genomes_runs_a_query_and_shows_rows(
        site: tuple[App, HttpServer], browser: object, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver: object = browser
    _, server = site
    driver.get(f"http://127.0.0.1:{server.port}/")  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 20)
    rows = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#genomes tbody tr"))
    assert "arabidopsis_thaliana/TAIR10/Araport11" in rows[0].text
    assert "current" in rows[0].text or "stale" in rows[0].text

    editor = driver.find_element(By.ID, "query")  # type: ignore[attr-defined]
    editor.clear()
    editor.send_keys(GENE_BY_ID)
    driver.find_element(By.ID, "run").click()  # type: ignore[attr-defined]
    wait.until(lambda d: "rows" in d.find_element(By.ID, "status").text)
    cells = driver.find_elements(By.CSS_SELECTOR, "#results tbody td")  # type: ignore
    assert "NAC001" in [c.text for c in cells]
    headers = [h.text for h in driver.find_elements(By.CSS_SELECTOR, "#results thead th")]  # type: ignore
    assert headers == ["p", "o"]

    editor.clear()
    editor.send_keys("SELECT * WHERE { ?s ?p }")
    driver.find_element(By.ID, "run").click()  # type: ignore[attr-defined]
    error = wait.until(lambda d: d.find_element(By.ID, "error").text)
    assert error.startswith("400")
    driver.save_screenshot(str(tmp_path / "page.png"))  # type: ignore[attr-defined]


def test_page_runs_a_canned_query_when_there_are_some(
        site: tuple[App, HttpServer], browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver: object = browser
    _, server = site
    driver.get(f"http://127.0.0.1:{server.port}/")  # type: ignore[attr-defined]
    wait = WebDriverWait(driver, 20)
    wait.until(lambda d: "Loading" not in d.find_element(By.ID, "canned").text)
    forms = driver.find_elements(By.CSS_SELECTOR, "#canned .canned form")  # type: ignore
    if not forms:
        pytest.skip("gff2rdf.query.canned provides no canned query")
    region = [f for f in forms if f.find_elements(By.NAME, "seqid")]
    form = region[0] if region else forms[0]
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    status = wait.until(lambda d: (d.find_element(By.ID, "status").text
                                   if "Running" not in d.find_element(By.ID, "status").text
                                   and d.find_element(By.ID, "status").text else None))
    assert "row" in status or "ASK" in status or "Failed" in status
    if region:
        assert "Failed" not in status
        assert driver.find_elements(By.CSS_SELECTOR, "#results tbody tr")  # type: ignore
