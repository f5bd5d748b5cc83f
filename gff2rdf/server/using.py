"""The SPARQL 1.1 Protocol's ``using-graph-uri`` and ``using-named-graph-uri`` for an update.

The protocol (section 2.2.3) lets a client give the dataset of an update's WHERE clauses in the
request, as ``USING`` / ``USING NAMED`` would, and says a request with both the parameters and
``USING``, ``USING NAMED`` or ``WITH`` in the update is an error. pyoxigraph's
``Store.update`` takes no dataset (only the Rust API does), so ``with_using`` writes the
parameters into the update text: ``USING <g>`` and ``USING NAMED <n>`` before the ``WHERE`` of
every ``DELETE``/``INSERT ... WHERE`` operation, and ``DELETE WHERE { Q }`` spelled out as
``DELETE { Q } USING ... WHERE { Q }`` (the grammar has no USING in the short form; the two are
the same operation, SPARQL 1.1 Update section 3.1.3.3). Operations without a WHERE clause
(``INSERT DATA``, ``CLEAR``, ``LOAD``...) take no dataset and are left alone, as in Oxigraph.

The text is split with the grammar's terminals that can hide a keyword or a brace: comments,
the four string forms (escapes stay escapes: ``'\\u0027'`` does not end a string, as in
pyoxigraph), IRIs, and words with their ``\\`` escapes (``ex:a\\'`` is one prefixed name). The
result is what runs, and what the SERVICE / LOAD guard checks.

Example:
    >>> with_using("DELETE WHERE { ?s ?p 1 }", ["http://g/"], [])
    'DELETE { ?s ?p 1 } USING <http://g/> WHERE { ?s ?p 1 }'
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import RequestError

__all__ = ["with_using"]

_TOKENS = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\n\r]*)
  | (?P<string>
        '''(?:(?:'|'')?(?:[^'\\]|\\.))*'''
      | \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
      | '(?:[^'\\\n\r]|\\.)*'
      | "(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<open>\{)
  | (?P<close>\})
  | (?P<word>(?:[^\s{}()\[\];,<>"'\#\\|^]|\\.)+)
  | (?P<other>.)
""", re.X | re.S)
# characters an IRIREF cannot hold (SPARQL 1.1 grammar, production 139)
_NOT_IN_IRI = re.compile(r'[<>"{}|^`\\\x00-\x20]')


def _clauses(default: Sequence[str], named: Sequence[str]) -> str:
    for iri in (*default, *named):
        if _NOT_IN_IRI.search(iri):
            raise RequestError(f"using-graph-uri / using-named-graph-uri: not an IRI: "
                               f"{iri[:200]!r}", 400)
    return " ".join([*(f"USING <{g}>" for g in default),
                     *(f"USING NAMED <{g}>" for g in named)])


def with_using(update: str, default: Sequence[str], named: Sequence[str]) -> str:
    """``update`` with ``USING`` clauses for the protocol's ``using-graph-uri`` (``default``)
    and ``using-named-graph-uri`` (``named``) parameters; ``RequestError`` 400 when the update
    names its own dataset (``USING`` or ``WITH``), as the protocol requires."""
    if not default and not named:
        return update
    using = _clauses(default, named)
    out: list[str] = []
    depth = 0
    previous = ""  # the last keyword at depth 0 in this operation
    tokens = list(_TOKENS.finditer(update))
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind, text = token.lastgroup, token.group()
        if kind == "open":
            if depth == 0:
                previous = "{"
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif depth == 0 and kind == "word":
            word = text.upper()
            if word in ("USING", "WITH"):
                raise RequestError(f"the update has its own {word} clause: give the dataset "
                                   "either there or in using-graph-uri / "
                                   "using-named-graph-uri, not both", 400)
            if word == "WHERE" and previous == "DELETE":  # DELETE WHERE { Q }
                start, end = _group(tokens, i + 1)
                pattern = update[tokens[start].start():tokens[end].end()]
                while out and out[-1].isspace():
                    out.pop()
                out.append(f" {pattern} {using} WHERE {pattern}")
                i = end + 1
                previous = ""
                continue
            if word == "WHERE":
                out.append(f"{using} ")
            previous = word
        elif depth == 0 and kind == "other" and text == ";":
            previous = ""
        out.append(text)
        i += 1
    return "".join(out)


def _group(tokens: list[re.Match[str]], i: int) -> tuple[int, int]:
    """The indexes of the ``{`` at or after ``i`` (past spaces and comments) and its ``}``."""
    while i < len(tokens) and tokens[i].lastgroup in ("space", "comment"):
        i += 1
    if i >= len(tokens) or tokens[i].lastgroup != "open":
        raise RequestError("bad update: DELETE WHERE is not followed by { ... }", 400)
    depth = 0
    for j in range(i, len(tokens)):
        kind = tokens[j].lastgroup
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
            if depth == 0:
                return i, j
    raise RequestError("bad update: a { is never closed", 400)
