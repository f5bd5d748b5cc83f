"""OBO ontologies (SO, PO, GO slims, FALDO) for offline joins: the OBO reader (``parse``) and
loading an ontology with its subclass closure into the store (``load``). Not to be confused
with ``ontology/``, the project's LinkML schema.
"""
