"""Chunked conversion (gff2rdf.conversion.chunks) gives the same graph and problems as one piece."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff3Error
from tests.conftest import DATA, SHARED

CORPUS = SHARED / "gff3"
SORTED_FILES = [
    "agat__rice_IRGSP1_EnsemblPlants_1.gff",
    "baitfindR__Arabidopsis_thaliana_TAIR10_40_small.gff3",
    "biofmt__TAIR10.part.gff.gz",
    "evm__genomeThreader.gff3",
    "kbase__Ptrichocarpa_Phytozome_v3.0_Test_v1.0.gene.gff3.gz",
    "mikado__reference_TAIR10_Chr5.gff3",
]


def triples(path: Path) -> set[str]:
    return set(path.read_text(encoding="utf-8").splitlines())


def both(source: Path, tmp_path: Path, chunk_lines: int = 150, **options: object
         ) -> tuple[set[str], set[str]]:
    whole = convert(source, tmp_path / "whole.nt", chunk_lines=0, **options)  # type: ignore[arg-type]
    parts = convert(source, tmp_path / "parts.nt", chunk_lines=chunk_lines, jobs=2,
                    **options)  # type: ignore[arg-type]
    assert (whole.triples, whole.features) == (parts.triples, parts.features)
    assert whole.class_counts == parts.class_counts
    assert [(p.line, p.kind) for p in whole.log.problems()] == \
        [(p.line, p.kind) for p in parts.log.problems()]
    return triples(tmp_path / "whole.nt"), triples(tmp_path / "parts.nt")


@pytest.mark.parametrize("name", SORTED_FILES)
def test_chunked_equals_whole_on_real_files(name: str, tmp_path: Path) -> None:
    source = CORPUS / name
    if not source.exists():
        pytest.skip(f"shared corpus not found at {CORPUS}")
    whole, parts = both(source, tmp_path)
    assert whole == parts


def test_jobs_do_not_change_the_bytes(tmp_path: Path) -> None:
    source = DATA / "arabidopsis_TAIR10_40_small.gff3"
    for jobs in (1, 2):
        convert(source, tmp_path / f"j{jobs}.ttl.gz", chunk_lines=100, jobs=jobs)
    assert (tmp_path / "j1.ttl.gz").read_bytes() == (tmp_path / "j2.ttl.gz").read_bytes()


def gene(seqid: str, start: int, name: str, extra: str = "") -> str:
    return (f"{seqid}\t.\tgene\t{start}\t{start + 50}\t.\t+\t.\tID={name}{extra}\n"
            f"{seqid}\t.\tmRNA\t{start}\t{start + 50}\t.\t+\t.\tID={name}.1;Parent={name}\n"
            f"{seqid}\t.\texon\t{start}\t{start + 20}\t.\t+\t.\tParent={name}.1\n"
            f"{seqid}\t.\texon\t{start + 30}\t{start + 50}\t.\t+\t.\tParent={name}.1\n")


def test_links_across_chunks_and_undefined_parents(tmp_path: Path) -> None:
    body = "##gff-version 3\n" + "".join(gene("Chr1", 100 * i, f"g{i}") for i in range(1, 30))
    body += gene("Chr1", 5000, "te", ";Derives_from=g1")  # a link back to the first chunk
    body += gene("Chr1", 6000, "orphan", ";Derives_from=nowhere")
    source = tmp_path / "in.gff3"
    source.write_text(body)
    (tmp_path / "a").mkdir()
    whole, parts = both(source, tmp_path / "a", chunk_lines=10, lenient=True)
    assert whole == parts
    assert any("feature/te> <http://purl.obolibrary.org/obo/so#derives_from>" in t for t in parts)
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "x.nt", chunk_lines=10, jobs=2)
    assert [(p.line, p.kind) for p in info.value.problems] == [(122, "undefined-parent")]
    assert not (tmp_path / "x.nt").exists()


def test_unsorted_file_falls_back_to_one_piece(tmp_path: Path) -> None:
    body = "##gff-version 3\n" + "".join(gene("Chr1", 100 * i, f"g{i}") for i in range(30, 1, -1))
    source = tmp_path / "in.gff3"
    source.write_text(body)
    whole, parts = both(source, tmp_path, chunk_lines=10)
    assert whole == parts
    assert (tmp_path / "whole.nt").read_bytes() == (tmp_path / "parts.nt").read_bytes()


def test_parts_are_written_back_while_converting(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The output's parts go to disk on a thread as they are appended (chunks._Writeback), so
    the fsync before the rename has little left; the bytes do not change."""
    import os

    synced: list[int] = []
    real = os.fdatasync

    def spy(fd: int) -> None:
        synced.append(fd)
        real(fd)

    monkeypatch.setattr("gff2rdf.conversion.chunks.os.fdatasync", spy)
    source = DATA / "tair10_chr5_mikado.gff3"
    convert(source, tmp_path / "whole.nt", chunk_lines=0)
    convert(source, tmp_path / "parts.nt", chunk_lines=150, jobs=2)
    assert len(synced) >= 1
    assert triples(tmp_path / "whole.nt") == triples(tmp_path / "parts.nt")


