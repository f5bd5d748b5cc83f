"""``pipeline run --executor dask``: every step of the genome versions on a dask cluster.

The runner starts one dagster run per genome version, side by side, with dagster-dask's
executor (``gff2rdf.pipeline.dask_executor``: its task keys carry the run id, so runs side by
side do not share tasks) connected to one scheduler (``cluster: existing: address``): each
step (conversion, checks, load) is a dask task on whichever worker is free, and the step writes
its events to the pipeline's dagster instance itself, so the workers must see the pipeline
directory (one machine, or a shared file system). The scheduler is the one given
(``--dask-address``, a cluster started elsewhere: ``dask-jobqueue`` on SLURM,
``dask-kubernetes``), or a ``distributed.LocalCluster`` of worker processes on 127.0.0.1 that
lasts as long as the pipeline run. The store is written by one load at a time
(``assets._load`` waits for its lock).

Start workers with ``--preload gff2rdf.pipeline.cluster`` (the local cluster does): each
worker then imports dagster-dask and hashes gff2rdf's code versions once as it starts, not in
its first step (``dask_setup`` below).

Example: the run config that points a run's steps at a scheduler.

    >>> dask_execution("tcp://127.0.0.1:8786")
    {'cluster': {'existing': {'address': 'tcp://127.0.0.1:8786'}}}
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import Gff2RdfError

# deferred: the imports inside functions load dask and dagster-dask only when the call needs
# them, to keep this module's import (and start-up) light

__all__ = ["DASK_EXECUTOR", "dask_execution", "dask_scheduler", "dask_setup"]

DASK_EXECUTOR = "gff2rdf.pipeline.dask_executor:dask_executor"
CONNECT_TIMEOUT = 20.0  # seconds to reach a scheduler given by address
INSTALL = "pip install dagster-dask distributed (see docs/pipeline.md, Scaling out)"


def dask_execution(address: str) -> dict[str, Any]:
    """dagster-dask's executor config for a running scheduler."""
    return {"cluster": {"existing": {"address": address}}}


def require_dask() -> None:
    """A clear error, not an ImportError, when dagster-dask or distributed is missing."""
    from importlib.util import find_spec

    for module in ("distributed", "dagster_dask"):
        if find_spec(module) is None:
            raise Gff2RdfError(f"--executor dask needs {module}, which is not installed: "
                               f"{INSTALL}")


@contextmanager
def dask_scheduler(address: str | None, workers: int | None,
                   notes: list[str]) -> Iterator[str]:
    """The address of the scheduler to run on: ``address`` once it answers (a clear error if
    it does not), or that of a local cluster of ``workers`` processes (default: one per core)
    on 127.0.0.1 with free ports (its HTTP server too), closed when the block ends."""
    require_dask()
    from distributed import Client, LocalCluster

    if address:
        try:
            with Client(address, timeout=CONNECT_TIMEOUT) as client:  # type: ignore[no-untyped-call]
                n = len(client.scheduler_info(n_workers=-1).get("workers", {}))
        except (OSError, TimeoutError, ValueError) as exc:
            raise Gff2RdfError(f"--dask-address {address}: cannot reach a dask scheduler there "
                               f"within {CONNECT_TIMEOUT:.0f} s ({exc}); expected the address "
                               "of a running one, e.g. tcp://HOST:8786") from exc
        notes.append(f"dask scheduler {address}: {n} worker(s) when the run started")
        yield address
        return
    n = workers or os.cpu_count() or 1
    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                      scheduler_port=0, dashboard_address="127.0.0.1:0",
                      worker_dashboard_address=None,
                      preload=[__name__]) as cluster:  # type: ignore[no-untyped-call]
        notes.append(f"dask: a local cluster of {n} worker process(es) on 127.0.0.1")
        yield str(cluster.scheduler_address)


def dask_setup(worker: Any) -> None:
    """Run by each dask worker started with ``--preload gff2rdf.pipeline.cluster``: import
    the executor (through ``load_executor``, as a run's job does), and
    compute the code versions once, as ``gff2rdf.pipeline.warm`` does for the multiprocess
    executor."""
    from .definitions import load_executor
    from .versions import code_versions

    load_executor(DASK_EXECUTOR)
    code_versions()
