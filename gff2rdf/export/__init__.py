"""Back from the graph to GFF3 (``gff2rdf export``): a genome version read from a file, the store
or an endpoint (``source``, ``parse``) into a small index (``read``), selected by region, type,
IDs or a query (``select``), and written as GFF3 (``gff3``) by ``export`` (``api``).
"""
