"""A dagster pipeline of software-defined assets for many genome versions (extra ``pipeline``).

A genome catalogue (``gff2rdf.pipeline.catalogue``) lists genome versions; each is one
partition of four assets (``gff2rdf.pipeline.assets``): the source GFF3, its check report, the
RDF file (with a blocking SHACL check) and the genome graph in the store. ``run_pipeline``
(``gff2rdf pipeline run``) materialises what is stale (``gff2rdf.pipeline.plan``);
``gff2rdf.pipeline.definitions`` is what the dagster UI loads (``gff2rdf pipeline ui``).

Importing this package does not import dagster; the names below are loaded on first use.

Example: the genome versions of the bundled catalogue.

    >>> from gff2rdf.pipeline import load_catalogue
    >>> for genome in load_catalogue("examples/catalogue.yaml").genomes:
    ...     print(genome.title)
    Arabidopsis thaliana TAIR10 Araport11
    Arabidopsis thaliana TAIR10 TAIR10
    Solanum lycopersicum SL2.40 ITAG2.3

``run_pipeline("examples/catalogue.yaml", "./gff2rdf-store")`` builds all three into
``./gff2rdf-store`` (its dagster instance and files go to ``./gff2rdf-store-pipeline/``) and
returns a ``PipelineRun``, whose ``summary()`` says per genome version what was materialised
and why; the example of ``gff2rdf.pipeline.runner`` plans one of them (a dry run).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["Catalogue", "CatalogueError", "Genome", "PipelineRun", "build_definitions",
           "load_catalogue", "run_pipeline"]

_WHERE = {
    "Catalogue": "catalogue", "CatalogueError": "catalogue", "Genome": "catalogue",
    "load_catalogue": "catalogue", "PipelineRun": "runner", "run_pipeline": "runner",
    "build_definitions": "definitions",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
