"""Code versions of the pipeline's assets, derived from what builds each of them.

An asset's code version is the gff2rdf version plus a hash of the code that makes it: the
syntax tree, without docstrings, of the modules it runs (so a changed comment or docstring
changes nothing, a changed emitter does), the data files they read (the SO table, the Dbxref
prefixes), and the versions of the libraries that shape its output. The RDF file and the
genome graph also carry the LinkML schema's version and file. So editing the emitter makes
``rdf`` stale (and ``genome_graph`` with it, as its input changed), not ``gff3_report``;
bumping no version string is needed. The SHACL check records the shapes version it judged
with; a new shapes version makes the RDF file's check, and so the RDF asset, stale.

Example: a new schema version changes the code version of the RDF file and the genome graph,
and of nothing upstream of them:

    >>> old, new = code_versions("0.3.0"), code_versions("0.4.0")
    >>> [asset for asset in ASSETS if old[asset] != new[asset]]
    ['rdf', 'genome_graph']
    >>> new["rdf"].endswith("+schema.0.4.0"), new["rdf"].startswith(code_version() + "+code.")
    (True, True)
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
from functools import cache
from pathlib import Path

from ..mapping.schema import compile_mapping
from ..shacl.shapes import shapes_version as installed
from ..store.metadata import code_version

__all__ = ["ASSETS", "BUILT_BY", "UPSTREAM", "code_versions", "schema_version",
           "shapes_version", "source_hash"]

# The assets of one genome version, upstream first.
ASSETS = ("gff3_source", "gff3_report", "rdf", "genome_graph")
UPSTREAM: dict[str, tuple[str, ...]] = {
    "gff3_source": (),
    "gff3_report": ("gff3_source",),
    "rdf": ("gff3_source",),
    "genome_graph": ("rdf",),
}
# What builds each asset: modules or packages of gff2rdf (their .py files, by syntax tree),
# package data files, and the libraries whose versions shape the output. Every asset's body is
# in gff2rdf.pipeline.assets, so an edit there makes them all stale.
BUILT_BY: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "gff3_source": (("gff2rdf.pipeline.assets", "gff2rdf.pipeline.sources", "gff2rdf.files"), (),
                    ()),
    "gff3_report": (("gff2rdf.pipeline.assets", "gff2rdf.gff3", "gff2rdf.conversion",
                     "gff2rdf.shacl.validate", "gff2rdf.pipeline.genometools", "gff2rdf.errors"),
                    (), ()),
    "rdf": (("gff2rdf.pipeline.assets", "gff2rdf.gff3", "gff2rdf.mapping", "gff2rdf.rdf",
             "gff2rdf.conversion", "gff2rdf.terms", "gff2rdf.vocab", "gff2rdf.formats"),
            ("data/so_terms.tsv", "data/dbxref_prefixes.tsv", "data/schema/gff2rdf.yaml"),
            ("linkml-runtime",)),
    "genome_graph": (("gff2rdf.pipeline.assets", "gff2rdf.pipeline.provenance", "gff2rdf.store",
                      "gff2rdf._version"), ("data/schema/store.yaml",), ("pyoxigraph",)),
}
PACKAGE = Path(__file__).resolve().parents[1]


def schema_version() -> str:
    """The installed LinkML schema's version (tests monkeypatch this to simulate a change)."""
    return compile_mapping().schema_version


def shapes_version() -> str:
    """The installed SHACL shapes' version (``owl:versionInfo`` of the shapes graph)."""
    return installed()


def code_versions(schema: str | None = None) -> dict[str, str]:
    """Each asset's code version; ``schema`` stands in for the installed schema version."""
    code = code_version()
    schema = schema if schema is not None else schema_version()
    out = {}
    for asset in ASSETS:
        modules, files, libraries = BUILT_BY[asset]
        version = f"{code}+code.{source_hash(modules, files, libraries)}"
        out[asset] = f"{version}+schema.{schema}" if asset in ("rdf", "genome_graph") else version
    return out


def source_hash(modules: tuple[str, ...], files: tuple[str, ...] = (),
                libraries: tuple[str, ...] = ()) -> str:
    """12 hex digits of sha256 over the modules' syntax trees (docstrings dropped), the
    package data ``files`` and the ``libraries``' versions."""
    digest = hashlib.sha256()
    for path in sorted({p for m in modules for p in _files_of(m)}):
        digest.update(f"{path.relative_to(PACKAGE)}\n".encode())
        digest.update(tree_text(module_text(path)).encode())
    for name in files:
        digest.update(f"{name}\n".encode() + (PACKAGE / name).read_bytes())
    for library in libraries:
        try:
            digest.update(f"{library} {importlib.metadata.version(library)}\n".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{library} absent\n".encode())
    return digest.hexdigest()[:12]


def module_text(path: Path) -> str:
    """A module's source (tests monkeypatch this to simulate an edit)."""
    return path.read_text(encoding="utf-8")


@cache  # by source text: the assets share modules, and definitions are built in every process
def tree_text(source: str) -> str:
    """The syntax tree of ``source`` without docstrings, as text: what the code does, not how
    it is commented or laid out. Remembered by source text (parsing and dumping the modules took
    2.3 s, and a run computes the code versions more than once; see ``gff2rdf.pipeline.warm``).

        >>> tree_text("x = 1  # one") == tree_text('\\"\\"\\"Doc.\\"\\"\\"\\nx = (1)\\n')
        True
        >>> tree_text("x = 1") == tree_text("x = 2")
        False
    """
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                    and isinstance(body[0].value.value, str):
                node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


@cache
def _files_of(module: str) -> tuple[Path, ...]:
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise ValueError(f"no module {module}")
    origin = Path(spec.origin).resolve()
    if spec.submodule_search_locations:  # a package: every module in it
        return tuple(sorted(origin.parent.rglob("*.py")))
    return (origin,)
