"""One pass of the streaming proof (``gff2rdf.shacl.proof``) over lines of N-Triples / N-Quads.

``_scan`` reads the lines and groups them by subject; ``_Pass.close`` checks each subject
against the shapes of the plan (``gff2rdf.shacl.proof_compile``) when its group ends, keeps what
later look-ups read in a window of the last ``WINDOW`` subjects, and settles the checks that
waited for it. What to check is worked out once per kind of node (``_Role``, ``_Kind``,
``_PathWork``). Anything that fails or cannot be decided raises ``Unsure``.
"""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import IO, Any

from .pieces import open_lines
from .proof_compile import Cond, _Condition, _conforms, _Plan, _Prop, _Shape
from .proof_natives import Native
from .proof_terms import (
    _SAFE_IRI,
    EMPTY,
    SUBCLASS_OF,
    Unsure,
    _check_object,
    _Facts,
    _object,
    _remember,
    _term_ok,
)

# Subjects kept for look-ups from later lines (only the predicates that look-ups read). The
# converter writes a node's positions and region just before it, and a parent within its gene
# model. Keeping all their triples instead measured 5 % slower and 25 % more memory.
WINDOW = 200_000
PENDING_LIMIT = 1_000_000  # deferred checks before the pass gives up (memory bound)


@dataclass(eq=False)
class _Kind:
    """What checking a node of given predicates against given shapes takes."""

    missing: str | None  # a required property the node lacks: the rule it breaks
    conditions: list[tuple[str, _Condition]]  # on the node itself
    work: list[_PathWork]  # per predicate, what the properties that constrain it check
    inverse: list[tuple[_Prop, str]]
    natives: list[_Shape]

    @classmethod
    def make(cls, shapes: Iterable[_Shape], predicates: Iterable[bytes]) -> _Kind:
        present = set(predicates)
        kind = cls(None, [], [], [], [])
        work: dict[bytes, list[_Prop]] = {}
        for shape in shapes:
            kind.conditions.extend((shape.name, c) for c in shape.conditions)
            for prop in shape.required:
                if prop.path not in present and kind.missing is None:
                    kind.missing = prop.name
            kind.inverse.extend((prop, shape.name) for prop in shape.inverse_props)
            for path, props in shape.by_path.items():
                if path in present:
                    work.setdefault(path, []).extend(props)
            if shape.natives:
                kind.natives.append(shape)
        kind.work = [_PathWork.make(path, props) for path, props in work.items()]
        return kind


@dataclass(eq=False)
class _PathWork:
    """The constraints of several shapes on one predicate, merged: the lowest sh:maxCount,
    one test for every term-only condition, the checks that read linked nodes."""

    path: bytes
    name: str  # the properties, for the reason
    max_count: int | None
    ok: Callable[[bytes], bool] | None
    cache: set[bytes] | None  # values that passed ``ok`` (None: not worth a look-up)
    with_facts: list[tuple[_Condition, str]]
    qualified: list[_Prop]
    counts: bool = False  # whether the number of distinct values matters

    @classmethod
    def make(cls, path: bytes, props: list[_Prop]) -> _PathWork:
        counts = [p.max_count for p in props if p.max_count is not None]
        tests = [c for p in props for c in p.term_only]
        qualified = [p for p in props if p.qualified is not None]
        return cls(path, ", ".join(p.name for p in props), min(counts) if counts else None,
                   _all_of([c.test for c in tests]),
                   set() if not all(c.cheap for c in tests) else None,
                   [(c, p.name) for p in props for c in p.with_facts], qualified,
                   bool(counts or qualified))


