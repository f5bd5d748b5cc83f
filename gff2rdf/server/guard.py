"""Decide whether a SPARQL query or update may reach the network, on the text the engine runs.

pyoxigraph runs ``SERVICE <any URL>`` and ``LOAD <any URL>`` with its own HTTP client and has no
hook, allowlist or public parse tree, so the guard cannot look at the engine's own parse.
Instead it reads the text with its own lexer (:mod:`gff2rdf.server.lexer`, which follows
Oxigraph's terminals), decides on that token stream, and hands the engine a *canonical* text
rebuilt from the tokens, never the original:

* tokens separated by spaces, comments dropped, strings written ``"..."`` with only the escapes
  ``\\\\ \\" \\n \\r``;
* every IRI and prefixed name replaced by a generated prefixed name ``gN:`` declared in the
  prologue (``PREFIX gN: <the decoded IRI>``), so the body holds no IRI at all: a ``<`` there is
  only ever an operator, and nothing can hide in an escape, a comment or an IRI;
* ``BASE`` and ``VERSION`` kept, before the generated prefixes (Oxigraph 0.5 accepts a prologue
  only at the start of an update, so that is the only place the guard accepts one).

On that stream the decision is plain: ``SERVICE [SILENT]`` must be followed by an absolute IRI
(as written, not relative to ``BASE``) that is in the allowlist, compared exactly;
``SERVICE ?variable`` and any ``LOAD`` are refused. Nested ``SERVICE`` clauses are allowed when
every endpoint is. Why the engine cannot read the canonical text differently: Oxigraph matches
a keyword as a fixed number of ASCII letters, and in the canonical text the only words are
keywords from a whitelist, each standing alone; the other tokens (variables, numbers, strings,
``gN:``, blank nodes) cannot be entered in the middle by any rule of its grammar.

A text with no ``service`` (and, for an update, no ``load``) in any letter case cannot call out
(keywords cannot be escaped) and runs as written: the fast path, 27 us for 20 KB (``casefold``).
Otherwise the guard costs 2-8 ms of CPU for a 20 KB query (``bench/guard.py``, 20 runs, min
2.2-6.8 ms, median 3.6-7.5 ms on a loaded 2-core machine), against 0.4-2.5 s for rdflib's parse
of the same queries in the same run (95-340x), which the guard used before. The IRIs it builds
from base IRIs and prefixes are bounded by the text's length (:data:`BUILT_PER_CHARACTER`): a
chain of ``BASE <r/>`` or a long prefix repeated could otherwise make them quadratic.

Engine errors are translated with :meth:`Guarded.engine_error`: a syntax error names the line
and column of the original text; any other failure of a query that has a ``SERVICE`` clause is
one fixed message, so a client learns nothing of the remote's reply or of which ports are open.

Example:
    >>> guard_query("SELECT * WHERE { ?s ?p 'no service' } # comment", allow=()).text
    'SELECT * WHERE { ?s ?p "no service" }'
    >>> print(guard_query("select * { service <http://a/sparql> { ?s ?p ?o } }",
    ...                   allow=["http://a/sparql"]).text)
    PREFIX g1: <http://a/sparql>
    SELECT * { SERVICE g1: { ?s ?p ?o } }
    >>> guard_query("select * { service <http://127.0.0.1:9/> { ?s ?p ?o } }", allow=())
    Traceback (most recent call last):
    ...
    gff2rdf.errors.QueryRefusedError: SERVICE <http://127.0.0.1:9/> is not allowed ...
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import accumulate

from ..errors import QueryRefusedError, RequestError
from .lexer import (
    END,
    IRI,
    KIND,
    LANG,
    LOCAL,
    PNAME,
    PUNCT,
    START,
    STRING,
    TEXT,
    VAR,
    WORD,
    Token,
    position,
    tokenize,
)

__all__ = ["BUILT_PER_CHARACTER", "SERVICE_FAILED", "Guarded", "canonical", "check_query",
           "check_update", "guard_query", "guard_update", "warm_up"]

SERVICE_FAILED = "a SERVICE call failed"
# The characters of IRIs the guard may build (relative IRIs resolved, prefixed names expanded)
# for each character of the text, plus 1 MiB; past that the text is refused. Unbounded, 40,000
# `BASE <r/>` (400 KB) took 5 s, and 3,000 relative prefixes under a 100 KB base (160 KB) made
# 300 MB of canonical text. A 40-character prefix before 1-character local names needs 10.
BUILT_PER_CHARACTER = 64
_BUILT_EXTRA = 1 << 20
_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_NOT_IN_IRI = re.compile(r"[<>\"{}|^`\\\x00-\x20]")
_STRING_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_ENGINE_SYNTAX = re.compile(r"error at (\d+):(\d+): (.*)", re.S)


@dataclass(frozen=True)
class Guarded:
    """What the engine runs (``text``), the endpoints it may call, and the way back from
    positions in ``text`` to positions in the ``original``."""

    text: str
    original: str
    what: str                        # "query" or "update"
    services: tuple[str, ...] = ()   # the allowlisted endpoints the text calls
    lengths: tuple[int, ...] = ()    # the canonical text, piece by piece (one a token) ...
    origins: tuple[int, ...] = ()    # ... the start in original of the token of each piece
    ends: tuple[int, ...] = ()       # ... and its end

    def original_offset(self, offset: int) -> int:
        """The offset in ``original`` that ``offset`` in ``text`` stands for: the same place
        in the token it comes from (its end when the token was rewritten shorter)."""
        if not self.lengths:
            return offset
        bounds = list(accumulate(self.lengths))
        index = bisect_right(bounds, offset)
        if index >= len(bounds):  # the end of the text
            return len(self.original)
        start = bounds[index] - self.lengths[index]
        delta = max(0, offset - start - (self.text[start] == " "))
        return min(self.origins[index] + delta, self.ends[index])

    def engine_error(self, exc: BaseException) -> RequestError | None:
        """The client's error for an exception the engine raised on ``text``; None when the
        caller's usual mapping applies (no SERVICE call, not a syntax error)."""
        syntax = _ENGINE_SYNTAX.fullmatch(str(exc)) if isinstance(exc, SyntaxError) else None
        if syntax is not None:
            line, column = int(syntax.group(1)), int(syntax.group(2))
            if self.lengths:
                starts = [0] + [i + 1 for i, c in enumerate(self.text) if c == "\n"]
                offset = starts[min(line, len(starts)) - 1] + column - 1
                line, column = position(self.original, self.original_offset(offset))
            return RequestError(f"bad {self.what}: error at {line}:{column}: "
                                f"{syntax.group(3)}", status=400)
        if self.services:
            return RequestError(SERVICE_FAILED, status=502)
        return None


