"""Decide, before evaluation, whether a SPARQL query or update may reach the network.

pyoxigraph runs ``SERVICE <any URL>`` and ``LOAD <any URL>`` with its own HTTP client and has no
hook or allowlist (design.md), so the server refuses them before pyoxigraph sees the text:

* ``SERVICE`` is allowed only to endpoint IRIs in an allowlist, compared exactly after prefix
  and ``BASE`` expansion and ``\\u`` unescaping, as rdflib's SPARQL parser and algebra resolve
  them. ``SERVICE ?variable`` and a relative ``SERVICE`` IRI are refused (their target is not
  known before evaluation), whatever the allowlist says.
* ``LOAD`` is always refused.
* A second, independent look: a small tokenizer that follows the SPARQL grammar's terminals
  (comments, strings, IRIs) counts the ``SERVICE`` and ``LOAD`` keywords. If it finds more than
  rdflib did, the two parsers disagree and the request is refused, so a parser differential
  cannot smuggle a call through.
* A query that does not contain the letters ``service`` in any case (keywords cannot be
  written with escapes: pyoxigraph does not unescape ``\\u`` outside IRIs and strings) cannot
  call out and is passed without parsing: the fast path, about 2 us.

rdflib's grammar is SPARQL 1.1: a query that mentions ``service`` (even in a comment) *and*
uses syntax only pyoxigraph knows (RDF-star, ``LATERAL``, SPARQL 1.2) is refused with rdflib's
syntax message. That is the price of deciding with a parser that does not evaluate.

Example:
    >>> check_query("SELECT * WHERE { ?s ?p 'SERVICE <http://x/> {}' }", allow=())
    >>> check_query("select * { service <http://127.0.0.1:9/> { ?s ?p ?o } }", allow=())
    Traceback (most recent call last):
    ...
    gff2rdf.errors.QueryRefusedError: SERVICE <http://127.0.0.1:9/> is not allowed ...
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .errors import QueryRefusedError

__all__ = ["check_query", "check_update", "keyword_count", "warm_up"]

# The SPARQL grammar's terminals that can hide a keyword: comments, the four string forms,
# IRIREF (which cannot contain spaces, so `?a < ?b` is two operators, not an IRI); then words.
_TOKENS = re.compile(r"""
    (?P<comment>\#[^\n\r]*)
  | (?P<string>
        '''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
      | \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
      | '(?:[^'\\\n\r]|\\.)*'
      | "(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
  | (?P<word>[A-Za-z0-9_:?$\-\u00b7-\U0010ffff]+)
  | (?P<other>.)
""", re.X | re.S)
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")


def keyword_count(text: str, keyword: str) -> int:
    """How many times ``keyword`` (case-insensitive) stands as a keyword token in ``text``.

    Words glued to prefixed names (``ex:service``) or variables (``?service``) are not counted;
    a ``.`` splits words, so it over-counts rather than under-counts in doubtful cases.
    """
    keyword = keyword.lower()
    return sum(1 for m in _TOKENS.finditer(text)
               if m.lastgroup == "word" and m.group().lower() == keyword)


def _walk(node: Any, found: dict[str, list[Any]]) -> None:
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    seen: set[int] = set()
    while stack:
        item = stack.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, CompValue):
            if item.name in found:
                found[item.name].append(item)
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            stack.extend(item)
        elif hasattr(item, "asList"):  # a pyparsing ParseResults
            stack.extend(list(item))


def _parse(text: str, update: bool) -> tuple[_Written, Any]:
    """rdflib's parse tree (as written, before prefix and BASE expansion, which rdflib does in
    place) and its ``Service`` and ``Load`` nodes after expansion; its errors become 400."""
    from pyparsing import ParseException
    from rdflib.plugins.sparql import algebra, parser

    try:
        tree: Any = parser.parseUpdate(text) if update else parser.parseQuery(text)
        written = _as_written(tree)
        translated: Any = (algebra.translateUpdate(tree) if update
                           else algebra.translateQuery(tree))
        return written, translated.algebra
    except ParseException as exc:
        raise QueryRefusedError(
            f"cannot check the SERVICE clauses of this {'update' if update else 'query'}: "
            f"the SPARQL 1.1 parser used for the check does not accept it: {exc.msg} "
            f"(line {exc.lineno}, column {exc.col})", status=400) from None
    except RecursionError:
        raise QueryRefusedError("the query is nested too deeply to be checked",
                                status=400) from None
    except QueryRefusedError:
        raise
    except Exception as exc:  # rdflib raises plain Exceptions for unknown prefixes and more
        raise QueryRefusedError(f"cannot check this query: {exc}", status=400) from None


@dataclass
class _Written:
    problems: list[str]
    services: int


def _as_written(tree: Any) -> _Written:
    """What the text says before expansion: SERVICE terms that are relative IRIs or prefixed
    names with a prefix declared relative (both depend on BASE, which the check refuses)."""
    from rdflib.term import URIRef

    found: dict[str, list[Any]] = {"ServiceGraphPattern": [], "PrefixDecl": []}
    _walk(tree, found)
    relative = {str(d.get("prefix") or "") for d in found["PrefixDecl"]
                if not _ABSOLUTE.match(str(d.get("iri", "")))}
    problems = []
    for node in found["ServiceGraphPattern"]:
        term = node.get("term")
        if isinstance(term, URIRef) and not _ABSOLUTE.match(str(term)):
            problems.append(f"SERVICE <{term}> is a relative IRI; write the endpoint's absolute "
                            "IRI")
        elif getattr(term, "name", "") == "pname" and str(term.get("prefix") or "") in relative:
            problems.append("SERVICE names a prefix declared with a relative IRI; write the "
                            "endpoint's absolute IRI")
    return _Written(problems, len(found["ServiceGraphPattern"]))


def _check_services(text: str, written: _Written, algebra: Any,
                    allow: Iterable[str]) -> None:
    from rdflib.term import URIRef

    allowed = set(allow)
    found: dict[str, list[Any]] = {"ServiceGraphPattern": []}
    _walk(algebra, found)
    services = found["ServiceGraphPattern"]
    if keyword_count(text, "service") > min(len(services), written.services):
        raise QueryRefusedError("cannot tell where a SERVICE clause of this query goes (the "
                                "two parsers used for the check disagree); refused")
    if written.problems:
        raise QueryRefusedError(written.problems[0])
    for node in services:
        term = node.get("term")
        if not isinstance(term, URIRef):
            raise QueryRefusedError("SERVICE with a variable is not allowed: the endpoint must "
                                    "be known before the query runs")
        if str(term) not in allowed:
            listed = ", ".join(f"<{a}>" for a in sorted(allowed)) or "none"
            raise QueryRefusedError(f"SERVICE <{term}> is not allowed (allowed endpoints: "
                                    f"{listed}; gff2rdf serve --allow-service IRI)")


def check_query(text: str, allow: Iterable[str]) -> None:
    """Refuse (``QueryRefusedError``) a query whose SERVICE clauses are not all allowlisted."""
    if "service" not in text.lower():
        return
    written, algebra = _parse(text, update=False)
    _check_services(text, written, algebra, allow)


def check_update(text: str, allow: Iterable[str]) -> None:
    """Refuse an update that uses LOAD or a SERVICE clause that is not allowlisted."""
    if keyword_count(text, "load"):
        raise QueryRefusedError("LOAD is not allowed: the server does not fetch URLs; put the "
                                "data with the Graph Store Protocol (PUT /store?graph=...)")
    written, algebra = _parse(text, update=True)
    found: dict[str, list[Any]] = {"Load": []}
    _walk(algebra, found)
    if found["Load"]:
        raise QueryRefusedError("LOAD is not allowed")
    _check_services(text, written, algebra, allow)


def warm_up() -> None:
    """Import and exercise rdflib's SPARQL parser once (about 0.3 s), so no request pays it."""
    _parse("SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }", update=False)