@dataclass(eq=False)
class _Role:
    """What a subject of given predicates and types is to the shapes: the shapes that target
    it (as a ``_Kind``), the objects its predicates make targets, what the window keeps."""

    kind: _Kind | None
    objects: list[tuple[bytes, tuple[tuple[_Shape, frozenset[bytes]], ...]]]
    incoming: list[bytes]
    kept: list[bytes]
    keep_all: bool = False  # the window keeps all of such a node's triples (no copy)

    @classmethod
    def make(cls, plan: _Plan, predicates: tuple[bytes, ...], types: Iterable[bytes]) -> _Role:
        targeted: list[_Shape] = []
        for t in types:
            targeted.extend(plan.by_class.get(t, ()))
        for p in predicates:
            targeted.extend(plan.by_subject_of.get(p, ()))
        kind = _Kind.make(dict.fromkeys(targeted), predicates) if targeted else None
        kept = [p for p in predicates if p in plan.kept]
        return cls(kind,
                   [(p, plan.by_object_of[p]) for p in predicates if p in plan.by_object_of],
                   [p for p in predicates if p in plan.inverse], kept,
                   len(kept) == len(predicates))


class _Pass:
    def __init__(self, plan: _Plan) -> None:
        self.plan = plan
        self.window: dict[bytes, _Facts] = {}
        self.order: deque[bytes] = deque()  # the window's keys, oldest first
        self.seen: set[int] = set()
        self.pending: dict[bytes, list[Callable[[_Facts], None]]] = {}
        self.pending_keys: set[tuple[int, bytes]] = set()
        self.pending_count = 0
        self.incoming: dict[bytes, set[bytes]] = {p: set() for p in plan.inverse}
        self.inverse_checks: list[tuple[_Prop, bytes, str]] = []
        self.subjects = 0
        self.triples = 0
        self.roles: dict[tuple[tuple[bytes, ...], tuple[bytes, ...]], _Role] = {}
        self.kinds: dict[tuple[tuple[_Shape, ...], tuple[bytes, ...]], _Kind] = {}

    # -- look-ups --

    def facts_now(self, node: bytes) -> _Facts:
        facts = self.window.get(node)
        if facts is not None:
            return facts
        if hash(node) in self.seen:
            raise Unsure(f"{node.decode('utf-8', 'replace')} is needed more than {WINDOW:,} "
                         "subjects after its triples")
        raise Unsure(f"{node.decode('utf-8', 'replace')} is needed before its triples")

    def when_known(self, node: bytes, then: Callable[[_Facts], None],
                   key: tuple[int, bytes] | None = None) -> None:
        """Call ``then`` with the node's facts: now, or when its triples come, or at the end
        (a node without triples). ``key``: a check that depends on the node only, done once."""
        if node[:1] == b'"':
            then(EMPTY)
            return
        facts = self.window.get(node)
        if facts is not None:
            then(facts)
            return
        if hash(node) in self.seen:
            raise Unsure(f"{node.decode('utf-8', 'replace')} is needed more than {WINDOW:,} "
                         "subjects after its triples")
        if key is not None:
            if key in self.pending_keys:
                return
            self.pending_keys.add(key)
        self.pending.setdefault(node, []).append(then)
        self.pending_count += 1
        if self.pending_count > PENDING_LIMIT:
            raise Unsure(f"more than {PENDING_LIMIT:,} checks wait for nodes further down")

    def when_all_known(self, nodes: list[bytes], then: Callable[[dict[bytes, _Facts]], None]
                       ) -> None:
        found: dict[bytes, _Facts] = {}
        missing: list[bytes] = []
        for node in nodes:
            facts = EMPTY if node[:1] == b'"' else self.window.get(node)
            if facts is None:
                missing.append(node)
            else:
                found[node] = facts
        if not missing:
            then(found)
            return
        left = [len(set(missing))]

        def got(node: bytes, facts: _Facts) -> None:
            if node in found:
                return
            found[node] = facts
            left[0] -= 1
            if left[0] == 0:
                then(found)
        for node in set(missing):
            self.when_known(node, partial(got, node))

    # -- checks --

    def check(self, shape: _Shape, node: bytes, facts: _Facts) -> None:
        """Check ``node`` (with all the triples the shape reads) against a top-level shape."""
        key = ((shape,), tuple(facts.props))
        kind = self.kinds.get(key)
        if kind is None:
            kind = self.kinds[key] = _Kind.make([shape], key[1])
        self.run(kind, node, facts)

    def run(self, kind: _Kind, node: bytes, facts: _Facts) -> None:
        """Check ``node`` against the shapes of ``kind`` (a node of its predicates)."""
        if kind.missing is not None:
            raise Unsure(f"{kind.missing}: {node.decode('utf-8', 'replace')}")
        for name, c in kind.conditions:
            if not c.test(node, facts):
                raise Unsure(f"{name}: {node.decode('utf-8', 'replace')}")
        for prop, name in kind.inverse:
            self.inverse_checks.append((prop, node, name))
        props = facts.props
        window = self.window
        for work in kind.work:
            values = props[work.path]
            if len(values) > 1:
                if work.counts:  # distinct values only where they are counted
                    values = list(dict.fromkeys(values))
                    if work.max_count is not None and len(values) > work.max_count:
                        raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
            elif work.max_count == 0:
                raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
            ok = work.ok
            if ok is not None:
                cache = work.cache
                if cache is None:
                    for v in values:
                        if not ok(v):
                            raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
                else:
                    for v in values:
                        if v not in cache:
                            if not ok(v):
                                raise Unsure(f"{work.name}: {node.decode('utf-8', 'replace')}")
                            if len(cache) > 50_000:  # values that hardly repeat (positions)
                                work.cache = None
                            cache.add(v)
            for c, name in work.with_facts:
                for v in values:
                    known = EMPTY if v[:1] == b'"' else window.get(v)
                    if known is not None:
                        if not c.test(v, known):
                            raise Unsure(f"{name}: value {v.decode('utf-8', 'replace')}")
                    elif (id(c), v) not in self.pending_keys:
                        self.when_known(v, self._value_check(c, v, name), (id(c), v))
            for prop in work.qualified:
                qualified = prop.qualified
                assert qualified is not None
                if qualified.needs_facts:
                    self.when_all_known(values, self._qualified(prop, node, values))
                else:
                    count = 0
                    for v in values:
                        if _conforms(qualified, v, None):
                            count += 1
                    if count < prop.qmin or (prop.qmax is not None and count > prop.qmax):
                        raise Unsure(f"{prop.name}: {node.decode('utf-8', 'replace')}")
        for shape in kind.natives:
            nodes: list[bytes] = []
            for predicate in shape.native_reads:
                nodes.extend(props.get(predicate, ()))
            linked: dict[bytes, _Facts] = {}
            for v in nodes:
                known = window.get(v)
                if known is None:
                    self.when_all_known(list(dict.fromkeys(nodes)),
                                        partial(_run_natives, shape.natives, node, facts))
                    break
                linked[v] = known
            else:
                for native in shape.natives:
                    native(node, facts, linked)

    def _value_check(self, c: _Condition, v: bytes, name: str) -> Callable[[_Facts], None]:
        def run(facts: _Facts) -> None:
            if not c.test(v, facts):
                raise Unsure(f"{name}: value {v.decode('utf-8', 'replace')}")
        return run

    def _qualified(self, prop: _Prop, node: bytes, values: list[bytes]
                   ) -> Callable[[dict[bytes, _Facts]], None]:
        def run(found: dict[bytes, _Facts]) -> None:
            shape = prop.qualified
            assert shape is not None
            n = sum(1 for v in values if _conforms(shape, v, found.get(v)))
            if n < prop.qmin or (prop.qmax is not None and n > prop.qmax):
                raise Unsure(f"{prop.name}: {node.decode('utf-8', 'replace')}")
        return run

    def close(self, subject: bytes, props: dict[bytes, list[bytes]]) -> None:
        """The subject's triples are all here: check it, remember it, settle what waited."""
        h = hash(subject)
        if h in self.seen:
            raise Unsure(f"the triples of {subject.decode('utf-8', 'replace')} are not "
                         "together")
        self.seen.add(h)
        self.subjects += 1
        facts = _Facts(props)
        # nodes with the same predicates and types are checked the same way: what to check
        # is worked out once per such kind of node
        key = (tuple(props), tuple(facts.types))
        role = self.roles.get(key)
        if role is None:
            if len(self.roles) > 100_000:
                self.roles.clear()
            role = self.roles[key] = _Role.make(self.plan, key[0], facts.types)
        window = self.window
        for p, reached in role.objects:
            for o in props[p]:
                known = EMPTY if o[:1] == b'"' else window.get(o)
                for shape, classes in reached:
                    if known is not None:
                        if classes.isdisjoint(known.types):
                            self.check(shape, o, known)
                    elif (id(shape), o) not in self.pending_keys:
                        self.when_known(o, self._object_target(shape, o), (id(shape), o))
        for p in role.incoming:
            nodes = self.incoming[p]
            nodes.update(props[p])
            if len(nodes) > PENDING_LIMIT:
                raise Unsure("too many nodes reached by inverse paths")
        window[subject] = facts if role.keep_all else _Facts({p: props[p] for p in role.kept})
        order = self.order
        order.append(subject)
        if len(order) > WINDOW:
            del window[order.popleft()]
        if role.kind is not None:
            self.run(role.kind, subject, facts)
        if self.pending:
            waiting = self.pending.pop(subject, None)
            if waiting:
                self.pending_count -= len(waiting)
                kept_facts = window[subject]
                for then in waiting:
                    then(kept_facts)

    def _object_target(self, shape: _Shape, node: bytes) -> Callable[[_Facts], None]:
        def run(facts: _Facts) -> None:
            if any(c in facts.types for c in shape.classes):
                return  # checked as a member of its class, with all its triples
            self.check(shape, node, facts)
        return run

    def finish(self) -> None:
        """End of the data: nodes still awaited have no triples."""
        while self.pending:
            node, waiting = self.pending.popitem()
            for then in waiting:
                then(EMPTY)
        for prop, node, name in self.inverse_checks:
            if prop.min_count and node not in self.incoming.get(prop.path, ()):
                raise Unsure(f"{name}: {node.decode('utf-8', 'replace')}")