def test_no_writeback_thread_for_a_pipe() -> None:
    import os

    from gff2rdf.conversion.chunks import _Writeback

    read, write = os.pipe()
    with os.fdopen(write, "wb") as out, _Writeback(out) as writeback:
        writeback.kick()  # nothing to sync on a pipe, and no thread to start
        assert writeback._thread is None
    os.close(read)


def _chunk_jobs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record the jobs that chunked conversions hand out (made in this process)."""
    import gff2rdf.conversion.merge as merge

    seen: list[Any] = []
    real = merge.run_chunks

    def spy(items: Any, make_job: Any, *args: Any) -> Any:
        def recorded(chunk: Any, part: str) -> Any:
            seen.append(make_job(chunk, part))
            return seen[-1]

        return real(items, recorded, *args)

    monkeypatch.setattr(merge, "run_chunks", spy)
    return seen


def test_sequence_regions_between_sequences_are_chunked(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """NCBI files declare each sequence just before its features: still cut into chunks, with
    the declaration known to the later chunks of its sequence and reported where it is."""
    body = "##gff-version 3\n##sequence-region Chr1 1 4000\n"
    body += "".join(gene("Chr1", 100 * i, f"a{i}") for i in range(1, 30))
    body += "##sequence-region Chr2 1 2500\n##species https://example.org/taxon/1\n"
    body += "##sequence-region Chr3 1 900\n"
    body += "".join(gene("Chr2", 100 * i, f"b{i}") for i in range(1, 30))  # b25.. past 2500
    body += "##sequence-region Chr3 1 1900\n" + gene("Chr3", 100, "c1")  # a second one
    source = tmp_path / "in.gff3"
    source.write_text(body)
    jobs = _chunk_jobs(monkeypatch)
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "x.nt", chunk_lines=10, jobs=1)
    assert len(jobs) > 5
    kinds = [(p.line, p.kind) for p in info.value.problems]
    whole = [(p.line, p.kind) for p in _problems(source, tmp_path)]
    assert kinds == whole
    assert ("outside-sequence-region" in {k for _, k in kinds}
            and "duplicate-sequence-region" in {k for _, k in kinds})
    # without the mistakes: the same graph as one piece, in chunks
    fixed = body.replace("##sequence-region Chr2 1 2500", "##sequence-region Chr2 1 3500")
    fixed = fixed.replace("##sequence-region Chr3 1 1900\n", "")
    source.write_text(fixed)
    jobs.clear()
    (tmp_path / "a").mkdir()
    whole_graph, parts_graph = both(source, tmp_path / "a", chunk_lines=10)
    assert whole_graph == parts_graph
    assert len(jobs) > 5
    assert any('"3500"' in t and "/Chr2>" in t for t in parts_graph)


def _problems(source: Path, tmp_path: Path) -> list[Any]:
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "whole.nt", chunk_lines=0)
    return list(info.value.problems)


def test_a_late_sequence_region_falls_back_to_one_piece(tmp_path: Path) -> None:
    body = "##gff-version 3\n" + "".join(gene("Chr1", 100 * i, f"a{i}") for i in range(1, 30))
    body += "".join(gene("Chr2", 100 * i, f"b{i}") for i in range(1, 5))
    body += "##sequence-region Chr1 1 9000\n"  # after Chr1's features: an error
    body += "".join(gene("Chr3", 100 * i, f"c{i}") for i in range(1, 5))
    source = tmp_path / "in.gff3"
    source.write_text(body)
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "x.nt", chunk_lines=10, jobs=1)
    assert [p.kind for p in info.value.problems] == ["late-sequence-region"]
    assert [(p.line, p.kind) for p in info.value.problems] == \
        [(p.line, p.kind) for p in _problems(source, tmp_path)]
    assert not (tmp_path / "x.nt").exists()


def test_a_chunk_is_given_only_its_own_sequences(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """A draft assembly declares thousands of scaffolds in the header: each chunk gets what it
    needs, and every declared scaffold still gets its node."""
    scaffolds = [f"scaffold_{n}" for n in range(400)]
    body = "##gff-version 3\n" + "".join(f"##sequence-region {s} 1 5000\n" for s in scaffolds)
    body += "".join(gene(s, 100 * i, f"{s}.g{i}") for s in scaffolds[:20] for i in range(1, 6))
    source = tmp_path / "in.gff3"
    source.write_text(body)
    jobs = _chunk_jobs(monkeypatch)
    whole, parts = both(source, tmp_path, chunk_lines=30)
    assert whole == parts
    assert len(jobs) > 5
    for job in jobs:
        named = {line.split(b"\t", 1)[0].decode() for line in job.data.splitlines()}
        assert set(job.sequences) <= named
    assert sum('"5000"' in t for t in parts) == len(scaffolds)


def test_an_id_in_two_chunks_falls_back_to_one_piece(tmp_path: Path) -> None:
    """Two lines far apart with one ID are one discontinuous feature to the whole-file reader;
    chunks that each hold one of them must not make two features of it."""
    body = "##gff-version 3\n" + "".join(gene("Chr1", 100 * i, f"g{i}") for i in range(1, 30))
    body += "Chr1\t.\tmatch\t5000\t5100\t.\t+\t.\tID=m1\n"
    body += "".join(gene("Chr1", 6000 + 100 * i, f"h{i}") for i in range(1, 30))
    body += "Chr1\t.\tmatch\t9000\t9100\t.\t+\t.\tID=m1\n"
    source = tmp_path / "in.gff3"
    source.write_text(body)
    whole, parts = both(source, tmp_path, chunk_lines=10)
    assert whole == parts
    assert sum("feature/m1/segment/" in t and "#rank>" in t for t in parts) == 2


@pytest.mark.parametrize("variant", ["bom", "crlf", "bom+crlf"])
def test_a_byte_order_mark_and_crlf_in_chunks(variant: str, tmp_path: Path) -> None:
    data = (DATA / "tair10_chr5_mikado.gff3").read_bytes()
    if "crlf" in variant:
        data = data.replace(b"\n", b"\r\n")
    if "bom" in variant:
        data = b"\xef\xbb\xbf" + data
    source = tmp_path / "in.gff3"
    source.write_bytes(data)
    whole, parts = both(source, tmp_path, chunk_lines=50)  # also compares the problems
    assert whole == parts
    assert (tmp_path / "whole.nt").read_bytes() == (tmp_path / "parts.nt").read_bytes()


def test_check_in_chunks_finds_what_convert_finds_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """gff2rdf validate on GFF3 (convert.check): the same problems in chunks on two processes
    as in one piece, the same errors as convert, and no file anywhere."""
    from gff2rdf.conversion.api import check

    source = tmp_path / "in.gff3"
    body = (DATA / "maize_B73_AGPv2_small.gff").read_text(encoding="utf-8")
    source.write_text(body + "".join(gene("10", 100 * i, f"z{i}") for i in range(1, 30))
                      + "10\t.\tmRNA\t5000\t5090\t.\t+\t.\tID=lost;Parent=nowhere\n")
    monkeypatch.chdir(tmp_path)
    jobs = _chunk_jobs(monkeypatch)
    whole = check(source, chunk_lines=0)
    parts = check(source, chunk_lines=20, jobs=2)
    assert len(jobs) > 3 and all(job.part is None for job in jobs)
    assert sorted(tmp_path.iterdir()) == [source]
    found = [(p.line, p.kind, p.severity) for p in parts.log.problems()]
    assert found == [(p.line, p.kind, p.severity) for p in whole.log.problems()]
    assert parts.log.counts == whole.log.counts
    assert {"missing-phase", "undefined-parent"} <= {kind for _, kind, _ in found}
    assert (parts.triples, parts.features) == (whole.triples, whole.features)
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "x.nt")
    assert [(p.line, p.kind) for p in info.value.problems] == \
        [(line, kind) for line, kind, severity in found if severity == "error"]
    one = check(source, chunk_lines=20, jobs=2, keep=1)
    assert one.log.counts == whole.log.counts
    assert len(one.log.problems()) == len(whole.log.counts)  # one kept of each kind
