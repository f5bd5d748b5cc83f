"""SIGTERM and SIGHUP stop a command the way Ctrl-C does.

Ctrl-C raises ``KeyboardInterrupt``, so every ``finally`` block and context manager of a run
does its clean-up: a chunked conversion cancels its queued chunks and shuts its worker pool
down, removes its scratch directory of part files and its temporary output file. By default
SIGTERM (``kill``, a job scheduler, ``systemctl stop``) and SIGHUP (a closed terminal) end
the process at once instead, which left a ``.NAME.part`` file of hundreds of megabytes and a
``.gff2rdf-parts-*`` directory behind. Inside ``stop_signals_interrupt()`` they raise
``Terminated``, a ``KeyboardInterrupt``, in the main thread, and the same clean-up runs.

A repeat of either signal while that clean-up runs is ignored, so that it is not cut short
halfway (SIGKILL still ends the process; ``gff2rdf.files.outputs`` removes what that leaves on the
next run): a command forked into a child (``gff2rdf.files.forked``) passes the signal on, and a
child in the same process group has it already. As with Ctrl-C, a signal that arrives while
Python runs code that cannot raise (a fork handler, a ``__del__``) is lost; a second one
stops the command. Ctrl-C keeps Python's behaviour.

Example:
    >>> with stop_signals_interrupt():
    ...     pass
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["STOP_SIGNALS", "Terminated", "keep_signal_handlers", "stop_signals_interrupt"]

STOP_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


class Terminated(KeyboardInterrupt):
    """A run stopped by SIGTERM or SIGHUP; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return signal.Signals(self.signum).name


@contextlib.contextmanager
def stop_signals_interrupt() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``Terminated`` in the main thread (elsewhere,
    where Python cannot install handlers, this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        if not _cleaning_up():
            raise Terminated(signum)

    previous = {each: signal.signal(each, stop) for each in STOP_SIGNALS}
    try:
        yield
    finally:
        for each, handler in previous.items():  # None: installed outside Python
            signal.signal(each, signal.SIG_DFL if handler is None else handler)


def _cleaning_up() -> bool:
    """Whether a ``Terminated`` is being handled: an ``except`` or ``finally`` block (or a
    function it called) runs because of it, or of an exception raised while handling it."""
    exc = sys.exc_info()[1]
    for _ in range(100):  # a chain of contexts is short; never loop on a cycle
        if exc is None:
            return False
        if isinstance(exc, Terminated):
            return True
        exc = exc.__context__
    return False


@contextlib.contextmanager
def keep_signal_handlers() -> Iterator[None]:
    """Put back, on the way out, the handlers of SIGINT, SIGTERM and SIGHUP as they were: for
    library code that changes them and does not restore them all. dagster's in-process
    execution sets SIGTERM to whatever SIGINT is when it is done; in a process started in the
    background (``nohup ... &``: SIGINT ignored) that is SIG_IGN, so the process could no
    longer be stopped with SIGTERM, and every process it started afterwards inherited the
    ignored SIGTERM (seen: a test's ``oxigraph serve`` did not stop on ``terminate()``)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, *STOP_SIGNALS)
    previous = {each: signal.getsignal(each) for each in signals}
    try:
        yield
    finally:
        for each, handler in previous.items():  # None: installed outside Python
            signal.signal(each, signal.SIG_DFL if handler is None else handler)
