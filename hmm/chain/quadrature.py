r"""The quadrature of the upscaling (3.12) by parts on the fine (propagator) grid, from the coarse RK4 nodes.

:math:`\mathbf{F} = \int K_\tau\,\dot{\mathbf{m}}\,ds = -\int K_\tau'(s)\,\mathbf{m}(s)\,ds + [K_\tau\mathbf{m}]_{-\tau/2}^{\tau/2}`
(:func:`by_parts_weights`), with :math:`\mathbf{m} = \Phi\mathbf{u}` and :math:`\mathbf{u}` Hermite-interpolated
from the coarse nodes to the fine ones (:func:`hermite_matrices`); :func:`folded_weights` folds
the three together, so that the flux is a sum over the coarse nodes.
"""

from __future__ import annotations

import numpy as np

from ..micro import MicroSettings
from ..upscaling import simpson_weights


def by_parts_weights(micro: MicroSettings, n_f: int) -> np.ndarray:
    r"""Quadrature of (3.12) by parts on the fine grid, shape ``(2, n_f + 1)`` (forward, backward).

    :math:`\mathbf{F} = \int K_\tau\,\dot{\mathbf{m}}\,ds = -\int K_\tau'(s)\,\mathbf{m}(s)\,ds + [K_\tau\mathbf{m}]_{-\tau/2}^{\tau/2}`,
    Simpson's rule for the integral; the node :math:`s = 0` is counted once (in the forward row).
    """
    half, tau = 0.5 * micro.tau, micro.tau
    s = np.linspace(-half, half, 2 * n_f + 1)
    w = simpson_weights(s) * (-micro.kernel.derivative(s / tau) / tau**2)
    wd = np.stack([w[n_f:], w[n_f::-1]])
    wd[1, 0] = 0.0
    k_end = float(micro.kernel(np.array(0.5))) / tau
    wd[0, -1] += k_end
    wd[1, -1] -= k_end
    return wd


def hermite_matrices(n_c: int, R: int, delta: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Cubic Hermite interpolation from the ``n_c + 1`` coarse nodes to the ``n_c R + 1`` fine ones.

    :math:`u(\text{fine}) = P\,u(\text{coarse}) + Q\,u'(\text{coarse})`; returns ``P, Q`` of
    shape ``(n_c R + 1, n_c + 1)`` (``Q`` includes the coarse step ``delta``).
    """
    n_f = n_c * R
    rows = np.arange(n_f + 1)
    theta = (rows % R) / R
    k0 = np.minimum(rows // R, n_c - 1)
    theta[-1] = 1.0
    P = np.zeros((n_f + 1, n_c + 1))
    Q = np.zeros((n_f + 1, n_c + 1))
    P[rows, k0] += (1 + 2 * theta) * (1 - theta) ** 2
    P[rows, k0 + 1] += theta**2 * (3 - 2 * theta)
    Q[rows, k0] += theta * (1 - theta) ** 2 * delta
    Q[rows, k0 + 1] += theta**2 * (theta - 1) * delta
    return P, Q


def folded_weights(
    Phi: np.ndarray, micro: MicroSettings, grid: tuple
) -> tuple[np.ndarray, np.ndarray]:
    r"""The by-parts weights of (3.12) folded with :math:`\Phi` and the Hermite matrices.

    :math:`\mathbf{F} = \sum_k A_k\mathbf{u}_k + B_k\dot{\mathbf{u}}_k` over the coarse nodes of
    both directions. ``Phi`` of shape ``(..., 2, n_f + 1, 3, 3)``; returns ``A, B`` of shape
    ``(..., 2, n_c + 1, 3, 3)``.
    """
    n_c, delta, R = grid
    G = by_parts_weights(micro, n_c * R)[:, :, None, None] * Phi
    P, Q = hermite_matrices(n_c, R, delta)
    A = np.einsum("...dfab,fk->...dkab", G, P)
    B = np.einsum("...dfab,fk,d->...dkab", G, Q, np.array([1.0, -1.0]))
    return A, B
