"""GenomeTools as a test oracle: ``gt gff3validator`` against ``gff2rdf validate --strict``.

Every file of ../shared/data/gff3-conformance (GenomeTools' own GFF3 test files) and of
../shared/data/gff3 (real plant annotations) is validated by both. A file is valid for gt when
``gt gff3validator`` exits 0, and for gff2rdf when ``check_gff3(strict=True)`` (the library call
behind ``gff2rdf validate --strict``) finds no error. Every disagreement must be listed, with a
one-line reason, in ``conformance_disagreements.tsv``; the agreement is printed, and must stay
at or above ``MIN_AGREEMENT``.
"""

from __future__ import annotations

import csv
import gzip
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

from gff2rdf.shacl.validate import check_gff3
from tests.conftest import SHARED, shared

LISTED = Path(__file__).with_name("conformance_disagreements.tsv")
FOLDERS = ("gff3-conformance", "gff3")
NOT_GFF3 = frozenset({"EXPECTED.tsv", "MANIFEST.tsv"})
# Every disagreement left is gff2rdf being stricter than gt where the GFF3 specification is on
# its side (see the listed reasons): a type that is not SO, a Gap string that is not one, and
# warnings both tools give, which --strict makes errors. 145 of 151 files agreed when this was
# written (136 with plain gt and Dbxref tags escalated by --strict).
MIN_AGREEMENT = 0.95
GT = shutil.which("gt")


@cache
def expected() -> dict[str, dict[str, str]]:
    """GenomeTools' own expectations for its test files (EXPECTED.tsv), by relative path."""
    with (SHARED / "gff3-conformance" / "EXPECTED.tsv").open(encoding="utf-8") as fh:
        return {f"gff3-conformance/{row['file']}": row
                for row in csv.DictReader(fh, delimiter="\t")}


def files() -> list[str]:
    """Every GFF3 file of the two folders, as a path relative to ../shared/data."""
    found = []
    for folder in FOLDERS:
        for path in sorted(shared(folder).iterdir()):
            if path.is_file() and path.name not in NOT_GFF3:
                found.append(f"{folder}/{path.name}")
    return found


def checking_options(name: str) -> list[str]:
    """The options with which GenomeTools' own test suite checks one of its files, where they
    change the verdict: ``-typecheck so`` (the Gap tests; plain gt gff3validator does not look
    at Gap strings at all). Output options (``-sort``, ``-width``) change nothing here."""
    options = expected().get(name, {}).get("testsuite_options", "")
    return ["-typecheck", "so"] if re.search(r"(^|\s)-typecheck so\b", options) else []


def gt_run(name: str, tmp_path: Path, options: list[str] | None = None) -> str:
    """gt's verdict: ``valid``, ``invalid``, or ``crash`` when it dies on a signal."""
    assert GT is not None
    source = SHARED / name
    with source.open("rb") as fh:
        gzipped = fh.read(2) == b"\x1f\x8b"
    if gzipped and source.suffix != ".gz":  # gt reads gzip only by the name
        plain = tmp_path / source.name
        with gzip.open(source) as fh, plain.open("wb") as out:
            shutil.copyfileobj(fh, out)
        source = plain
    run = subprocess.run([GT, "gff3validator", *(options or []), str(source)],
                         capture_output=True, timeout=600, check=False)
    if run.returncode < 0:
        return "crash"
    return "valid" if run.returncode == 0 else "invalid"


def gff2rdf_verdict(name: str) -> str:
    log = check_gff3(SHARED / name, strict=True, jobs=1)
    return "valid" if log.errors == 0 else "invalid"


def listed() -> dict[str, tuple[str, str, str]]:
    with LISTED.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        return {row["file"]: (row["gt"], row["gff2rdf"], row["reason"]) for row in rows}


@pytest.fixture(scope="module")
def gt_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if GT is None:
        pytest.skip("GenomeTools' gt is not installed (make test-deps installs it)")
    tmp = tmp_path_factory.mktemp("gt")
    return {name: gt_run(name, tmp) for name in files()}


@pytest.fixture(scope="module")
def verdicts(gt_runs: dict[str, str], tmp_path_factory: pytest.TempPathFactory
             ) -> dict[str, tuple[str, str]]:
    """(gt, gff2rdf) per file. gt's verdict is that of ``gt gff3validator`` with the checking
    options GenomeTools' own test suite gives the file (``checking_options``); where gt
    crashes, the verdict its test suite expects (EXPECTED.tsv) stands for gt's."""
    tmp = tmp_path_factory.mktemp("gt-options")
    found = {}
    for name, gt in gt_runs.items():
        options = checking_options(name)
        if options:
            gt = gt_run(name, tmp, options)
        if gt == "crash":
            gt = expected().get(name, {}).get("expected", "crash")
        found[name] = (gt, gff2rdf_verdict(name))
    return found


def test_agreement_with_genometools(verdicts: dict[str, tuple[str, str]]) -> None:
    disagreements = {name: pair for name, pair in verdicts.items() if pair[0] != pair[1]}
    agreed = len(verdicts) - len(disagreements)
    print(f"\nGenomeTools agreement (gff2rdf --strict): {agreed}/{len(verdicts)} = "
          f"{agreed / len(verdicts):.1%}")
    known = {name: (gt, mine) for name, (gt, mine, _) in listed().items()}
    unlisted = {n: v for n, v in disagreements.items() if known.get(n) != v}
    stale = sorted(set(known) - set(disagreements))
    assert not unlisted, ("disagreements with gt not in conformance_disagreements.tsv (fix "
                          f"gff2rdf, or list each with its reason): {unlisted}")
    assert not stale, f"listed in conformance_disagreements.tsv but now agreeing: {stale}"
    assert agreed / len(verdicts) >= MIN_AGREEMENT


def test_each_listed_disagreement_gives_a_reason() -> None:
    for name, (gt, mine, reason) in listed().items():
        assert {gt, mine} == {"valid", "invalid"}, name
        assert len(reason) > 20, name


def test_installed_gt_gives_the_recorded_verdicts(gt_runs: dict[str, str]) -> None:
    """The disagreements were listed against GenomeTools 1.6.2 (Debian), whose verdicts
    EXPECTED.tsv and MANIFEST.tsv record: another gt that judges the files otherwise would
    need them listed again."""
    recorded = {name: row["gt_verdict"] for name, row in expected().items()}
    with shared("gff3", "MANIFEST.tsv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            match = re.search(r"gt 1\.6\.2 gff3validator: (valid|invalid)", row["notes"])
            if match:
                recorded[f"gff3/{row['file']}"] = match.group(1)
    differ = {}
    for name, want in recorded.items():
        got = gt_runs[name]
        if got != ("crash" if want.startswith("crash") else want):
            differ[name] = (want, got)
    assert not differ, f"the installed gt judges these files otherwise (recorded, now): {differ}"
