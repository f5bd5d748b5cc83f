"""A SPARQL lexer that reads the terminals the way Oxigraph 0.5's parser does.

``gff2rdf.server.guard`` decides on this token stream and re-serialises it, so it follows
Oxigraph (``lib/spargebra/src/parser.rs``, branch 0.5) rather than the letter of SPARQL 1.1
where the two differ:

* ``\\uXXXX`` and ``\\UXXXXXXXX`` escapes are decoded in IRIs and strings only (pyoxigraph is
  built without ``standard-unicode-escaping``); a backslash anywhere else, except the
  ``PN_LOCAL_ESC`` escapes of a local name (``e:x\\'``), is refused;
* keywords match ASCII letters case-insensitively (``ſERVICE`` is not ``SERVICE``); ``a``,
  ``true`` and ``false`` are case-sensitive; a word that is not in :data:`KEYWORDS` is refused;
* ``PN_CHARS_BASE`` stops at U+FFFD, and a local name has at most one run of inner dots;
* ``<`` after an operand inside an expression's parentheses is the less-than operator
  (``FILTER(?a<?b&&?c>?d)`` is two comparisons); anywhere else it starts an IRI, ``<<`` or
  ``<<(``.

Every refusal is a :class:`~gff2rdf.errors.QueryRefusedError` (400) that names the line and
column of the original text.

Example:
    >>> [token[TEXT] for token in tokenize("select ?s { ?s a <http://x/\\u0041> } # done")]
    ['SELECT', '?s', '{', '?s', 'a', 'http://x/A', '}']
"""

from __future__ import annotations

import re
from typing import Final

from ..errors import QueryRefusedError

__all__ = [
    "ANON",
    "BNODE",
    "BOOL",
    "END",
    "GLUED",
    "IRI",
    "KEYWORDS",
    "KIND",
    "LANG",
    "LOCAL",
    "NIL",
    "NUMBER",
    "PNAME",
    "PUNCT",
    "START",
    "STRING",
    "TEXT",
    "VAR",
    "WORD",
    "A",
    "Token",
    "position",
    "tokenize",
]

# The keywords of Oxigraph's grammar: every i("...") in parser.rs (0.5), upper-cased.
KEYWORDS = frozenset({
    "ABS", "ADD", "ADJUST", "ALL", "AS", "ASC", "ASK", "AVG", "BASE", "BIND", "BNODE", "BOUND",
    "BY", "CEIL", "CLEAR", "COALESCE", "CONCAT", "CONSTRUCT", "CONTAINS", "COPY", "COUNT",
    "CREATE", "DATA", "DATATYPE", "DAY", "DEFAULT", "DELETE", "DESC", "DESCRIBE", "DISTINCT",
    "DROP", "ENCODE_FOR_URI", "EXISTS", "FILTER", "FLOOR", "FROM", "GRAPH", "GROUP",
    "GROUP_CONCAT", "HASLANG", "HASLANGDIR", "HAVING", "HOURS", "IF", "IN", "INSERT", "INTO",
    "IRI", "ISBLANK", "ISIRI", "ISLITERAL", "ISNUMERIC", "ISTRIPLE", "ISURI", "LANG", "LANGDIR",
    "LANGMATCHES", "LATERAL", "LCASE", "LIMIT", "LOAD", "MAX", "MD5", "MIN", "MINUS", "MINUTES",
    "MONTH", "MOVE", "NAMED", "NOT", "NOW", "OBJECT", "OFFSET", "OPTIONAL", "ORDER", "PREDICATE",
    "PREFIX", "RAND", "REDUCED", "REGEX", "REPLACE", "ROUND", "SAMETERM", "SAMPLE", "SECONDS",
    "SELECT", "SEPARATOR", "SERVICE", "SHA1", "SHA256", "SHA384", "SHA512", "SILENT", "STR",
    "STRAFTER", "STRBEFORE", "STRDT", "STRENDS", "STRLANG", "STRLANGDIR", "STRLEN", "STRSTARTS",
    "STRUUID", "SUBJECT", "SUBSTR", "SUM", "TIMEZONE", "TO", "TRIPLE", "TZ", "UCASE", "UNDEF",
    "UNION", "URI", "USING", "UUID", "VALUES", "VERSION", "WHERE", "WITH", "YEAR"
})

# Token kinds. An operand ends an expression term, so a `<` after it is an operator.
IRI, PNAME, VAR, STRING, LANG, NUMBER, BOOL, BNODE, NIL, ANON, WORD, A, PUNCT = range(13)
_OPERANDS = frozenset({IRI, PNAME, VAR, STRING, LANG, NUMBER, BOOL, BNODE, NIL, ANON})


