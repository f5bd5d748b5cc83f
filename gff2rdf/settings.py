"""Settings: one declared table of (name, default, help), read by the CLI, server and pipeline.

Each setting can come from an option, else from the environment variable ``GFF2RDF_<NAME>``
(upper case, ``-`` as ``_``), else its default.

Example:
    >>> get("base-iri")
    'https://w3id.org/gff2rdf/data/'
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["SETTINGS", "Setting", "env_name", "get"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("store", "./gff2rdf-store",
            "Directory of the embedded Oxigraph store."),
    Setting("base-iri", "https://w3id.org/gff2rdf/data/",
            "Base of every data IRI (genomes, assemblies, features)."),
    Setting("jobs", "auto",
            "Processes for converting large files ('auto': one per core); the output does "
            "not depend on it."),
    Setting("uniprot-endpoint", "https://sparql.uniprot.org/sparql",
            "UniProt SPARQL endpoint for federated GO annotation queries."),
    Setting("ubergraph-endpoint", "https://ubergraph.apps.renci.org/sparql",
            "Ubergraph SPARQL endpoint for GO / PO / SO closure queries."),
    Setting("window", "50000",
            "Lines after which a feature with no new lines is considered complete; lines of "
            "one feature further apart than this are an error."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def env_name(name: str) -> str:
    return "GFF2RDF_" + name.upper().replace("-", "_")


def get(name: str) -> str:
    setting = _BY_NAME[name]
    return os.environ.get(env_name(name), setting.default)


def jobs(value: str | int | None = None) -> int:
    """The number of worker processes: a number, or 'auto' for one per core."""
    text = str(value if value is not None else get("jobs"))
    if text == "auto":
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)
    return max(1, int(text))
