"""GFF3 to RDF, the library call ``convert`` (``api``) and its result (``result``): features
assembled into gene models (``assemble``), and a large file converted in chunks on several
processes (``chunks``) whose cross-chunk links are merged (``merge``).
"""
