r"""Space-time averages (3.9) of the direct simulation, and the weights of the spatial average.

The macro point :math:`X_I` sits on particle :math:`I(r+\ell)`; its value is
:math:`\mathbf{M}_I = \sum_{|j|\le r}\omega_j (K_\tau * \mathbf{m}_{I(r+\ell)+j})`, the target of the HMM.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _checks
from ..kernels import Kernel
from ..micro import micro_grid
from ..upscaling import kernel_weights
from . import _checks as chain_checks
from .dns import DEFAULT_DNS_STEPS_PER_EPS, dns_stats, dns_step, rk4_chain
from .solution import ChainSolution


def macro_particles(n: int, r: int, ell: int) -> np.ndarray:
    """Indices ``I (r + ell)`` of the particles under the macro points; ``n`` must be a multiple of ``r + ell``."""
    n = _checks.integer("n", n, 1)
    r = _checks.integer("r", r, 1)
    ell = _checks.integer("ell", ell, 0)
    if n % (r + ell):
        raise ValueError(
            f"the number of particles n = {n} must be a multiple of r + ell = {r + ell} (n = L (r + ell))"
        )
    return np.arange(0, n, r + ell)


def space_weights(space_kernel: Kernel, r: int) -> np.ndarray:
    r"""Weights :math:`\omega_j`, :math:`j = -r, \dots, r`, of the spatial average in (3.9)/(3.12).

    :math:`\omega_j = K(j/2r) / \sum_k K(k/2r)`: the kernel :math:`K_\eta`, :math:`\eta = 2r\,\delta x`,
    sampled on the ``2r + 1`` particles of a box and normalised so that the weights sum to 1.
    """
    _checks.kernel("space_kernel", space_kernel)
    r = _checks.integer("r", r, 1)
    w = space_kernel(np.arange(-r, r + 1) / (2.0 * r))
    total = w.sum()
    if not total > 0:
        raise ValueError(
            f"space_kernel sampled on 2r + 1 = {2 * r + 1} points sums to {total:g} <= 0"
        )
    return w / total


def space_average(m, r: int, ell: int, space_kernel: Kernel) -> np.ndarray:
    r"""Spatial part of (3.9): :math:`\sum_{|j|\le r}\omega_j\,\mathbf{m}_{I(r+\ell)+j}` at every macro point.

    Parameters
    ----------
    m : array_like, shape (..., n, 3)
        Values on all particles (e.g. time averages from :func:`dns_time_average`).
    r, ell, space_kernel
        As in :func:`solve_hmm`.

    Returns
    -------
    ndarray, shape (..., L, 3)
    """
    m = np.asarray(m, dtype=float)
    if m.ndim < 2 or m.shape[-1] != 3:
        raise ValueError(f"m must have shape (..., n, 3), got {m.shape}")
    n = m.shape[-2]
    macro = macro_particles(n, r, ell)
    omega = space_weights(space_kernel, r)
    offsets = (macro[:, None] + np.arange(-r, r + 1)[None, :]) % n
    return np.einsum("j,...ljc->...lc", omega, m[..., offsets, :])


def dns_time_average(
    m0,
    H: Callable,
    *,
    t,
    eps: float,
    tau: float,
    kernel: Kernel,
    J: float,
    beta: float = 1.0,
    gamma: float = 1.0,
    steps_per_eps: int = DEFAULT_DNS_STEPS_PER_EPS,
    dx: float | None = None,
) -> ChainSolution:
    r"""Time averages :math:`(K_\tau * \mathbf{m}_i)(t)` of every particle of the direct simulation (3.8).

    The chain is simulated (RK4, as :func:`solve_dns`) over the union of the windows
    :math:`[t - \tau/2, t + \tau/2]`, backward in time for the part before 0, and each window
    is averaged by Simpson's rule on nodes at most :math:`\varepsilon/` ``steps_per_eps`` apart.

    Parameters
    ----------
    m0, H, eps, J, beta, gamma, steps_per_eps, dx
        As in :func:`solve_dns`.
    t : array_like
        Sorted times :math:`\ge 0` at which to average.
    tau, kernel
        Time window and kernel, as in :func:`solve_hmm`.

    Returns
    -------
    ChainSolution
        ``m`` of shape ``(len(t), n, 3)``.
    """
    m0 = chain_checks.chain_state("m0", m0)
    eps = _checks.positive("eps", eps)
    tau = _checks.positive("tau", tau)
    kernel = _checks.kernel("kernel", kernel)
    J, beta, gamma = chain_checks.constants(J, beta, gamma)
    steps_per_eps = _checks.integer("steps_per_eps", steps_per_eps, 1)
    _checks.field(H)
    n = m0.shape[0]
    dx = chain_checks.spacing(dx, n)
    t = chain_checks.average_times(t)
    s, _ = micro_grid(eps, tau, steps_per_eps, "centred")
    nodes = t[:, None] + s[None, :]
    h_max = dns_step(H, float(nodes.max()), eps, J, beta, gamma, steps_per_eps)
    fwd = np.unique(np.concatenate([[0.0], nodes[nodes >= 0]]))
    m_f, steps = rk4_chain(m0, H, fwd, h_max, eps=eps, J=J, beta=beta, gamma=gamma)
    values = m_f[np.searchsorted(fwd, np.maximum(nodes, 0.0))]  # (len(t), len(s), n, 3)
    if np.any(nodes < 0):
        bwd = np.unique(np.concatenate([[0.0], nodes[nodes < 0]]))[::-1]
        m_b, steps_b = rk4_chain(m0, H, bwd, h_max, eps=eps, J=J, beta=beta, gamma=gamma)
        steps += steps_b
        neg = nodes < 0
        values[neg] = m_b[len(bwd) - 1 - np.searchsorted(bwd[::-1], nodes[neg])]
    avg = np.einsum("s,tsic->tic", kernel_weights(s, kernel, tau), values)
    stats = dns_stats(steps, n)
    return ChainSolution(t, avg, np.arange(n) * dx, stats)


def dns_average(
    m0,
    H: Callable,
    *,
    t,
    eps: float,
    tau: float,
    kernel: Kernel,
    r: int,
    ell: int,
    J: float,
    beta: float = 1.0,
    gamma: float = 1.0,
    space_kernel: Kernel | None = None,
    steps_per_eps: int = DEFAULT_DNS_STEPS_PER_EPS,
    dx: float | None = None,
) -> ChainSolution:
    r"""Space-time averages (3.9) of the direct simulation at the macro points: the target of the HMM.

    :math:`\mathbf{M}_I(t) = \sum_{|j|\le r}\omega_j\,(K_\tau * \mathbf{m}_{I(r+\ell)+j})(t)` with the
    weights of :func:`space_weights`: :func:`space_average` of :func:`dns_time_average`.

    Parameters
    ----------
    m0, H, eps, J, beta, gamma, steps_per_eps, dx
        As in :func:`solve_dns`.
    t : array_like
        Sorted times :math:`\ge 0` at which to average.
    tau, kernel, r, ell, space_kernel
        As in :func:`solve_hmm`.

    Returns
    -------
    ChainSolution
        ``m`` of shape ``(len(t), L, 3)``, ``x`` the macro points.
    """
    m0 = chain_checks.chain_state("m0", m0)
    macro = macro_particles(m0.shape[0], r, ell)
    kernel = _checks.kernel("kernel", kernel)
    space_kernel = kernel if space_kernel is None else _checks.kernel("space_kernel", space_kernel)
    avg = dns_time_average(
        m0,
        H,
        t=t,
        eps=eps,
        tau=tau,
        kernel=kernel,
        J=J,
        beta=beta,
        gamma=gamma,
        steps_per_eps=steps_per_eps,
        dx=dx,
    )
    M = space_average(avg.m, r, ell, space_kernel)
    return ChainSolution(avg.t, M, avg.x[macro], avg.stats)
