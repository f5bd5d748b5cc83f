"""The version of gff2rdf (one place; pyproject.toml reads it) and the git commit it runs from."""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

__all__ = ["__version__", "git_commit"]

__version__ = "0.1.0"

_PACKAGE = Path(__file__).resolve().parent


@cache
def git_commit() -> str | None:
    """The commit of the gff2rdf checkout the code runs from, or None: an installed wheel, no
    git, or a package that lies in some other repository than its own checkout. Uncommitted
    changes are not seen (the pipeline's code versions are)."""
    try:
        run = subprocess.run(["git", "-C", str(_PACKAGE), "rev-parse", "--show-toplevel", "HEAD"],
                             capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    lines = run.stdout.split()
    if run.returncode != 0 or len(lines) != 2 or Path(lines[0]).resolve() != _PACKAGE.parent:
        return None
    return lines[1]
