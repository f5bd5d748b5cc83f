"""Reading GFF3: the streaming reader and its records (``reader``, ``records``), the checks of
the file's structure with their file:line problems (``checks``), and the order of the lines of
a feature of several segments (``segments``). Knows nothing of RDF.
"""