def guard_query(text: str, allow: Iterable[str], base_iri: str | None = None) -> Guarded:
    """The query to run in place of ``text``, or ``QueryRefusedError`` if it would call an
    endpoint that is not in ``allow``. ``base_iri`` is the one the engine is given."""
    if "service" not in text.casefold():
        return Guarded(text, text, "query")
    return _canonical(text, "query", allow, base_iri)


def guard_update(text: str, allow: Iterable[str], base_iri: str | None = None) -> Guarded:
    """The update to run in place of ``text``; refused if it uses LOAD or a SERVICE endpoint
    that is not in ``allow``."""
    folded = text.casefold()
    if "service" not in folded and "load" not in folded:
        return Guarded(text, text, "update")
    return _canonical(text, "update", allow, base_iri)


def check_query(text: str, allow: Iterable[str]) -> None:
    """Raise ``QueryRefusedError`` if :func:`guard_query` refuses ``text``."""
    guard_query(text, allow)


def check_update(text: str, allow: Iterable[str]) -> None:
    """Raise ``QueryRefusedError`` if :func:`guard_update` refuses ``text``."""
    guard_update(text, allow)


def canonical(text: str, what: str = "query", base_iri: str | None = None) -> Guarded:
    """The canonical form of ``text`` whatever it calls (for tests: its meaning must not
    change); SERVICE clauses are not checked, LOAD is still refused."""
    return _canonical(text, what, None, base_iri)


def warm_up() -> None:
    """Compile the lexer's expressions once, so no request pays for it."""
    _canonical("PREFIX e: <http://e/> SELECT * { SERVICE e:x { ?s ?p 'x'@en } }", "query",
               ["http://e/x"], None)


