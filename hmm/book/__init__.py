"""The book's experiments, one module per chapter.

Each module holds what its chapter computes (sweeps, tables, figures)
as functions named after what they compute, returning plain results
(arrays, small dataclasses), and ``claims(...)``, which decides the
chapter's verdicts with :class:`hmm.claims.Claim`. The notebooks call
these functions in short cells; the benchmarks and tests import the
same functions. The code here keeps to the width of the book's code
column (75 characters, ``ruff.toml`` beside this file, E501 on),
because the chapters show it in place with ``literalinclude``.
"""
