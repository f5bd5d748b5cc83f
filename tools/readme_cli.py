"""Regenerate the CLI reference (docs/cli.md) from ``gff2rdf --help`` and the settings table of
docs/settings.md (``make readme``); ``--check`` only says whether they are current (exit 1 if
not, naming the stale files), as ``make lint`` and tests/test_docs.py run it."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from click.testing import CliRunner

from gff2rdf.cli import main

SETTINGS_DOC = Path(__file__).parents[1] / "docs" / "settings.md"
CLI_DOC = Path(__file__).parents[1] / "docs" / "cli.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"
SETTINGS_START, SETTINGS_END = "<!-- settings:start -->", "<!-- settings:end -->"


def settings_table() -> str:
    from gff2rdf.settings import SETTINGS, env_name

    rows = ["| setting | environment | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default else "(empty)"
        rows.append(f"| {s.name} | `{env_name(s.name)}` | {default} | {s.help} |")
    return "\n".join(rows)


def _commands() -> list[list[str]]:
    found: list[list[str]] = [[]]
    for name in sorted(main.commands):
        command = main.commands[name]
        found.append([name])
        for sub in sorted(getattr(command, "commands", {})):
            found.append([name, sub])
    return found


def reference() -> str:
    runner = CliRunner()
    parts = []
    for args in _commands():
        result = runner.invoke(main, [*args, "--help"], prog_name="gff2rdf", terminal_width=100)
        title = "gff2rdf " + " ".join(args) if args else "gff2rdf"
        parts.append(f"### `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def regenerated() -> dict[Path, str]:
    """Each generated file's text as it should be now."""
    out = {}
    for path, start, end, body in ((CLI_DOC, START, END, reference()),
                                   (SETTINGS_DOC, SETTINGS_START, SETTINGS_END, settings_table())):
        text = path.read_text(encoding="utf-8")
        if start not in text or end not in text:
            raise SystemExit(f"{path}: the markers {start} ... {end} are missing")
        block = f"{start}\n{body}\n{end}"
        out[path] = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _, b=block: b, text,
                           flags=re.S)
    return out


def main_(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in regenerated().items():
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not check:
                path.write_text(text, encoding="utf-8")
    if check and stale:
        names = ", ".join(str(p.relative_to(Path(__file__).parents[1])) for p in stale)
        print(f"stale: {names}; run make readme", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main_(sys.argv[1:]))
