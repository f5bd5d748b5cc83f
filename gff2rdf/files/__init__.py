"""Files in and out, below every stage: gzip-aware input (``compressed``), outputs that appear
only when complete and never replace their own input or a special file (``outputs``), worker
processes forked with a tuned garbage collector (``forked``), and stop signals turned into a
clean interrupt (``interrupts``).
"""
