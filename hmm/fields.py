r"""The paper's fields, each defined once, and the helpers that evaluate a field.

A field is a callable ``H(t, s)`` of the slow time ``t`` and the fast variable ``s`` (period 1),
taking arrays of one shape ``S`` and returning an array of shape ``S + (3,)``; the oscillating
field of (1.2) is :math:`\mathbf{H}^\varepsilon(t) = \mathbf{H}(t, t/\varepsilon)`.

The fields of Section 5, named after the figure that first uses them:

* :func:`fig51_left`, :math:`[\sin 2\pi s, \cos 2\pi s, 1]`: Sec. 5.1 (Fig. 5.1 left), Fig. 5.3
  left and bottom, Fig. 5.4;
* :func:`fig51_right`, :math:`[\cos 2\pi s, \cos 2\pi s, 1]`, the field (5.1): Fig. 5.1 right,
  Fig. 5.2;
* :func:`fig53_right`, :math:`[\sin^2 2\pi s, \cos^2 2\pi s, 1]`: Fig. 5.3 right;
* :func:`fig55`, :math:`(1 + \cos 0.43t + \cos^2 2\pi s)\,[0, 0, 1]`: Fig. 5.5 (every particle
  of the chain);

and the initial data :data:`FIG54_M0` and :func:`fig55_initial`. Beyond the paper,
:func:`fig55_along_chain` is the field of Fig. 5.5 made to vary along the chain, which (3.8)
allows and the paper does not test.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks

TWO_PI = 2.0 * np.pi

FIG54_M0 = np.ones(3) / np.sqrt(3.0)
r"""Initial magnetisation :math:`[1, 1, 1]^T/\sqrt3` of Fig. 5.4 (the book also uses it for Fig. 5.3,
whose initial data the paper does not give)."""


def _stack(x, y, z) -> np.ndarray:
    x, y, z = np.broadcast_arrays(x, y, z)
    return np.stack([x, y, z], axis=-1)


def fig51_left(t, s) -> np.ndarray:
    r""":math:`\mathbf{H}(t, s) = [\sin 2\pi s, \cos 2\pi s, 1]`: Section 5.1, Figs. 5.3 (left, bottom) and 5.4.

    Its mean over :math:`s` is :math:`\bar{\mathbf{H}} = [0, 0, 1]`.
    """
    s = np.asarray(s, dtype=float)
    return _stack(np.sin(TWO_PI * s), np.cos(TWO_PI * s), np.ones_like(s))


def fig51_right(t, s) -> np.ndarray:
    r"""The field (5.1), :math:`\mathbf{H}(t, s) = [\cos 2\pi s, \cos 2\pi s, 1]`: Figs. 5.1 (right) and 5.2.

    Its mean over :math:`s` is :math:`\bar{\mathbf{H}} = [0, 0, 1]`.
    """
    c = np.cos(TWO_PI * np.asarray(s, dtype=float))
    return _stack(c, c, np.ones_like(c))


def fig53_right(t, s) -> np.ndarray:
    r""":math:`\mathbf{H}(t, s) = [\sin^2 2\pi s, \cos^2 2\pi s, 1]`: Fig. 5.3 (right).

    Its mean over :math:`s` is :math:`\bar{\mathbf{H}} = [1/2, 1/2, 1]`.
    """
    s = np.asarray(s, dtype=float)
    return _stack(np.sin(TWO_PI * s) ** 2, np.cos(TWO_PI * s) ** 2, np.ones_like(s))


def fig55(t, s) -> np.ndarray:
    r""":math:`\mathbf{H}(t, s) = (1 + \cos 0.43t + \cos^2 2\pi s)\,[0, 0, 1]`: the applied field of Fig. 5.5.

    Its mean over :math:`s` is :math:`(3/2 + \cos 0.43t)\,[0, 0, 1]`.
    """
    t, s = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(s, dtype=float))
    amplitude = 1.0 + np.cos(0.43 * t) + np.cos(TWO_PI * s) ** 2
    return _stack(np.zeros_like(amplitude), np.zeros_like(amplitude), amplitude)


def fig55_along_chain(t, s, x) -> np.ndarray:
    r"""Fig. 5.5's field varying along the chain (beyond the paper).

    A field ``H(t, s, x)``: the amplitude of :func:`fig55` modulated
    along the chain, and a fast tilt whose size and sign follow the
    position :math:`x`,
    :math:`[\tfrac12\cos 2\pi x\,\cos 2\pi s,\ 0,\ a(t, s)
    (1 + \tfrac12\sin 2\pi x)]` with
    :math:`a = 1 + \cos 0.43t + \cos^2 2\pi s`.
    """
    slow = 1.0 + np.cos(0.43 * t) + np.cos(TWO_PI * s) ** 2
    amp = slow * (1.0 + 0.5 * np.sin(TWO_PI * x))
    tilt = 0.5 * np.cos(TWO_PI * x) * np.cos(TWO_PI * s)
    return _stack(tilt, np.zeros_like(amp + tilt), amp)


def fig55_initial(x) -> np.ndarray:
    r"""Initial chain of Fig. 5.5, :math:`\mathbf{m}_i(0) = [\sin 2\pi x_i, \cos 2\pi x_i, 0]`, shape ``(n, 3)``."""
    x = np.asarray(x, dtype=float)
    return _stack(np.sin(TWO_PI * x), np.cos(TWO_PI * x), np.zeros_like(x))


class Counted:
    """A field that counts the points :math:`(t, s)` at which it is evaluated (``points``).

    The solvers wrap the field they are given in one, so that ``stats["field_evaluations"]``
    is a count of real evaluations, not a formula.
    """

    def __init__(self, H: Callable):
        self.H = H
        self.points = 0

    def __call__(self, t, s):
        self.points += np.size(t)
        return self.H(t, s)


def evaluate(H: Callable, t, s) -> np.ndarray:
    """Evaluate ``H(t, s)`` and check that it returns finite real values of shape ``t.shape + (3,)``.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t, s : array_like
        Slow times and fast variables; ``s`` is broadcast to the shape of ``t``.

    Returns
    -------
    ndarray, shape ``t.shape + (3,)``
    """
    t = np.asarray(t, dtype=float)
    s = np.broadcast_to(np.asarray(s, dtype=float), t.shape)
    values = np.asarray(H(t, s))
    if values.dtype.kind not in "fiu":
        hint = " (take the real part yourself if you mean it)" if values.dtype.kind == "c" else ""
        raise ValueError(f"H(t, s) must return real numbers, got dtype {values.dtype}{hint}")
    if values.shape != t.shape + (3,):
        raise ValueError(
            f"H(t, s) must return shape t.shape + (3,) = {t.shape + (3,)}, got {values.shape}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError("H(t, s) must return finite values, got NaN or inf")
    return values.astype(float, copy=False)


def oscillating(H: Callable, t, eps: float) -> np.ndarray:
    r"""The oscillating field :math:`\mathbf{H}^\varepsilon(t) = \mathbf{H}(t, t/\varepsilon)`, shape ``t.shape + (3,)``."""
    t = np.asarray(t, dtype=float)
    return evaluate(H, t, t / eps)


def averaged_field(H: Callable, t, *, n_quad: int = 128) -> np.ndarray:
    r"""Effective field :math:`\bar{\mathbf{H}}(t) = \int_0^1 \mathbf{H}(t, s)\,ds` (Section 4, before (4.3)).

    The trapezoidal rule with ``n_quad`` points in the period; for a smooth periodic field it
    converges faster than any power of ``1/n_quad``. The book uses it only to check the HMM,
    which never sees :math:`\bar{\mathbf{H}}`.

    Returns
    -------
    ndarray, shape ``t.shape + (3,)``
    """
    _checks.field(H)
    n_quad = _checks.integer("n_quad", n_quad, 1)
    t = np.asarray(t, dtype=float)
    tt, ss = np.broadcast_arrays(t[..., None], np.arange(n_quad) / n_quad)
    return evaluate(H, tt, ss).mean(axis=-2)


def field_bound(H: Callable, T: float, n: int = 32) -> float:
    r"""Estimate :math:`\max|\mathbf{H}(t, s)|` on an ``n`` by ``n`` grid of :math:`[0, T]\times[0, 1)`."""
    t, s = np.meshgrid(np.linspace(0.0, T, n), np.arange(n) / n, indexing="ij")
    return float(np.max(np.linalg.norm(evaluate(H, t, s), axis=-1)))
