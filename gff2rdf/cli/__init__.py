"""The ``gff2rdf`` command: one module per command group, calling the library and formatting its
result. ``commands`` (the group ``main``, convert, validate, serve), ``store`` (load, graphs,
optimize, drop, dump), ``trace``, ``query`` (query, ontology), ``export``, ``pipeline``;
``options`` holds what they share.
"""

from .commands import main

__all__ = ["main"]
