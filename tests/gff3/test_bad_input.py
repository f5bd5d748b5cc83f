"""Bad input: every problem with file:line and what was expected, all of them, no output."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff3Error
from gff2rdf.gff3.reader import Gff3Reader
from tests.conftest import convert_text

HEADER = "##gff-version 3\n"


def kinds_of(tmp_path: Path, body: str, **options: object) -> dict[int, set[str]]:
    with pytest.raises(Gff3Error) as info:
        convert_text(tmp_path, HEADER + body, **options)
    found: dict[int, set[str]] = {}
    for p in info.value.problems:
        found.setdefault(p.line, set()).add(p.kind)
    assert not (tmp_path / "out.nt").exists(), "no output file may be left behind"
    return found


@pytest.mark.parametrize(("line", "kind", "words"), [
    ("Chr1\t.\tgene\t1\t9\t.\t+\t.", "column-count", "expected 9 tab-separated columns"),
    ("Chr1 . gene 1 9 . + . ID=a", "column-count", "tabs, not spaces"),
    ("Chr1\t.\tgene\tabc\t9\t.\t+\t.\tID=a", "bad-start", "column 4 (start) 'abc'"),
    ("Chr1\t.\tgene\t0\t9\t.\t+\t.\tID=a", "bad-start", "not a positive integer"),
    ("Chr1\t.\tgene\t1\t-9\t.\t+\t.\tID=a", "bad-end", "column 5 (end)"),
    ("Chr1\t.\tgene\t9\t1\t.\t+\t.\tID=a", "start-after-end", "greater than column 5"),
    ("Chr1\t.\tgene\t1\t9\t.\tx\t.\tID=a", "bad-strand", "column 7 (strand) 'x'"),
    ("Chr1\t.\tCDS\t1\t9\t.\t+\t3\tID=a", "bad-phase", "column 8 (phase) '3'"),
    ("Chr1\t.\tCDS\t1\t9\t.\t+\t.\tID=a", "missing-phase", "a CDS needs phase"),
    ("Chr1\t.\tgene\t1\t9\tabc\t+\t.\tID=a", "bad-score", "column 6 (score) 'abc'"),
    ("Chr1\t.\tgene\t1\t9\tnan\t+\t.\tID=a", "bad-score", "not a number"),
    ("Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a;Note=50%", "bad-escape", "%25"),
    ("Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a;Note=%ZZ", "bad-escape", "two hex digits"),
    ("Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a;broken", "bad-attribute", "not tag=value"),
    ("Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a;Name=", "empty-value", "has no value"),
    ("Chr1\t.\t.\t1\t9\t.\t+\t.\tID=a", "bad-type", "column 3 (type)"),
])
def test_line_errors_name_the_line_and_the_expectation(
        tmp_path: Path, line: str, kind: str, words: str) -> None:
    with pytest.raises(Gff3Error) as info:
        convert_text(tmp_path, HEADER + "Chr1\t.\tgene\t1\t100\t.\t+\t.\tID=ok\n" + line + "\n")
    problem = info.value.problems[0]
    assert (problem.line, problem.kind) == (3, kind)
    assert words in problem.message
    assert str(problem).startswith(f"{tmp_path / 'in.gff3'}:3: error: ")
    assert not (tmp_path / "out.nt").exists()


def test_all_problems_are_reported_sorted_by_line(tmp_path: Path) -> None:
    body = ("Chr1\t.\tgene\tx\t9\t.\t+\t.\tID=a\n"
            "Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=b;Parent=nowhere\n"
            "Chr1\t.\tgene\t1\t9\t.\t*\t.\tID=c\n"
            "Chr1\t.\tmRNA\t1\t9\t.\t+\t.\tID=b\n")
    found = kinds_of(tmp_path, body)
    assert found == {2: {"bad-start"}, 3: {"undefined-parent"}, 4: {"bad-strand"},
                     5: {"duplicate-id"}}


def test_report_counts_each_kind_and_shows_the_first_few(tmp_path: Path) -> None:
    body = "".join(f"Chr1\t.\tgene\t{i}\tx\t.\t+\t.\tID=g{i}\n" for i in range(1, 13))
    with pytest.raises(Gff3Error) as info:
        convert_text(tmp_path, HEADER + body)
    report = str(info.value)
    assert "12 error(s)" in report and "bad-end: 12" in report
    assert report.count("[bad-end]") == 5 and "... and 7 more bad-end" in report


def test_parent_cycle(tmp_path: Path) -> None:
    body = ("Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a;Parent=b\n"
            "Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=b;Parent=a\n")
    with pytest.raises(Gff3Error) as info:
        convert_text(tmp_path, HEADER + body)
    (problem,) = info.value.problems
    assert problem.kind == "parent-cycle" and "a -> b -> a" in problem.message.replace(
        "b -> a -> b", "a -> b -> a")


def test_duplicate_id_of_another_type_but_discontinuous_ok(tmp_path: Path) -> None:
    ok = ("Chr1\t.\tCDS\t1\t9\t.\t+\t0\tID=c\n"
          "Chr1\t.\tCDS\t20\t29\t.\t+\t0\tID=c\n")
    (tmp_path / "ok").mkdir()
    result, _ = convert_text(tmp_path / "ok", HEADER + ok)
    assert result.features == 1
    found = kinds_of(tmp_path, "Chr1\t.\texon\t1\t9\t.\t+\t.\tID=c\n"
                               "Chr1\t.\tCDS\t1\t9\t.\t+\t0\tID=c\n")
    assert found == {3: {"duplicate-id"}}


def test_child_on_another_sequence(tmp_path: Path) -> None:
    found = kinds_of(tmp_path, "Chr1\t.\tgene\t1\t90\t.\t+\t.\tID=g\n"
                               "Chr2\t.\tmRNA\t1\t90\t.\t+\t.\tID=t;Parent=g\n")
    assert found == {3: {"parent-seqid"}}


def test_non_utf8_bytes(tmp_path: Path) -> None:
    source = tmp_path / "latin1.gff3"
    source.write_bytes(b"##gff-version 3\nChr1\t.\tgene\t1\t9\t.\t+\t.\tID=a;Note=caf\xe9\n")
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "out.nt")
    (problem,) = info.value.problems
    assert (problem.line, problem.kind) == (2, "not-utf8")
    assert "0xe9" in problem.message


def test_existing_output_is_untouched_on_error(tmp_path: Path) -> None:
    out = tmp_path / "out.nt"
    out.write_text("previous\n")
    source = tmp_path / "bad.gff3"
    source.write_text(HEADER + "Chr1\t.\tgene\t1\tx\t.\t+\t.\tID=a\n")
    with pytest.raises(Gff3Error):
        convert(source, out)
    assert out.read_text() == "previous\n"
    assert [p.name for p in tmp_path.iterdir()] != [] and \
        not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_lenient_skips_bad_lines_and_counts_them(tmp_path: Path) -> None:
    body = ("Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a\n"
            "Chr1\t.\tgene\tx\t9\t.\t+\t.\tID=b\n"
            "Chr1\t.\tmRNA\t1\t9\t.\t+\t.\tID=c;Parent=zz\n")
    result, nt = convert_text(tmp_path, HEADER + body, lenient=True)
    assert result.skipped_lines == 1 and result.features == 2
    assert "feature/b>" not in nt and "feature/zz" not in nt
    assert result.dropped_links == 1
    assert "1 errors skipped (bad-start: 1): 1 line and 1 link not written" in result.summary()


def test_strict_turns_warnings_into_errors(tmp_path: Path) -> None:
    body = "Chr1\t.\tprediction\t1\t9\t.\t+\t.\tID=a\n"
    convert_text(tmp_path, body)  # a warning only: no ##gff-version, unknown type
    with pytest.raises(Gff3Error) as info:
        convert_text(tmp_path, body, strict=True)
    assert {p.kind for p in info.value.problems} == {"missing-version", "unknown-type"}


def test_strict_keeps_an_unknown_dbxref_tag_a_warning(tmp_path: Path) -> None:
    """A tag bioregistry does not know is still GFF3's DBTAG:ID: no IRI, but no error."""
    body = HEADER + "Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a;Dbxref=NoSuchDb:1\n"
    result, nt = convert_text(tmp_path, body, strict=True)
    assert [p.kind for p in result.log.problems("warning")] == ["unresolved-xref"]
    assert '"NoSuchDb:1"' in nt


