r"""Space-time averages (3.9) of the direct simulation, and the weights of the spatial average.

The macro point :math:`X_I` sits on particle :math:`I(r+\ell)`; its value is
:math:`\mathbf{M}_I = \sum_{|j|\le r}\omega_j (K_\tau * \mathbf{m}_{I(r+\ell)+j})`, the target of the HMM.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _checks
from ..dns import rk4_step_limit, step_counts
from ..kernels import Kernel, as_kernel
from ..micro import MicroSettings
from ..solution import Solution, make_stats
from ..upscaling import kernel_weights
from .dns import DEFAULT_CHAIN_DNS_STEPS_PER_EPS, check_dns_work, rk4_chain
from .field import ChainField


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
    as_kernel("space_kernel", space_kernel)
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
        Values on all particles (e.g. the time averages of :func:`dns_average`).
    r, ell, space_kernel
        As in :func:`hmm.chain.solve_hmm`.

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


def time_averages(
    field: ChainField, m0, t, micro: MicroSettings, *, J, beta, gamma, dns_steps_per_eps, max_work, x
):  # fmt: skip
    r"""Time averages :math:`(K_\tau * \mathbf{m}_i)(t)` of the direct simulation, and its RK4 steps.

    The chain (particles at ``x``) is simulated over the union of the windows
    :math:`[t - \tau/2, t + \tau/2]`, backward in time for the part before 0, and each window is
    averaged by Simpson's rule on the micro grid of ``micro`` (inputs already checked).
    """
    s, _ = micro.grid()
    nodes = t[:, None] + s[None, :]
    bound = field.bound(float(nodes.max()), x) + 2.0 * abs(J)
    h_max = rk4_step_limit(bound, micro.eps, beta, gamma, dns_steps_per_eps)
    fwd = np.unique(np.concatenate([[0.0], nodes[nodes >= 0]]))
    bwd = np.unique(np.concatenate([[0.0], nodes[nodes < 0]]))[::-1]
    steps = int(step_counts(fwd, h_max).sum() + step_counts(bwd, h_max).sum())
    check_dns_work(steps, m0.shape[0], max_work, "the (3.9) average of the chain DNS")
    kw = dict(eps=micro.eps, J=J, beta=beta, gamma=gamma, x=x)
    values = rk4_chain(field, m0, fwd, h_max, **kw)[np.searchsorted(fwd, np.maximum(nodes, 0.0))]
    if len(bwd) > 1:
        neg = nodes < 0
        m_b = rk4_chain(field, m0, bwd, h_max, **kw)
        values[neg] = m_b[len(bwd) - 1 - np.searchsorted(bwd[::-1], nodes[neg])]
    weights = kernel_weights(s, micro.kernel, micro.tau)
    return np.einsum("s,tsic->tic", weights, values), steps


def dns_average(
    H: Callable, m0, *, t, eps: float, tau: float, kernel: Kernel, J: float, beta: float = 1.0,
    gamma: float = 1.0, r: int | None = None, ell: int | None = None,
    space_kernel: Kernel | None = None, dns_steps_per_eps: int = DEFAULT_CHAIN_DNS_STEPS_PER_EPS,
    dx: float | None = None, spatial_field: bool = False, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""Averages (3.9) of the direct simulation (3.8): in time at every particle, and in space too.

    The time averages :math:`(K_\tau * \mathbf{m}_i)(t)`: the chain is simulated (RK4, as
    :func:`hmm.chain.solve_dns`) over the union of the windows :math:`[t - \tau/2, t + \tau/2]`,
    backward in time for the part before 0, and each window is averaged by Simpson's rule on nodes
    at most :math:`\varepsilon/` ``dns_steps_per_eps`` apart. With ``r`` and ``ell`` they are also
    averaged in space at the macro points (:func:`space_average`): the target of the HMM,
    :math:`\mathbf{M}_I(t) = \sum_{|j|\le r}\omega_j\,(K_\tau * \mathbf{m}_{I(r+\ell)+j})(t)`.

    Parameters
    ----------
    H, m0, eps, J, beta, gamma, dns_steps_per_eps, dx, spatial_field, max_work
        As in :func:`hmm.chain.solve_dns`.
    t : array_like
        Sorted times :math:`\ge 0` at which to average.
    tau, kernel
        Time window and kernel, as in :func:`hmm.chain.solve_hmm`.
    r, ell, space_kernel : optional
        As in :func:`hmm.chain.solve_hmm`; without ``r`` and ``ell`` only the time averages of
        every particle are returned.

    Returns
    -------
    Solution
        ``m`` of shape ``(len(t), n, 3)`` (every particle) or ``(len(t), L, 3)`` (macro points),
        ``x`` the particles or the macro points.
    """
    field = ChainField(H, spatial_field)
    m0 = _checks.chain_state("m0", m0)
    J, beta, gamma = _checks.chain_constants(J, beta, gamma)
    dns_steps_per_eps = _checks.integer("dns_steps_per_eps", dns_steps_per_eps, 1)
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(eps, tau, kernel, beta, dns_steps_per_eps, None, "centred")
    n = m0.shape[0]
    if (r is None) != (ell is None):
        raise ValueError("r and ell must be given together (or neither, for time averages only)")
    macro = None if r is None else macro_particles(n, r, ell)
    space_kernel = kernel if space_kernel is None else as_kernel("space_kernel", space_kernel)
    x = np.arange(n) * _checks.spacing(dx, n)
    t = _checks.average_times(t)
    max_work = _checks.integer("max_work", max_work, 1)
    kw = dict(
        J=J, beta=beta, gamma=gamma, dns_steps_per_eps=dns_steps_per_eps, max_work=max_work, x=x
    )
    avg, steps = time_averages(field, m0, t, micro, **kw)
    stats = make_stats(field_evaluations=field.points, steps=steps, spin_steps=steps * n)
    if macro is None:
        return Solution(t, avg, stats, x)
    return Solution(t, space_average(avg, r, ell, space_kernel), stats, x[macro])
