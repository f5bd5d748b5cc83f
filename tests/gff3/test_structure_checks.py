"""Structure checks GenomeTools makes and gff2rdf once let pass: each fixture in tests/data stands
for a real-world pattern (its first comment line says which), and each problem is reported with
file:line and what was expected, alike by ``convert`` in one piece, ``convert`` in chunks and
``gff2rdf validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.conversion import chunks
from gff2rdf.conversion import merge as merge_module
from gff2rdf.conversion.api import ConvertResult, convert
from gff2rdf.errors import Gff3Error, ProblemLog
from gff2rdf.shacl.validate import check_gff3, validate_rdf
from tests.conftest import DATA

G2R = "https://w3id.org/gff2rdf/vocab#"
FEATURE = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/test/feature/"
OPTIONS: dict[str, Any] = {"species": "Arabidopsis thaliana", "taxon": "3702",
                           "assembly": "TAIR10", "annotation": "test"}

Found = list[tuple[int, str, str]]  # (line, kind, severity)


def _convert(source: Path, out: Path, **options: Any) -> tuple[ConvertResult | None, ProblemLog]:
    try:
        result = convert(source, out, **OPTIONS, **options)
    except Gff3Error as exc:
        return None, exc.log
    return result, result.log


def found(log: ProblemLog, *kinds: str) -> Found:
    return [(p.line, p.kind, p.severity) for p in log.problems() if not kinds or p.kind in kinds]


def check_all(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *kinds: str,
              **options: Any) -> tuple[Found, Path]:
    """The problems of ``kinds`` in a fixture: the same from a conversion in one piece, one in
    chunks of two lines (which must really go in chunks) and ``check_gff3``; every problem
    names the file and line. Returns them and the N-Triples of the conversion in one piece."""
    source = DATA / name
    whole_out = tmp_path / "whole.nt"
    _, whole = _convert(source, whole_out, chunk_lines=0, **options)
    merged: list[bool] = []
    real_merge = merge_module._merge

    def spy(*args: Any, **kwargs: Any) -> Any:
        value = real_merge(*args, **kwargs)
        merged.append(True)
        return value

    monkeypatch.setattr(merge_module, "_merge", spy)
    _, parts = _convert(source, tmp_path / "parts.nt", chunk_lines=2, jobs=1, **options)
    assert merged, f"{name} was converted in one piece, not in chunks"
    checked = check_gff3(source, strict=bool(options.get("strict")),
                         lenient=bool(options.get("lenient")), jobs=1)
    assert found(whole) == found(parts) == found(checked)
    assert [str(p) for p in whole.problems()] == [str(p) for p in parts.problems()]
    for problem in whole.problems():
        assert str(problem).startswith(f"{source}:{problem.line}: ")
    return found(whole, *kinds), whole_out


def message(name: str, line: int, kind: str, **options: Any) -> str:
    log = check_gff3(DATA / name, jobs=1, **options)
    texts = [p.message for p in log.problems() if (p.line, p.kind) == (line, kind)]
    assert len(texts) == 1, texts
    return texts[0]


def test_a_reference_across_a_group_end_is_an_error(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    name = "forward_reference_across_group_end.gff3"
    problems, _ = check_all(name, tmp_path, monkeypatch)
    # line 10: Derives_from=g3.1 (line 13) across the ### on line 11, into another chunk;
    # line 16: Parent=g4.1 (line 18) across the ### on line 17. Line 6 refers back, and line
    # 20 forward with no ### between: both fine.
    assert problems == [(10, "forward-reference", "error"), (16, "forward-reference", "error")]
    text = message(name, 16, "forward-reference")
    assert "Parent 'g4.1'" in text and "line 18" in text and "### on line 17" in text
    assert "line 13" in message(name, 10, "forward-reference")


def test_a_reference_across_a_group_end_keeps_its_link_when_lenient(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    problems, out = check_all("forward_reference_across_group_end.gff3", tmp_path, monkeypatch,
                              lenient=True)
    assert problems == [(10, "forward-reference", "warning"),
                        (16, "forward-reference", "warning")]
    nt = out.read_text(encoding="utf-8")
    assert f"<{FEATURE}p2> <http://purl.obolibrary.org/obo/so#derives_from> <{FEATURE}g3.1>" in nt


def test_a_second_gff_version_line_is_an_error(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    name = "second_gff_version.gff3"
    problems, _ = check_all(name, tmp_path, monkeypatch)
    assert problems == [(6, "second-version", "error")]
    assert "line 1" in message(name, 6, "second-version")


def test_undefined_uppercase_attributes_are_warned_and_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "uppercase_attribute.gff3"
    problems, out = check_all(name, tmp_path, monkeypatch)
    assert problems == [(4, "reserved-attribute", "warning"), (5, "reserved-attribute", "warning"),
                        (7, "reserved-attribute", "warning")]
    text = message(name, 5, "reserved-attribute")
    assert "'AA'" in text and "'aa'" in text
    nt = out.read_text(encoding="utf-8")
    assert f'<{FEATURE}g1> <{G2R}attr/Index> "1"' in nt
    strict, _ = check_all(name, tmp_path, monkeypatch, "reserved-attribute", strict=True)
    assert {severity for _, _, severity in strict} == {"error"}


def test_is_circular_other_than_true_or_false_is_kept_and_warned(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "is_circular_bad_value.gff3"
    problems, out = check_all(name, tmp_path, monkeypatch)
    assert problems == [(4, "bad-circular", "warning"), (6, "bad-circular", "warning")]
    assert "'yes'" in message(name, 4, "bad-circular")
    nt = out.read_text(encoding="utf-8")
    assert f'<{FEATURE}ChrC> <{G2R}attr/Is_circular> "yes"' in nt
    assert f'<{FEATURE}ChrM> <{G2R}attr/Is_circular> "TRUE"' in nt
    # no sequence is circular; the valid Is_circular=false of Chr1 stays on its feature, as
    # g2r:isCircular (gff2rdf export writes it back), not as an attribute without a slot
    assert [t.split(" ")[2] for t in nt.splitlines() if f"<{G2R}isCircular>" in t] == \
        ['"false"^^<http://www.w3.org/2001/XMLSchema#boolean>']
    assert f'<{FEATURE}Chr1> <{G2R}isCircular> "false"' in nt
    assert not [t for t in nt.splitlines()
                if t.startswith(f"<{FEATURE}Chr1> <{G2R}attr/Is_circular>")]


def test_cds_phase_is_checked_for_every_parent(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    name = "cds_multi_parent_phase.gff3"
    problems, _ = check_all(name, tmp_path, monkeypatch)
    # line 9 follows for AT1G01020.1, not for .2 (after line 10); line 16 (with an ID) follows
    # for AT1G01030.1, not for .2 (after line 15)
    assert problems == [(9, "cds-phase", "warning"), (16, "cds-phase", "warning")]
    text = message(name, 9, "cds-phase")
    assert "AT1G01020.2" in text and "line 10" in text and "expected 1" in text
    assert "expected 2" in message(name, 16, "cds-phase")


def test_a_type_in_another_case_is_warned_and_column_3_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "type_case.gff3"
    problems, out = check_all(name, tmp_path, monkeypatch)
    assert problems == [(4, "type-case", "warning"), (6, "type-case", "warning"),
                        (8, "type-case", "warning")]
    assert "'five_prime_UTR'" in message(name, 6, "type-case")
    nt = out.read_text(encoding="utf-8")
    kept = {line.split(" ", 2)[2].rstrip(" .") for line in nt.splitlines()
            if f"<{G2R}gffType>" in line}
    # SO names as written (mRNA, CDS) need no copy; other spellings keep theirs
    assert kept == {f'"{t}"' for t in ("geNe", "five_prime_utr", "three_prime_utr", "protein",
                                        "SO:0000704", "lnc_RNA")}
    report = validate_rdf(out)
    assert report.conforms, report.summary(5)


def test_a_repeated_line_without_id_or_parent_is_written_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    name = "duplicate_anonymous_line.gff3"
    problems, out = check_all(name, tmp_path, monkeypatch)
    assert problems == [(5, "duplicate-line", "warning"), (8, "duplicate-line", "warning")]
    assert "line 4" in message(name, 5, "duplicate-line")
    assert "line 6" in message(name, 8, "duplicate-line")
    result, _ = _convert(DATA / name, tmp_path / "again.nt", chunk_lines=0)
    assert result is not None
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(set(lines)) == result.triples
    assert result.features == 5


@pytest.mark.parametrize(("name", "where"), [
    ("forward_reference_across_group_end.gff3", ":10: error: Derives_from 'g3.1'"),
    ("second_gff_version.gff3", ":6: error: "),
    ("uppercase_attribute.gff3", ":5: warning: attribute 'AA'"),
    ("is_circular_bad_value.gff3", ":4: warning: Is_circular="),
    ("cds_multi_parent_phase.gff3", ":9: warning: CDS phase"),
    ("type_case.gff3", ":4: warning: column 3 type 'geNe'"),
    ("duplicate_anonymous_line.gff3", ":5: warning: this line repeats line 4"),
])
def test_validate_reports_file_and_line(name: str, where: str) -> None:
    result = CliRunner().invoke(main, ["validate", "--strict", str(DATA / name)],
                                catch_exceptions=False)
    assert result.exit_code == 1
    assert f"{DATA / name}{where}".replace(": warning:", ": error:") in result.output


def test_duplicate_landmark_lines_are_never_split_across_chunks(tmp_path: Path) -> None:
    # the only identical lines a cut could separate are landmark lines with nothing else on
    # their sequence between them; a cut before such a line would hide the repeat from both
    # chunks' checks and write its block twice
    body = "##gff-version 3\n" + "Chr1\t.\tregion\t1\t5000\t.\t+\t.\tName=Chr1\n" * 2
    cuts = list(chunks.split_chunks(iter(body.encode().splitlines(keepends=True)[1:]), 1, 2))
    assert len(cuts) == 1


def test_an_unknown_type_is_reported_once_per_line(tmp_path: Path) -> None:
    source = tmp_path / "in.gff3"
    source.write_text("##gff-version 3\nChr1\t.\tmRNA\t1\t100\t.\t+\t.\tID=m\n"
                      "Chr1\t.\tfoo_thing\t1\t10\t.\t+\t.\tParent=m\n"
                      "Chr1\t.\tfoo_thing\t20\t30\t.\t+\t.\tParent=m\n", encoding="utf-8")
    assert found(check_gff3(source, jobs=1)) == [(3, "unknown-type", "warning"),
                                                 (4, "unknown-type", "warning")]


def test_overlapping_cds_do_not_stop_the_phase_check(tmp_path: Path) -> None:
    # GenomeTools' cds_check_fail_3: the first two CDS share a base, the third has the wrong
    # phase for the second (gt: "wrong phase 0 (should be 2)")
    source = tmp_path / "in.gff3"
    source.write_text("##gff-version 3\nChr1\t.\tgene\t1\t109\t.\t+\t.\tID=g\n"
                      "Chr1\t.\tCDS\t1\t11\t.\t+\t0\tParent=g\n"
                      "Chr1\t.\tCDS\t11\t21\t.\t+\t1\tParent=g\n"
                      "Chr1\t.\tCDS\t101\t109\t.\t+\t0\tParent=g\n", encoding="utf-8")
    log = check_gff3(source, jobs=1)
    assert found(log) == [(5, "cds-phase", "warning")]
    assert "expected 2" in log.problems()[0].message
