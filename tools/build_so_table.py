"""Build gff2rdf/data/so_terms.tsv from the Sequence Ontology OBO file.

Run by ``make data``. The table is committed as package data so that start-up never parses the
1 MB OBO file (loading the TSV takes a few milliseconds).

pronto 2.7 (through fastobo) refuses so.obo 2024-11-18 at line 8859, an ``xref`` with an escaped
colon in a URL, so this reads the few tags it needs itself: ``id``, ``name``, ``is_a``, EXACT
``synonym``, ``is_obsolete`` and ``replaced_by`` of ``[Term]`` stanzas.

Columns: accession, name, is_a parents (comma-separated), exact synonyms (``|``-separated),
obsolete flag (0/1), replaced_by accession.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_SYNONYM = re.compile(r'^"((?:[^"\\]|\\.)*)"\s+(\w+)')


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def read_terms(obo: Path) -> tuple[str, list[dict[str, object]]]:
    version = "unknown"
    terms: list[dict[str, object]] = []
    current: dict[str, object] | None = None
    for raw in obo.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("data-version:"):
            version = line.split(":", 1)[1].strip()
        if line.startswith("["):
            current = {"synonyms": [], "is_a": [], "obsolete": False, "replaced_by": ""}
            if line == "[Term]":
                terms.append(current)
            continue
        if current is None or ":" not in line:
            continue
        tag, value = (part.strip() for part in line.split(":", 1))
        value = re.sub(r"\s+!.*$", "", value)  # trailing comment
        if tag == "id":
            current["id"] = value
        elif tag == "name":
            current["name"] = _unescape(value)
        elif tag == "is_a":
            current["is_a"].append(value.split()[0])  # type: ignore[attr-defined]
        elif tag == "synonym":
            match = _SYNONYM.match(value)
            if match and match.group(2) == "EXACT":
                current["synonyms"].append(_unescape(match.group(1)))  # type: ignore[attr-defined]
        elif tag == "is_obsolete":
            current["obsolete"] = value == "true"
        elif tag == "replaced_by":
            current["replaced_by"] = value
    return version, terms


def build(obo: Path, out: Path) -> int:
    version, terms = read_terms(obo)
    rows = []
    for term in terms:
        accession = str(term.get("id", ""))
        if not accession.startswith("SO:"):
            continue
        name = str(term.get("name", ""))
        synonyms = sorted(set(term["synonyms"]))  # type: ignore[call-overload]
        for text in [name, *synonyms]:
            if any(c in text for c in "\t\n|"):
                raise ValueError(f"{accession}: unexpected separator in {text!r}")
        parents = sorted(p for p in term["is_a"] if p.startswith("SO:"))  # type: ignore[attr-defined]
        rows.append(
            "\t".join(
                [
                    accession,
                    name,
                    ",".join(parents),
                    "|".join(synonyms),
                    "1" if term["obsolete"] else "0",
                    str(term["replaced_by"]),
                ]
            )
        )
    header = f"# Sequence Ontology data-version {version}; from {obo.name}; CC BY 4.0\n"
    out.write_text(header + "\n".join(sorted(rows)) + "\n", encoding="utf-8")
    return len(rows)


if __name__ == "__main__":
    n = build(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"wrote {n} SO terms to {sys.argv[2]}")
