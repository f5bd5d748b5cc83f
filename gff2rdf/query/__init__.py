"""Canned SPARQL queries (``queries/*.rq``, read by ``canned``): their parameters bound safely
(``binding``), the plan that runs them on a store or an endpoint, index-backed when it can
(``plans``), and their results as tables, CSV, TSV or JSON (``results``).
"""
