"""Writing RDF: the emitter that turns features into triples (``emit``), the Turtle, N-Triples and
N-Quads writers (``writers``), and the description of a genome version written at the end of
every output (``description``).
"""
