"""Typeset formulas in the notebooks, with a plain-text form that the tests can compare.

:class:`Formula` shows a sympy result as display math in the rendered book (``text/latex``)
and as sympy's own plain text everywhere else (``text/plain``, the form strict nbval compares:
it is exact and the same on every machine).
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy


class Formula:
    """One or more equations ``lhs = rhs``, displayed as LaTeX with a plain-text fallback.

    Parameters
    ----------
    rows : sequence of (str, str, sympy expression)
        ``(latex_lhs, text_lhs, rhs)`` for each line: the left side as LaTeX and as plain
        text, and the right side (any sympy object, including matrices and lists).
    """

    def __init__(self, rows: Sequence[tuple[str, str, object]]):
        self.rows = list(rows)

    def _repr_latex_(self) -> str:
        # each left side in braces: a row that starts with "[" would otherwise be read as the
        # optional argument of \begin{aligned} (first row) or of \\ (the others)
        lines = [rf"{{{tex}}} &= {_latex(rhs)}" for tex, _, rhs in self.rows]
        return "$$\n\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}\n$$"

    def __repr__(self) -> str:
        return "\n".join(f"{text} = {_text(rhs)}" for _, text, rhs in self.rows)


def _latex(value) -> str:
    if isinstance(value, list | tuple):
        return r"\left[" + ",\\; ".join(sympy.latex(v) for v in value) + r"\right]"
    return sympy.latex(value)


def _text(value) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)
