"""The genome catalogue of the pipeline: format, errors that name the entry and key, sources."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from tests.conftest import DATA, ROOT

pytest.importorskip("dagster", reason="the pipeline extra is not installed (make install)")

from gff2rdf.pipeline.catalogue import CatalogueError, load_catalogue
from gff2rdf.pipeline.layout import PIPELINE_SETTINGS, Layout
from gff2rdf.pipeline.sources import materialise_source
from gff2rdf.settings import env_name

EXAMPLES = ROOT / "examples" / "catalogue.yaml"
ENTRY = """\
genomes:
  - species: Solanum lycopersicum
    taxon: 4081
    assembly: SL2.40
    annotation: ITAG2.3
    source: tomato.gff3
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalogue.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_catalogue_names_three_real_genome_versions() -> None:
    catalogue = load_catalogue(EXAMPLES)
    assert catalogue.keys == ["arabidopsis_thaliana/TAIR10/Araport11",
                              "arabidopsis_thaliana/TAIR10/TAIR10",
                              "solanum_lycopersicum/SL2.40/ITAG2.3"]
    for genome in catalogue.genomes:
        assert Path(genome.source).is_file() and Path(genome.source).parent == DATA.resolve()
    assert catalogue.genomes[2].taxon == "4081"


def test_relative_sources_resolve_against_the_catalogue(tmp_path: Path) -> None:
    genome = load_catalogue(write(tmp_path, ENTRY)).genomes[0]
    assert genome.source == str(tmp_path / "tomato.gff3")
    assert genome.where("source") == (f"{tmp_path / 'catalogue.yaml'}:6: genomes[0] "
                                      "(Solanum lycopersicum SL2.40 ITAG2.3): source")


@pytest.mark.parametrize(("edit", "message"), [
    (("    annotation: ITAG2.3\n", "    anotation: ITAG2.3\n"),
     ":5: genomes[0] (Solanum lycopersicum SL2.40 ?): anotation: unknown key; did you mean "
     "'annotation'?"),
    (("    source: tomato.gff3\n", ""),
     ":2: genomes[0] (Solanum lycopersicum SL2.40 ITAG2.3): missing key 'source'"),
    (("    assembly: SL2.40\n", "    assembly: 2.40\n"),
     ":4: genomes[0] (Solanum lycopersicum 2.4 ITAG2.3): assembly: expected text, got float "
     "2.4; quote it"),
    (("taxon: 4081", "taxon: tomato"),
     ":3: genomes[0] (Solanum lycopersicum SL2.40 ITAG2.3): taxon: 'tomato' is not an NCBI "
     "Taxonomy number"),
    (("    source: tomato.gff3\n", "    source: tomato.gff3\n    sha256: abc\n"),
     ":7: genomes[0] (Solanum lycopersicum SL2.40 ITAG2.3): sha256: 'abc' is not a sha256"),
    (("source: tomato.gff3", "source: ftp://example.org/tomato.gff3"),
     ":6: genomes[0] (Solanum lycopersicum SL2.40 ITAG2.3): source: 'ftp://example.org/"
     "tomato.gff3': only http(s) URLs and file paths are supported"),
])
def test_a_mistake_names_the_line_entry_and_key(tmp_path: Path, edit: tuple[str, str],
                                                message: str) -> None:
    text = ENTRY.replace(*edit)
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(write(tmp_path, text))
    assert str(caught.value).startswith(str(tmp_path / "catalogue.yaml") + message)


def test_file_level_mistakes(tmp_path: Path) -> None:
    cases = {
        "genome:\n  - species: x\n": "expected a top-level 'genomes:' list",
        "genomes: []\n": "'genomes' must be a non-empty list",
        "genomes:\n  - [1, 2\n": "not valid YAML",
        ENTRY + ENTRY.removeprefix("genomes:\n"): ":7: genomes[1] (Solanum lycopersicum SL2.40 "
        "ITAG2.3): the same genome version as genomes[0] (line 2)",
    }
    for text, message in cases.items():
        with pytest.raises(CatalogueError, match=message.replace("(", r"\(").replace(
                ")", r"\)").replace("[", r"\[").replace("]", r"\]")):
            load_catalogue(write(tmp_path, text))
    with pytest.raises(CatalogueError, match="cannot read the catalogue"):
        load_catalogue(tmp_path / "missing.yaml")