def _canonical(text: str, what: str, allow: Iterable[str] | None,
               base_iri: str | None) -> Guarded:
    tokens = tokenize(text, what)
    allowed = None if allow is None else set(allow)
    prologue = _Prologue(text, what, base_iri)
    first = prologue.read(tokens)
    names: dict[str, tuple[str, int, int]] = {}  # IRI -> (generated prefix, where it was)
    services: list[str] = []

    def generated(iri: str, start: int, end: int) -> str:
        name = names.get(iri)
        if name is None:
            if _NOT_IN_IRI.search(iri):
                raise _error(text, start, what, f"<{iri}> has a character IRIs cannot contain")
            name = names[iri] = (f" g{len(names) + 1}:", start, end)
        return name[0]

    for value, start, end in prologue.prefixes.values():  # validated by the engine
        generated(value, start, end)
    pieces: list[str] = []  # each with the space before it, unless glued
    origins: list[int] = []
    ends: list[int] = []
    previous = PUNCT
    for i in range(first, len(tokens)):
        kind, value, start, end, glued, local = tokens[i]
        if kind == IRI:
            piece = generated(value, start, end)
        elif kind == PNAME:
            piece = generated(prologue.expand(value, local, start), start, end)
        elif kind == STRING:
            piece = ' "' + value.translate(_STRING_ESCAPES) + '"'
        elif kind == WORD:
            if value in _CHECKED:
                services.append(_check(text, what, tokens, i, prologue, allowed))
            piece = " " + value
        elif kind == LANG and previous == STRING:
            piece = value
        elif glued and previous == WORD and value in ("(", "()"):
            piece = value  # CONCAT( and BNODE() must stay glued
        else:
            piece = " " + value
        pieces.append(piece)
        origins.append(start)
        ends.append(end)
        previous = kind
    return _assemble(text, what, prologue, names, pieces, origins, ends, tuple(services))


_CHECKED = frozenset({"SERVICE", "LOAD", "BASE", "PREFIX", "VERSION"})


def _assemble(text: str, what: str, prologue: _Prologue,
              names: dict[str, tuple[str, int, int]], pieces: list[str], origins: list[int],
              ends: list[int], services: tuple[str, ...]) -> Guarded:
    lines = [*prologue.kept, *((f"PREFIX{name} <{iri}>\n", start, end)
                               for iri, (name, start, end) in names.items())]
    if pieces:
        pieces[0] = pieces[0].lstrip(" ")
    pieces[:0] = [line for line, _, _ in lines]
    origins[:0] = [start for _, start, _ in lines]
    ends[:0] = [end for _, _, end in lines]
    return Guarded("".join(pieces), text, what, services, tuple(map(len, pieces)),
                   tuple(origins), tuple(ends))


def _error(text: str, offset: int, what: str, message: str) -> QueryRefusedError:
    line, column = position(text, offset)
    return QueryRefusedError(f"bad {what}: error at {line}:{column}: {message}", status=400)


def _check(text: str, what: str, tokens: list[Token], i: int, prologue: _Prologue,
           allowed: set[str] | None) -> str:
    """The endpoint of the SERVICE clause at ``tokens[i]``, refused unless allowlisted; LOAD,
    and a prologue keyword after the prologue, are refused."""
    keyword, start = tokens[i][TEXT], tokens[i][START]
    if keyword == "LOAD":
        raise QueryRefusedError("LOAD is not allowed: the server does not fetch URLs; put the "
                                "data with the Graph Store Protocol (PUT /store?graph=...)")
    if keyword != "SERVICE":
        raise _error(text, start, what, f"{keyword} must come before the "
                     + ("query" if what == "query" else "first operation"))
    j = i + 1
    if j < len(tokens) and tokens[j][KIND] == WORD and tokens[j][TEXT] == "SILENT":
        j += 1
    kind, value, at, _, _, local = tokens[j] if j < len(tokens) else (PUNCT, "", 0, 0, True, "")
    if kind == VAR:
        raise QueryRefusedError("SERVICE with a variable is not allowed: the endpoint must be "
                                "known before the query runs")
    if kind == IRI:
        written = iri = value
    elif kind == PNAME:
        iri = prologue.expand(value, local, at)
        written = prologue.written[value] + local
    else:
        raise _error(text, start, what, "SERVICE must be followed by the endpoint's IRI")
    if not _ABSOLUTE.match(written):
        raise QueryRefusedError(f"SERVICE <{written}> is a relative IRI; write the endpoint's "
                                "absolute IRI")
    if allowed is not None and iri not in allowed:
        listed = ", ".join(f"<{a}>" for a in sorted(allowed)) or "none"
        raise QueryRefusedError(f"SERVICE <{iri}> is not allowed (allowed endpoints: {listed}; "
                                "gff2rdf serve --allow-service IRI)")
    return iri


