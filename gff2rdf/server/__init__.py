"""``gff2rdf serve``: the SPARQL 1.1 endpoint and its web page. The application (``app``) behind
a bounded HTTP server (``http``, ``messages``, ``config``); queries checked by the guard
(``lexer``, ``guard``, ``using``) and run in a pool of worker processes (``pool``, ``lanes``,
``process``, ``worker``, ``store``) that write results (``rows``, ``formats``, ``graphs``,
``gff3``); the Graph Store Protocol and uploads (``protocol``, ``upload``, ``rdfxml``); the
pages and canned routes (``pages``, ``web/``).
"""
