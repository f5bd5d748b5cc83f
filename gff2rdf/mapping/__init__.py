"""From GFF3 terms to the knowledge graph's terms: the LinkML schema compiled into the tables the
emitter uses (``schema``; the schema itself is ``ontology/gff2rdf.yaml``), Sequence Ontology
types with their synonyms and subclasses (``sotypes``), and Dbxref prefixes to IRIs
(``dbxref``).
"""
