"""A compiled constraint (``Check``) and how its results become ``Violation`` records.

``gff2rdf.shacl.sparql`` compiles the shapes into checks; ``gff2rdf.shacl.oxigraph`` runs them.
Terms are written as the N-Triples strings ``Violation`` uses, the same for pyoxigraph terms
(here) and rdflib terms (``gff2rdf.shacl.shapes.rdflib_term``), so that the two engines compare.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import ShapesError
from ..terms import iri, literal
from ..vocab import XSD
from .shapes import SH, Violation, short

__all__ = ["LOCAL", "RELATIONAL", "VALUE", "Check", "oxigraph_term"]

LOCAL, VALUE, RELATIONAL = "local", "value", "relational"


@dataclass(frozen=True)
class Check:
    """One constraint of one shape as a SPARQL SELECT of ``?this`` (and ``?value``).

    ``query`` stands alone. Checks with the same ``batch`` key can also be run as one query
    (``gff2rdf.shacl.oxigraph``): ``("values", path)`` checks share a scan of the path and fail
    where ``ok`` (a condition on ``?value``) is false; ``("max", path, n)`` checks share one
    count of the path's values; ``("focus", node shape)`` checks share the enumeration
    ``targets`` and fail where ``ok`` (a condition on ``?this``) is false. ``test`` is the
    target test for a bound ``?this``.
    """

    shape: str
    node_shape: str
    component: str
    query: str
    kind: str
    path: str | None = None
    constraint: str | None = None
    message: str | None = None
    severity: str = SH + "Violation"
    has_value: bool = False
    value_is_focus: bool = False
    value_condition: str | None = None  # for ``value`` checks: what a value must satisfy
    follows: frozenset[str] = field(default_factory=frozenset)  # predicates it reads
    batch: tuple[str, ...] | None = None
    ok: str | None = None
    targets: str = ""
    test: str = ""
    detail: str = ""  # the constraint's parameter, for messages
    target_classes: frozenset[str] = field(default_factory=frozenset)

    def terms(self, solution: Any) -> tuple[str, str | None]:
        """The focus node and value of a solution, as N-Triples terms (cheap)."""
        focus = oxigraph_term(solution["this"])
        if self.value_is_focus:
            return focus, focus
        if self.has_value and solution["value"] is not None:
            return focus, oxigraph_term(solution["value"])
        return focus, None

    def violation(self, solution: Any) -> Violation:
        focus, value = self.terms(solution)
        return self.make(focus, value, self._message(solution, focus, value))

    def make(self, focus: str, value: str | None, message: str | None = None) -> Violation:
        if message is None:
            message = self.message or _default_message(self, value)
        return Violation(focus, self.shape, self.component, self.path, value, self.constraint,
                         message, self.severity)

    def _message(self, solution: Any, focus: str, value: str | None) -> str:
        if not self.message:
            return _default_message(self, value)

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "this":
                return focus
            try:
                term = solution[name]
            except (KeyError, IndexError, TypeError):
                return match.group(0)
            return term.value if term is not None and hasattr(term, "value") else str(term)

        return re.sub(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}", fill, self.message)


_MESSAGES = {
    "MinCount": "fewer than {detail} value(s) of {path}",
    "MaxCount": "more than {detail} value(s) of {path}",
    "Datatype": "{value} is not a well-formed literal of datatype {detail}",
    "NodeKind": "{value} is not a {detail}",
    "Class": "{value} is not an instance of {detail}",
    "Pattern": "{value} does not match {detail}",
    "In": "{value} is not one of {detail}",
    "HasValue": "{value} is not {detail}",
    "MinInclusive": "{value} is not >= {detail}",
    "MaxInclusive": "{value} is not <= {detail}",
    "MinExclusive": "{value} is not > {detail}",
    "MaxExclusive": "{value} is not < {detail}",
    "MinLength": "{value} is shorter than {detail}",
    "MaxLength": "{value} is longer than {detail}",
    "Node": "{value} does not conform to {detail}",
    "Or": "{value} conforms to none of the shapes of sh:or",
    "And": "{value} does not conform to every shape of sh:and",
    "Not": "{value} conforms to the shape of sh:not",
    "Xone": "{value} does not conform to exactly one shape of sh:xone",
    "QualifiedMinCount": "fewer than {detail} value(s) of {path} conform to the qualified shape",
    "QualifiedMaxCount": "more than {detail} value(s) of {path} conform to the qualified shape",
}


def _default_message(check: Check, value: str | None) -> str:
    name = check.component.rsplit("#", 1)[-1].replace("ConstraintComponent", "")
    template = _MESSAGES.get(name, "violates sh:" + name[0].lower() + name[1:])
    return template.format(value=value or "the value", detail=short(check.detail),
                           path=short(check.path or ""))


def oxigraph_term(term: Any) -> str:
    """A pyoxigraph term as the N-Triples string used in ``Violation`` (same as rdflib's)."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return iri(term.value)
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Literal):
        text = literal(term.value)
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype.value != XSD + "string":
            return f"{text}^^<{term.datatype.value}>"
        return text
    raise ShapesError(f"unexpected term {term!r}")
