"""Binding query parameters with ``VALUES`` blocks, never by pasting text into the query.

A parameter ``?start`` is bound by a ``VALUES ?start { "1"^^xsd:integer }`` block inserted at
the top of every group graph pattern ``{ ... }`` that mentions ``?start`` itself (not only in a
nested group), all single values of a group in one ``VALUES (?a ?b) { (...) }`` row; a mention
outside any group (``SELECT`` expressions, ``ORDER BY``) counts for the query's ``WHERE``
group, and a sub-query's clauses for the sub-query's own ``WHERE`` group. Under SPARQL's bottom-up
evaluation that gives every occurrence the bound value, as if the variable had been replaced
(SEP-0007), for queries that follow two rules:

* a parameter is not used only in ``HAVING`` or in a ``SELECT`` expression over aggregates (a
  ``VALUES`` join cannot reach them after grouping);
* a parameter is never the target of ``BIND ... AS`` or of a ``VALUES`` written in the query.

The same text runs on the embedded store and on any SPARQL 1.1 endpoint. A ``SERVICE`` group
that mentions a parameter gets its own ``VALUES``, so the remote part of a federated query is
selective: engines do not push local bindings into ``SERVICE``.

Why not pyoxigraph's ``substitutions=``: it requires every substituted variable to be projected
by ``SELECT`` and does not reach into sub-queries, so it cannot bind most parameters of a real
query, and it does not exist for remote endpoints.

Terms are written by pyoxigraph (N-Triples syntax, a subset of SPARQL's), so a value can never
become query syntax.

Example:
    >>> import pyoxigraph as ox
    >>> bind_values("SELECT ?s WHERE { ?s ?p ?o FILTER(?o > ?min) }",
    ...             {"min": [ox.Literal("2")]})
    'SELECT ?s WHERE { VALUES (?min) { ("2") } ?s ?p ?o FILTER(?o > ?min) }'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pyoxigraph as ox

__all__ = ["Term", "bind_values", "term_text", "variables_by_group"]

Term = ox.NamedNode | ox.Literal | ox.BlankNode

# SPARQL 1.1 lexical pieces that may hide braces, '#' or '?': comments, IRIs, strings.
_TOKEN = re.compile(
    r"""
      (?P<comment>\#[^\n]*)
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
    | (?P<var>[?$][A-Za-z0-9_\u00B7\u00C0-\uFFFF]+)
    | (?P<open>\{)
    | (?P<close>\})
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<other>\S)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class _Group:
    """One ``{ ... }`` of the query: a group graph pattern, a VALUES data block, a template,
    or the wrapper of a sub-query (whose own ``SELECT`` clause belongs to its WHERE group)."""

    start: int  # offset just after '{'
    kind: str  # group | data | template | subquery
    parent: _Group | None
    variables: set[str] = field(default_factory=set)
    children: list[_Group] = field(default_factory=list)
    barrier: bool = False  # evaluated on its own: WHERE, UNION branch, OPTIONAL, MINUS ...
    union_branch: bool = False

    def scope_root(self) -> _Group:
        """The outermost group this one is joined into (plain and GRAPH groups are joins)."""
        group = self
        while not group.barrier and group.parent is not None \
                and group.parent.kind == "group":
            group = group.parent
        return group


def _tokens(text: str) -> list[tuple[str, str, int]]:
    found = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind != "comment":
            found.append((kind, m.group(0), m.end()))
    return found


def _parse(text: str) -> tuple[list[_Group], _Group | None]:
    """Every group of the query, and the query's WHERE group."""
    tokens = _tokens(text)
    groups: list[_Group] = []
    stack: list[_Group] = []
    pending_outer: set[str] = set()  # variables outside any group (SELECT, ORDER BY ...)
    saw_construct = False
    where: _Group | None = None
    for i, (kind, value, end) in enumerate(tokens):
        if kind == "word" and value.upper() == "CONSTRUCT" and not stack:
            saw_construct = True
        if kind == "open":
            previous = [t for t in tokens[max(0, i - 40):i]]
            group_kind = "group"
            if _after_values_header(previous):
                group_kind = "data"
            elif saw_construct and not stack and not groups:
                group_kind = "template"
            elif i + 1 < len(tokens) and tokens[i + 1][0] == "word" \
                    and tokens[i + 1][1].upper() == "SELECT":
                group_kind = "subquery"
            parent = stack[-1] if stack else None
            group = _Group(end, group_kind, parent)
            group.barrier = parent is None or parent.kind != "group" or _opens_scope(tokens, i)
            if parent is not None:
                parent.children.append(group)
            groups.append(group)
            stack.append(group)
            if where is None and not stack[:-1] and group_kind == "group":
                where = group
        elif kind == "close":
            if stack:
                closed = stack.pop()
                following = tokens[i + 1] if i + 1 < len(tokens) else None
                if following is not None and following[0] == "word" \
                        and following[1].upper() == "UNION":
                    closed.barrier = True  # the first branch of a UNION
        elif kind == "var":
            name = value[1:]
            owner = _owner(stack)
            if owner is None:
                pending_outer.add(name)
            else:
                owner.variables.add(name)
    for group in groups:
        if group.kind == "subquery":
            inner = [c for c in group.children if c.kind == "group"]
            if inner:
                inner[0].variables |= group.variables
            group.variables = set()
    if where is not None:
        where.variables |= pending_outer
    return groups, where


