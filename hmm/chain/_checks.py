"""Input checks of the chain solvers, on top of the scalar checks of :mod:`hmm._checks`.

Every check raises :class:`ValueError` naming the argument and the rule it broke.
"""

from __future__ import annotations

import numpy as np

from .. import _checks

_UNIT_TOL = 1e-8


def chain_state(name: str, m0) -> np.ndarray:
    """Return ``m0`` as a float array of shape (n, 3), n >= 1, of finite unit vectors."""
    try:
        m = np.array(m0, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite array of shape (n, 3), got {m0!r}") from None
    if m.ndim != 2 or m.shape[1] != 3 or m.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, 3) with n >= 1, got shape {m.shape}")
    if not np.all(np.isfinite(m)):
        raise ValueError(f"{name} must be finite")
    err = np.max(np.abs(np.linalg.norm(m, axis=1) - 1.0))
    if err > _UNIT_TOL:
        raise ValueError(f"{name} must hold unit vectors (|m_i| = 1), max ||m_i| - 1| = {err:.2e}")
    return m


def constants(J, beta, gamma) -> tuple[float, float, float]:
    """Return the coupling ``J`` (finite), ``beta`` (> 0) and ``gamma`` (>= 0) as floats."""
    return (
        _checks.finite("J", J),
        _checks.positive("beta", beta),
        _checks.nonnegative("gamma", gamma),
    )


def spacing(dx, n: int) -> float:
    """Particle spacing: ``dx`` (> 0), or ``1/n`` when it is None."""
    return 1.0 / n if dx is None else _checks.positive("dx", dx)


def output_times(t_eval, T: float) -> np.ndarray:
    """Sorted output times in ``[0, T]``; default ``linspace(0, T, 1001)``."""
    if t_eval is None:
        return np.linspace(0.0, T, 1001)
    t = np.asarray(t_eval, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)):
        raise ValueError("t_eval must be a finite, non-empty 1-d array")
    if np.any(t < 0) or np.any(t > T) or np.any(np.diff(t) < 0):
        raise ValueError("t_eval must be sorted and lie in [0, T]")
    return t


def average_times(t) -> np.ndarray:
    """Sorted times >= 0 at which to average."""
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("t must be a finite non-empty 1-d array of times >= 0")
    if np.any(np.diff(t) < 0):
        raise ValueError("t must be sorted")
    return t
