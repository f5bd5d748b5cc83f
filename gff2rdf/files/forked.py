"""Run a function in a forked child process, so that the memory it used goes back to the system.

``GenomeStore.load`` converts a GFF3 file and then bulk-loads the result in the same process.
CPython keeps most of what a conversion allocated (free lists, arenas with a few live objects,
the malloc arena of the thread that feeds the chunk workers): measured on the 1 M-line benchmark
genome, the main process grew from 66 MB to 240 MB during the conversion and was still at
196 MB after ``gc.collect()`` and ``malloc_trim(0)``, although tracemalloc saw 3.5 MB of live
Python objects. That memory stayed resident during the bulk load, Oxigraph's peak on top of it.
Converting in a child gives it back when the child exits.

``call_in_child(function, *args, **kwargs)`` returns the function's result, or raises its
exception, as if it had been called here: both are pickled through a pipe. The child is
killed if this process dies (``PR_SET_PDEATHSIG`` on Linux), so a ``kill -9`` of a load does
not leave a conversion running; a SIGTERM or SIGHUP of this process (``gff2rdf.files.interrupts``)
is passed on to the child, which cleans up as for Ctrl-C. Where ``fork`` does not exist the
function runs in this process.

Example:
    >>> call_in_child(sum, [1, 2, 3])
    6
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import os
import pickle
import signal
import sys
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from ..errors import Gff2RdfError
from .interrupts import STOP_SIGNALS, Terminated

__all__ = ["call_in_child", "descendants", "worker_setup"]

T = TypeVar("T")
_PR_SET_PDEATHSIG = 1


def call_in_child(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` in a forked child; its result or its exception here."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return function(*args, **kwargs)
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    parent = os.getpid()

    def child() -> None:
        receive.close()
        _die_with(parent)
        try:
            outcome: tuple[bool, Any] = (True, function(*args, **kwargs))
        except BaseException as exc:  # every outcome goes to the parent
            outcome = (False, _portable(exc))
        try:
            try:
                send.send(outcome)
            except OSError:
                raise
            except Exception as exc:  # a result that does not pickle
                send.send((False, Gff2RdfError(f"{type(exc).__name__}: {exc}")))
        except OSError:
            pass  # the parent stopped listening (it was interrupted): nobody to tell
        finally:
            send.close()

    name = getattr(function, "__name__", type(function).__name__)
    process = context.Process(target=child, name=f"gff2rdf-{name}")
    process.start()
    send.close()
    try:
        try:
            ok, value = receive.recv()
        except EOFError:
            process.join()
            raise Gff2RdfError(f"the child process running {name} died "
                               f"(exit status {process.exitcode})") from None
        process.join()
    finally:
        receive.close()
        if process.is_alive():  # interrupted while waiting: take the child down too
            _stop(process, sys.exc_info()[1])
    if ok:
        return value  # type: ignore[no-any-return]
    raise value


def _stop(process: Any, cause: BaseException | None) -> None:
    """Stop a child that is still running. A Ctrl-C from the terminal reached it too, so give
    it a moment to finish its ``finally`` blocks (a conversion shuts its worker pool down and
    removes its temporary files); then interrupt it as Ctrl-C would, then harder. A SIGTERM or
    SIGHUP sent to this process alone is passed on at once: the child, forked from a command
    that turns them into ``Terminated``, cleans up the same way."""
    def first() -> None:
        if isinstance(cause, Terminated):
            os.kill(process.pid, cause.signum)

    for stop, grace in ((first, 5.0), (lambda: os.kill(process.pid, signal.SIGINT), 3.0),
                        (process.terminate, 5.0), (process.kill, None)):
        with contextlib.suppress(ProcessLookupError):
            stop()
        process.join(grace)
        if not process.is_alive():
            return


def worker_setup(parent: int) -> None:
    """The initializer of a pool's worker processes (``gff2rdf.conversion.chunks``): die with the
    process that made them (else a ``kill -9`` of it leaves them waiting on their queue
    forever), and leave Ctrl-C to it: it cancels what is queued and shuts the pool down, and
    the workers do not print a traceback each. SIGTERM and SIGHUP end a worker at once (the
    pool terminates its workers with SIGTERM when it breaks): they inherited the handler that
    turns them into ``Terminated`` in the command, whose clean-up is the parent's to do."""
    _die_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for each in STOP_SIGNALS:
        signal.signal(each, signal.SIG_DFL)


def _die_with(parent: int) -> None:
    """Ask the kernel to kill this process when its parent dies (Linux only)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a ``Gff2RdfError`` that says it."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:  # any failure to round-trip
        return Gff2RdfError(f"{type(exc).__name__}: {exc}")
    return exc


@contextlib.contextmanager
def gc_tuned() -> Iterator[None]:
    """Collect garbage rarely while converting.

    The converter allocates millions of small objects (lines, dicts, strings) that never form
    reference cycles, so reference counting frees them; Python's cyclic collector still scans
    them every 700 allocations. Measured on the 1 M-line benchmark: 35-45 % of the CPU time
    went to collection; with the threshold at 100,000 the conversion took 4.2 s instead of
    6.5 s per 100k lines, at the same peak memory.
    """
    old = gc.get_threshold()
    gc.freeze()  # objects alive now (modules, the SO table, the mapping) are never scanned again
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux ``/proc``; none elsewhere)."""
    found: list[int] = []
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children", encoding="ascii") as fh:
                    kids = [int(k) for k in fh.read().split()]
            except OSError:
                continue
            found.extend(kids)
            todo.extend(kids)
    return found
