"""Show sympy results as typeset display math, with a stable plain-text form for nbval.

A notebook that derives something with sympy should show the result as a formula, not as
``print(expr)``. ``show_math`` returns an object whose rich output has two forms:

* ``text/latex``: ``$$\\begin{aligned} ... \\end{aligned}$$``, one row per result, which
  Jupyter Book (myst-nb renders ``text/latex`` as a display equation typeset by MathJax),
  JupyterLab and Colab show as a formula;
* ``text/plain``: ``name = sstr(expr)``, one line per result, which a terminal shows.

nbval compares every output form except images, so both forms must be the same on every run.
They are: sympy prints a given expression in a canonical order (``latex``, ``sstr``), with no
memory addresses, hashes or timings, and sympy is pinned in requirements.txt. Long sums are broken
after ``terms`` terms per row (continued with ``+`` on the next row), so that the equation fits
the text column (``make check-html`` fails on a display equation wider than the column).

Usage, as the last line of a cell (or inside ``display(...)``)::

    from show_math import show_math            # the lead moves this module into the package
    show_math(m1=m1.simplify(), m2=m2)          # rows "m_1 = ...", "m_2 = ..."
    show_math([("\\mathbf{m}_1", m1), ("c_k", c)])  # names as LaTeX, in this order
    show_math(expr)                             # one unnamed formula
    show_math(m1=m1, terms=3)                   # at most three terms of a sum per row

A name is typeset like a sympy symbol (``m1`` -> ``m_{1}``, ``alpha`` -> ``\\alpha``) unless it
already is LaTeX (it holds a backslash, ``_``, ``^`` or ``{``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sympy

__all__ = ["Typeset", "show_math"]


@dataclass(frozen=True)
class Typeset:
    """Rows (name, expression) shown as display math; plain text for terminals and nbval."""

    rows: tuple[tuple[str | None, sympy.Basic], ...]
    terms: int | None = None

    def latex(self) -> str:
        lines = []
        for name, expr in self.rows:
            pieces = _split_sum(expr, self.terms)
            lhs = f"{_latex_name(name)} &= " if name is not None else "& "
            lines.append(lhs + pieces[0])
            lines += [r"&\quad " + piece for piece in pieces[1:]]
        return "$$\\begin{aligned}\n" + " \\\\\n".join(lines) + "\n\\end{aligned}$$"

    def plain(self) -> str:
        return "\n".join(
            (f"{name} = " if name is not None else "") + sympy.sstr(expr)
            for name, expr in self.rows
        )

    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, str]:
        return {"text/latex": self.latex(), "text/plain": self.plain()}

    def __repr__(self) -> str:
        return self.plain()


def show_math(*items, terms: int | None = None, **named) -> Typeset:
    """Typeset sympy results as display math (rows of an ``aligned`` block).

    Parameters
    ----------
    *items
        Expressions, or ``(name, expression)`` pairs, or one list of either: one row each, in
        order. Anything sympy can ``sympify`` (numbers, matrices) is accepted.
    terms
        Break a sum after this many terms per row (``None``: never).
    **named
        ``name=expression`` rows, after the positional ones, in the order given.
    """
    if len(items) == 1 and isinstance(items[0], list | tuple) and not _is_pair(items[0]):
        items = tuple(items[0])
    rows = [_row(item) for item in items] + [(k, sympy.sympify(v)) for k, v in named.items()]
    if not rows:
        raise ValueError("show_math: nothing to show (give at least one expression)")
    if terms is not None and terms < 1:
        raise ValueError(f"show_math: terms must be a positive integer, got {terms!r}")
    return Typeset(tuple(rows), terms)


def _is_pair(item) -> bool:
    return isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)


def _row(item) -> tuple[str | None, sympy.Basic]:
    if _is_pair(item):
        return item[0], sympy.sympify(item[1])
    return None, sympy.sympify(item)


def _latex_name(name: str) -> str:
    if any(c in name for c in "\\_^{"):
        return name
    return sympy.latex(sympy.Symbol(name))


def _split_sum(expr: sympy.Basic, terms: int | None) -> list[str]:
    """LaTeX of expr, a sum cut into pieces of at most `terms` terms (signs carried over)."""
    if terms is None or not isinstance(expr, sympy.Add) or len(expr.args) <= terms:
        return [sympy.latex(expr)]
    ordered = expr.as_ordered_terms()  # the order in which sympy prints the sum
    pieces = []
    for start in range(0, len(ordered), terms):
        chunk = _signed(ordered[start : start + terms])
        pieces.append(chunk if start else chunk.removeprefix("+ "))
    return pieces


def _signed(chunk: Iterable[sympy.Basic]) -> str:
    out = []
    for term in chunk:
        if term.could_extract_minus_sign():
            out.append("- " + sympy.latex(-term))
        else:
            out.append("+ " + sympy.latex(term))
    return " ".join(out)
