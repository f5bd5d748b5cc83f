"""Servers the tests start on loopback: a free port, and the Oxigraph server (``oxigraph serve``
or ``serve-read-only``, the binary of the oxigraph PyPI package in the dev extras)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["free_port", "oxigraph_server"]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary() -> str:
    found = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not os.path.exists(found):
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    return found


@contextlib.contextmanager
def oxigraph_server(location: Path, read_only: bool = False) -> Iterator[tuple[str, int]]:
    """``oxigraph serve`` (or ``serve-read-only``) of ``location`` on a free loopback port:
    its base URL and pid once it answers a query (the test fails after 20 s), stopped after."""
    port = free_port()
    process = subprocess.Popen(
        [_binary(), "serve-read-only" if read_only else "serve", "--location", str(location),
         "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"{url}/query?query=ASK%7B%7D", timeout=1).read()
                break
            except (urllib.error.URLError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("oxigraph serve did not start")
                time.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