class _Prologue:
    """BASE, PREFIX and VERSION declarations; prefixes resolved as Oxigraph resolves them."""

    def __init__(self, text: str, what: str, base_iri: str | None) -> None:
        self.text = text
        self.what = what
        self.base = base_iri
        self.kept: list[tuple[str, int, int]] = []  # VERSION and BASE lines, where they were
        self.prefixes: dict[str, tuple[str, int, int]] = {}  # name -> (resolved IRI, where)
        self.written: dict[str, str] = {}  # name -> IRI as declared
        self.limit = self.left = BUILT_PER_CHARACTER * len(text) + _BUILT_EXTRA

    def read(self, tokens: list[Token]) -> int:
        """Read the declarations at the start of ``tokens``; the index of the first other."""
        i = 0
        versions: list[tuple[str, int, int]] = []
        while i < len(tokens) and tokens[i][KIND] == WORD and tokens[i][TEXT] in (
                "BASE", "PREFIX", "VERSION"):
            keyword, start = tokens[i][TEXT], tokens[i][START]
            if keyword == "VERSION":
                value = self._next(tokens, i + 1, STRING, "VERSION must be followed by a string")
                versions.append((f'VERSION "{value[TEXT].translate(_STRING_ESCAPES)}"\n', start,
                                 value[END]))
                i += 2
            elif keyword == "BASE":
                iri = self._iri(self._next(tokens, i + 1, IRI, "BASE must be followed by an "
                                           "IRI <...>"))
                self.base = self._resolve(iri[TEXT], iri[START])
                self.kept.append((f"BASE <{iri[TEXT]}>\n", start, iri[END]))
                i += 2
            else:
                name = self._next(tokens, i + 1, PNAME, "PREFIX must be followed by a name "
                                  "ending in ':'")
                iri = self._iri(self._next(tokens, i + 2, IRI, "PREFIX must be followed by a "
                                           "name and an IRI <...>"))
                if name[LOCAL] or tokens[i + 1][END] != tokens[i + 1][START] + len(
                        name[TEXT]) + 1:
                    raise _error(self.text, name[START], self.what, "a prefix name ends at "
                                 "its ':'")
                self.prefixes[name[TEXT]] = (self._resolve(iri[TEXT], iri[START]), iri[START],
                                             iri[END])
                self.written[name[TEXT]] = iri[TEXT]
                i += 3
        self.kept[:0] = versions
        return i

    def _next(self, tokens: list[Token], i: int, kind: int, message: str) -> Token:
        if i >= len(tokens) or tokens[i][KIND] != kind:
            at = tokens[i][START] if i < len(tokens) else len(self.text)
            raise _error(self.text, at, self.what, message)
        return tokens[i]

    def _iri(self, token: Token) -> Token:
        if _NOT_IN_IRI.search(token[TEXT]):
            raise _error(self.text, token[START], self.what,
                         f"<{token[TEXT]}> has a character IRIs cannot contain")
        return token

    def _resolve(self, iri: str, start: int) -> str:
        """``iri`` resolved against the current base, by Oxigraph's own IRI library (through
        its Turtle parser). An absolute IRI is left as written, as Oxigraph leaves it."""
        if _ABSOLUTE.match(iri):
            return iri
        if self.base is None:
            raise _error(self.text, start, self.what, f"<{iri}> is a relative IRI and there is "
                         "no base IRI to resolve it against")
        self._build(len(self.base) + len(iri), start)
        import pyoxigraph as ox

        try:
            quads = ox.parse(f"<urn:x:s> <urn:x:p> <{iri}> .".encode(),
                             format=ox.RdfFormat.TURTLE, base_iri=self.base)
            return str(next(iter(quads)).object.value)
        except (SyntaxError, ValueError) as exc:
            raise _error(self.text, start, self.what, f"<{iri}> cannot be resolved against "
                         f"<{self.base}>") from exc

    def expand(self, prefix: str, local: str, start: int) -> str:
        """The IRI of the prefixed name ``prefix:local``, as Oxigraph builds it."""
        resolved = self.prefixes.get(prefix)
        if resolved is None:
            raise _error(self.text, start, self.what, f"the prefix '{prefix}:' is not declared")
        self._build(len(resolved[0]) + len(local), start)
        return resolved[0] + local

    def _build(self, size: int, start: int) -> None:
        """Count ``size`` characters of IRI built; refuse the text past its limit."""
        self.left -= size
        if self.left < 0:
            raise _error(self.text, start, self.what, "its base IRIs and prefixes expand to "
                         f"more than {self.limit:,} characters of IRIs ({BUILT_PER_CHARACTER} "
                         "a character of text, plus 1 MiB); write long IRIs out in full, or "
                         "use shorter base IRIs and prefixes")
