"""The export round trip: GFF3 -> convert -> export gives the same features (issue 17).

For every file of ../shared/data/gff3 and every valid file of ../shared/data/gff3-conformance
(EXPECTED.tsv): convert it (``--lenient`` when it has errors: then only what was converted is
compared), export it, and compare the two files feature by feature with ``gff3_compare`` (its
own GFF3 parsing, nothing of gff2rdf): seqid, source, type, start, end, score, strand, phase
and the multiset of attributes, ID, Parent, Dbxref, Ontology_term and Name included, so the
parent-child graph too. Only the differences listed for a file in export_differences.tsv
are allowed, and a listed one that is not needed fails too (the list stays true).
``gt gff3validator`` must accept every exported file, unless the list says why not (it then
rejects the input for the same reason). Each file is converted once a session.
"""

from __future__ import annotations

import csv
import gzip
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff3Error
from gff2rdf.export.api import FileSource, export
from tests.conftest import SHARED, Converted
from tests.export.gff3_compare import Line, allowances_for, compare, listed_differences, read_lines

GT = shutil.which("gt")
CORPUS = SHARED / "gff3"
CONFORMANCE = SHARED / "gff3-conformance"
# problems that drop a link, not the line (``--lenient``)
LINK_KINDS = {"undefined-parent", "self-parent", "parent-cycle", "parent-seqid",
              "forward-reference"}


def _corpus() -> list[str]:
    if not CORPUS.exists():
        return ["gff3/(corpus missing)"]
    return [f"gff3/{p.name}" for p in sorted(CORPUS.iterdir()) if p.name != "MANIFEST.tsv"]


def _conformance() -> list[str]:
    table = CONFORMANCE / "EXPECTED.tsv"
    if not table.exists():
        return ["gff3-conformance/(corpus missing)"]
    with table.open(encoding="utf-8") as fh:
        return [f"gff3-conformance/{row['file']}" for row in csv.DictReader(fh, delimiter="\t")
                if row["expected"] == "valid"]


FILES = _corpus() + _conformance()


def expected_lines(trip: Converted) -> list[Line]:
    """The input's lines, less what a lenient conversion skipped: lines with an error, and
    links to IDs that no converted line has or that the log says were dropped."""
    lines = read_lines(trip.source)
    if not trip.lenient:
        return lines
    problems = trip.result.log.problems("error") + trip.result.log.problems("warning")
    skipped = {p.line for p in problems if p.severity == "error" and p.kind not in LINK_KINDS}
    dropped: dict[int, set[str]] = {}
    for p in problems:
        if p.kind in ("undefined-parent", "self-parent", "parent-seqid", "parent-cycle"):
            m = re.search(r"(?:Parent|Derives_from)[= ]'?([^' ]+?)'?(?:[ ;:]|$)", p.message)
            if p.kind == "parent-cycle":
                m = re.search(r"cycle: [^ ]+ -> ([^ ]+)", p.message)
            if m:
                dropped.setdefault(p.line, set()).add(m.group(1))
    kept = [x for x in lines if x.number not in skipped]
    ids = {v for x in kept for v in x.values("ID")}
    out = []
    for x in kept:
        gone = dropped.get(x.number, set())
        attrs = tuple(p for p in x.attributes if not (
            p[0] in ("Parent", "Derives_from") and (p[1] not in ids or p[1] in gone)))
        out.append(replace(x, attributes=attrs))
    return out


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("roundtrip")


@pytest.mark.parametrize("name", FILES)
def test_round_trip(name: str, corpus_nt: Callable[[str], Converted], workdir: Path) -> None:
    if any(d.file == Path(name).name and d.kind == "not-compared"
           for d in listed_differences()):
        # nothing to compare: convert refuses a file without features, as the list says
        with pytest.raises(Gff3Error) as info:
            convert(SHARED / name, workdir / "refused.nt", lenient=True)
        assert {p.kind for p in info.value.problems} & {"no-features", "empty-file"}
        return
    trip = corpus_nt(name)
    out = workdir / (trip.source.name + ".export.gff3")
    result = export(FileSource(str(trip.nt)), out)
    assert result.features == trip.result.features
    assert result.dropped_links == 0
    base = trip.source.name
    problem, used = compare(expected_lines(trip), read_lines(out), allowances_for(base))
    assert not problem, f"{name}: the export differs from the input:\n{problem}"
    listed = {d.kind for d in listed_differences() if d.file == base}
    unneeded = listed & set(allowances_for(base)) - set(used)
    assert not unneeded, f"{name}: listed differences no longer needed: {sorted(unneeded)}"
    if GT is not None:
        check_gt(name, out, workdir)


def gt_verdict(path: Path) -> tuple[bool, str]:
    assert GT is not None
    run = subprocess.run([GT, "gff3validator", str(path)], capture_output=True, text=True,
                         timeout=600, check=False)
    return run.returncode == 0, (run.stderr or run.stdout).strip()


def check_gt(name: str, out: Path, workdir: Path) -> None:
    """gt accepts the export; or its gt-rejects row quotes what gt says of it (the problem,
    kept from the input, which gt rejects too: with a ##gff-version line, should it lack one)."""
    ok, message = gt_verdict(out)
    base = Path(name).name
    listed = [d for d in listed_differences() if d.file == base and d.kind == "gt-rejects"]
    if ok:
        assert not listed, f"{name}: gt accepts the export now; remove its gt-rejects row"
        return
    assert listed, f"{name}: gt gff3validator rejects the export: {message}"
    quoted = re.findall(r'"([^"]+)"', listed[0].reason)
    assert quoted and quoted[0] in message, \
        f"{name}: gt rejects the export for another reason than listed: {message}"
    text = (SHARED / name).read_bytes()
    if text[:2] == b"\x1f\x8b":
        text = gzip.decompress(text)
    if not text.startswith(b"##gff-version"):
        text = b"##gff-version 3\n" + text
    plain = workdir / (base + ".versioned.gff3")
    plain.write_bytes(text)
    assert not gt_verdict(plain)[0], f"{name}: gt accepts the input but not the export"


def test_every_listed_difference_names_a_file_and_a_known_kind() -> None:
    from tests.export.gff3_compare import ALLOWANCES

    names = {Path(f).name for f in FILES} | {"*"}
    for d in listed_differences():
        assert d.file in names, f"export_differences.tsv: no file {d.file}"
        assert d.kind in {*ALLOWANCES, "gt-rejects", "not-compared"}, d
        assert len(d.reason) > 20, f"export_differences.tsv: give a reason for {d}"
