"""Sequence Ontology type resolution for GFF3 column 3.

The full SO (so.obo, CC BY 4.0) ships in the package as a precomputed table
(``data/so_terms.tsv``, built by ``tools/build_so_table.py``). A column-3 value resolves as a term
name, an SO accession (``SO:0000704``), an exact synonym, or any of those ignoring case, in that
order. Obsolete terms resolve through ``replaced_by`` when they have one.

Example:
    >>> so = SequenceOntology.load()
    >>> so.resolve("gene").accession, so.resolve("SO:0000234").name
    ('SO:0000704', 'mRNA')
    >>> so.refine(so.resolve("gene"), ["protein_coding"]).name
    'protein_coding_gene'
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["SequenceOntology", "SoTerm"]

SEQUENCE_FEATURE = "SO:0000110"


@dataclass(frozen=True)
class SoTerm:
    accession: str
    name: str
    parents: tuple[str, ...]
    obsolete: bool = False

    @property
    def iri(self) -> str:
        return "http://purl.obolibrary.org/obo/" + self.accession.replace(":", "_")


class SequenceOntology:
    """The SO term table with name, synonym and accession look-ups and is_a ancestry."""

    def __init__(self, terms: dict[str, SoTerm], synonyms: dict[str, str], version: str) -> None:
        self.terms = terms
        self.version = version
        self._by_name = {t.name: t.accession for t in terms.values() if not t.obsolete}
        self._synonyms = synonyms
        folded: dict[str, str] = {}
        for key, acc in [*synonyms.items(), *self._by_name.items()]:
            folded[key.casefold()] = acc
        self._folded = folded
        self._cache: dict[str, SoTerm | None] = {}

    @classmethod
    @cache
    def load(cls) -> SequenceOntology:
        """The SO shipped with gff2rdf (loaded once per process, about 10 ms)."""
        text = resources.files("gff2rdf").joinpath("data/so_terms.tsv").read_text("utf-8")
        terms: dict[str, SoTerm] = {}
        synonyms: dict[str, str] = {}
        replaced: dict[str, str] = {}
        version = "unknown"
        for line in text.splitlines():
            if line.startswith("#"):
                version = line.split("data-version", 1)[-1].split(";")[0].strip()
                continue
            acc, name, parents, syns, obsolete, replaced_by = line.split("\t")
            terms[acc] = SoTerm(acc, name, tuple(p for p in parents.split(",") if p),
                                obsolete == "1")
            if replaced_by:
                replaced[acc] = replaced_by
            for syn in syns.split("|"):
                # a synonym shared by several terms resolves to the lowest accession
                if syn and obsolete == "0":
                    synonyms.setdefault(syn, acc)
        for acc, target in replaced.items():
            if target in terms:
                synonyms.setdefault(terms[acc].name, target)
        return cls(terms, synonyms, version)

    def resolve(self, text: str) -> SoTerm | None:
        """The SO term that a column-3 value names, or None when it names none."""
        try:
            return self._cache[text]
        except KeyError:
            pass
        acc = self._by_name.get(text)
        if acc is None and text.startswith("SO:") and text in self.terms:
            acc = text
            term = self.terms[acc]
            if term.obsolete:
                acc = self._synonyms.get(term.name)
        if acc is None:
            acc = self._synonyms.get(text) or self._folded.get(text.casefold())
        if acc is None and " " in text:
            acc = self._folded.get(text.replace(" ", "_").casefold())
        result = self.terms.get(acc) if acc else None
        self._cache[text] = result
        return result

    def is_exact(self, text: str) -> bool:
        """Whether ``text`` is a term name, accession or synonym as written: ``resolve`` also
        takes them in another case, or with spaces for underscores."""
        return text in self._by_name or text in self._synonyms or text in self.terms

    def ancestors(self, accession: str) -> frozenset[str]:
        """All is_a ancestors of a term, the term itself included."""
        return _ancestors(self, accession)

    def is_a(self, accession: str, ancestor: str) -> bool:
        return ancestor in self.ancestors(accession)

    def refine(self, term: SoTerm, hints: Iterable[str]) -> SoTerm:
        """A more specific term named by a ``biotype``-like value, if it is an is_a descendant.

        ``gene`` with ``protein_coding`` becomes ``protein_coding_gene``; a hint that names an
        unrelated or more general class leaves the term as it is.
        """
        for hint in hints:
            for candidate in (hint, f"{hint}_gene"):
                found = self.resolve(candidate)
                if found is not None and found.accession != term.accession and self.is_a(
                    found.accession, term.accession
                ):
                    return found
        return term


def _ancestors(so: SequenceOntology, accession: str) -> frozenset[str]:
    cached = _ANCESTORS.get(accession)
    if cached is not None:
        return cached
    seen = {accession}
    stack = [accession]
    while stack:
        term = so.terms.get(stack.pop())
        if term is None:
            continue
        for parent in term.parents:
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    result = frozenset(seen)
    _ANCESTORS[accession] = result
    return result


_ANCESTORS: dict[str, frozenset[str]] = {}
