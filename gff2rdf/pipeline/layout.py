"""Where the pipeline keeps its files: the dagster instance, downloads, reports and RDF files.

By default everything lives in one directory next to the store, ``{store}-pipeline/``::

    gff2rdf-store/                      the Oxigraph store (gff2rdf load, serve, graphs ...)
    gff2rdf-store-pipeline/
        dagster/                        DAGSTER_HOME: runs, materialisations, check results
        genomes/{species}/{assembly}/{annotation}/
            source/NAME.gff3            a downloaded source (local sources are read in place)
            gff3-report.json            the GFF3 check report
            genome.nt                   the RDF file
            shacl-report.ttl            the SHACL validation report

so runs are remembered between invocations, and deleting the two directories starts afresh.
``--pipeline-dir`` and ``--dagster-home`` (or their environment variables) move them.

Example (with ``GFF2RDF_PIPELINE_DIR`` and ``GFF2RDF_DAGSTER_HOME`` unset):
    >>> layout = Layout.for_store("/data/gff2rdf-store")
    >>> print(layout.dagster_home)
    /data/gff2rdf-store-pipeline/dagster
    >>> print(layout.rdf_path("solanum_lycopersicum/SL2.40/ITAG2.3"))
    /data/gff2rdf-store-pipeline/genomes/solanum_lycopersicum/SL2.40/ITAG2.3/genome.nt
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import Setting, env_name

if TYPE_CHECKING:
    from dagster import DagsterInstance

__all__ = ["PIPELINE_SETTINGS", "Layout", "open_instance", "setting"]

# The pipeline's settings, declared like gff2rdf.settings.SETTINGS (and meant to join it).
PIPELINE_SETTINGS: tuple[Setting, ...] = (
    Setting("catalogue", "",
            "Genome catalogue (YAML) of gff2rdf pipeline run and the dagster UI."),
    Setting("pipeline-dir", "",
            "Directory of the pipeline's dagster instance, downloads, reports and RDF files "
            "(default: the store directory's name plus '-pipeline', next to the store)."),
    Setting("dagster-home", "",
            "The pipeline's dagster instance directory (DAGSTER_HOME; default: dagster/ in the "
            "pipeline directory)."),
    Setting("pipeline-executor", "",
            "dagster executor of the UI's code location as module:attribute, e.g. "
            "dagster_k8s:k8s_job_executor (default: dagster's multiprocess executor)."),
    Setting("dask-address", "",
            "Scheduler of pipeline run --executor dask, e.g. tcp://HOST:8786 (default: a "
            "local cluster on 127.0.0.1 for the run)."),
)
_DEFAULTS = {s.name: s.default for s in PIPELINE_SETTINGS}

# Written once into a new DAGSTER_HOME: nothing leaves the machine.
INSTANCE_YAML = """\
# dagster instance of a gff2rdf pipeline (written by gff2rdf; edit as you like)
telemetry:
  enabled: false
"""


def setting(name: str) -> str:
    """A pipeline setting from its ``GFF2RDF_*`` environment variable, else its default."""
    return os.environ.get(env_name(name), _DEFAULTS[name])


@dataclass(frozen=True)
class Layout:
    store: Path
    pipeline_dir: Path
    dagster_home: Path

    @classmethod
    def for_store(cls, store: str | Path, pipeline_dir: str | Path | None = None,
                  dagster_home: str | Path | None = None) -> Layout:
        """Absolute paths, from the options, else the settings, else next to the store."""
        store = Path(store).absolute()
        work = pipeline_dir or setting("pipeline-dir") or store.with_name(store.name + "-pipeline")
        work = Path(work).absolute()
        home = Path(dagster_home or setting("dagster-home") or work / "dagster").absolute()
        return cls(store, work, home)

    def genome_dir(self, key: str) -> Path:
        # keys are percent-encoded segments without '.' or '..' (terms.encode_segment)
        return self.pipeline_dir / "genomes" / key

    def download_dir(self, key: str) -> Path:
        return self.genome_dir(key) / "source"

    def report_path(self, key: str) -> Path:
        return self.genome_dir(key) / "gff3-report.json"

    def rdf_path(self, key: str) -> Path:
        return self.genome_dir(key) / "genome.nt"

    def shacl_path(self, key: str) -> Path:
        return self.genome_dir(key) / "shacl-report.ttl"


# What dagster logs outside a run's own loggers (a multiprocess step worker's start, ...):
# INFO and above (its default, DEBUG, printed a line for every step process of every run)
LOG_LEVEL = {"python_logs": {"python_log_level": "INFO"}}


def open_instance(dagster_home: str | Path) -> DagsterInstance:
    """The persistent dagster instance in ``dagster_home`` (made, with telemetry off, if new),
    logging at INFO outside runs (``LOG_LEVEL``; step processes inherit it)."""
    from dagster import DagsterInstance
    from dagster._core.instance.ref import InstanceRef  # no public way to override a setting

    home = Path(dagster_home)
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(INSTANCE_YAML, encoding="utf-8")
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home), overrides=LOG_LEVEL))
