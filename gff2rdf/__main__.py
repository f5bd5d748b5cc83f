"""``python -m gff2rdf``: the ``gff2rdf`` command."""

from .cli import main

main(prog_name="gff2rdf")
