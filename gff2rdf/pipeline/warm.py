"""Imported by the forkserver of ``pipeline run --executor multiprocess`` (``runner.PRELOAD``):
it computes the code versions once, so every step process forked from the server finds the
modules' syntax trees already hashed (``versions.tree_text`` remembers them) when it rebuilds
the job. Without it each step process spent 2.5 s of CPU on them (8-9 s with the machine
loaded), more than the step's own work on the example genomes."""

from __future__ import annotations

from .versions import code_versions

code_versions()
