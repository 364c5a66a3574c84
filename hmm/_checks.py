"""Input checks shared by the public functions.

Every check raises :class:`ValueError` with a message that names the argument and the rule it
broke, so that bad input never turns silently into NaN, a warning or a MemoryError. The public
functions call these once, at their entry; the internal layers trust what they receive.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np

from .solution import Solution

MAX_WORK = 10**8
"""Default cap on the work of one solver call, in spin steps (one step of one spin's integrator).

A solver refuses up front a call that would take more: at about a microsecond and a half per
spin step here, 1e8 steps is a few minutes, and the arrays behind it stay below a gigabyte.
Every solver takes ``max_work=`` to raise it."""


def positive(name: str, value: float) -> float:
    """Return ``value`` as a float; it must be finite and > 0."""
    x = _real(name, value)
    if not x > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")
    return x


def nonnegative(name: str, value: float) -> float:
    """Return ``value`` as a float; it must be finite and >= 0."""
    x = _real(name, value)
    if not x >= 0:
        raise ValueError(f"{name} must be >= 0, got {value!r}")
    return x


def constants(beta, gamma) -> tuple[float, float]:
    """Return the constants of the LL equation (1.1) as floats: ``beta`` > 0, ``gamma`` >= 0."""
    return positive("beta", beta), nonnegative("gamma", gamma)


def finite(name: str, value: float) -> float:
    """Return ``value`` as a float; it must be a finite real number."""
    return _real(name, value)


def integer(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as an int; it must be an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def flag(name: str, value: bool) -> bool:
    """Return ``value``; it must be True or False."""
    if not isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def vector3(name: str, value) -> np.ndarray:
    """Return ``value`` as a float array of shape (3,) with finite entries."""
    return array(name, value, (3,))


UNIT_TOL = 1e-3
r"""How far from 1 the length of an initial state may be.

Room for a rounded normalisation and for the :math:`O(\varepsilon^2)` by which the averaged
start of :func:`hmm.averaged_start` leaves the sphere; a state of length 0 or 2 is refused."""


def unit_vector(name: str, value) -> np.ndarray:
    """Return ``value`` as a finite float array of shape (3,) and length 1 (within :data:`UNIT_TOL`).

    The damping term of (1.1) is quadratic in the state, so a state of another length is not a
    rescaled solution but another equation: it is refused, not normalised silently.
    """
    v = vector3(name, value)
    return unit_rows(name, v[None])[0]


def unit_rows(name: str, value: np.ndarray) -> np.ndarray:
    """Return the finite array ``value`` of shape (n, 3); every row must have length 1."""
    length = np.linalg.norm(value, axis=-1)
    bad = np.flatnonzero(np.abs(length - 1.0) > UNIT_TOL)
    if bad.size:
        where = "" if value.shape[0] == 1 else f" (row {bad[0]})"
        raise ValueError(
            f"{name} must be a unit vector{where}, got length {length[bad[0]]:.6g}; "
            f"pass {name} / np.linalg.norm({name}, axis=-1, keepdims=True)"
            + (" (a zero vector has no direction)" if length[bad[0]] == 0 else "")
        )
    return value


def chain_state(name: str, value) -> np.ndarray:
    """Return ``value`` as a float array of shape (n, 3), n >= 1, of finite unit vectors."""
    return unit_rows(name, array(name, value, (-1, 3)))


def chain_constants(J, beta, gamma) -> tuple[float, float, float]:
    """Return the coupling ``J`` (finite), ``beta`` (> 0) and ``gamma`` (>= 0) of (3.8) as floats."""
    return (finite("J", J), *constants(beta, gamma))


def spacing(dx, n: int) -> float:
    """Particle spacing: ``dx`` (> 0), or ``1/n`` when it is None."""
    return 1.0 / n if dx is None else positive("dx", dx)


def average_times(t) -> np.ndarray:
    """Sorted times >= 0 at which to average."""
    t = array("t", t, (-1,))
    if np.any(t < 0) or np.any(np.diff(t) < 0):
        raise ValueError("t must be sorted times >= 0")
    return t


def array(name: str, value, shape: tuple) -> np.ndarray:
    """Return ``value`` as a finite real float array of the given shape (``-1``: any length >= 1)."""
    want = (
        "("
        + ", ".join("n" if k == -1 else str(k) for k in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )
    try:
        v = np.array(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real array of shape {want}") from None
    if v.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {v.dtype}")
    v = v.astype(float)
    if v.ndim != len(shape) or any(n != k and k != -1 for n, k in zip(v.shape, shape, strict=True)):
        raise ValueError(f"{name} must have shape {want}, got shape {v.shape}")
    if v.size == 0:
        raise ValueError(f"{name} must have shape {want} with n >= 1, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def choice(name: str, value: str, options: tuple[str, ...]) -> str:
    """Return ``value``; it must be one of ``options``."""
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def field(H: Callable) -> Callable:
    """Return ``H``; it must be callable as ``H(t, s)``."""
    if not callable(H):
        raise ValueError(f"H must be a callable H(t, s), got {type(H).__name__}")
    return H


def output_times(t_eval, T: float) -> np.ndarray | None:
    """Sorted output times in ``[0, T]`` as a float array, or None."""
    if t_eval is None:
        return None
    t = array("t_eval", t_eval, (-1,))
    if np.any(t < 0) or np.any(t > T) or np.any(np.diff(t) < 0):
        raise ValueError("t_eval must be sorted and lie in [0, T]")
    return t


def work(needed: float, max_work: int, *, asked: str, change: str) -> None:
    """Refuse a call whose work, in spin steps, is above ``max_work``.

    Parameters
    ----------
    needed : float
        Spin steps the call would take.
    max_work : int
        The cap (default :data:`MAX_WORK`).
    asked : str
        What asks for the work, naming the arguments, e.g. ``"eps = 1e-09 (T / eps x 64 RK4
        steps)"``.
    change : str
        What to change instead, e.g. ``"raise eps or lower T"``.
    """
    if needed > max_work:
        raise ValueError(
            f"{asked} asks for {needed:.2g} spin steps, above max_work = {max_work:.2g} (a few "
            f"minutes); {change}, or pass max_work={int(needed) + 1} to run it anyway"
        )


def finite_array(name: str, value) -> np.ndarray:
    """Return ``value`` as a finite real float array of any shape."""
    try:
        v = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real array") from None
    if v.dtype.kind not in "fiu" or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be a finite real array, got {value!r}")
    return v.astype(float)


def states(name: str, value) -> np.ndarray:
    """Return ``value`` as a finite real float array of shape ``(..., 3)``."""
    v = finite_array(name, value)
    if v.ndim == 0 or v.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., 3), got shape {v.shape}")
    return v


def single_spin(sol: Solution) -> Solution:
    """Return ``sol``; it must be a single-spin :class:`hmm.Solution` with at least two times."""
    if not isinstance(sol, Solution) or sol.m.ndim != 2 or len(sol.t) < 2:
        raise ValueError("sol must be a single-spin hmm.Solution with at least two times")
    return sol


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x
