"""Regenerate the CLI reference of README.md from ``gff2rdf --help`` (``make readme``)."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from gff2rdf.cli import main

README = Path(__file__).parents[1] / "README.md"
START, END = "<!-- cli-reference:start -->", "<!-- cli-reference:end -->"


def reference() -> str:
    runner = CliRunner()
    parts = []
    for args in [[], *([name] for name in sorted(main.commands))]:
        result = runner.invoke(main, [*args, "--help"], terminal_width=100)
        title = "gff2rdf " + " ".join(args) if args else "gff2rdf"
        parts.append(f"### `{title}`\n\n```\n{result.output.rstrip()}\n```\n")
    return "\n".join(parts)


def main_() -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{START}\n{reference()}\n{END}"
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: block, text, flags=re.S)
    README.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    main_()
