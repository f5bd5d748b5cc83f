"""Regenerate the CLI reference (docs/cli.md) from ``gff2rdf --help`` and the settings table of
README.md (``make readme``)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from gff2rdf.cli import main

README = Path(__file__).parents[1] / "README.md"
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
        result = runner.invoke(main, [*args, "--help"], terminal_width=100)
        title = "gff2rdf " + " ".join(args) if args else "gff2rdf"
        parts.append(f"### `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def main_() -> None:
    for path, start, end, body in ((CLI_DOC, START, END, reference()),
                                   (README, SETTINGS_START, SETTINGS_END, settings_table())):
        text = path.read_text(encoding="utf-8")
        block = f"{start}\n{body}\n{end}"
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _, b=block: b, text,
                      flags=re.S)
        path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main_()
