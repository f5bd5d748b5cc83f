"""What the benchmarks share: ``bench/convert.py``'s tiled-input builder, loaded once.

Every benchmark runs on the same tiled genome that ``bench/convert.py`` builds into
``bench/out/`` (see bench/README.md); the scripts are run as files (``python bench/load.py``),
so this module is imported from the script's own directory.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def bench_convert() -> Any:
    """``bench/convert.py`` as the module ``bench_convert`` (its input builder and phases)."""
    if "bench_convert" in sys.modules:
        return sys.modules["bench_convert"]
    spec = importlib.util.spec_from_file_location("bench_convert", ROOT / "bench" / "convert.py")
    if spec is None or spec.loader is None:
        raise SystemExit("bench/convert.py is missing; it builds the tiled input")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_convert"] = module
    spec.loader.exec_module(module)
    return module


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its children waited for so far
    (conversion workers, phase processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system