def test_reader_handles_bom_crlf_gzip_and_fasta(tmp_path: Path) -> None:
    text = ("\ufeff##gff-version 3\r\n##sequence-region Chr1 1 20\r\n"
            "Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a\r\n###\r\n##FASTA\r\n>Chr1 desc\r\nACGT\r\nAC\r\n"
            ">Chr2\nAAAA\n")
    source = tmp_path / "x.gff3.gz"
    with gzip.open(source, "wt", encoding="utf-8", newline="") as fh:
        fh.write(text)
    reader = Gff3Reader.open(source)
    features = list(reader.features())
    reader.close()
    assert [f.attributes["ID"] for f in features] == [["a"]]
    assert reader.log.errors == reader.log.warnings == 0
    assert reader.sequences["Chr1"].length == 20  # from ##sequence-region, not the FASTA
    assert reader.sequences["Chr2"].length == 4


def test_percent_decoding_and_multiple_values() -> None:
    reader = Gff3Reader.from_text(
        "Chr%201\t.\tgene\t1\t9\t.\t+\t.\tID=a%3Bb;Alias=x,y%2Cz;Note=100%25\n")
    (f,) = list(reader.features())
    assert f.seqid == "Chr 1"
    assert f.attributes == {"ID": ["a;b"], "Alias": ["x", "y,z"], "Note": ["100%"]}


