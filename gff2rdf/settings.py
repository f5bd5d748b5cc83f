"""Settings: one declared table of (name, default, help), read by the CLI, server and pipeline.

Each setting can come from an option, else from the environment variable ``GFF2RDF_<NAME>``
(upper case, ``-`` as ``_``), else its default.

Example:
    >>> get("base-iri")
    'https://w3id.org/gff2rdf/data/'
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import Gff2RdfError

__all__ = ["SETTINGS", "Setting", "env_name", "get", "size"]


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("store", "./gff2rdf-store",
            "Directory of the embedded Oxigraph store."),
    Setting("base-iri", "https://w3id.org/gff2rdf/data/",
            "Base of every data IRI (genomes, assemblies, features)."),
    Setting("jobs", "auto",
            "Processes for converting and validating large files ('auto': one per core); "
            "the output does not depend on it."),
    Setting("uniprot-endpoint", "https://sparql.uniprot.org/sparql",
            "UniProt SPARQL endpoint for federated GO annotation queries."),
    Setting("ubergraph-endpoint", "https://ubergraph.apps.renci.org/sparql",
            "Ubergraph SPARQL endpoint for GO / PO / SO closure queries."),
    Setting("load-piece", "512M",
            "Size of the pieces in which load bulk-loads a genome version (and its bin index): "
            "it bounds the loader's memory (1.7 GB at 512M for a 1 M-line genome, 2 GB in one "
            "piece); 0: one piece, whose store needs no gff2rdf optimize for fast scans."),
    Setting("endpoint-auth-file", "",
            "File holding one line 'user:password' with which load --endpoint authenticates "
            "(else the environment variable GFF2RDF_ENDPOINT_CREDENTIALS, else none); "
            "credentials are never taken from the command line."),
    Setting("endpoint-auth", "auto",
            "HTTP authentication scheme of load --endpoint: basic, digest, or auto (what the "
            "server's challenge asks for)."),
    Setting("window", "50000",
            "Lines after which a feature with no new lines is considered complete; lines of "
            "one feature further apart than this are an error."),
    # gff2rdf serve (gff2rdf.server.app)
    Setting("host", "127.0.0.1",
            "Address gff2rdf serve listens on; 0.0.0.0 (every interface) only when asked."),
    Setting("port", "7878", "Port of gff2rdf serve; 0 picks a free one."),
    Setting("timeout", "30",
            "Seconds a query may run before its worker process is killed (a hard stop)."),
    Setting("max-rows", "100000",
            "Rows (or triples) a result may have; a bigger one is an error, never cut "
            "silently; 0: no limit."),
    Setting("allow-service", "",
            "Endpoint IRIs that SERVICE may call, space-separated; empty: the uniprot-endpoint "
            "and ubergraph-endpoint settings; 'none': no federation."),
    Setting("update-token-file", "",
            "File holding the bearer token that enables writes (SPARQL Update, Graph Store "
            "writes); empty: the server is read-only."),
    Setting("cors-origin", "",
            "Origins (space-separated) allowed to read the endpoint from a browser; empty: "
            "no CORS."),
    Setting("serve-workers", "auto",
            "Query worker processes of gff2rdf serve ('auto': one per core, plus the two kept "
            "for light queries)."),
    Setting("light-query-ms", "50",
            "A query whose shape (its text without string and number literals) ran faster "
            "than this each of the last times is light: it may use the workers kept for light "
            "queries, so lookups are not queued behind long scans; 0: no fast lane."),
    Setting("max-concurrent", "32",
            "Requests gff2rdf serve handles at once; more get 503 with Retry-After."),
    Setting("max-connections", "256",
            "Open connections gff2rdf serve accepts in all, idle and slow ones included (a "
            "thread each); more get 503."),
    Setting("max-client-connections", "16",
            "Open connections gff2rdf serve accepts from one client address; more get 429."),
    Setting("request-timeout", "10",
            "Seconds a request's head may take to arrive once it has started (a client that "
            "trickles bytes gets 408); its body gets as long again plus request-min-rate."),
    Setting("request-min-rate", "16K",
            "Bytes per second a request body must keep up after request-timeout (408 if "
            "slower); 0: no rate, the body gets request-timeout in all."),
    Setting("idle-timeout", "15",
            "Seconds gff2rdf serve keeps an idle keep-alive connection open."),
    Setting("shutdown-grace", "5",
            "Seconds gff2rdf serve lets queries in progress finish after SIGTERM or Ctrl-C; "
            "those still running then get 503."),
    Setting("max-body", "1M", "Largest query or update request body (413 beyond)."),
    Setting("max-upload", "16G", "Largest Graph Store Protocol upload (413 beyond)."),
    Setting("worker-memory", "2G",
            "Resident memory a query worker may use before it is killed (also bounds what a "
            "SERVICE call may bring back)."),
    Setting("write-memory", "4G",
            "Resident memory the write worker of gff2rdf serve may use (an update, a Graph "
            "Store upload) before it is killed and the write answers 500, the store left as it "
            "was; bulk-loading a 400 MB N-Triples upload peaks near 1.5 GB; 0: no limit."),
    # gff2rdf query (gff2rdf.query.canned)
    Setting("query-timeout", "60",
            "Seconds gff2rdf query waits for a SPARQL endpoint (--endpoint) to answer."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def env_name(name: str) -> str:
    return "GFF2RDF_" + name.upper().replace("-", "_")


def get(name: str) -> str:
    setting = _BY_NAME[name]
    return os.environ.get(env_name(name), setting.default)


def jobs(value: str | int | None = None) -> int:
    """The number of worker processes: a number, or 'auto' for one per core."""
    text = str(value if value is not None else get("jobs"))
    if text == "auto":
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else os.cpu_count() or 1)
    return max(1, int(text))


def size(text: str | int) -> int:
    """``'16G'``, ``'512M'``, ``'64K'`` or a plain number of bytes.

    >>> size("512M")
    536870912
    """
    value = str(text).strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(value[-1:], 1)
    number = value[:-1] if scale > 1 else value
    try:
        return int(float(number) * scale)
    except ValueError:
        raise Gff2RdfError(f"not a size: {text!r} (e.g. 512M, 2G)") from None