def _run_natives(natives: list[Native],
                 node: bytes, facts: _Facts, found: dict[bytes, _Facts]) -> None:
    for native in natives:
        native(node, facts, found)


def _all_of(tests: list[Cond]) -> Callable[[bytes], bool] | None:
    if not tests:
        return None
    if len(tests) == 1:
        test = tests[0]
        return lambda v: test(v, None)
    if len(tests) == 2:
        first, second = tests
        return lambda v: first(v, None) and second(v, None)
    if len(tests) == 3:
        first, second, third = tests
        return lambda v: first(v, None) and second(v, None) and third(v, None)
    return lambda v: all(t(v, None) for t in tests)


# -- reading the lines -----------------------------------------------------------------------


class _Part(io.RawIOBase):
    """The bytes of ``stream`` from its position on, ``size`` of them (None: to the end).
    Lines are read through a ``BufferedReader`` over it: iterating one is about 7x faster
    than cutting 32 MB blocks with ``splitlines`` (0.3 s against 2.4 s for 4 M lines)."""

    def __init__(self, stream: IO[bytes], size: int | None,
                 report: Callable[[int], None] | None = None) -> None:
        super().__init__()
        self._stream = stream
        self._left = size
        self._report = report  # called with the bytes read so far, once a read
        self._done = 0
        self._plain = [True, True]  # the last two reads: ASCII without a backslash
        self.plain = True  # a line returned now comes from those two reads: is it plain?

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        if self._left is not None:
            if self._left <= 0:
                return 0
            view = view[:self._left]
        n = self._stream.readinto(view)  # type: ignore[attr-defined]
        if not n:
            return 0
        if self._left is not None:
            self._left -= n
        if self._report is not None:
            self._done += n
            self._report(self._done)
        # one look at each 1 MB read instead of two per literal (about 4 % of a pass)
        read = view[:n].tobytes()
        self._plain = [self._plain[1], read.isascii() and b"\\" not in read]
        self.plain = self._plain[0] and self._plain[1]
        return int(n)


