r"""The Landau-Lifshitz right-hand side (1.2) and exact rotations of :math:`\mathbb{R}^3`.

With :math:`\beta = 1` the paper writes the precession as a skew matrix,
:math:`\mathcal{H}\mathbf{m} = \mathbf{m} \times \mathbf{H}` (Section 4). The
functions here work on arrays of vectors with a trailing axis of length 3.
"""

from __future__ import annotations

import numpy as np


def landau_lifshitz(m: np.ndarray, H: np.ndarray, beta: float, gamma: float) -> np.ndarray:
    r"""Right-hand side of (1.1)/(1.2): :math:`-\beta\,\mathbf{m}\times\mathbf{H} - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{H})`.

    Parameters
    ----------
    m, H : ndarray, shape ``(..., 3)``
        Magnetisation and field, broadcast against each other.
    beta, gamma : float
        Precession and damping constants.
    """
    mxH = np.cross(m, H)
    return -beta * mxH - gamma * np.cross(m, mxH)


def cross_matrix(a: np.ndarray) -> np.ndarray:
    r"""Skew matrix :math:`[\mathbf{a}]_\times` with :math:`[\mathbf{a}]_\times \mathbf{x} = \mathbf{a}\times\mathbf{x}`; shape ``(..., 3, 3)``."""
    a = np.asarray(a, dtype=float)
    z = np.zeros(a.shape[:-1])
    a1, a2, a3 = a[..., 0], a[..., 1], a[..., 2]
    return np.stack(
        [np.stack([z, -a3, a2], -1), np.stack([a3, z, -a1], -1), np.stack([-a2, a1, z], -1)], -2
    )


def cayley_rotation(a: np.ndarray) -> np.ndarray:
    r"""Cayley transform :math:`(I - [\mathbf{a}]_\times)^{-1}(I + [\mathbf{a}]_\times)`.

    In closed form :math:`I + \frac{2}{1+|\mathbf{a}|^2}\left([\mathbf{a}]_\times + [\mathbf{a}]_\times^2\right)`,
    a rotation about :math:`\mathbf{a}` by the angle :math:`2\arctan|\mathbf{a}|`.
    One implicit midpoint step of the linear equation
    :math:`\dot{\mathbf{m}} = \mathbf{h}\times\mathbf{m}` with step ``dt`` is this
    rotation with :math:`\mathbf{a} = \mathbf{h}\,dt/2`.
    """
    A = cross_matrix(a)
    scale = 2.0 / (1.0 + np.sum(a * a, axis=-1))
    return np.eye(3) + scale[..., None, None] * (A + A @ A)


def exp_rotation(w: np.ndarray) -> np.ndarray:
    r"""Matrix exponential :math:`\exp([\mathbf{w}]_\times)` by Rodrigues' formula.

    :math:`I + \frac{\sin\theta}{\theta}[\mathbf{w}]_\times + \frac{1-\cos\theta}{\theta^2}[\mathbf{w}]_\times^2`,
    :math:`\theta = |\mathbf{w}|`, with the series used for small :math:`\theta`.
    """
    A = cross_matrix(w)
    theta2 = np.sum(w * w, axis=-1)
    theta = np.sqrt(theta2)
    small = theta < 1e-4
    safe = np.where(small, 1.0, theta)
    a = np.where(small, 1 - theta2 / 6 + theta2**2 / 120, np.sin(safe) / safe)
    b = np.where(small, 0.5 - theta2 / 24 + theta2**2 / 720, (1 - np.cos(safe)) / safe**2)
    return np.eye(3) + a[..., None, None] * A + b[..., None, None] * (A @ A)
