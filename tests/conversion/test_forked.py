"""gff2rdf.files.forked: a call in a forked child behaves like the call here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff2RdfError, Gff3Error
from gff2rdf.files.forked import call_in_child


def test_result_and_exception_come_back() -> None:
    assert call_in_child(divmod, 17, 5) == (3, 2)
    assert call_in_child(os.getpid) != os.getpid()
    with pytest.raises(ZeroDivisionError):
        call_in_child(divmod, 1, 0)


def test_a_gff3_error_keeps_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gff3"
    bad.write_text("##gff-version 3\nchr1\t.\tgene\t10\t5\t.\t+\t.\tID=g1\n"
                   "chr1\t.\tgene\tx\t5\t.\t+\t.\tID=g2\n")
    with pytest.raises(Gff3Error) as here:
        convert(bad, tmp_path / "here.nt")
    with pytest.raises(Gff3Error) as there:
        call_in_child(convert, bad, tmp_path / "there.nt")
    assert str(there.value) == str(here.value)
    assert [(p.line, p.kind) for p in there.value.problems] == \
        [(p.line, p.kind) for p in here.value.problems] != []
    assert not list(tmp_path.glob("*.nt"))


def test_a_child_that_dies_is_an_error() -> None:
    with pytest.raises(Gff2RdfError, match=r"died \(exit status 3\)"):
        call_in_child(os._exit, 3)


def test_an_unpicklable_result_is_an_error() -> None:
    with pytest.raises(Gff2RdfError, match="pickle"):
        call_in_child(lambda: (lambda: None))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_child_dies_with_its_parent(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = textwrap.dedent(f"""
        import os, time
        from gff2rdf.files.forked import call_in_child
        def work():
            open({str(pidfile)!r}, "w").write(str(os.getpid()))
            time.sleep(60)
        call_in_child(work)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not (pidfile.exists() and pidfile.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pidfile.read_text())
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        if parent.poll() is None:
            parent.kill()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
