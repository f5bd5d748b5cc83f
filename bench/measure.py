"""How the benchmarks measure a phase: wall and CPU time, peak memory of a process tree, and
the time spent in Python's cyclic garbage collector."""

from __future__ import annotations

import os
import time

from common import cpu_seconds

from gff2rdf.files.forked import descendants


class Clock:
    """Wall and CPU seconds since it was made: CPU time (this process and its finished worker
    processes) shows what a phase cost when other work shares the machine; wall time is what
    the targets are about."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = cpu_seconds()

    def read(self) -> dict[str, float]:
        return {"seconds": time.perf_counter() - self.wall, "cpu_seconds": cpu_seconds() - self.cpu}


class TreeMemory:
    """Peak memory of this process together with its worker processes, if it starts any.

    ``ru_maxrss`` is exact for one process but knows nothing of workers running at the same
    time, so a thread samples the proportional set size (PSS: shared copy-on-write pages counted
    once) of the whole process tree four times a second while workers exist.
    """

    def __init__(self, interval: float = 0.25) -> None:
        import threading

        self.peak_bytes = 0
        self.workers_seen = 0
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-memory", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self._interval):
            workers = descendants(me)
            if not workers:
                continue
            self.workers_seen = max(self.workers_seen, len(workers))
            self.peak_bytes = max(self.peak_bytes, sum(_pss(pid) for pid in [me, *workers]))



def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


class GcTimer:
    """CPU time spent in Python's cyclic garbage collector, from ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.collections = [0, 0, 0]
        self._started = 0.0

    def __call__(self, event: str, info: dict[str, int]) -> None:
        if event == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started
            self.collections[info["generation"]] += 1
