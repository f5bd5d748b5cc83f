"""GenomeTools' verdict on a GFF3 file, next to gff2rdf's own (the ``gff3_report`` asset).

``gt gff3validator`` is the reference validator of GFF3; when it is installed (Debian package
``genometools``, ``make test-deps``), each report records whether it accepts the source and the
first lines of what it says, and the ``gt_valid`` asset check shows it. Without it the report
says so. The two verdicts may differ: ``tests/gff3/test_conformance.py`` lists where and why.

Example:
    >>> verdict = gt_verdict("tests/data/tair10_chr5_mikado.gff3")
    >>> verdict["verdict"] in ("valid", "not installed")
    True
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

__all__ = ["INSTALL", "gt_verdict"]

INSTALL = "gt is not installed (Debian: apt-get install genometools, or make test-deps)"
TIMEOUT = 600.0  # seconds; a whole genome takes gt about 16 s per million lines here


def gt_verdict(path: str | Path, timeout: float = TIMEOUT) -> dict[str, Any]:
    """``{"verdict": "valid" | "invalid" | "not installed" | "not run", "message": str}``."""
    gt = shutil.which("gt")
    if gt is None:
        return {"verdict": "not installed", "message": INSTALL}
    try:
        run = subprocess.run([gt, "gff3validator", str(path)], capture_output=True, text=True,
                             errors="replace", timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"verdict": "not run", "message": f"gt gff3validator took over {timeout:g} s"}
    said = (run.stderr.strip() or run.stdout.strip()).splitlines()
    return {"verdict": "valid" if run.returncode == 0 else "invalid",
            "message": "\n".join(line.removeprefix("gt gff3validator: ") for line in said[:5])}