# A token is a tuple, for speed (a class cost 0.5 us a token, a fifth of the lexer's time):
# (kind, text, start, end, glued, local). ``text`` is decoded: the IRI, the string's value, the
# keyword upper-cased, a prefixed name's prefix; ``start``/``end`` are offsets in the original;
# ``glued`` says no whitespace or comment came before it; ``local`` is a prefixed name's local
# part with its escapes removed.
Token = tuple[int, str, int, int, bool, str]
KIND: Final = 0
TEXT: Final = 1
START: Final = 2
END: Final = 3
GLUED: Final = 4
LOCAL: Final = 5


_BASE = ("A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
         "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd")
_U = _BASE + "_"
_CHARS = _U + r"\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_HEX = "[0-9A-Fa-f]"
_UCHAR = rf"\\u{_HEX}{{4}}|\\U{_HEX}{{8}}"
_ECHAR = r"""\\[tbnrf"'\\]"""
_PN_PREFIX = rf"[{_BASE}][{_CHARS}]*(?:\.+[{_CHARS}]+)*"
_PN_LOCAL = rf"(?:[{_U}:0-9]|{_PLX})(?:[{_CHARS}:]|{_PLX})*(?:\.+(?:[{_CHARS}:]|{_PLX})+)?"
_LONG1 = rf"'''(?:(?:''|')?(?:[^'\\]|{_ECHAR}|{_UCHAR}))*'''"
_LONG2 = _LONG1.replace("'", '"')
_SHORT1 = rf"'(?:[^'\\\n\r]|{_ECHAR}|{_UCHAR})*'"
_SHORT2 = rf'"(?:[^"\\\n\r]|{_ECHAR}|{_UCHAR})*"'
# One expression reads one token; the group that matched names its kind. Where two
# alternatives could match, the order is Oxigraph's: a long string before a short one, a signed
# number before the sign, a blank node before a word. A word stands alone only when no name
# character, ':' or '.' follows (else it may start a prefixed name; `true.` falls through to
# the last word). Brackets and `<` depend on what is open, so tokenize() reads them. Written
# for speed: one expression with the common kinds first rather than one per kind, and tuples
# for tokens, halved the lexer's CPU time on 20 KB queries (bench/guard.py; the figure is in
# sparql_guard's docstring).
_TOKEN_PATTERN = (
    rf"[ \t\r\n]*(?:(?P<var>[?$][{_U}0-9][{_U}0-9\u00b7\u0300-\u036f\u203f-\u2040]*)"
    rf"|(?P<word>[A-Za-z_][A-Za-z0-9_]*(?![{_CHARS}:.]))"
    rf"|(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)"
    r"|(?P<nil>\([ \t\r\n]*\))"
    r"|(?P<anon>\[[ \t\r\n]*\])"
    r"|(?P<bracket>[<>(){}\[\]|])"
    rf"|(?P<long>{_LONG1}|{_LONG2})"
    rf"|(?P<short>{_SHORT1}|{_SHORT2})"
    r"|(?P<number>[+-]?(?:(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+|[0-9]*\.[0-9]+"
    r"|[0-9]+))"
    r"|(?P<punct>\^\^|&&|!=|[=*/,;.~!^+\-?])"
    rf"|(?P<bnode>_:[{_U}0-9][{_CHARS}]*(?:\.+[{_CHARS}]+)*)"
    r"|(?P<word2>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<lang>@[a-zA-Z]+(?:-[a-zA-Z0-9]+)*(?:--[a-zA-Z]+)?)"
    r"|(?P<other>[^ \t\r\n]))")  # no alternative starts with a space: no backtracking
_TOKEN = re.compile(_TOKEN_PATTERN)
# The same without prefixed names, inside a run of name characters and dots that was found to
# be no prefix (no ':' after it): trying each word of `a.a.a...a` as a prefix again made the
# lexer quadratic (20 s for 40 KB).
_TOKEN_NO_PNAME = re.compile(_TOKEN_PATTERN.replace(
    rf"|(?P<pname>(?:{_PN_PREFIX})?:(?:{_PN_LOCAL})?)", ""))
_PREFIX_RUN = re.compile(_PN_PREFIX)
_SKIP = re.compile(r"(?:[ \t\r\n]+|#[^\r\n]*)*")
_IRI = re.compile(rf"<((?:[^<>\"{{}}|^`\\\x00-\x20]|{_UCHAR})*)>")
_ESCAPE = re.compile(rf"{_ECHAR}|{_UCHAR}")
_ECHARS = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'",
           "\\": "\\"}
