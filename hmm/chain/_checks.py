"""Input checks of the chain solvers, on top of the scalar checks of :mod:`hmm._checks`.

Every check raises :class:`ValueError` naming the argument and the rule it broke.
"""

from __future__ import annotations

import numpy as np

from .. import _checks

_UNIT_TOL = 1e-8


def chain_state(name: str, m0) -> np.ndarray:
    """Return ``m0`` as a float array of shape (n, 3), n >= 1, of finite unit vectors."""
    m = _checks.array(name, m0, (-1, 3))
    err = np.max(np.abs(np.linalg.norm(m, axis=1) - 1.0))
    if err > _UNIT_TOL:
        raise ValueError(f"{name} must hold unit vectors (|m_i| = 1), max ||m_i| - 1| = {err:.2e}")
    return m


def constants(J, beta, gamma) -> tuple[float, float, float]:
    """Return the coupling ``J`` (finite), ``beta`` (> 0) and ``gamma`` (>= 0) as floats."""
    return (_checks.finite("J", J), *_checks.constants(beta, gamma))


def spacing(dx, n: int) -> float:
    """Particle spacing: ``dx`` (> 0), or ``1/n`` when it is None."""
    return 1.0 / n if dx is None else _checks.positive("dx", dx)


def average_times(t) -> np.ndarray:
    """Sorted times >= 0 at which to average."""
    t = _checks.array("t", t, (-1,))
    if np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError("t must be sorted times >= 0")
    return t
