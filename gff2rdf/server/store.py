"""A worker process's store: opened read-only or read-write, and closed for certain.

Before a write, every read worker of ``gff2rdf serve`` closes its ``Store.read_only`` view, and
the write worker closes its read-write store after each write (``gff2rdf.server.worker``): no
process may hold a read-only view while another writes (RocksDB: undefined behaviour), and the
server takes RocksDB's ``LOCK`` back after a write. pyoxigraph has no ``close``: dropping the
last reference closes RocksDB, and ``close_store`` checks in ``/proc/self/fd`` that no file of
the store is still open (a result iterator kept alive would keep it open); when one is, it
raises ``StoreNotClosed`` and the worker exits, so the server kills it.

Example: a worker (here a namespace with the worker's ``path`` and ``store``) opens its view of a
new store and closes it; a result iterator still alive keeps the store open:

    >>> import tempfile, types
    >>> import pyoxigraph as ox
    >>> directory = tempfile.mkdtemp()
    >>> ox.Store(directory).update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    >>> worker = types.SimpleNamespace(path=directory, store=None)
    >>> worker.store = open_store({"store": directory, "mode": "read"})
    >>> len(store_files(directory)) > 0
    True
    >>> close_store(worker)
    >>> store_files(directory)
    []
    >>> worker.store = open_store({"store": directory, "mode": "read"})
    >>> rows = worker.store.query("SELECT ?s { ?s ?p ?o }")
    >>> close_store(worker)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gff2rdf.server.store.StoreNotClosed: ... of the store are still open
    >>> del rows
    >>> store_files(directory)
    []
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["StoreNotClosed", "close_store", "open_store", "store_files"]


class StoreNotClosed(Exception):
    """A file of the store is still open after the store object was dropped."""


def store_files(directory: str) -> list[str]:
    """The files under ``directory`` this process has open (Linux ``/proc/self/fd``)."""
    prefix = os.path.realpath(directory) + os.sep
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError as exc:  # cannot check: the server kills the worker instead
        raise StoreNotClosed(f"cannot list open files: {exc}") from None
    found = []
    for fd in fds:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(prefix):
            found.append(target)
    return found


def open_store(config: dict[str, Any]) -> Any:
    import pyoxigraph as ox

    path = config["store"]
    return ox.Store(path) if config.get("mode") == "write" else ox.Store.read_only(path)


def close_store(worker: Any) -> None:
    """Drop the store and check that RocksDB closed every file of it (``StoreNotClosed``)."""
    import gc

    worker.store = None
    left = store_files(worker.path)
    if left:  # a result iterator in a reference cycle keeps the database open: collect it
        gc.collect()  # (only then: one took 86-103 ms in a warmed-up worker on a busy machine)
        left = store_files(worker.path)
    if left:
        raise StoreNotClosed(f"{len(left)} files of the store are still open")
