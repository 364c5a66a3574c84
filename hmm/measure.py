r"""How the book measures: errors, fitted rates, phase envelopes, timings, and stable printing.

The chapters import these instead of writing their own; each is small and tested.

* :func:`max_error` -- the error norm of every chapter: the largest Euclidean distance over all
  times (and points).
* :func:`fit_loglog` -- a least-squares rate on log-log axes, with the range it was fitted on.
* :func:`phase_shifted_eps` -- values of :math:`\varepsilon` next to a nominal one at which the
  macro times fall on chosen phases :math:`\{t_n/\varepsilon\}`, for envelopes over the phase.
* :func:`timed` -- wall time of one call (printed only with the ``(wall)`` mark that the tests mask).
* :func:`table` -- a plain-text table whose columns fit the values.
* :func:`bound` -- a number at round-off level printed as a bound, never as digits.
* :func:`fixed` -- a number in fixed point without the sign of a zero (never ``-0.00``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


def max_error(a, b) -> float:
    r""":math:`\max |a - b|_2`: the Euclidean norm over the last axis, maximised over all others."""
    return float(
        np.max(np.linalg.norm(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), axis=-1))
    )


@dataclass(frozen=True)
class LogFit:
    """A least-squares fit :math:`\\log y = s \\log x + c` on the points ``x[used]``."""

    slope: float
    intercept: float
    x_min: float
    x_max: float
    points: int

    def line(self, x) -> np.ndarray:
        """The fitted power law at ``x``, for plotting."""
        return np.exp(self.intercept) * np.asarray(x, dtype=float) ** self.slope

    @property
    def range(self) -> str:
        """The fitted range, ``"[x_min, x_max]"`` with two significant digits."""
        return f"[{self.x_min:.2g}, {self.x_max:.2g}]"


def fit_loglog(x, y, where=None) -> LogFit:
    """Least-squares slope of ``log y`` against ``log x`` on the points where ``where`` is True.

    Parameters
    ----------
    x, y : array_like
        Positive data.
    where : array_like of bool, optional
        The points in the range where the claimed term dominates (default: all).
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    used = np.ones(x.shape, bool) if where is None else np.asarray(where, bool)
    if used.sum() < 2:
        raise ValueError(f"fit_loglog needs at least 2 points, got {int(used.sum())}")
    if np.any(x[used] <= 0) or np.any(y[used] <= 0):
        raise ValueError("fit_loglog needs positive x and y")
    slope, intercept = np.polyfit(np.log(x[used]), np.log(y[used]), 1)
    return LogFit(
        float(slope), float(intercept), float(x[used].min()), float(x[used].max()), int(used.sum())
    )


def phase_shifted_eps(
    eps: float, dt: float, phases: Sequence[float] = (0.0, 0.25, 0.5, 0.75)
) -> np.ndarray:
    r"""Values near ``eps`` with :math:`\{\Delta t/\varepsilon\}` equal to each of ``phases``.

    With :math:`k = \mathrm{round}(\Delta t/\varepsilon)` they are :math:`\Delta t/(k + \phi)`: the
    macro times :math:`t_n = n\Delta t` then sit at the fast phases :math:`n\phi` (0 is resonant:
    every macro time at the same phase). An envelope over them bounds the worst case.
    """
    k = round(dt / eps)
    return np.array([dt / (k + phi) for phi in phases])


def timed(f: Callable, *args, **kwargs):
    """Call ``f(*args, **kwargs)``; return its result and the wall time in seconds."""
    start = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - start


def bound(x: float, limit: float) -> str:
    """``"< limit"`` for a value at round-off level (checked: ``x < limit``), so no digit can flip."""
    if not abs(x) < limit:
        raise ValueError(f"{x!r} is not below {limit:g}: print it with digits, not as a bound")
    return f"< {limit:.0e}"


def fixed(x: float, digits: int = 2) -> str:
    """``x`` with ``digits`` decimals; a value that rounds to zero prints as ``0.00``, never ``-0.00``."""
    text = f"{x:.{digits}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def count_ratio(a: int, b: int, digits: int = 2) -> str:
    """``a / b`` for two counts (work in field evaluations), ``digits`` decimals, a half rounded up.

    Integer arithmetic: a ratio that sits exactly on a half (780 / 160 = 4.875) prints the same
    on every machine, where a float could round either way.
    """
    if int(a) != a or int(b) != b or a < 0 or b <= 0:
        raise ValueError(f"count_ratio needs integer counts a >= 0 and b > 0, got a={a!r}, b={b!r}")
    scale = 10 ** int(digits)
    whole, part = divmod((2 * int(a) * scale + int(b)) // (2 * int(b)), scale)
    return f"{whole}.{part:0{int(digits)}d}" if digits else f"{whole}"


def table(rows: Sequence[Sequence], header: Sequence[str], *, align: str | None = None) -> str:
    """A plain-text table: one line per row, columns as wide as their widest entry.

    Entries are printed with ``str``: format numbers before (with a precision that a 1e-9
    change cannot flip). ``align`` has one character per column, ``<`` or ``>`` (default: text
    left, the rest right).
    """
    cells = [[str(c) for c in header]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    if align is None:
        align = "<" + ">" * (len(header) - 1)
    lines = [
        " | ".join(f"{c:{a}{w}}" for c, a, w in zip(r, align, widths, strict=True)).rstrip()
        for r in cells
    ]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)
