"""Accept / reject agreement with GenomeTools on its own GFF3 test files.

Every disagreement must be listed, with its reason, in ``conformance_disagreements.tsv``; the
agreement is printed and must stay at or above 90 %.
"""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import shared
from gff2rdf.convert import convert
from gff2rdf.errors import Gff3Error

LISTED = Path(__file__).with_name("conformance_disagreements.tsv")


def verdict(path: Path, out: Path) -> str:
    try:
        convert(path, out)
    except Gff3Error:
        return "invalid"
    return "valid"


def test_agreement_with_genometools(tmp_path: Path) -> None:
    folder = shared("gff3-conformance")
    with (folder / "EXPECTED.tsv").open(encoding="utf-8") as fh:
        expected = {row["file"]: row["expected"] for row in csv.DictReader(fh, delimiter="\t")}
    with LISTED.open(encoding="utf-8") as fh:
        rows = csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")
        listed = {row["file"]: (row["expected"], row["gff2rdf"]) for row in rows}
    disagreements = {}
    for name, want in sorted(expected.items()):
        got = verdict(folder / name, tmp_path / "out.nt")
        if got != want:
            disagreements[name] = (want, got)
    agreement = 1 - len(disagreements) / len(expected)
    print(f"\nGenomeTools agreement: {len(expected) - len(disagreements)}/{len(expected)} "
          f"= {agreement:.1%}")
    assert disagreements == listed, "update conformance_disagreements.tsv with a reason"
    assert agreement >= 0.90