_SCOPES = {"OPTIONAL", "MINUS", "EXISTS", "UNION", "SERVICE", "SILENT"}


def _opens_scope(tokens: list[tuple[str, str, int]], i: int) -> bool:
    """Whether the '{' at ``tokens[i]`` starts a group evaluated on its own: after OPTIONAL,
    MINUS, (NOT) EXISTS, UNION, or SERVICE [SILENT] <iri> / ?var."""
    j = i - 1
    if j >= 0 and tokens[j][0] in ("iri", "var", "word") and j >= 1 \
            and tokens[j - 1][0] == "word" and tokens[j - 1][1].upper() in ("SERVICE", "SILENT"):
        return True
    if j >= 0 and tokens[j][0] == "other" and tokens[j][1] == ":" :
        return False
    if j >= 1 and tokens[j][0] == "word" and tokens[j - 1][0] == "word" \
            and tokens[j - 1][1].upper() in ("SERVICE", "SILENT"):
        return True  # SERVICE prefix:name
    return j >= 0 and tokens[j][0] == "word" and tokens[j][1].upper() in _SCOPES


def _after_values_header(previous: list[tuple[str, str, int]]) -> bool:
    """Whether the tokens before a '{' end with ``VALUES ?x`` or ``VALUES ( ?a ?b ... )``."""
    if len(previous) >= 2 and previous[-1][0] == "var" and previous[-2][0] == "word" \
            and previous[-2][1].upper() == "VALUES":
        return True
    if previous and previous[-1][1] == ")":
        j = len(previous) - 2
        while j >= 0 and previous[j][0] == "var":
            j -= 1
        return j >= 1 and previous[j][1] == "(" and previous[j - 1][0] == "word" \
            and previous[j - 1][1].upper() == "VALUES"
    return False


def _owner(stack: list[_Group]) -> _Group | None:
    """The group a variable occurrence belongs to: data blocks belong to their group; a
    sub-query's SELECT / GROUP BY / HAVING clauses belong to the sub-query's WHERE group."""
    for group in reversed(stack):
        if group.kind == "data":
            continue
        if group.kind == "template":
            return None
        return group
    return None


def variables_by_group(query: str) -> list[tuple[int, set[str]]]:
    """(offset after '{', variables mentioned directly) for every group graph pattern."""
    groups, _ = _parse(query)
    return [(g.start, set(g.variables)) for g in groups if g.kind == "group"]


def term_text(term: Term) -> str:
    """A term in SPARQL syntax (pyoxigraph writes N-Triples, which SPARQL accepts)."""
    return str(term)


def _values_block(name: str, terms: Sequence[Term]) -> str:
    return f" VALUES ?{name} {{ " + " ".join(term_text(t) for t in terms) + " }"


def bind_values(query: str, bindings: Mapping[str, Sequence[Term]]) -> str:
    """The query with each variable of ``bindings`` bound to its terms by ``VALUES`` blocks.

    A variable bound to several terms ranges over them (one solution each, joined
    consistently wherever it occurs); bound to no term, the query has no solutions.
    """
    if not bindings:
        return query
    groups, where = _parse(query)
    if where is None:
        raise ValueError("the query has no WHERE group to bind parameters in")
    # Each group that mentions a variable gets it (its FILTERs and BINDs see only their own
    # group), and so does the outermost group it is joined into, where all the single values
    # make one VALUES row: an optimiser then starts its joins from the bound values.
    wanted: dict[int, set[str]] = {}
    for group in groups:
        if group.kind != "group":
            continue
        mentioned = {n for n in bindings if n in group.variables}
        if mentioned:
            wanted.setdefault(id(group), set()).update(mentioned)
            wanted.setdefault(id(group.scope_root()), set()).update(mentioned)
    inserts: dict[int, list[str]] = {}
    for group in groups:
        if group.kind != "group":
            continue
        names = [n for n in bindings if n in wanted.get(id(group), set())]
        # one row binding every single-valued variable: one VALUES node, so that an engine's
        # optimiser can push a filter on parameters alone onto it (and start its joins there)
        single = [n for n in names if len(bindings[n]) == 1]
        blocks = []
        if single:
            blocks.append(" VALUES (" + " ".join(f"?{n}" for n in single) + ") { ("
                          + " ".join(term_text(bindings[n][0]) for n in single) + ") }")
        blocks.extend(_values_block(n, bindings[n]) for n in names if len(bindings[n]) != 1)
        if blocks:
            inserts[group.start] = blocks
    pieces = []
    last = 0
    for offset in sorted(inserts):
        pieces.append(query[last:offset])
        pieces.append("".join(inserts[offset]))
        last = offset
    pieces.append(query[last:])
    return "".join(pieces)
