"""Virtuoso 7 as an external store: the tests' own server (tests/virtuoso.py) and loads into it."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.virtuoso import VirtuosoServer


def _ask(url: str) -> bytes:
    query = urllib.parse.urlencode({"query": "ASK {}"})
    with urllib.request.urlopen(f"{url}/sparql?{query}", timeout=10) as response:
        return bytes(response.read())


def test_the_server_is_ours_on_loopback_and_read_only_for_anonymous(
        virtuoso: VirtuosoServer) -> None:
    assert b"true" in _ask(virtuoso.url)
    assert virtuoso.process.poll() is None
    assert f"127.0.0.1:{virtuoso.http_port}" in (virtuoso.directory / "virtuoso.ini").read_text()
    # anonymous writes are refused: the Graph Store needs the loader account
    request = urllib.request.Request(
        f"{virtuoso.url}/sparql-graph-crud-auth?graph=urn%3Ax", data=b"<urn:a> <urn:b> <urn:c> .",
        method="PUT", headers={"Content-Type": "application/n-triples"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    caught.value.close()
    assert caught.value.code == 401
    # the well-known dba password no longer works
    with pytest.raises(RuntimeError, match="isql-vt failed"):
        virtuoso.isql("SELECT 1;", password="dba")
    assert "1" in virtuoso.isql("SELECT 1;")
