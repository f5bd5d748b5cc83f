"""What a conversion did (``ConvertResult``), and how it ends: commit the output, or discard it
and raise ``Gff3Error`` (``settle``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import Gff3Error, ProblemLog
from ..rdf.genome import GenomeVersion
from ..rdf.writers import OutputFile

__all__ = ["FATAL", "ConvertResult", "Options", "has_fatal", "require_features", "settle"]


@dataclass
class ConvertResult:
    """What a conversion did: counts, the genome version, and every problem found."""

    source: str
    output: str
    format: str
    genome: GenomeVersion
    log: ProblemLog
    sha256: str = ""
    lines: int = 0
    features: int = 0
    triples: int = 0
    skipped_lines: int = 0
    dropped_links: int = 0
    seconds: float = 0.0
    class_counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line: counts, and in lenient mode what the errors cost and why.

        >>> log = ProblemLog("a.gff3")
        >>> log.error(3, "bad-start", "...")
        >>> log.error(9, "parent-cycle", "...")
        >>> result = ConvertResult("a.gff3", "a.ttl", "ttl", GenomeVersion("s", "a", "b"),
        ...                        log, features=7, triples=90, skipped_lines=1,
        ...                        dropped_links=1)
        >>> result.summary().split("; ")[1]
        '2 errors skipped (bad-start: 1, parent-cycle: 1): 1 line and 1 link not written in 0.0 s'
        """
        skipped = ""
        if self.log.errors:
            kinds = sorted((k, n) for (sev, k), n in self.log.counts.items() if sev == "error")
            why = ", ".join(f"{k}: {n:,}" for k, n in kinds)
            skipped = (f"; {self.log.errors:,} errors skipped ({why}): "
                       f"{_plural(self.skipped_lines, 'line')} and "
                       f"{_plural(self.dropped_links, 'link')} not written")
        elif self.skipped_lines or self.dropped_links:
            skipped = (f"; {_plural(self.skipped_lines, 'line')} and "
                       f"{_plural(self.dropped_links, 'link')} not written")
        return (f"{Path(self.source).name}: {self.features:,} features, {self.triples:,} "
                f"triples, {self.log.warnings:,} warnings{skipped} in {self.seconds:.1f} s")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


# errors that --lenient cannot skip: nothing of the file would be left to convert
FATAL = ("empty-file", "no-features", "not-text", "truncated", "unreadable")


def has_fatal(log: ProblemLog) -> bool:
    return any(log.counts[("error", kind)] for kind in FATAL)


def settle(out: OutputFile, result: ConvertResult, lenient: bool, strict: bool) -> None:
    """The end of a conversion, one piece or chunks: commit the output, or discard it and
    raise ``Gff3Error`` (any error; with ``lenient``, only those in ``FATAL``)."""
    log = result.log
    require_features(result, lenient)
    if strict:
        log.escalate()
    if (has_fatal(log) if lenient else log.errors > 0):
        out.discard()
        raise Gff3Error(log)
    out.commit()


def require_features(result: ConvertResult, lenient: bool) -> None:
    """A file with no feature (only directives and comments, or every line skipped) makes an
    empty genome, which is never what the user wants: an error in every mode, so that a
    pipeline does not load a wrong input as a genome. Not added where an error already fails
    the conversion (every line bad, in default mode) or says why nothing was read."""
    log = result.log
    if result.features or has_fatal(log):
        return
    if log.errors and not lenient:
        return
    log.error(0, "no-features",
              "no feature was converted: the file has no feature lines (9 tab-separated "
              "columns)" + (", or every one was skipped for an error" if result.skipped_lines
                            else ""))


@dataclass
class Options:
    fmt: str
    species: str | None
    taxon: str | None
    assembly: str | None
    annotation: str | None
    base_iri: str
    lenient: bool
    strict: bool
    window: int
    graph: str | None
    meta_graph: str | None
    keep: int = 1000  # problems kept per kind

