"""The documentation is tested: its terminal sessions run, its links resolve, its generated parts
are current.

Every ```console block of README.md and docs/*.md is a session: lines starting with ``$ `` are
commands (a trailing backslash continues them), the lines after a command are its expected
output (stdout and stderr together). In expected output, ``...`` inside a line matches any text
(timings, dates) and a line of only ``...`` matches any number of lines. The blocks of one page
run in order in one fresh directory (the repository's ``tests/`` linked in, the store at
``./gff2rdf-store``), so a page's sessions build on each other as a reader's would.
Every ```pycon block is a Python session run as a doctest (``...`` matches any text), the blocks
of one page in order in one namespace, in the same kind of fresh directory.
Illustrative blocks that need something a test cannot have (a server on a fixed port, the
dagster UI) are fenced ```sh and are not run; their commands are covered by the tests of those
features.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CONSOLE = re.compile(r"^```console\n(.*?)^```", re.M | re.S)
PYCON = re.compile(r"^```pycon\n(.*?)^```", re.M | re.S)


def sessions(text: str) -> list[tuple[str, list[str]]]:
    """(command, expected output lines) for every command of every console block."""
    found: list[tuple[str, list[str]]] = []
    for block in CONSOLE.findall(text):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.startswith("$ "):
                raise AssertionError(f"output before any command in a console block: {line!r}")
            command = line[2:]
            while command.endswith("\\"):
                i += 1
                command = command + "\n" + lines[i]
            i += 1
            expected = []
            while i < len(lines) and not lines[i].startswith("$ "):
                expected.append(lines[i])
                i += 1
            while expected and not expected[-1].strip():
                expected.pop()
            found.append((command, expected))
    return found


def matches(expected: list[str], actual: list[str]) -> bool:
    """Whether ``actual`` fits ``expected`` with its ``...`` wildcards."""
    if not expected:
        return not actual
    head, rest = expected[0], expected[1:]
    if head.strip() == "...":
        return any(matches(rest, actual[k:]) for k in range(len(actual) + 1))
    if not actual:
        return False
    pattern = ".*".join(re.escape(part) for part in head.rstrip().split("..."))
    return re.fullmatch(pattern, actual[0].rstrip()) is not None and matches(rest, actual[1:])


def test_the_matcher_is_strict() -> None:
    assert matches(["a ... s", "..."], ["a 0.3 s", "b", "c"])
    assert not matches(["a ... s"], ["a 0.3 s", "extra"])
    assert not matches(["x"], ["y"])
    assert matches(["...", "z"], ["z"])


@pytest.mark.parametrize("page", [p for p in PAGES if CONSOLE.search(p.read_text("utf-8"))],
                         ids=lambda p: p.name)
def test_console_sessions_run_as_written(page: Path, tmp_path: Path) -> None:
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "COLUMNS": "200", "LC_ALL": "C.UTF-8", "GFF2RDF_STORE": "./gff2rdf-store"}
    env.pop("SOURCE_DATE_EPOCH", None)
    for command, expected in sessions(page.read_text("utf-8")):
        run = subprocess.run(["bash", "-c", command], cwd=tmp_path, env=env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        actual = run.stdout.rstrip("\n").splitlines() if run.stdout.strip() else []
        assert matches(expected, actual), (
            f"{page.name}: $ {command}\n--- expected\n" + "\n".join(expected)
            + "\n--- got\n" + run.stdout)


@pytest.mark.parametrize("page", [p for p in PAGES if PYCON.search(p.read_text("utf-8"))],
                         ids=lambda p: p.name)
def test_python_sessions_run_as_written(page: Path, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GFF2RDF_STORE", "./gff2rdf-store")
    text = "\n".join(PYCON.findall(page.read_text("utf-8")))
    test = doctest.DocTestParser().get_doctest(text, {}, page.name, str(page), 0)
    assert test.examples, f"{page.name}: a pycon block without examples"
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_python_sessions_fail_when_wrong(tmp_path: Path) -> None:
    test = doctest.DocTestParser().get_doctest(">>> 1 + 1\n3\n", {}, "x", "x", 0)
    runner = doctest.DocTestRunner()
    runner.run(test, out=lambda _: None)
    assert runner.failures == 1


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_links_resolve(page: Path) -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text("utf-8")):
        if target.startswith(("http://", "https://", "#", "mailto:")):
            continue
        path = (page.parent / target.split("#")[0]).resolve()
        assert path.exists(), f"{page.name}: broken link {target}"


def test_every_docs_page_is_linked_from_the_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    for page in (ROOT / "docs").glob("*.md"):
        assert f"(docs/{page.name})" in readme, f"docs/{page.name} is not in the README's table"


def test_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text("utf-8").splitlines()) <= 200


def test_generated_reference_is_current() -> None:
    """docs/cli.md and the settings table are generated (make readme); a stale one fails."""
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "readme_cli.py"), "--check"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