@contextmanager
def _lines(path: str, start: int = 0, end: int | None = None,
           report: Callable[[int], None] | None = None) -> Iterator[IO[bytes]]:
    """The file's lines from byte ``start`` to ``end`` (both at line starts); ``report`` is
    called with the bytes read so far from ``start``."""
    with open_lines(path) as stream:
        if start:
            stream.seek(start)
        part = _Part(stream, None if end is None else end - start, report)
        reader = io.BufferedReader(part, 1 << 20)
        reader.part = part  # type: ignore[attr-defined]
        yield reader


def _scan(state: _Pass, lines: Iterable[bytes], fmt: str) -> None:
    """Read the lines, group them by subject and close each group (``_Pass.close``), with
    the cyclic garbage collector off: the window and the remembered subjects are millions of
    objects that it would scan again and again, and the pass makes no reference cycles
    (measured on 2 M triples: 4.9 s with it, 4.25 s with ``convert.gc_tuned``, 3.9 s off)."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        _scan_lines(state, lines, fmt)
    finally:
        if enabled:
            gc.enable()


def _scan_lines(state: _Pass, lines: Iterable[bytes], fmt: str) -> None:
    """The lines the converter writes are checked for form with a few C-level searches, and
    each distinct IRI once (``_term_ok``: what Oxigraph's parser would refuse must not be
    proven to conform); anything else goes through ``_object``'s regular expression."""
    current = b""
    props: dict[bytes, list[bytes]] = {}
    close = state.close
    quads = fmt == "nq"
    checked: set[bytes] = set()  # predicates already checked
    valid: set[bytes] = set()  # IRIs and blank nodes already checked (bounded)
    part = getattr(lines, "part", None) or _Part(io.BytesIO(), 0)
    part.plain = part.plain and isinstance(lines, io.BufferedReader)
    n = 0
    try:
        for line in lines:
            n += 1
            try:
                s, p, rest = line.split(b" ", 2)
            except ValueError:
                if not line.strip() or line.lstrip()[:1] == b"#":
                    n -= 1
                    continue
                raise Unsure(f"not a plain N-Triples / N-Quads line: {line[:80]!r}") \
                    from None
            if s != current:
                if s not in valid:
                    if s[:1] == b"#":
                        n -= 1
                        continue
                    if not _term_ok(s, subject=True):
                        raise Unsure(f"not a plain N-Triples / N-Quads line, or an IRI "
                                     f"the pass does not check: {line[:80]!r}")
                    _remember(valid, s)
                if props:
                    close(current, props)
                current, props = s, {}
            o = rest[:-3]
            last = rest[-4:]
            if quads:
                o = _object(rest, True)
                _check_object(o, valid)
            elif last == b"> .\n":
                if o[:1] == b"<":  # an IRI
                    if o not in valid:
                        _check_object(o, valid)
                else:  # a typed literal
                    j = o.find(b'"', 1)
                    if o[:1] != b'"' or o.find(b'"^^<', j) != j:
                        o = _object(rest, False)
                        _check_object(o, valid)
                    else:
                        datatype = o[j + 3:]
                        if datatype not in valid:
                            _check_object(datatype, valid)
                        if not part.plain and (b"\\" in o or not o.isascii()):
                            _check_object(o, valid)
            elif last == b'" .\n' and o[:1] == b'"' and o.find(b'"', 1) == len(o) - 1:
                if not part.plain and (b"\\" in o or not o.isascii()):
                    _check_object(o, valid)
            else:
                o = _object(rest, False)
                _check_object(o, valid)
            values = props.get(p)
            if values is not None:
                values.append(o)
                continue
            if p not in checked:
                if not _SAFE_IRI.fullmatch(p):
                    raise Unsure(f"not a plain N-Triples / N-Quads line, or an IRI the "
                                 f"pass does not check: {line[:80]!r}")
                if p == SUBCLASS_OF:
                    raise Unsure("the data has rdfs:subClassOf triples")
                checked.add(p)
            props[p] = [o]
        if props:
            close(current, props)
    finally:
        state.triples += n
