"""Canned SPARQL queries: the ``queries/*.rq`` files as typed records, bound and run.

Each ``.rq`` file is one query with a YAML header in its leading ``#`` lines::

    # title: Features in a region
    # description: >-
    #   All features whose location overlaps ...
    # parameters:
    #   - {name: genome, type: genome, example: arabidopsis_thaliana/TAIR10/Araport11,
    #      help: "the genome version, as gff2rdf graphs lists it"}
    #   - {name: start, type: integer, variable: from, example: 1, min: 1}
    # classes:
    #   gene_class: [SO:0000704, SO:0000336]     # these SO classes and their descendants
    # services:
    #   uniprot-endpoint: https://sparql.uniprot.org/sparql

Parameter types: ``genome`` (``species/assembly/annotation`` or the genome IRI; bound as the
genome IRI, which ``run`` looks up among the genome versions of its target first, so that a
query starts from ``GRAPH ?meta { ?genome_iri g2r:currentBuild ?g }`` with its subject bound),
``string``, ``integer``, ``iri``, ``term`` (``GO:0008150``, ``PO_0009006`` or an IRI; bound as
the OBO IRI), ``strings`` and ``terms`` (comma-separated lists), ``loci`` (comma-separated gene
IDs, bound together with their UniProt spellings, ``AT1G01010`` and ``At1g01010``, in
``?{name}_uniprot``) and ``limit`` (an integer that is also written as the number of the
query's final ``LIMIT``: SPARQL has no variable LIMIT; it is validated as an integer first).
A single-valued ``string`` parameter may list ``prefixes`` (``["", "gene:", "gene-"]``): each
prefix followed by the value is bound in ``?{name}_key``, the keys to look identifiers up by (a
key computed in the query with ``BIND(CONCAT(...))`` is not looked up in Oxigraph's indexes but
joined with every identifier: the gene query took 0.6-1.7 s on a 110k-line genome, 0.3-9 ms
with the keys bound).
Every other parameter is bound by ``VALUES`` blocks (``gff2rdf.query.binding``), the same way on the
embedded store and on a remote endpoint; ``classes`` are bound the same way.
A ``services`` entry names the setting whose value replaces that ``SERVICE`` IRI.

What runs is planned by ``CannedQuery.plan`` from the target's genome versions (the current
build pinned, the index plan ``{name}.index.rq`` when there is a bin index) and run by
``CannedQuery.execute``: the one code path of ``run`` (the library, ``gff2rdf query``) and of
``gff2rdf serve``'s ``/queries/NAME`` (``gff2rdf.query.plans``).

Example:
    >>> q = get_query("region")
    >>> [p.name for p in q.parameters]
    ['genome', 'seqid', 'start', 'end']
    >>> text = q.bind({"genome": "arabidopsis_thaliana/TAIR10/Araport11", "seqid": "1",
    ...                "start": "1", "end": "100000"})
    >>> "?from ?to" in text and '"100000"^^' in text
    True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import unquote

import pyoxigraph as ox
import yaml

from ..errors import QueryError
from ..settings import get
from ..store.binindex import descendants
from ..terms import encode_segment
from ..vocab import OBO
from .binding import Term, bind_values
from .plans import GENOMES_QUERY, Genomes, Plan, execute
from .results import QueryResult, run_on_endpoint, run_on_store

__all__ = ["GENOMES_QUERY", "CannedQuery", "Genomes", "Parameter", "Plan", "QueryResult",
           "get_query", "list_queries", "uniprot_spellings"]

INDEX_SUFFIX = ".index"  # queries/{name}.index.rq: the plan of {name} on a store with a bin index
TYPES = ("genome", "string", "integer", "iri", "term", "strings", "terms", "loci", "limit")
_CURIE = re.compile(r"^([A-Za-z][A-Za-z0-9]*)[:_]([A-Za-z0-9_.-]+)$")
_LIMIT = re.compile(r"\bLIMIT\s+(\d+)\s*$", re.IGNORECASE)
_HEADER_LINE = re.compile(r"^#( |$)")
R = TypeVar("R")


@dataclass(frozen=True)
class Parameter:
    """One parameter of a canned query."""

    name: str
    type: str
    help: str = ""
    default: str | None = None
    example: str = ""
    minimum: int | None = None
    variable: str = ""
    prefixes: tuple[str, ...] = ()

    @property
    def required(self) -> bool:
        return self.default is None

    @property
    def var(self) -> str:
        """The query variable the parameter binds (its name unless the header says)."""
        return self.variable or self.name

    def terms(self, text: str, query: str,
              genomes: Mapping[str, str] | None = None) -> list[Term]:
        """The value as RDF terms; raises ``QueryError`` naming the query and parameter.

        A ``genome`` becomes its genome IRI: given as an IRI, as it is; given as a path, the
        IRI ``genomes`` maps it to (the genome versions of the store or endpoint), else the
        IRI under the ``base-iri`` setting.
        """
        where = f"{query}: parameter {self.name}"
        text = text.strip()
        if self.type in ("integer", "limit"):
            try:
                value = int(text)
            except ValueError:
                raise QueryError(f"{where} must be an integer, not {text!r}") from None
            if self.minimum is not None and value < self.minimum:
                raise QueryError(f"{where} must be at least {self.minimum}, not {value}")
            return [ox.Literal(value)]
        if self.type == "genome":
            return [_named(genome_iri(text, genomes, where), where)]
        if self.type == "iri":
            return [_named(text, where)]
        if self.type == "term":
            return [ox.NamedNode(term_iri(text, where))]
        if self.type in ("strings", "loci"):
            return [ox.Literal(v) for v in _split(text)]
        if self.type == "terms":
            return [ox.NamedNode(term_iri(v, where)) for v in _split(text)]
        return [ox.Literal(text)]


def _split(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _named(text: str, where: str) -> ox.NamedNode:
    try:
        return ox.NamedNode(text)
    except ValueError as exc:
        raise QueryError(f"{where} is not an IRI: {text!r} ({exc})") from None


def term_iri(text: str, where: str = "term") -> str:
    """``GO:0008150``, ``GO_0008150`` or an IRI, as the OBO IRI.

    >>> term_iri("PO:0009006")
    'http://purl.obolibrary.org/obo/PO_0009006'
    """
    if "://" in text:
        return _named(text, where).value
    m = _CURIE.match(text)
    if not m:
        raise QueryError(f"{where} must be an ontology term such as GO:0008150 or an IRI, "
                         f"not {text!r}")
    return f"{OBO}{m.group(1)}_{m.group(2)}"


def genome_iri(text: str, genomes: Mapping[str, str] | None = None, where: str = "genome"
               ) -> str:
    """The IRI of a genome version given by IRI or by ``species/assembly/annotation``."""
    if "://" in text:
        return text
    path = normalise_genome(text)
    if genomes is None:
        base = get("base-iri")
        return f"{base if base.endswith(('/', '#')) else base + '/'}genome/{path}"
    if path not in genomes:
        known = ", ".join(sorted(genomes)) or "none"
        raise QueryError(f"{where}: no genome version {text!r} here (gff2rdf graphs lists "
                         f"them: {known})")
    return genomes[path]


def normalise_genome(text: str) -> str:
    """A genome IRI as it is; a ``species/assembly/annotation`` path with each segment
    percent-encoded as in genome IRIs (``B73 v4`` and ``B73%20v4`` both give the latter)."""
    if "://" in text:
        return text
    return "/".join(encode_segment(unquote(part)) for part in text.strip("/").split("/"))


def uniprot_spellings(locus: str) -> list[str]:
    """The ways UniProt may spell an ordered locus name: as given, upper case, and its
    ``At1g01010`` style (first letter upper, the rest lower), e.g. for AGI codes.

    >>> uniprot_spellings("AT1G01010")
    ['AT1G01010', 'At1g01010']
    >>> uniprot_spellings("LOC_Os01g01010")
    ['LOC_Os01g01010', 'LOC_OS01G01010', 'Loc_os01g01010']
    """
    found = []
    for spelling in (locus, locus.upper(), locus[:1].upper() + locus[1:].lower()):
        if spelling and spelling not in found:
            found.append(spelling)
    return found


@dataclass(frozen=True)
class CannedQuery:
    """A canned query: its header as a record, its SPARQL text, binding and running."""

    name: str
    title: str
    description: str
    parameters: tuple[Parameter, ...]
    sparql: str
    classes: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    services: Mapping[str, str] = field(default_factory=dict)
    path: str = ""
    index_plan: CannedQuery | None = None

    @property
    def federated(self) -> bool:
        return bool(self.services)

    @property
    def example(self) -> dict[str, str]:
        """Parameter values for a worked example (the header's ``example`` values)."""
        return {p.name: p.example or (p.default or "") for p in self.parameters}

    def parameter(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        names = ", ".join(p.name for p in self.parameters) or "none"
        raise QueryError(f"{self.name}: no parameter {name!r} (parameters: {names})")

    def values(self, params: Mapping[str, str] | None = None) -> dict[str, str]:
        """Every parameter's value: given, else its default; missing required ones raise."""
        params = dict(params or {})
        for name in params:
            self.parameter(name)
        out: dict[str, str] = {}
        missing = []
        for p in self.parameters:
            if p.name in params:
                out[p.name] = str(params[p.name])
            elif p.default is not None:
                out[p.name] = p.default
            else:
                missing.append(p.name)
        if missing:
            example = " ".join(f"--param {p.name}={p.example}" for p in self.parameters
                               if p.name in missing)
            raise QueryError(f"{self.name}: missing parameter(s) {', '.join(missing)} "
                             f"(e.g. {example})")
        return out

    def bind(self, params: Mapping[str, str] | None = None,
             endpoints: Mapping[str, str] | None = None,
             genomes: Mapping[str, str] | None = None) -> str:
        """The SPARQL text with parameters, classes and service endpoints bound.

        ``endpoints`` maps a service setting name (``uniprot-endpoint``) to the IRI to use;
        by default each comes from its setting. ``genomes`` maps genome paths to genome IRIs
        (``run`` reads them from its target first); without it a path is taken to be under
        the ``base-iri`` setting.
        """
        values = self.values(params)
        tables: dict[str, list[Term]] = {}
        text = self._services(self.sparql, endpoints or {})
        for p in self.parameters:
            terms = p.terms(values[p.name], self.name, genomes)
            if p.type == "limit":
                text = self._limit(text, int(values[p.name]))
            tables[p.var] = terms
            if p.prefixes:
                tables[p.var + "_key"] = [ox.Literal(prefix + t.value) for t in terms
                                          for prefix in p.prefixes]
            if p.type == "loci":
                tables[p.var + "_uniprot"] = [ox.Literal(s) for t in terms
                                              for s in uniprot_spellings(t.value)]
        for var, roots in self.classes.items():
            tables[var] = [ox.NamedNode(OBO + acc.replace(":", "_"))
                           for acc in descendants(roots)]
        text = self._pin_builds(text, tables, getattr(genomes, "builds", {}))
        return bind_values(text, tables)

    def _pin_builds(self, text: str, tables: dict[str, list[Term]],
                    builds: Mapping[str, str]) -> str:
        """Name the current build graph of each bound genome version in the query.

        A query finds a genome version's data with ``GRAPH ?meta { ?genome_iri
        g2r:currentBuild ?g } GRAPH ?g { ... }``. Oxigraph plans ``GRAPH ?g`` without knowing
        ``?g``, and a pattern of several joins then starts from the wrong end: the gene query
        took 34 s on the 1 M-line benchmark store, and 3 ms with ``GRAPH <build>`` (a VALUES
        or ``substitutions=`` binding of ``?g`` did not help). So when ``run`` has read the
        builds from its target, ``GRAPH ?g`` becomes ``GRAPH <build>`` (the IRI written by
        pyoxigraph, from the store, never from user text) and ``?g`` is bound to it as well:
        the pointer pattern still joins, so a rebuild in between gives no rows, and ``run``
        tries again."""
        for genome_var, graph_var in _POINTER.findall(text):
            terms = tables.get(genome_var)
            if not terms or len(terms) != 1 or graph_var in tables:
                continue
            build = builds.get(terms[0].value)
            if build is None:
                continue
            node = _named(build, f"{self.name}: build of {terms[0].value}")
            text = re.sub(rf"GRAPH\s+\?{graph_var}\b", f"GRAPH {node}", text)
            tables[graph_var] = [node]
        return text

    def _limit(self, text: str, value: int) -> str:
        body = text.rstrip()
        m = _LIMIT.search(body)
        if not m:
            raise QueryError(f"{self.name}: a 'limit' parameter needs a final LIMIT clause")
        return body[:m.start(1)] + str(value) + "\n"

    def _services(self, text: str, endpoints: Mapping[str, str]) -> str:
        for setting, iri in self.services.items():
            target = endpoints.get(setting) or get(setting)
            target = _named(target, f"{self.name}: setting {setting}").value
            text = text.replace(f"SERVICE <{iri}>", f"SERVICE <{target}>")
        return text

    @property
    def needs_genomes(self) -> bool:
        """Whether planning needs the target's genome versions (a ``genome`` parameter)."""
        return any(p.type == "genome" for p in self.parameters)

    def plan(self, params: Mapping[str, str] | None = None, genomes: Genomes | None = None,
             endpoints: Mapping[str, str] | None = None, use_index: bool = True) -> Plan:
        """What runs first for ``params`` on a target whose genome versions are ``genomes``
        (``Genomes.from_rows`` of ``GENOMES_QUERY``): the index plan (``{name}.index.rq``)
        when the genome version's current build has a bin index there, else the query itself,
        bound with the builds pinned. Bad parameters raise ``QueryError``."""
        values = self.values(params)
        index = self.index_plan
        if not use_index or index is None or not self._indexed(values, genomes):
            return Plan(self, values, self.bind(values, endpoints, genomes), endpoints, genomes)
        values = index.values(values)
        limit = next((p for p in index.parameters if p.type == "limit"), None)
        need = int(values[limit.name]) if limit and "radius" in values else None
        return Plan(index, values, index.bind(values, endpoints, genomes), endpoints, genomes,
                    need, indexed=True)

    def execute(self, params: Mapping[str, str] | None, lookup: Callable[[], Genomes],
                run: Callable[[Plan], tuple[R, int | None]], *,
                endpoints: Mapping[str, str] | None = None, use_index: bool = True) -> R:
        """Plan and run: the one code path of ``run`` (the library and ``gff2rdf query``) and
        of ``gff2rdf serve``'s ``/queries/NAME``, which differ only in ``lookup`` and ``run``.

        ``lookup()`` gives the target's genome versions (a cache may answer while nothing was
        written); ``run(plan)`` sends ``plan.sparql`` to the engine and gives its result and
        row count (None when unknown: the result is then final). An index plan that finds too
        few genes runs again wider (``Plan.widened``); a run that finds nothing is planned
        again when the genome versions changed meanwhile (a rebuild, a new index), at most
        twice.
        """
        return execute(self, params, lookup, run, endpoints, use_index)

    def run(self, target: Any, params: Mapping[str, str] | None = None, *,
            endpoints: Mapping[str, str] | None = None, timeout: float | None = None,
            use_index: bool = True) -> QueryResult:
        """Run on a ``GenomeStore``, a ``pyoxigraph.Store`` or an endpoint URL (a str).

        When the query has an index plan (``{name}.index.rq``) and the genome version's
        current build has a bin index there, the plan runs instead (same rows, much faster).
        """
        def run(plan: Plan) -> tuple[QueryResult, int]:
            result = self._execute(target, plan.sparql, timeout)
            return result, len(result.rows)

        return self.execute(params, lambda: self.genomes(target), run, endpoints=endpoints,
                            use_index=use_index)

    def explain(self, target: Any, params: Mapping[str, str] | None = None, *,
                endpoints: Mapping[str, str] | None = None, use_index: bool = True) -> Plan:
        """The plan that ``run`` sends first to ``target`` (``gff2rdf query --show-sparql``)."""
        genomes = self.genomes(target) if self.needs_genomes else None
        return self.plan(params, genomes, endpoints, use_index)

    def genomes(self, target: Any) -> Genomes:
        """The genome versions of a store or an endpoint (``GENOMES_QUERY``)."""
        return Genomes.from_rows(self._execute(target, GENOMES_QUERY, None).rows)

    def _execute(self, target: Any, text: str, timeout: float | None) -> QueryResult:
        if isinstance(target, str):
            return run_on_endpoint(target, text, self.name, timeout)
        return run_on_store(getattr(target, "store", target), text, self.name)

    def _indexed(self, values: Mapping[str, str], genomes: Genomes | None) -> bool:
        genome = next((p for p in self.parameters if p.type == "genome"), None)
        if genome is None or genomes is None:
            return False
        iri = genome.terms(values[genome.name], self.name, genomes)[0].value
        return iri in genomes.indexed


_POINTER = re.compile(r"GRAPH\s+\?\w+\s*\{\s*\?(\w+)\s+g2r:currentBuild\s+\?(\w+)\s*\}")


def _parse_header(text: str, path: str) -> dict[str, Any]:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(_HEADER_LINE.sub("", line, count=1))
    try:
        header = yaml.safe_load("\n".join(lines)) or {}
    except yaml.YAMLError as exc:
        raise QueryError(f"{path}: the header is not valid YAML: {exc}") from exc
    if not isinstance(header, dict) or "title" not in header:
        raise QueryError(f"{path}: the header needs at least a title")
    return header


def parse_query(text: str, name: str, path: str = "") -> CannedQuery:
    """A canned query from the text of a ``.rq`` file."""
    header = _parse_header(text, path or name)
    params = []
    for raw in header.get("parameters") or []:
        if not isinstance(raw, dict) or "name" not in raw:
            raise QueryError(f"{path or name}: each parameter needs a name")
        kind = str(raw.get("type", "string"))
        if kind not in TYPES:
            raise QueryError(f"{path or name}: parameter {raw['name']}: unknown type {kind!r} "
                             f"(one of {', '.join(TYPES)})")
        default = raw.get("default")
        prefixes = raw.get("prefixes") or []
        if prefixes and (kind != "string" or not isinstance(prefixes, list)):
            raise QueryError(f"{path or name}: parameter {raw['name']}: prefixes are a list, "
                             f"for a string parameter (this one is {kind})")
        params.append(Parameter(
            name=str(raw["name"]), type=kind, help=str(raw.get("help", "")),
            default=None if default is None else str(default),
            example=str(raw.get("example", "")),
            minimum=None if raw.get("min") is None else int(raw["min"]),
            variable=str(raw.get("variable", "")),
            prefixes=tuple(str(p) if p is not None else "" for p in prefixes)))
    classes = {str(k): tuple(str(v) for v in (vs if isinstance(vs, list) else [vs]))
               for k, vs in (header.get("classes") or {}).items()}
    services = {str(k): str(v) for k, v in (header.get("services") or {}).items()}
    return CannedQuery(name=str(header.get("name", name)), title=str(header["title"]),
                       description=" ".join(str(header.get("description", "")).split()),
                       parameters=tuple(params), sparql=text, classes=classes,
                       services=services, path=path)


@cache
def _load_all() -> dict[str, CannedQuery]:
    folder = resources.files("gff2rdf").joinpath("data/queries")
    texts = {entry.name[:-3]: (entry.read_text(encoding="utf-8"), str(entry))
             for entry in folder.iterdir() if entry.name.endswith(".rq")}
    found = {}
    for name in sorted(texts):
        if name.endswith(INDEX_SUFFIX):
            continue
        plan = None
        if name + INDEX_SUFFIX in texts:
            plan_text, plan_path = texts[name + INDEX_SUFFIX]
            # named as the query it plans: its messages name the query the user asked for
            plan = parse_query(plan_text, name, plan_path)
        text, path = texts[name]
        query = parse_query(text, name, path)
        found[name] = replace(query, index_plan=plan)
    return found


def list_queries() -> list[CannedQuery]:
    """Every canned query, by name."""
    return list(_load_all().values())


def get_query(name: str) -> CannedQuery:
    """The canned query called ``name``; ``QueryError`` lists the names when there is none."""
    queries = _load_all()
    if name not in queries:
        raise QueryError(f"no canned query {name!r}; gff2rdf query --list shows them: "
                         + ", ".join(queries))
    return queries[name]
