"""Property: any GFF3 file convert accepts comes back from export with the same features.

Hypothesis writes files with random hierarchies (genes, transcripts, exons, CDS), CDS on
several lines under one ID, exons of two transcripts, a circular sequence with features across
its origin, IDs and values with characters GFF3 escapes (``; = , % &``, tab, newline,
non-ASCII), types that are not SO terms or are spelt otherwise, Names equal to the ID or
several, Note and description, Dbxref, Ontology_term, custom attributes, scores, all strands.
Each file must convert without errors (the generator writes valid GFF3) and its export must
compare equal line by line (``gff3_compare``, no allowance).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gff2rdf.conversion.api import convert
from gff2rdf.export.api import FileSource, export
from gff2rdf.mapping.schema import compile_mapping
from tests.export.gff3_compare import compare, read_lines

MAPPING = compile_mapping()
CIRCULAR = ("ChrC", 5000)
SEQIDS = ("Chr1", "scaffold 7", "ctg|12")
TEXT = st.text(alphabet=st.sampled_from("abcXYZ019 _-.:;=,%&/\t\n\u00e9\u6f22"), min_size=1,
               max_size=8).filter(lambda t: t.strip() == t and not t.isspace())
ID_TEXT = st.text(alphabet=st.sampled_from("abXY01_-.:;=,%&/ \u00e9"), min_size=1,
                  max_size=6).filter(lambda t: t.strip() == t)
GENE_TYPES = ("gene", "protein_coding_gene", "ncRNA_gene", "SO:0000704", "Gene", "prediction",
              "pseudogene")
RNA_TYPES = ("mRNA", "lnc_RNA", "transcript", "tRNA", "mRNA_TE_gene", "my_rna")
SOURCES = ("TAIR10", "Araport11", ".", "my%20tool")
SCORES = (".", "0.5", "12", "1e-05", "-3.25", "007")


def esc(text: str, unsafe: str = ";=,%&\t\n") -> str:
    """Percent-encode for column 9 (and what needs it elsewhere), in random-enough ways."""
    return "".join(quote(c, safe="") if c in unsafe or ord(c) < 32 else c for c in text)


@st.composite
def attributes(draw: st.DrawFn, fid: str | None) -> list[tuple[str, list[str]]]:
    attrs: list[tuple[str, list[str]]] = []
    if fid is not None and draw(st.booleans()):
        names = draw(st.lists(TEXT, min_size=1, max_size=2, unique=True))
        if draw(st.booleans()):
            names = [fid, *[n for n in names if n != fid]][:2]
        attrs.append(("Name", names))
    for key, values in (("Note", st.lists(TEXT, min_size=1, max_size=2, unique=True)),
                        ("description", st.lists(TEXT, max_size=1, min_size=1)),
                        ("Alias", st.lists(TEXT, min_size=1, max_size=2, unique=True)),
                        ("Dbxref", st.lists(st.sampled_from(
                            ["GeneID:839580", "UniProtKB:Q5MK24", "nodb:7", "TAIR:AT1G01010"]),
                            min_size=1, max_size=3, unique=True)),
                        ("Ontology_term", st.lists(st.sampled_from(
                            ["GO:0016125", "go:0008150", "PO:0009005", "xx:1"]),
                            min_size=1, max_size=2, unique=True)),
                        ("my key", st.lists(TEXT, min_size=1, max_size=3, unique=True)),
                        ("biotype", st.sampled_from([["protein_coding"], ["ncRNA"]]))):
        if draw(st.integers(0, 3)) == 0:
            attrs.append((key, draw(values)))
    return attrs


def line(seqid: str, source: str, ftype: str, start: int, end: int, score: str, strand: str,
         phase: str, attrs: list[tuple[str, list[str]]]) -> str:
    column9 = ";".join(f"{esc(k)}={','.join(esc(v) for v in vals)}" for k, vals in attrs)
    return "\t".join((esc(seqid, " |%\t\n;=,&"), source, ftype, str(start), str(end), score,
                      strand, phase, column9 or "."))


@st.composite
def gff3(draw: st.DrawFn) -> str:
    out = ["##gff-version 3"]
    circular = draw(st.booleans())
    if circular:
        out.append(line(CIRCULAR[0], ".", "region", 1, CIRCULAR[1], ".", "+", ".",
                        [("ID", ["ChrC"]), ("Is_circular", ["true"])]))
    ids: set[str] = {"ChrC"}

    def new_id(prefix: str) -> str:
        base = draw(ID_TEXT)
        fid = f"{prefix}{base}"
        n = 0
        while fid in ids:
            n += 1
            fid = f"{prefix}{base}{n}"
        ids.add(fid)
        return fid

    for g in range(draw(st.integers(1, 3))):
        seqid = CIRCULAR[0] if circular and g == 0 else draw(st.sampled_from(SEQIDS))
        strand = draw(st.sampled_from("+-.?"))
        start = draw(st.integers(1, 4000))
        length = draw(st.integers(30, 900))
        end = start + length
        if seqid == CIRCULAR[0] and draw(st.booleans()):
            start, end = CIRCULAR[1] - 20, CIRCULAR[1] + length  # across the origin
        gene = new_id("g")
        source = draw(st.sampled_from(SOURCES))
        out.append(line(seqid, source, draw(st.sampled_from(GENE_TYPES)), start, end,
                        draw(st.sampled_from(SCORES)), strand, ".",
                        [("ID", [gene]), *draw(attributes(gene))]))
        transcripts = [new_id("t") for _ in range(draw(st.integers(0, 2)))]
        for t in transcripts:
            out.append(line(seqid, source, draw(st.sampled_from(RNA_TYPES)), start, end, ".",
                            strand, ".", [("ID", [t]), ("Parent", [gene]),
                                          *draw(attributes(t))]))
        if not transcripts:
            continue
        pieces = sorted({start + k * (length // 4) for k in range(draw(st.integers(1, 3)))})
        for p in pieces:
            parents = transcripts if draw(st.booleans()) else transcripts[:1]
            exon_id = [("ID", [new_id("e")])] if draw(st.booleans()) else []
            out.append(line(seqid, source, "exon", p, p + 20, draw(st.sampled_from(SCORES)),
                            strand, ".", [*exon_id, ("Parent", parents),
                                          *draw(attributes(None))]))
        cds = new_id("c") if draw(st.booleans()) else None
        for p in pieces:
            phase = str(draw(st.integers(0, 2)))
            own = [("ID", [cds])] if cds else []
            out.append(line(seqid, source, "CDS", p + 2, p + 18, ".", strand, phase,
                            [*own, ("Parent", transcripts[:1]), *draw(attributes(None))]))
    return "\n".join(out) + "\n"


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(gff3())
def test_export_gives_back_what_convert_read(text: str) -> None:
    with tempfile.TemporaryDirectory() as work:
        source = Path(work, "in.gff3")
        source.write_text(text, encoding="utf-8")
        result = convert(source, Path(work, "in.nt"), mapping=MAPPING, assembly="A",
                         annotation="b", species="Arabidopsis thaliana")
        assert result.log.errors == 0
        export(FileSource(str(Path(work, "in.nt"))), Path(work, "out.gff3"), mapping=MAPPING)
        problem, _ = compare(read_lines(source), read_lines(Path(work, "out.gff3")))
        assert not problem, f"{problem}\n--- input:\n{text}"
