"""Outputs never destroy inputs (issue 14, items 6-8).

* an output that is an input (by any path), a directory, a write-protected file is refused
  before anything is written; FIFOs and character devices are written into, never replaced;
  a full device is a clear error (``gff2rdf.files.outputs``);
* SIGTERM and SIGHUP clean up like Ctrl-C, and the debris of dead runs is removed by the next
  run into the directory (``gff2rdf.files.interrupts``, ``gff2rdf.files.outputs``);
* a truncated gzip input is a problem on the line where it stops, or an ``InputError`` for
  RDF, never click's bare "Aborted!" (``gff2rdf.gff3.reader``, ``gff2rdf.files.compressed``).

Device nodes are made in the test's own directory (``mknod``, as root), so that a regression
replaces a private copy of ``/dev/null``, not the machine's.
"""

from __future__ import annotations

import gzip
import os
import signal
import stat
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import gff2rdf
from gff2rdf.cli.commands import main
from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff3Error, InputError, OutputError
from gff2rdf.files.outputs import OutputFile, debris_tag, remove_stale
from tests.conftest import DATA

SMALL = DATA / "arabidopsis_TAIR10_40_small.gff3"  # 1,000 lines: converted in one piece
OPTIONS = ["--species", "Arabidopsis thaliana", "--taxon", "3702", "--assembly", "TAIR10",
           "--annotation", "Araport11"]


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write_genes(path: Path, lines: int) -> Path:
    """A sorted GFF3 file of gene models, long enough to be converted in chunks."""
    out = ["##gff-version 3\n"]
    start = 1
    for n in range(lines // 4):
        g = f"g{n}"
        out.append(f"Chr1\t.\tgene\t{start}\t{start + 900}\t.\t+\t.\tID={g};Name=G{n}\n"
                   f"Chr1\t.\tmRNA\t{start}\t{start + 900}\t.\t+\t.\tID={g}.1;Parent={g}\n"
                   f"Chr1\t.\texon\t{start}\t{start + 300}\t.\t+\t.\tID={g}.e;Parent={g}.1\n"
                   f"Chr1\t.\tCDS\t{start + 10}\t{start + 300}\t.\t+\t0\tID={g}.c;Parent={g}.1\n")
        start += 1000
    path.write_text("".join(out), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_genes(tmp_path_factory.mktemp("big") / "big.gff3", 25_000)


def debris(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir()
                  if p.name.endswith(".part") or p.name.startswith(".gff2rdf-parts-"))


def device(path: Path, minor: int) -> Path:
    """A character device node of the memory driver: minor 3 is /dev/null, 7 /dev/full."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
        with open(path, "wb"):
            pass
    except OSError as exc:  # not root, or a file system mounted nodev
        pytest.skip(f"cannot make a device node here: {exc}")
    return path


# -- 6. the output may not destroy the input ------------------------------------------------


@pytest.mark.parametrize("how", ["same path", "symlink", "hard link", "dotdot", "gzip",
                                 "format nt", "chunked"])
def test_an_output_that_is_the_input_is_refused(how: str, tmp_path: Path, big: Path) -> None:
    source = tmp_path / "x.gff3"
    source.write_bytes((big if how == "chunked" else SMALL).read_bytes())
    extra: list[str] = []
    output = source
    if how == "symlink":
        output = tmp_path / "link.ttl"
        output.symlink_to(source.name)
    elif how == "hard link":
        output = tmp_path / "hard.ttl"
        os.link(source, output)
    elif how == "dotdot":
        (tmp_path / "d").mkdir()
        output = tmp_path / "d" / ".." / "x.gff3"
    elif how == "gzip":
        source = source.with_name("x.gff3.gz")
        source.write_bytes(gzip.compress(SMALL.read_bytes()))
        output = source
    elif how == "format nt":
        extra = ["--format", "nt"]
    before = source.read_bytes()
    result = run("convert", str(source), "-o", str(output), "--silent", *extra)
    assert result.exit_code == 1
    assert f"Error: {output}: is the same file as the input {source}; the output would " \
           "destroy it" in result.output
    assert source.read_bytes() == before
    assert debris(tmp_path) == []
    if how == "symlink":
        assert output.is_symlink()


def test_validate_report_onto_its_input_is_refused_before_the_work(tmp_path: Path) -> None:
    nt = tmp_path / "x.nt"
    convert(SMALL, nt)
    before = nt.read_bytes()
    os.link(nt, tmp_path / "again.ttl")
    for report in (nt, tmp_path / "again.ttl"):
        result = run("validate", str(nt), "--report", str(report))
        assert result.exit_code == 1
        assert f"Error: {report}: is the same file as the input {nt}" in result.output
        assert "conforms" not in result.output  # refused before validating
        assert nt.read_bytes() == before
    assert debris(tmp_path) == []


def test_stdin_or_stdout_that_is_the_input_is_refused(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "x.gff3"
    source.write_bytes(SMALL.read_bytes())
    with open(source) as stdin:  # gff2rdf convert - -o x.gff3 < x.gff3
        monkeypatch.setattr(sys, "stdin", stdin)
        with pytest.raises(OutputError, match="is the same file as standard input"):
            convert("-", source)
    with open(source, "a") as stdout:  # gff2rdf convert x.gff3 >> x.gff3
        monkeypatch.setattr(sys, "stdout", stdout)
        with pytest.raises(OutputError, match="standard output is the same file as the input"):
            convert(source, "-")
    assert source.read_bytes() == SMALL.read_bytes()


def test_dump_into_the_store_is_refused(tmp_path: Path) -> None:
    store = tmp_path / "store"
    loaded = run("load", str(SMALL), "--store", str(store), "--silent", *OPTIONS)
    assert loaded.exit_code == 0, loaded.output
    genome = "arabidopsis_thaliana/TAIR10/Araport11"
    target = store / "CURRENT"  # RocksDB's: replacing it would lose the store
    result = run("dump", "--store", str(store), "--graph", genome, "-o", str(target))
    assert result.exit_code == 1
    assert f"Error: {target}: is a file of {store}, an input" in result.output
    assert target.read_bytes().startswith(b"MANIFEST-") and debris(store) == []
    full = device(tmp_path / "full", 7)
    result = run("dump", "--store", str(store), "--graph", genome, "-o", str(full))
    assert result.exit_code == 1
    assert f"Error: {full}: cannot write: No space left on device" in result.output
    assert stat.S_ISCHR(full.stat().st_mode)


@pytest.mark.parametrize("size", ["small", "chunked"])
def test_a_null_device_stays_a_device(size: str, tmp_path: Path, big: Path) -> None:
    null = device(tmp_path / "null", 3)
    result = run("convert", str(SMALL if size == "small" else big), "-o", str(null),
                 "--silent")
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(null.stat().st_mode)
    assert debris(tmp_path) == []


@pytest.mark.parametrize("size", ["small", "chunked"])
def test_a_full_device_is_a_no_space_error(size: str, tmp_path: Path, big: Path) -> None:
    full = device(tmp_path / "full", 7)
    result = run("convert", str(SMALL if size == "small" else big), "-o", str(full),
                 "--silent")
    assert result.exit_code == 1
    assert f"Error: {full}: cannot write: No space left on device" in result.output
    assert stat.S_ISCHR(full.stat().st_mode)
    assert debris(tmp_path) == []


def test_a_full_disk_under_the_part_files_is_an_output_error(
        tmp_path: Path, big: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    for n in range(10):  # the part files of the chunks, on a "disk" that is full
        device(scratch / f"part-{n:06d}", 7)
    monkeypatch.setattr(OutputFile, "scratch_dir", lambda self: str(scratch))
    with pytest.raises(OutputError, match="part-000000: cannot write a part of the output: "
                                          "No space left on device"):
        convert(big, tmp_path / "out.nt", jobs=1)
    assert not (tmp_path / "out.nt").exists() and debris(tmp_path) == []


def test_a_fifo_is_written_into(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = tmp_path / "received.nt"
    with open(received, "wb") as sink:
        reader = subprocess.Popen(["cat", str(fifo)], stdout=sink)
        try:
            result = run("convert", str(SMALL), "-o", str(fifo), "--format", "nt", "--silent")
            assert reader.wait(timeout=30) == 0
        finally:
            if reader.poll() is None:
                reader.kill()
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    convert(SMALL, tmp_path / "file.nt")
    assert received.read_bytes() == (tmp_path / "file.nt").read_bytes()


def test_a_write_protected_file_is_not_replaced(tmp_path: Path) -> None:
    out = tmp_path / "released.ttl"
    out.write_text("keep me\n")
    out.chmod(0o444)  # as root, os.access would allow the write: the mode bits decide
    result = run("convert", str(SMALL), "-o", str(out), "--silent")
    assert result.exit_code == 1
    assert f"Error: {out}: is write-protected (mode 0444); make it writable (chmod u+w) or " \
           "remove it" in result.output
    assert out.read_text() == "keep me\n"
    assert debris(tmp_path) == []


def test_a_directory_is_refused_before_the_work(tmp_path: Path) -> None:
    result = run("convert", str(SMALL), "-o", str(tmp_path), "--silent")
    assert result.exit_code == 1
    assert f"Error: {tmp_path}: is a directory" in result.output
    assert debris(tmp_path) == []


def test_a_replaced_file_keeps_its_mode_and_a_symlink_stays(tmp_path: Path) -> None:
    private = tmp_path / "private.nt"
    private.write_text("old\n")
    private.chmod(0o600)
    link = tmp_path / "current.nt"
    link.symlink_to(private.name)
    assert run("convert", str(SMALL), "-o", str(link), "--silent").exit_code == 0
    assert link.is_symlink() and os.readlink(link) == private.name
    assert private.read_text().startswith("<")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


# -- 7. interrupted runs leave nothing ------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _appended(directory: Path) -> bool:
    """Whether the output's temporary file has data."""
    for path in directory.glob(".*.part"):
        try:
            if path.stat().st_size:
                return True
        except FileNotFoundError:
            pass
    return False


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_during_a_chunked_conversion_leaves_nothing(
        signum: signal.Signals, tmp_path: Path) -> None:
    source = write_genes(tmp_path / "genome.gff3", 60_000)
    env = {**os.environ, "PYTHONPATH": str(Path(gff2rdf.__file__).parents[1])}
    process = subprocess.Popen(
        [sys.executable, "-m", "gff2rdf", "convert", str(source), "-o",
         str(tmp_path / "genome.nt"), "--jobs", "2", "--silent"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the first chunk appended to the output: the workers run (a signal during their
        # fork would be lost, as Ctrl-C's would, since Python's fork handlers cannot raise)
        deadline = time.monotonic() + 60
        while not _appended(tmp_path):
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the chunked conversion never started"
            time.sleep(0.02)
        workers = _children(process.pid)
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 128 + signum, err
    assert f"Stopped by {signum.name}." in err
    assert "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["genome.gff3"]
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert workers and not any(_running(pid) for pid in workers)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_debris_of_dead_runs_is_removed_by_the_next_run(tmp_path: Path) -> None:
    tag = debris_tag()  # HOST-PID-
    host = tag.split("-")[0]
    dead, live = _dead_pid(), os.getppid()
    stale_file = tmp_path / f".genome.nt.gff2rdf-{host}-{dead}-abcd1234.part"
    stale_dir = tmp_path / f".gff2rdf-parts-{host}-{dead}-abcd1234"
    live_file = tmp_path / f".genome.nt.gff2rdf-{host}-{live}-abcd1234.part"
    live_dir = tmp_path / f".gff2rdf-parts-{host}-{live}-abcd1234"
    other_host = tmp_path / f".genome.nt.gff2rdf-{'0' * 8 if host != '0' * 8 else '1' * 8}-" \
                            f"{dead}-abcd1234.part"
    unmarked = tmp_path / ".genome.nt.k2j3h4g5.part"  # gff2rdf before the marks: unknown owner
    for path in (stale_file, live_file, other_host, unmarked):
        path.write_text("partial")
    for path in (stale_dir, live_dir):
        path.mkdir()
        (path / "part-000001").write_text("partial")
    result = run("convert", str(SMALL), "-o", str(tmp_path / "other.nt"), "--silent")
    assert result.exit_code == 0, result.output
    left = {p.name for p in tmp_path.iterdir()}
    assert stale_file.name not in left and stale_dir.name not in left
    assert {live_file.name, live_dir.name, other_host.name, unmarked.name, "other.nt"} == left
    assert remove_stale(tmp_path) == []


def test_output_files_are_named_for_their_process(tmp_path: Path) -> None:
    with OutputFile(tmp_path / "out.nt") as out:
        scratch = out.scratch_dir()
        names = debris(tmp_path)
        os.rmdir(scratch)
    assert len(names) == 2 and all(debris_tag() in name for name in names)
    assert debris(tmp_path) == []


# -- 8. a truncated gzip input says so ------------------------------------------------------


def _truncated(source: Path, target: Path) -> int:
    """Half of ``source`` gzipped; returns the line where the data stops (the first line not
    read whole)."""
    data = gzip.compress(source.read_bytes())
    cut = data[:len(data) // 2]
    target.write_bytes(cut)
    readable = zlib.decompressobj(wbits=31).decompress(cut)
    return readable.count(b"\n") + 1


@pytest.mark.parametrize("size", ["small", "chunked"])
def test_a_truncated_gzip_file_is_a_problem_on_the_line_it_stops(
        size: str, tmp_path: Path, big: Path) -> None:
    source = tmp_path / "cut.gff3.gz"
    line = _truncated(SMALL if size == "small" else big, source)
    for options in ({"chunk_lines": 0}, {"jobs": 2}):
        with pytest.raises(Gff3Error) as info:
            convert(source, tmp_path / "out.nt", **options)  # type: ignore[arg-type]
        problems = [p for p in info.value.problems if p.kind == "truncated"]
        assert [p.line for p in problems] == [line]
        assert problems[0].message.startswith("the compressed file ends early")
    message = f"{source}:{line}: error: the compressed file ends early"
    for args, tail in ((["convert", str(source), "-o", str(tmp_path / "out.nt")],
                        "no output written"),
                       (["validate", str(source)], ""),
                       (["load", str(source), "--store", str(tmp_path / "store"), *OPTIONS],
                        "nothing loaded")):
        result = run(*args, "--silent")
        assert result.exit_code == 1, args
        assert message in result.output, args
        assert tail in result.output and "Aborted" not in result.output
    assert debris(tmp_path) == [] and not (tmp_path / "out.nt").exists()


def test_a_truncated_gzip_rdf_file_is_an_input_error(tmp_path: Path) -> None:
    nt = tmp_path / "x.nt.gz"
    convert(SMALL, nt)
    data = nt.read_bytes()
    nt.write_bytes(data[:len(data) // 2])
    message = f"Error: {nt}: the compressed file ends early"
    for args in (["validate", str(nt)], ["load", str(nt), "--store", str(tmp_path / "store")]):
        result = run(*args)
        assert result.exit_code == 1, args
        assert message in result.output and "Aborted" not in result.output, args
    with pytest.raises(InputError, match="ends early"):
        from gff2rdf.store.inputs import rdf_description

        rdf_description(nt, "nt")


def _damaged(source: Path, target: Path) -> None:
    """``source`` gzipped, with a run of bytes overwritten where zlib then fails."""
    data = gzip.compress(source.read_bytes())
    for offset in range(len(data) // 4, len(data) - 64, 7):
        broken = data[:offset] + b"\xff" * 40 + data[offset + 40:]
        try:
            gzip.decompress(broken)
        except zlib.error:
            target.write_bytes(broken)
            return
        except (OSError, EOFError):
            continue
    pytest.fail("no damage that zlib reports")


def test_damaged_gzip_data_is_a_problem_or_an_input_error(tmp_path: Path, big: Path) -> None:
    source = tmp_path / "damaged.gff3.gz"
    _damaged(big, source)
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "out.nt", jobs=2)
    (problem,) = [p for p in info.value.problems if p.kind == "unreadable"]
    assert problem.message.startswith("the compressed data is damaged from this line on")
    nt = tmp_path / "x.nt.gz"
    convert(SMALL, tmp_path / "x.nt")
    _damaged(tmp_path / "x.nt", nt)
    result = run("validate", str(nt))
    assert result.exit_code == 1
    assert f"Error: {nt}: the compressed data is damaged" in result.output