_KINDS = {"var": VAR, "number": NUMBER, "bnode": BNODE, "punct": PUNCT, "nil": NIL,
          "anon": ANON}
_UNEXPECTED = {
    "\\": "a backslash outside a string, an IRI or a prefixed name's escape (such as e:x\\')",
    "'": "a string that is not closed or has an escape other than \\t \\b \\n \\r \\f \\\" "
         "\\' \\\\ \\uXXXX \\UXXXXXXXX",
    "$": "'$' must start a variable name",
    "@": "'@' must start a language tag",
    "&": "'&' must be doubled (&&)",
}
_UNEXPECTED['"'] = _UNEXPECTED["'"]
# A `(` right after one of these keywords opens an expression (BIND(, STR(, HAVING(...).
_NOT_EXPRESSION_AFTER = frozenset({"VALUES"})
# In these clauses, a `(` at the clause's own level is an expression: SELECT (?a + 1 AS ?b),
# GROUP BY (?a), ORDER BY (?a), HAVING (?a > 1).
_EXPRESSION_CLAUSES = {"SELECT": True, "GROUP": True, "ORDER": True, "HAVING": True,
                       "WHERE": False, "FROM": False, "LIMIT": False, "OFFSET": False,
                       "VALUES": False}
_CLOSERS = {"}": "{", ")": "(", "]": "[", ">>": "<<", ")>>": "<<(", "|}": "{|"}


