"""Fidelity: distinct IDs never merge, and --lenient never writes a wrong graph (issue 14).

Each pattern has a small file in tests/data/ (its top comment names the real-world pattern),
and a hypothesis property drives the same guarantees over generated files in every mode.
"""

from __future__ import annotations

import bz2
import gzip
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gff2rdf.cli.commands import main
from gff2rdf.conversion.api import convert
from gff2rdf.errors import Gff3Error, InputError
from tests.conftest import DATA, GENOME, convert_text, store_of

PART_OF = "http://purl.obolibrary.org/obo/so#part_of"
DERIVES = "http://purl.obolibrary.org/obo/so#derives_from"
GFF_ID = "https://w3id.org/gff2rdf/vocab#gffId"
IDENT = "http://purl.org/dc/terms/identifier"
FEATURE = f"{GENOME}/feature/"
OPTIONS = {"species": "Arabidopsis thaliana", "taxon": "3702", "assembly": "TAIR10",
           "annotation": "Araport11"}


def ids_by_subject(store: ox.Store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for q in store.quads_for_pattern(None, ox.NamedNode(GFF_ID), None):
        out.setdefault(q.subject.value, set()).add(q.object.value)
    return out


def assert_sound(store: ox.Store) -> None:
    """No so:part_of or so:derives_from self-loop, no part_of cycle, no dangling link."""
    prefix = "PREFIX so: <http://purl.obolibrary.org/obo/so#>\n"
    assert not store.query(prefix + "ASK { ?a so:part_of|so:derives_from ?a }"), "self-loop"
    assert not store.query(prefix + "ASK { ?a so:part_of+ ?a }"), "part_of cycle"
    assert not store.query(prefix + "ASK { ?a so:derives_from+ ?a }"), "derives_from cycle"
    dangling = list(store.query(
        prefix + "SELECT ?a ?b { ?a so:part_of|so:derives_from ?b FILTER NOT EXISTS { ?b a ?t } }"))
    assert not dangling, f"links to nodes the graph does not describe: {dangling}"


# -- 1. distinct IDs, distinct IRIs -----------------------------------------------------------


def test_ncbi_annotwriter_ids_keep_their_own_iris(tmp_path: Path) -> None:
    source = DATA / "ncbi_annotwriter_loci.gff3"
    result = convert(source, tmp_path / "out.nt", **OPTIONS)  # type: ignore[arg-type]
    assert result.log.errors == 0 and result.log.warnings == 0, result.log.report()
    store = store_of((tmp_path / "out.nt").read_text(encoding="utf-8"))
    by_subject = ids_by_subject(store)
    file_ids = {line.split("ID=")[1].split(";")[0] for line in source.read_text().splitlines()
                if "\tID=" in line or ";ID=" in line}
    assert all(len(v) == 1 for v in by_subject.values()), "one node, two IDs"
    assert {v for vs in by_subject.values() for v in vs} == file_ids
    assert len(by_subject) == len(file_ids) == 9
    # readable: the ID is the last path segment, exactly as in the file
    assert by_subject[FEATURE + "gene-AT1G01010"] == {"gene-AT1G01010"}
    rna = FEATURE + "rna-AT1G01010"
    parts = {str(q.object.value) for q in store.quads_for_pattern(
        ox.NamedNode(rna), ox.NamedNode(PART_OF), None)}
    assert parts == {FEATURE + "gene-AT1G01010"}
    # dcterms:identifier keeps IDs apart too (exon-X / X / id-X used to share one)
    idents = [q.object.value for q in store.quads_for_pattern(None, ox.NamedNode(IDENT), None)
              if q.subject.value.startswith(FEATURE)]
    assert len(idents) == len(set(idents)) == 9
    assert_sound(store)


def test_plain_ids_stay_readable(tmp_path: Path) -> None:
    _, nt = convert_text(tmp_path, "##gff-version 3\n"
                         "Chr1\tx\tgene\t1\t90\t.\t+\t.\tID=AT1G01010\n")
    assert f"<{FEATURE}AT1G01010>" in nt


def test_id_less_children_of_one_class_are_numbered_together(tmp_path: Path) -> None:
    """``exon`` and ``SO:0000147`` name one class: their IRIs {parent}/exon/n must differ."""
    text = ("##gff-version 3\n"
            "Chr1\tx\tmRNA\t1\t900\t.\t+\t.\tID=t\n"
            "Chr1\tx\texon\t1\t100\t.\t+\t.\tParent=t\n"
            "Chr1\tx\tSO:0000147\t200\t300\t.\t+\t.\tParent=t\n")
    result, nt = convert_text(tmp_path, text)
    store = store_of(nt)
    exons = {q.subject.value for q in store.quads_for_pattern(
        None, ox.NamedNode(PART_OF), ox.NamedNode(FEATURE + "t"))}
    assert exons == {FEATURE + "t/exon/1", FEATURE + "t/exon/2"}
    assert result.triples == len(store)


def test_anonymous_feature_is_not_an_id_iri(tmp_path: Path) -> None:
    """A parent-less line without ID gets a hashed IRI that no ID can produce."""
    text = ("##gff-version 3\n"
            "Chr1\tx\tregion\t1\t900\t.\t+\t.\tNote=no id\n")
    _, nt = convert_text(tmp_path, text)
    subjects = {line.split(" ")[0] for line in nt.splitlines() if FEATURE in line.split(" ")[0]}
    assert len(subjects) == 1
    (subject,) = subjects
    assert subject.startswith(f"<{FEATURE}_/")


# -- 2. lenient mode ---------------------------------------------------------------------------


def test_lenient_lists_every_skipped_line_and_dropped_link(tmp_path: Path) -> None:
    source = DATA / "lenient_broken_structure.gff3"
    out = tmp_path / "out.nt"
    run = CliRunner().invoke(main, ["convert", str(source), "-o", str(out), "--lenient",
                                    "--species", "Arabidopsis thaliana", "--assembly",
                                    "TAIR10", "--annotation", "Araport11"])
    assert run.exit_code == 0, run.output
    report = run.stderr
    for line, kind in [(6, "self-parent"), (8, "parent-cycle"), (10, "parent-seqid"),
                       (11, "undefined-parent"), (12, "self-parent"), (13, "bad-end")]:
        assert f"{source}:{line}: " in report and kind in report, (line, kind, report)
    assert "lines skipped" not in report
    assert "1 line and 5 links not written" in report, report
    store = store_of(out.read_text(encoding="utf-8"))
    assert_sound(store)
    subjects = ids_by_subject(store)
    assert FEATURE + "t3" not in subjects  # the bad line is skipped
    assert FEATURE + "t4" in subjects
    assert ox.Quad(ox.NamedNode(FEATURE + "t4"), ox.NamedNode(PART_OF),
                   ox.NamedNode(FEATURE + "g1")) in store


def test_default_mode_rejects_self_parent_and_cycle(tmp_path: Path) -> None:
    with pytest.raises(Gff3Error) as info:
        convert(DATA / "lenient_broken_structure.gff3", tmp_path / "out.nt")
    kinds = {p.kind for p in info.value.problems}
    assert {"self-parent", "parent-cycle", "parent-seqid", "undefined-parent",
            "bad-end"} <= kinds
    assert not list(tmp_path.iterdir())


def test_cycle_through_a_forward_reference(tmp_path: Path) -> None:
    """a -> b -> c -> a, each child before its parent: the link that closes it is dropped."""
    text = ("##gff-version 3\n"
            "Chr1\tx\tgene\t1\t90\t.\t+\t.\tID=a;Parent=b\n"
            "Chr1\tx\tgene\t1\t90\t.\t+\t.\tID=b;Parent=c\n"
            "Chr1\tx\tgene\t1\t90\t.\t+\t.\tID=c;Parent=a\n")
    result, nt = convert_text(tmp_path, text, lenient=True)
    (problem,) = result.log.problems("error")
    assert problem.kind == "parent-cycle" and problem.line == 4
    store = store_of(nt)
    assert_sound(store)
    links = [q for q in store.quads_for_pattern(None, ox.NamedNode(PART_OF), None)
             if q.subject.value.startswith(FEATURE)]
    assert len(links) == 2


def test_derives_from_cycle(tmp_path: Path) -> None:
    text = ("##gff-version 3\n"
            "Chr1\tx\tpolypeptide\t1\t90\t.\t+\t.\tID=p;Derives_from=q\n"
            "Chr1\tx\tpolypeptide\t1\t90\t.\t+\t.\tID=q;Derives_from=p\n")
    result, nt = convert_text(tmp_path, text, lenient=True)
    (problem,) = result.log.problems("error")
    assert problem.kind == "parent-cycle" and "Derives_from links" in problem.message
    store = store_of(nt)
    assert not store.query(f"ASK {{ ?a <{DERIVES}>+ ?a }}")


@pytest.mark.parametrize("content, kind, lenient_kind", [
    (b"", "empty-file", "empty-file"),
    (b"##gff-version 3\n# only comments\n", "no-features", "no-features"),
    ("##gff-version 3\nChr1\tx\tgene\t1\t9\t.\t+\t.\tID=g;Note=caf\xe9\n".encode("latin-1"),
     "not-utf8", "no-features"),
    (bytes(range(256)) * 40, "not-text", "not-text"),
    ("##gff-version 3\n".encode("utf-16"), "not-text", "not-text"),
])
def test_lenient_still_fails_without_features_or_text(tmp_path: Path, content: bytes,
                                                       kind: str, lenient_kind: str) -> None:
    source = tmp_path / "in.gff3"
    source.write_bytes(content)
    out = tmp_path / "out.ttl"
    for lenient, want in ((True, lenient_kind), (False, kind)):
        with pytest.raises(Gff3Error) as info:
            convert(source, out, lenient=lenient)
        assert want in {p.kind for p in info.value.problems}, info.value
        assert not out.exists()
    run = CliRunner().invoke(main, ["convert", str(source), "-o", str(out), "--lenient"])
    assert run.exit_code == 1 and "no output written" in run.stderr


def test_other_compressions_are_named(tmp_path: Path) -> None:
    source = tmp_path / "in.gff3.bz2"
    source.write_bytes(bz2.compress(b"##gff-version 3\nChr1\tx\tgene\t1\t9\t.\t+\t.\tID=g\n"))
    with pytest.raises(Gff3Error) as info:
        convert(source, tmp_path / "out.ttl", lenient=True)
    assert "compressed with bzip2" in str(info.value)


# -- the property: every mode, generated IDs ---------------------------------------------------

PREFIXES = ["", "gene-", "rna-", "gene:", "transcript:", "Gene-", "RNA-", "GENE:", "exon-",
            "id-", "cds-", "_", "gene/", "%"]
STEMS = ["X", "x", "LOC_1", "AT1G01010", "AT1G01010.1", ".", "a b", "-2"]


@st.composite
def gff3_files(draw: st.DrawFn) -> str:
    ids = draw(st.lists(st.tuples(st.sampled_from(PREFIXES), st.sampled_from(STEMS)).map(
        "".join), min_size=1, max_size=12, unique=True))
    lines = ["##gff-version 3"]
    for i, fid in enumerate(ids):
        parents = draw(st.lists(st.sampled_from([*ids, "undefined"]), max_size=2, unique=True))
        attrs = "ID=" + fid.replace("%", "%25").replace(" ", "%20")
        if parents:
            attrs += f";{draw(st.sampled_from(['Parent', 'Derives_from']))}=" + ",".join(
                p.replace("%", "%25").replace(" ", "%20") for p in parents)
        seqid = draw(st.sampled_from(["chr1", "chr1", "chr2"]))
        lines.append(f"{seqid}\tx\t{draw(st.sampled_from(['gene', 'mRNA', 'exon']))}\t"
                     f"{i + 1}\t{i + 100}\t.\t+\t.\t{attrs}")
        if draw(st.booleans()):  # an ID-less child
            lines.append(f"{seqid}\tx\texon\t{i + 1}\t{i + 50}\t.\t+\t.\tParent="
                         + fid.replace("%", "%25").replace(" ", "%20"))
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(text=gff3_files(), mode=st.sampled_from(["default", "lenient", "strict", "chunked"]))
def test_distinct_ids_distinct_iris_and_no_loops(tmp_path: Path, text: str, mode: str) -> None:
    source = tmp_path / "in.gff3"
    source.write_text(text, encoding="utf-8")
    out = tmp_path / "out.nt"
    out.unlink(missing_ok=True)
    options: dict[str, object] = dict(OPTIONS)
    if mode == "chunked":
        options.update(lenient=True, chunk_lines=3, jobs=1)
    elif mode != "default":
        options[mode] = True
    try:
        result = convert(source, out, **options)  # type: ignore[arg-type]
    except Gff3Error:
        assert mode in ("default", "strict"), "lenient fails only without features"
        assert not out.exists()
        return
    store = store_of(out.read_text(encoding="utf-8"))
    by_subject = ids_by_subject(store)
    assert all(len(v) == 1 for v in by_subject.values()), by_subject
    written = [v for vs in by_subject.values() for v in vs]
    assert len(written) == len(set(written))  # injective: one node per ID
    assert_sound(store)
    assert result.triples == len(store), "a triple written twice"


def test_truncated_gzip_is_not_lenient(tmp_path: Path) -> None:
    source = tmp_path / "in.gff3.gz"
    data = gzip.compress(("##gff-version 3\n" + "".join(
        f"Chr1\tx\tgene\t{i}\t{i + 9}\t.\t+\t.\tID=g{i}\n" for i in range(1, 2000))).encode())
    source.write_bytes(data[: len(data) // 2])
    with pytest.raises((Gff3Error, InputError)):
        convert(source, tmp_path / "out.nt", lenient=True)
    assert not (tmp_path / "out.nt").exists()
