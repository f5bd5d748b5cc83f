"""The genome catalogue: the YAML file that lists the genome versions a pipeline builds.

Users write it by hand, so every mistake is reported as a ``CatalogueError`` that names the
file, the line, the entry and the key::

    genomes:
      - species: Arabidopsis thaliana
        taxon: 3702
        assembly: TAIR10
        annotation: Araport11
        source: data/TAIR10_Araport11.gff3.gz      # relative to this file, or http(s)://...
        sha256: 4f1c...                            # optional; required to trust a download
        lenient: true                              # optional: convert --lenient (skip bad
                                                   # lines, each reported)

Each entry is one genome version and one dagster partition; its key is the genome version's
``species/assembly/annotation`` path, as in its IRI (``gff2rdf graphs`` lists the same paths).

Example:
    >>> catalogue = load_catalogue("examples/catalogue.yaml")
    >>> for genome in catalogue.genomes:
    ...     print(genome.key)
    arabidopsis_thaliana/TAIR10/Araport11
    arabidopsis_thaliana/TAIR10/TAIR10
    solanum_lycopersicum/SL2.40/ITAG2.3

    A mistake is an error naming the file, the line, the entry and the key:

    >>> import tempfile
    >>> bad = Path(tempfile.mkdtemp()) / "maize.yaml"
    >>> _ = bad.write_text("genomes:\\n"
    ...                    "  - species: Zea mays\\n"
    ...                    "    taxon: 4577\\n"
    ...                    "    asembly: AGPv2\\n"
    ...                    "    annotation: 5b\\n"
    ...                    "    source: maize.gff3\\n")
    >>> try:
    ...     load_catalogue(bad)
    ... except CatalogueError as exc:
    ...     print(exc)  # doctest: +ELLIPSIS
    /.../maize.yaml:4: genomes[0] (Zea mays ? 5b): asembly: unknown key; did you mean 'assembly'?
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import Gff2RdfError
from ..rdf.genome import slug
from ..terms import encode_segment

__all__ = ["Catalogue", "CatalogueError", "Genome", "load_catalogue"]

REQUIRED = ("species", "taxon", "assembly", "annotation", "source")
OPTIONAL = ("sha256", "lenient")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class CatalogueError(Gff2RdfError):
    """A genome catalogue cannot be read, or one of its entries is wrong (names which and why)."""


@dataclass(frozen=True)
class Genome:
    """One catalogue entry: a genome version and where its GFF3 comes from."""

    species: str
    taxon: str
    assembly: str
    annotation: str
    source: str  # an absolute path, or an http(s) URL
    sha256: str | None
    catalogue: str
    index: int
    line: int
    key_lines: tuple[tuple[str, int], ...] = ()
    lenient: bool = False  # convert --lenient: a provider file with known, accepted errors

    @property
    def key(self) -> str:
        """``species/assembly/annotation`` as in the genome IRI: the dagster partition key."""
        return "/".join((encode_segment(slug(self.species)), encode_segment(self.assembly),
                         encode_segment(self.annotation)))

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    @property
    def title(self) -> str:
        return f"{self.species} {self.assembly} {self.annotation}"

    def where(self, key: str | None = None) -> str:
        """``catalogue.yaml:12: genomes[2] (Solanum lycopersicum SL2.40 ITAG2.3)``, with ``: key``
        when a key is given: the prefix of every message about this entry."""
        line = dict(self.key_lines).get(key, self.line) if key else self.line
        text = f"{self.catalogue}:{line}: genomes[{self.index}] ({self.title})"
        return f"{text}: {key}" if key else text


@dataclass(frozen=True)
class Catalogue:
    path: Path
    genomes: tuple[Genome, ...]

    def genome(self, key: str) -> Genome:
        for genome in self.genomes:
            if genome.key == key:
                return genome
        raise CatalogueError(f"{self.path}: no genome version {key!r}; it lists "
                             + ", ".join(g.key for g in self.genomes))

    @property
    def keys(self) -> list[str]:
        return [g.key for g in self.genomes]


def load_catalogue(path: str | Path) -> Catalogue:
    """Read and check a catalogue file; raises ``CatalogueError`` naming the entry and key.

    Relative ``source`` paths are resolved against the catalogue's directory. Whether a source
    file exists is checked when it is used (so one missing file does not stop the others).
    """
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise CatalogueError(f"{path}: cannot read the catalogue: {reason}") from exc
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or exc
        raise CatalogueError(f"{where}: not valid YAML: {problem}") from exc
    if not isinstance(data, dict) or "genomes" not in data:
        raise CatalogueError(f"{path}: expected a top-level 'genomes:' list of genome versions")
    extra = sorted(str(k) for k in data if k != "genomes")
    if extra:
        raise CatalogueError(f"{path}: unknown top-level key {extra[0]!r}; the catalogue has "
                             "one key, 'genomes'")
    entries = data["genomes"]
    if not isinstance(entries, list) or not entries:
        raise CatalogueError(f"{path}: 'genomes' must be a non-empty list of genome versions")
    lines = _entry_lines(root)
    genomes: list[Genome] = []
    seen: dict[str, Genome] = {}
    for index, entry in enumerate(entries):
        line, key_lines = lines[index] if index < len(lines) else (0, {})
        genome = _genome(path, index, line, key_lines, entry)
        if genome.key in seen:
            first = seen[genome.key]
            raise CatalogueError(f"{genome.where()}: the same genome version as genomes"
                                 f"[{first.index}] (line {first.line}), {genome.key}; give it "
                                 "another assembly or annotation")
        seen[genome.key] = genome
        genomes.append(genome)
    return Catalogue(path, tuple(genomes))


def _entry_lines(root: Any) -> list[tuple[int, dict[str, int]]]:
    """(line of the entry, {key: line}) for each item of ``genomes``, from the YAML nodes."""
    import yaml

    found: list[tuple[int, dict[str, int]]] = []
    if not isinstance(root, yaml.MappingNode):
        return found
    for key_node, value_node in root.value:
        if key_node.value == "genomes" and isinstance(value_node, yaml.SequenceNode):
            for item in value_node.value:
                keys = {}
                if isinstance(item, yaml.MappingNode):
                    keys = {str(k.value): k.start_mark.line + 1 for k, _ in item.value}
                found.append((item.start_mark.line + 1, keys))
    return found


def _genome(path: Path, index: int, line: int, key_lines: dict[str, int], entry: object) -> Genome:
    head = f"{path}:{line}: genomes[{index}]"
    if not isinstance(entry, dict):
        raise CatalogueError(f"{head}: expected a mapping with the keys " + ", ".join(REQUIRED))
    title = " ".join(str(entry.get(k, "?")) for k in ("species", "assembly", "annotation"))
    head += f" ({title})"

    def fail(key: str, message: str) -> CatalogueError:
        at = key_lines.get(key, line)
        return CatalogueError(f"{path}:{at}: genomes[{index}] ({title}): {key}: {message}")

    for key in entry:
        if key not in REQUIRED + OPTIONAL:
            close = difflib.get_close_matches(str(key), REQUIRED + OPTIONAL, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else (
                "; expected " + ", ".join(REQUIRED + OPTIONAL))
            raise fail(str(key), f"unknown key{hint}")
    for key in REQUIRED:
        if entry.get(key) is None or entry.get(key) == "":
            raise CatalogueError(f"{head}: missing key {key!r}")
    values: dict[str, str] = {}
    for key in ("species", "assembly", "annotation", "source"):
        value = entry[key]
        if not isinstance(value, str):
            # YAML reads 2.30 as 2.3 and 040 as 32: only quoted text is taken as written
            raise fail(key, f"expected text, got {type(value).__name__} {value!r}; quote it, "
                       f"e.g. {key}: \"{value}\"")
        values[key] = value.strip()
    taxon = entry["taxon"]
    taxon_text = str(taxon).removeprefix("NCBITaxon:").strip()
    if isinstance(taxon, bool) or not (taxon_text.isascii() and taxon_text.isdigit()):
        raise fail("taxon", f"{taxon!r} is not an NCBI Taxonomy number (e.g. 3702)")
    sha256 = entry.get("sha256")
    if sha256 is not None:
        if not isinstance(sha256, str) or not _SHA256.match(sha256.strip().lower()):
            quote = "" if isinstance(sha256, str) else "; quote it"
            raise fail("sha256", f"{sha256!r} is not a sha256 (64 hexadecimal digits){quote}")
        sha256 = sha256.strip().lower()
    lenient = entry.get("lenient", False)
    if not isinstance(lenient, bool):
        raise fail("lenient", f"expected true or false, got {lenient!r}")
    source = values["source"]
    scheme = urlparse(source).scheme.lower()
    if scheme in ("http", "https"):
        if not urlparse(source).netloc:
            raise fail("source", f"{source!r} is not a URL with a host")
    elif "://" in source:
        raise fail("source", f"{source!r}: only http(s) URLs and file paths are supported")
    else:
        source = str((path.parent / source).resolve())
    return Genome(species=values["species"], taxon=taxon_text, assembly=values["assembly"],
                  annotation=values["annotation"], source=source, sha256=sha256,
                  catalogue=str(path), index=index, line=line,
                  key_lines=tuple(sorted(key_lines.items())), lenient=lenient)
