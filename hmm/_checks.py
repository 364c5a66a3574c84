"""Input checks shared by the public functions.

Every check raises :class:`ValueError` with a message that names the argument
and the rule it broke, so that bad input never turns silently into NaN.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable

import numpy as np


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


def finite(name: str, value: float) -> float:
    """Return ``value`` as a float; it must be a finite real number."""
    return _real(name, value)


def integer(name: str, value: int, minimum: int) -> int:
    """Return ``value`` as an int; it must be an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def vector3(name: str, value) -> np.ndarray:
    """Return ``value`` as a float array of shape (3,) with finite entries."""
    try:
        v = np.array(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite array of shape (3,), got {value!r}") from None
    if v.shape != (3,):
        raise ValueError(f"{name} must have shape (3,), got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite, got {v}")
    return v


def choice(name: str, value: str, options: tuple[str, ...]) -> str:
    """Return ``value``; it must be one of ``options``."""
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def kernel(name: str, K):
    """Return ``K``; it must be a :class:`hmm.Kernel` made by :func:`hmm.kernel`."""
    from .kernels import Kernel  # local import: hmm.kernels itself uses these checks

    if not isinstance(K, Kernel):
        raise ValueError(f"{name} must be a hmm.Kernel from hmm.kernel(p, q), got {K!r}")
    return K


def field(H: Callable) -> Callable:
    """Return ``H``; it must be callable as ``H(t, s)``."""
    if not callable(H):
        raise ValueError(f"H must be a callable H(t, s), got {type(H).__name__}")
    return H


def evaluate_field(H: Callable, t, s) -> np.ndarray:
    """Evaluate ``H(t, s)`` and check it returns finite values of shape ``t.shape + (3,)``.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``; ``t`` is slow time, ``s`` the fast variable (period 1).
    t, s : array_like
        Arrays of one shape ``S``.

    Returns
    -------
    ndarray, shape ``S + (3,)``
    """
    t = np.asarray(t, dtype=float)
    s = np.broadcast_to(np.asarray(s, dtype=float), t.shape)
    values = np.asarray(H(t, s))
    if values.dtype.kind not in "fiu":
        raise ValueError(
            f"H(t, s) must return real numbers, got dtype {values.dtype}"
            + (" (take the real part yourself if you mean it)" if values.dtype.kind == "c" else "")
        )
    values = values.astype(float, copy=False)
    if values.shape != t.shape + (3,):
        raise ValueError(
            f"H(t, s) must return shape t.shape + (3,) = {t.shape + (3,)}, got {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("H(t, s) must return finite values, got NaN or inf")
    return values


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number, got {value!r}")
    x = float(value)
    if not np.isfinite(x):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return x