def position(text: str, offset: int) -> tuple[int, int]:
    """The 1-based line and column (in characters, lines split at LF) of ``offset``: the
    convention of Oxigraph's error messages."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _refuse(text: str, offset: int, what: str, message: str) -> QueryRefusedError:
    line, column = position(text, offset)
    return QueryRefusedError(f"bad {what}: error at {line}:{column}: {message}", status=400)


def _unescape(text: str, body: str, offset: int, what: str) -> str:
    """Decode ECHAR and UCHAR escapes; a code point that is not a character is refused."""
    if "\\" not in body:
        return body

    def one(match: re.Match[str]) -> str:
        escape = match.group()
        if escape[1] in "uU":
            code = int(escape[2:], 16)
            if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise _refuse(text, offset + match.start(), what,
                              f"{escape} is not the escape of a character")
            return chr(code)
        return _ECHARS[escape[1]]

    return _ESCAPE.sub(one, body)


class _Frame:
    __slots__ = ("expression", "kind", "start")

    def __init__(self, kind: str, start: int, expression: bool = False) -> None:
        self.kind = kind              # the opening bracket: { ( [ << <<( {|
        self.start = start
        self.expression = expression  # '(' of an expression, or a clause whose '(' are


def tokenize(text: str, what: str = "query") -> list[Token]:
    """The tokens of ``text``; comments and whitespace are skipped."""
    stack = [_Frame("", 0)]
    tokens: list[Token] = []
    append = tokens.append
    match = _TOKEN.match
    no_prefix_until = 0
    skip = _SKIP.match
    pos = 0
    glued = True
    while True:
        m = match(text, pos) if pos >= no_prefix_until else _TOKEN_NO_PNAME.match(text, pos)
        if m is None:  # only whitespace is left
            break
        group = m.lastgroup or ""
        start = m.start(group)
        end = m.end()
        if group == "other" and text[start] == "#":
            pos = skip(text, start).end()  # type: ignore[union-attr]  # it matches ""
            glued = False
            continue
        glued = glued and start == pos
        if group == "var" or group == "number" or group == "punct" or group == "bnode":
            append((_KINDS[group], m.group(group), start, end, glued, ""))
        elif group == "word" or group == "word2":
            if group == "word2" and start >= no_prefix_until:
                run = _PREFIX_RUN.match(text, start)  # None at '_': prefixes start with a letter
                no_prefix_until = run.end() if run else end
            kind, value = _word(text, m.group(group), start, what)
            top = stack[-1]
            if kind == WORD and value in _EXPRESSION_CLAUSES and top.kind in ("", "{"):
                top.expression = _EXPRESSION_CLAUSES[value]
            append((kind, value, start, end, glued, ""))
        elif group == "bracket":
            kind, value, end = _bracket(text, start, what, stack, tokens)
            append((kind, value, start, end, glued, ""))
        elif group == "pname":
            prefix, _, local = m.group(group).partition(":")
            append((PNAME, prefix, start, end, glued, local.replace("\\", "")))
        elif group == "short" or group == "long":
            quote = 1 if group == "short" else 3
            value = _unescape(text, m.group(group)[quote:-quote], start + quote, what)
            append((STRING, value, start, end, glued, ""))
        elif group == "nil" or group == "anon":
            append((_KINDS[group], "()" if group == "nil" else "[]", start, end, glued, ""))
        elif group == "lang":
            append((LANG, m.group(group), start, end, glued, ""))
        else:
            c = text[start]
            raise _refuse(text, start, what, _UNEXPECTED.get(c, f"unexpected character {c!r}"))
        pos = end
        glued = True
    if len(stack) > 1:
        raise _refuse(text, stack[-1].start, what, f"'{stack[-1].kind}' is not closed")
    return tokens


def _word(text: str, word: str, start: int, what: str) -> tuple[int, str]:
    if word == "a":
        return A, word
    if word in ("true", "false"):
        return BOOL, word
    upper = word.upper()
    if upper in KEYWORDS:
        return WORD, upper
    raise _refuse(text, start, what, f"unknown word {word!r} (not a SPARQL keyword or "
                  "function; prefixed names need a ':')")


def _bracket(text: str, pos: int, what: str, stack: list[_Frame],
             tokens: list[Token]) -> tuple[int, str, int]:
    """``<``, ``>``, ``|`` and the brackets, whose reading depends on what is open."""
    c = text[pos]
    top = stack[-1]
    prev = tokens[-1] if tokens else None
    before_prev = tokens[-2] if len(tokens) > 1 else None
    if c == "<":
        kind, value, end = _less_than(text, pos, what, top, prev)
        if value in ("<<", "<<("):
            stack.append(_Frame(value, pos))
        return kind, value, end
    if c == "(":
        stack.append(_Frame("(", pos, _opens_expression(top, prev, before_prev)))
        return PUNCT, c, pos + 1
    if c in "[{":
        value = "{|" if text.startswith("{|", pos) else c
        stack.append(_Frame(value, pos))
        return PUNCT, value, pos + len(value)
    closer = _closes(text, pos, top)
    if closer is None:  # `>`, `>=`, `|` or `||` as operators
        value = text[pos:pos + 2] if text.startswith((">=", "||"), pos) else c
        return PUNCT, value, pos + len(value)
    if len(stack) == 1 or _CLOSERS[closer] != top.kind:
        raise _refuse(text, pos, what, f"'{closer}' does not close "
                      + (f"'{top.kind}'" if top.kind else "anything"))
    stack.pop()
    return PUNCT, closer, pos + len(closer)


def _less_than(text: str, pos: int, what: str, top: _Frame,
               prev: Token | None) -> tuple[int, str, int]:
    """``<`` is an operator after an operand inside an expression, else an IRI or ``<<``."""
    operator = (top.kind == "(" and top.expression and prev is not None
                and (prev[KIND] in _OPERANDS or prev[TEXT] in (")", "]")))
    if not operator:
        m = _IRI.match(text, pos)
        if m is not None:
            return IRI, _unescape(text, m.group(1), m.start(1), what), m.end()
        if text.startswith("<<(", pos):
            return PUNCT, "<<(", pos + 3
        if text.startswith("<<", pos):
            return PUNCT, "<<", pos + 2
    if text.startswith("<=", pos):
        return PUNCT, "<=", pos + 2
    return PUNCT, "<", pos + 1


def _opens_expression(top: _Frame, prev: Token | None, before_prev: Token | None) -> bool:
    """Whether a ``(`` opens an expression (its ``<`` after an operand is less-than) rather
    than a collection, a path group or a VALUES row."""
    if top.expression:  # inside an expression, or at the level of SELECT/GROUP BY/ORDER BY
        return True
    if prev is None:
        return False
    if prev[KIND] == WORD:
        return prev[TEXT] not in _NOT_EXPRESSION_AFTER
    # FILTER <fn>(...) and FILTER e:fn(...)
    return (prev[KIND] in (IRI, PNAME) and before_prev is not None
            and before_prev[KIND] == WORD and before_prev[TEXT] == "FILTER")


def _closes(text: str, pos: int, top: _Frame) -> str | None:
    """The closing token at ``pos`` if there is one: ``)>>``, ``>>`` and ``|}`` only close
    what they match, otherwise they are read as operators."""
    c = text[pos]
    if c == ")":
        return ")>>" if top.kind == "<<(" and text.startswith(")>>", pos) else ")"
    if c in "]}":
        return c
    if c == ">" and top.kind == "<<" and text.startswith(">>", pos):
        return ">>"
    if c == "|" and top.kind == "{|" and text.startswith("|}", pos):
        return "|}"
    return None
