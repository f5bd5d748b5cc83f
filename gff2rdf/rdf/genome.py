"""A genome version (species, assembly, annotation release) and the IRIs built from it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..terms import encode_segment

__all__ = ["DEFAULT_BASE", "GenomeVersion", "slug"]

DEFAULT_BASE = "https://w3id.org/gff2rdf/data/"


def slug(text: str) -> str:
    """A lower-case, underscore-separated path segment: ``Arabidopsis thaliana`` ->
    ``arabidopsis_thaliana``."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower()).strip("_") or "unknown"


@dataclass(frozen=True)
class GenomeVersion:
    """One genome version (assembly x annotation release of one species) and its IRIs."""

    species: str
    assembly: str
    annotation: str
    taxon: str | None = None
    base_iri: str = DEFAULT_BASE

    @property
    def species_slug(self) -> str:
        return slug(self.species)

    @property
    def iri(self) -> str:
        return (f"{self.base_iri}genome/{encode_segment(self.species_slug)}/"
                f"{encode_segment(self.assembly)}/{encode_segment(self.annotation)}")

    @property
    def assembly_iri(self) -> str:
        return f"{self.base_iri}assembly/{encode_segment(self.assembly)}"

    @property
    def meta_iri(self) -> str:
        return f"{self.base_iri}meta"

    def seqregion_iri(self, seqid: str) -> str:
        return f"{self.assembly_iri}/{encode_segment(seqid)}"

    def feature_iri(self, feature_id: str) -> str:
        return f"{self.iri}/feature/{encode_segment(feature_id)}"

    @property
    def title(self) -> str:
        return f"{self.species} {self.assembly} {self.annotation}"
