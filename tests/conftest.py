"""Shared test helpers: the shared corpus location and small conversion helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pyoxigraph
import pytest

from gff2rdf.conversion.api import ConvertResult, convert

ROOT = Path(__file__).resolve().parents[1]  # the repository
DATA = ROOT / "tests" / "data"
SHARED = Path(os.environ.get("GFF2RDF_SHARED_DATA",
                             Path(__file__).resolve().parents[2] / "shared" / "data"))


def shared(*parts: str) -> Path:
    """A path in ../shared/data; skips the test with the reason when the corpus is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared corpus not found at {path} (set GFF2RDF_SHARED_DATA)")
    return path


def convert_text(tmp_path: Path, text: str, **options: object) -> tuple[ConvertResult, str]:
    """Convert GFF3 text to N-Triples; returns the result and the output text."""
    source = tmp_path / "in.gff3"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.nt"
    options.setdefault("species", "Arabidopsis thaliana")
    options.setdefault("taxon", "3702")
    options.setdefault("assembly", "TAIR10")
    options.setdefault("annotation", "Araport11")
    result = convert(source, out, **options)  # type: ignore[arg-type]
    return result, out.read_text(encoding="utf-8")


def store_of(nt: str) -> pyoxigraph.Store:
    store = pyoxigraph.Store()
    store.load(nt.encode("utf-8"), format=pyoxigraph.RdfFormat.N_TRIPLES)
    return store


GENOME = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/Araport11"
SEQ = "https://w3id.org/gff2rdf/data/assembly/TAIR10/"
