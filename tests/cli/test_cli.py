"""The command line: exit codes, messages on stderr, data on stdout, documented commands."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from click.testing import CliRunner

from gff2rdf import __version__
from gff2rdf.cli.commands import main
from gff2rdf.settings import SETTINGS, env_name
from tests.conftest import DATA, ROOT

DEMO = DATA / "arabidopsis_TAIR10_40_small.gff3"


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(main, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and __version__ in out
    code, out, _ = run("-h")
    assert code == 0 and "convert" in out


def test_convert_writes_the_file_and_a_summary(tmp_path: Path) -> None:
    out = tmp_path / "demo.ttl"
    code, stdout, stderr = run("convert", str(DEMO), "-o", str(out), "--species",
                               "Arabidopsis thaliana", "--taxon", "3702", "--assembly", "TAIR10",
                               "--annotation", "Araport11")
    assert code == 0, stderr
    assert stdout == ""
    assert "685 features" in stderr and "triples" in stderr
    assert out.read_text().startswith("@prefix")


def test_convert_to_stdout_and_gzip(tmp_path: Path) -> None:
    code, stdout, _ = run("convert", str(DEMO), "--format", "nt", "--silent")
    assert code == 0 and stdout.startswith("<https://w3id.org/gff2rdf/")
    out = tmp_path / "demo.nq.gz"
    code, _, _ = run("convert", str(DEMO), "-o", str(out), "--silent")
    assert code == 0
    with gzip.open(out, "rt") as fh:
        first = fh.readline()
    assert first.count("<") == 4  # a quad


def test_convert_from_stdin() -> None:
    text = "##gff-version 3\nChr1\t.\tgene\t1\t9\t.\t+\t.\tID=g\n"
    code, stdout, _ = run("convert", "-", "--format", "nt", "--silent", input=text)
    assert code == 0 and "/stdin/feature/g>" in stdout


def test_bad_input_exits_1_with_file_and_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.gff3"
    source.write_text("##gff-version 3\nChr1\t.\tgene\t1\tx\t.\t+\t.\tID=a\n")
    out = tmp_path / "out.ttl"
    code, stdout, stderr = run("convert", str(source), "-o", str(out))
    assert code == 1
    assert f"{source}:2: error: column 5 (end) 'x' is not a positive integer" in stderr
    assert stderr.rstrip().endswith("1 error(s); no output written")
    assert not out.exists() and stdout == ""


def test_missing_file_is_usage_error(tmp_path: Path) -> None:
    code, _, _ = run("convert", str(tmp_path / "nope.gff3"))
    assert code == 2


def test_bad_taxon_is_an_error_not_a_traceback() -> None:
    code, _, stderr = run("convert", str(DEMO), "--taxon", "thale cress", "--silent")
    assert code == 1 and stderr.startswith("Error: taxon 'thale cress'")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_has_an_example_and_is_in_the_reference(command: str) -> None:
    code, out, _ = run(command, "--help")
    assert code == 0 and "Example:" in out
    reference = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert f"gff2rdf {command}" in reference


def test_every_setting_is_documented() -> None:
    page = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        assert setting.help
        assert env_name(setting.name) in page, setting.name
