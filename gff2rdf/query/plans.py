"""How a canned query runs: the target's genome versions, the plan, and the one driver.

``gff2rdf.query.canned.CannedQuery.run`` (the library and ``gff2rdf query``) and ``gff2rdf serve``'s
``/queries/NAME`` (``gff2rdf.server.pages``) both go through ``execute``; they differ only in
where the genome versions come from (a query on the target; the server caches them until the
next write) and in how a SPARQL text reaches the engine (``pyoxigraph.Store.query`` or an
endpoint; a worker process with the request's deadline). So the SPARQL text sent for the same
parameters on the same store is the same everywhere (``tests/query/test_canned_plans.py``).

Example:
    >>> from gff2rdf.query.canned import get_query
    >>> genomes = Genomes.from_rows([])
    >>> plan = get_query("type-counts").plan({"genome": "https://example.org/genome/x/y/z"},
    ...                                      genomes)
    >>> plan.source.name, "VALUES" in plan.sparql
    ('type-counts', True)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Protocol, TypeVar
from urllib.parse import unquote

import pyoxigraph as ox

from ..store.metadata import genome_path
from .binding import Term

__all__ = ["GENOMES_QUERY", "Genomes", "Plan", "Plannable", "execute"]

R = TypeVar("R")
MAX_RADIUS = 2**42  # beyond every coordinate the converter accepts (2^40)
GENOMES_QUERY = """PREFIX g2r: <https://w3id.org/gff2rdf/vocab#>
SELECT DISTINCT ?genome_iri ?build ?bins WHERE {
  GRAPH ?meta { ?genome_iri g2r:currentBuild ?build }
  OPTIONAL { GRAPH ?bins { ?bins g2r:indexOf ?build } }
}
ORDER BY ?genome_iri ?build ?bins
"""

class Genomes(dict[str, str]):
    """The genome versions of a store or endpoint: genome path -> genome IRI, with ``builds``
    (genome IRI -> its current build graph) and ``indexed`` (the genome IRIs whose current
    build has a bin index)."""

    def __init__(self) -> None:
        super().__init__()
        self.builds: dict[str, str] = {}
        self.indexed: set[str] = set()

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Term]]) -> Genomes:
        """From the rows of ``GENOMES_QUERY`` (``genome_iri``, ``build``, ``bins``)."""
        found = cls()
        for row in rows:
            if "genome_iri" not in row:
                continue
            iri = str(row["genome_iri"].value)
            found.setdefault(genome_path(iri), iri)
            found.setdefault(unquote(genome_path(iri)), iri)
            build = row.get("build")
            if isinstance(build, ox.NamedNode):
                found.builds[iri] = build.value
                if isinstance(row.get("bins"), ox.NamedNode):
                    found.indexed.add(iri)
        return found

    def same_state(self, other: Genomes) -> bool:
        """Whether both name the same current builds and bin indexes."""
        return (dict(self), self.builds, self.indexed) == (dict(other), other.builds,
                                                           other.indexed)



class Plannable(Protocol):
    """What a plan needs of its query (``gff2rdf.query.canned.CannedQuery`` is one): its name,
    whether it needs the target's genome versions, its text bound to values, its first plan."""

    @property
    def name(self) -> str: ...

    @property
    def needs_genomes(self) -> bool: ...

    def bind(self, params: Mapping[str, str] | None = None,
             endpoints: Mapping[str, str] | None = None,
             genomes: Mapping[str, str] | None = None) -> str: ...

    def plan(self, params: Mapping[str, str] | None = None, genomes: Genomes | None = None,
             endpoints: Mapping[str, str] | None = None, use_index: bool = True) -> Plan: ...


@dataclass(frozen=True)
class Plan:
    """One SPARQL text sent to the engine for a canned query and its parameters.

    ``source`` is the query the text is bound from (the canned query, or its index plan when
    ``indexed``), ``values`` its parameter values; ``need`` is set on an index plan with a
    ``radius``: the rows it must find for its answer to be final (the N nearest genes).
    """

    source: Plannable
    values: Mapping[str, str]
    sparql: str
    endpoints: Mapping[str, str] | None = None
    genomes: Genomes | None = None
    need: int | None = None
    indexed: bool = False

    def widened(self, rows: int) -> Plan | None:
        """The next attempt after this one found ``rows`` rows: the radius four times larger
        while fewer than ``need`` were found and the radius does not cover every position;
        None when this answer is final."""
        if self.need is None or rows >= self.need:
            return None
        radius = int(self.values["radius"])
        if radius >= MAX_RADIUS:
            return None
        values = {**self.values, "radius": str(min(max(radius * 4, 1), MAX_RADIUS))}
        return replace(self, values=values,
                       sparql=self.source.bind(values, self.endpoints, self.genomes))



def execute(query: Plannable, params: Mapping[str, str] | None,
            lookup: Callable[[], Genomes], run: Callable[[Plan], tuple[R, int | None]],
            endpoints: Mapping[str, str] | None = None, use_index: bool = True) -> R:
    """Plan ``query`` for ``params`` and run it; see ``CannedQuery.execute``."""
    genomes = lookup() if query.needs_genomes else None
    for _ in range(3):
        plan: Plan | None = query.plan(params, genomes, endpoints, use_index)
        while plan is not None:
            result, rows = run(plan)
            plan = None if rows is None else plan.widened(rows)
        if rows != 0 or genomes is None:
            break
        fresh = lookup()
        if fresh.same_state(genomes):
            break
        genomes = fresh
    return result
