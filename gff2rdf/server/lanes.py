"""Which queries are light: the fast lane of ``gff2rdf serve``'s worker pool.

A pool of a few workers, each running one query at a time, is blocked by a few heavy queries
(a 1.5 s region scan held half of the default pool of two, and lookups of a few milliseconds
queued behind it). So the pool keeps some workers for light queries: a query that is not known
to be light may occupy at most ``size - reserve`` workers at once; a light one may take any idle
worker (``WorkerPool.acquire``).

How a query is known to be light: by measurement, not by guessing from its text. A LIMIT does
not bound the work before it (``ASK`` or ``LIMIT 1`` over a filter that matches nothing reads
everything), and the planner's cost is not exposed by pyoxigraph. What is cheap to know is how
long the same *shape* of query took before: the query text with its string and number literals
left out (a gene lookup by ID, a region with its window, ``ASK {}``: one shape each, whatever
the ID or coordinates). A shape is light when it has run and none of its last ``HISTORY`` runs
took ``light_seconds`` or more. Everything else is heavy: a new shape waits in the heavy lane
until it has shown it is fast, so a flood of new expensive queries never takes the reserved
workers. A light query that runs past ``2 * light_seconds`` counts as heavy from then on (the
pool's admission sees it) and marks its shape heavy when it ends.

The canned queries of ``/queries/NAME`` and the page's listings are queries like any other here:
their shapes learn the same way after one run.

Example:
    >>> lanes = Lanes(light_seconds=0.05)
    >>> key = shape({"op": "query", "query": "ASK { ?f <p> 'AT1G01010' }"})
    >>> key == shape({"op": "query", "query": "ASK { ?f <p> 'AT5G00010' }"})
    True
    >>> lanes.light(key)
    False
    >>> lanes.record(key, 0.002)
    >>> lanes.light(key)
    True
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, deque
from typing import Any

__all__ = ["HISTORY", "Lanes", "shape"]

HISTORY = 4          # runs remembered per shape
SHAPES = 4096        # shapes remembered (least recently used forgotten)

# IRIs and words (keywords, variables, prefixed names) are kept (group 1); strings, numbers and
# comments are left out. A template substitution, not a callable: 3-10 us on a 1 KB query.
_LITERALS = re.compile(r"""
    (<[^<>"{}|^`\\\s]*>|[A-Za-z_?$][\w:\-]*)
  | '''(?:(?:'|'')?(?:[^'\\]|\\.))*''' | \"\"\"(?:(?:"|"")?(?:[^"\\]|\\.))*\"\"\"
  | '(?:[^'\\\n\r]|\\.)*' | "(?:[^"\\\n\r]|\\.)*"
  | [+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?
  | \#[^\n\r]*
""", re.X)


def shape(request: dict[str, Any] | None) -> int | None:
    """The shape of a query request (a hash), or None for anything else (dumps, writes)."""
    if request is None or request.get("op") != "query":
        return None
    text = _LITERALS.sub(r"\1", request.get("query") or "")
    return hash((text, tuple(sorted(request.get("substitutions") or ())),
                 len(request.get("default_graphs") or ()),
                 len(request.get("named_graphs") or ())))


class Lanes:
    """Recent run times per query shape; ``light(key)`` says which lane a request takes."""

    def __init__(self, light_seconds: float = 0.05) -> None:
        self.light_seconds = light_seconds
        self._runs: OrderedDict[int, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def light(self, key: int | None) -> bool:
        if key is None or self.light_seconds <= 0:
            return False
        with self._lock:
            runs = self._runs.get(key)
            return bool(runs) and max(runs) < self.light_seconds  # type: ignore[arg-type]

    def record(self, key: int | None, seconds: float) -> None:
        if key is None:
            return
        with self._lock:
            runs = self._runs.get(key)
            if runs is None:
                runs = self._runs[key] = deque(maxlen=HISTORY)
                if len(self._runs) > SHAPES:
                    self._runs.popitem(last=False)
            else:
                self._runs.move_to_end(key)
            runs.append(seconds)

    def overran(self, light: bool, seconds: float) -> bool:
        """Whether a query that has run ``seconds`` so far counts as heavy now."""
        return not light or seconds >= 2 * self.light_seconds
