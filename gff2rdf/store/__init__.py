"""The embedded Oxigraph store: one named graph per genome version made current in one step
(``store``), the lock that lets one process write (``lock``), each build's provenance and the
metadata graph (``metadata``), what a load has to do and why (``inputs``), the bin index for
region queries (``binindex``), writing a graph out (``dump``), and loading into a remote SPARQL
Graph Store endpoint instead (``remote``).
"""
