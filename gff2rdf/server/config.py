"""The configuration of ``gff2rdf serve``: the settings table's values, sizes and the token.

Example:
    >>> ServeConfig.from_settings("gff2rdf-store", port=0).host
    '127.0.0.1'
    >>> parse_size("16G")
    17179869184
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Gff2RdfError, ServerError
from ..settings import get, size
from .http import Limits

__all__ = ["ServeConfig", "parse_size", "read_token"]


def parse_size(text: str | int) -> int:
    """``'16G'``, ``'512M'``, ``'64K'`` or a plain number of bytes (``settings.size``), as a
    ``ServerError`` when it is not one."""
    try:
        return size(text)
    except Gff2RdfError as exc:
        raise ServerError(str(exc)) from None


def read_token(path: str | Path) -> str:
    """The bearer token in ``path`` (its first line); ``ServerError`` if unusable."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ServerError(f"{path}: cannot read the update token: "
                          f"{getattr(exc, 'strerror', None) or exc}") from exc
    token = text.strip().splitlines()[0].strip() if text.strip() else ""
    if len(token) < 16 or any(c.isspace() for c in token):
        raise ServerError(f"{path}: the update token must be one line of at least 16 "
                          "characters without spaces (e.g. python -c 'import secrets; "
                          "print(secrets.token_urlsafe(32))')")
    return token


def _list_setting(name: str) -> tuple[str, ...]:
    return tuple(v for v in get(name).replace(",", " ").split() if v)


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``gff2rdf serve`` is started with (see the settings table)."""

    store: Path
    host: str = "127.0.0.1"
    port: int = 7878
    timeout: float = 30.0
    max_rows: int = 0
    allow_service: tuple[str, ...] = ()
    token: str | None = None
    cors_origins: tuple[str, ...] = ()
    workers: int = 2
    max_concurrent: int = 32
    max_body: int = 1 << 20
    max_upload: int = 16 << 30
    worker_memory: int = 2 << 30
    write_memory: int = 4 << 30
    union_default_graph: bool = False
    access_log: bool = True
    warm_up: bool = True
    light_ms: float = 50.0
    max_connections: int = 256
    max_client_connections: int = 16
    request_timeout: float = 10.0
    request_min_rate: int = 16 * 1024
    idle_timeout: float = 15.0
    shutdown_grace: float = 5.0

    def limits(self) -> Limits:
        """What the HTTP layer lets one client hold (``gff2rdf.server.http.Limits``)."""
        return Limits(max_connections=self.max_connections,
                      max_client_connections=self.max_client_connections,
                      idle_timeout=self.idle_timeout, request_timeout=self.request_timeout,
                      min_rate=self.request_min_rate, send_timeout=max(30.0, self.idle_timeout))

    @classmethod
    def from_settings(cls, store: str | Path | None = None, **given: Any) -> ServeConfig:
        """The settings (environment, else defaults) with ``given`` values on top."""
        allow = _list_setting("allow-service")
        if not allow:
            allow = (get("uniprot-endpoint"), get("ubergraph-endpoint"))
        if allow == ("none",):
            allow = ()
        workers = get("serve-workers")
        token_file = get("update-token-file")
        values: dict[str, Any] = dict(
            store=Path(store if store is not None else get("store")),
            host=get("host"), port=int(get("port")), timeout=float(get("timeout")),
            max_rows=int(get("max-rows")), allow_service=allow,
            token=read_token(token_file) if token_file else None,
            cors_origins=_list_setting("cors-origin"),
            workers=len(os.sched_getaffinity(0)) + 2 if workers == "auto" else
            int(workers), max_concurrent=int(get("max-concurrent")),
            light_ms=float(get("light-query-ms")),
            max_body=parse_size(get("max-body")), max_upload=parse_size(get("max-upload")),
            worker_memory=parse_size(get("worker-memory")),
            write_memory=parse_size(get("write-memory")),
            max_connections=int(get("max-connections")),
            max_client_connections=int(get("max-client-connections")),
            request_timeout=float(get("request-timeout")),
            request_min_rate=parse_size(get("request-min-rate")),
            idle_timeout=float(get("idle-timeout")),
            shutdown_grace=float(get("shutdown-grace")))
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)