def test_the_cli_reports_a_catalogue_mistake_without_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, ENTRY.replace("annotation:", "annotatoin:"))
    result = CliRunner().invoke(main, ["pipeline", "run", "--catalogue", str(path), "--store",
                                       str(tmp_path / "store")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {path}:5: genomes[0] (Solanum lycopersicum "
                                    "SL2.40 ?): annotatoin: unknown key; did you mean")
    assert "Traceback" not in result.output
    result = CliRunner().invoke(main, ["pipeline", "run", "--store", str(tmp_path / "s")],
                                env={env_name("catalogue"): ""})
    assert result.exit_code == 2 and "give --catalogue FILE" in result.stderr


def test_a_missing_local_source_names_the_entry(tmp_path: Path) -> None:
    genome = load_catalogue(write(tmp_path, ENTRY)).genomes[0]
    with pytest.raises(CatalogueError) as caught:
        materialise_source(genome, Layout.for_store(tmp_path / "store"))
    assert str(caught.value) == (f"{genome.where('source')}: {tmp_path / 'tomato.gff3'}: "
                                 "no such file")


def test_a_local_source_must_match_its_pinned_sha256(tmp_path: Path) -> None:
    (tmp_path / "tomato.gff3").write_bytes((DATA / "tomato_ITAG2.3_test.gff3").read_bytes())
    real = hashlib.sha256((tmp_path / "tomato.gff3").read_bytes()).hexdigest()
    good = ENTRY + f"    sha256: {real}\n"
    found = materialise_source(load_catalogue(write(tmp_path, good)).genomes[0],
                               Layout.for_store(tmp_path / "store"))
    assert found.sha256 == real and not found.fetched
    genome = load_catalogue(write(tmp_path, ENTRY + f"    sha256: '{'0' * 64}'\n")).genomes[0]
    with pytest.raises(CatalogueError, match=r":7: genomes\[0\] \(Solanum lycopersicum "
                       rf"SL2.40 ITAG2.3\): sha256: .*tomato.gff3 has sha256 {real}, the "
                       "catalogue says 0000"):
        materialise_source(genome, Layout.for_store(tmp_path / "store"))


def test_the_layout_lives_next_to_the_store(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in PIPELINE_SETTINGS:
        monkeypatch.delenv(env_name(setting.name), raising=False)
    layout = Layout.for_store(tmp_path / "store")
    assert layout.pipeline_dir == tmp_path / "store-pipeline"
    assert layout.dagster_home == tmp_path / "store-pipeline" / "dagster"
    assert layout.rdf_path("a/b/c") == tmp_path / "store-pipeline/genomes/a/b/c/genome.nt"
    monkeypatch.setenv(env_name("dagster-home"), str(tmp_path / "home"))
    assert Layout.for_store(tmp_path / "store").dagster_home == tmp_path / "home"
    assert Layout.for_store(tmp_path / "store", dagster_home=tmp_path / "h").dagster_home \
        == tmp_path / "h"


def test_pipeline_commands_and_settings_are_documented() -> None:
    root = ROOT
    text = "".join(p.read_text(encoding="utf-8") for p in
                   (root / "README.md", root / "docs" / "pipeline.md") if p.exists())
    for command in ("gff2rdf pipeline run", "gff2rdf pipeline ui", "make pipeline"):
        assert command in text, command
    for setting in PIPELINE_SETTINGS:
        assert env_name(setting.name) in text, setting.name
    for args in (["pipeline", "--help"], ["pipeline", "run", "--help"],
                 ["pipeline", "ui", "--help"]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0 and "Example:" in result.output