def test_a_repeated_column_9_is_parsed_once_and_its_problems_reported_each_time() -> None:
    # the segments of a discontinuous CDS repeat column 9: the reader reuses the last clean
    # parse, but a column with a warning or an error is parsed (and reported) on every line
    cds = "Chr1\t.\tCDS\t{}\t{}\t.\t+\t0\t{}\n"
    reader = Gff3Reader.from_text(
        HEADER + cds.format(1, 9, "ID=c;Parent=m;Note=a%2Cb")
        + cds.format(20, 29, "ID=c;Parent=m;Note=a%2Cb")
        + cds.format(40, 49, "ID=d;Note=x;Note=y") + cds.format(60, 69, "ID=d;Note=x;Note=y")
        + cds.format(80, 89, "ID=e;Note=%ZZ") + cds.format(90, 99, "ID=e;Note=%ZZ"))
    first, second, third, fourth = reader.features()
    assert first.attributes == {"ID": ["c"], "Parent": ["m"], "Note": ["a,b"]}
    assert second.attributes is first.attributes
    assert third.attributes == fourth.attributes == {"ID": ["d"], "Note": ["x", "y"]}
    assert third.attributes is not fourth.attributes
    assert sorted((p.line, p.kind) for p in reader.log.problems()) == [
        (4, "repeated-attribute"), (5, "repeated-attribute"), (6, "bad-escape"),
        (7, "bad-escape")]


def test_trailing_tab_is_a_warning(tmp_path: Path) -> None:
    result, _ = convert_text(tmp_path, HEADER + "Chr1\t.\tgene\t1\t9\t.\t+\t.\tID=a\t\n")
    assert [p.kind for p in result.log.problems()] == ["trailing-tab"]


def test_empty_file(tmp_path: Path) -> None:
    source = tmp_path / "empty.gff3"
    source.write_text("")
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "out.nt")
    assert info.value.problems[0].kind == "empty-file"
