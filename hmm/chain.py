r"""A periodic chain of exchange-coupled spins: direct simulation (3.8) and the HMM of Section 3.3.

The chain has ``n`` particles :math:`\mathbf{m}_i`, :math:`i = 0, \dots, n-1`, with periodic
neighbours. Each feels the applied field :math:`\mathbf{H}^\varepsilon(t) = \mathbf{H}(t, t/\varepsilon)`
(the same on every particle) and the nearest-neighbour exchange field of (3.8),

.. math::  \mathbf{H}_i^\varepsilon = J(\mathbf{m}_{i-1} + \mathbf{m}_{i+1}) + \mathbf{H}^\varepsilon(t),
           \qquad \frac{d\mathbf{m}_i}{dt} = -\beta\,\mathbf{m}_i\times\mathbf{H}_i^\varepsilon
           - \gamma\,\mathbf{m}_i\times(\mathbf{m}_i\times\mathbf{H}_i^\varepsilon).          \tag{3.8}

``J`` is the coupling per bond (:math:`J_{ij} = J` for :math:`|i-j| = 1`). Writing the exchange as the
discrete Laplacian :math:`J(\mathbf{m}_{i-1} - 2\mathbf{m}_i + \mathbf{m}_{i+1})` gives the same
dynamics, because :math:`\mathbf{m}_i` only enters through :math:`\mathbf{m}_i\times\cdot`; a
continuum exchange constant :math:`A` corresponds to :math:`J = A/\delta x^2`.

HMM (Section 3.3). With ``r`` and ``ell`` the macro point :math:`X_I` sits on particle
:math:`I(r+\ell)`, ``L = n/(r+ell)`` macro points. The macro values are the space-time
averages (3.9) :math:`\mathbf{M}_I = \sum_{|j|\le r}\omega_j (K_\tau * \mathbf{m}_{I(r+\ell)+j})`,
:math:`\omega_j \propto K^{\mathrm{space}}(j/2r)` (the kernel :math:`K_\eta`, :math:`\eta = 2r\delta x`, sampled on
the particles and normalised to sum 1). The macro model (3.10)
:math:`\dot{\mathbf{M}}_I = \mathbf{F}_I + \frac{\gamma}{\beta}\mathbf{M}_I\times\mathbf{F}_I` is stepped by
the implicit midpoint rule as in :func:`hmm.solve_hmm`. The flux :math:`\mathbf{F}_I(t_a, \mathbf{M}_{I-1},
\mathbf{M}_I, \mathbf{M}_{I+1})` comes from the micro problem (3.11): a box of ``2r+1``
particles started from the normalised quadratic interpolant :math:`\hat{\mathbf{M}}` of the
three macro values, end spins held fixed, no damping, solved forward and backward from
:math:`t_a`; then the upscaling (3.12) :math:`\mathbf{F}_I = \sum_j\omega_j (K_\tau * \dot{\mathbf{m}}_j)(t_a)`.

How the micro problems are solved (all boxes, and all Newton perturbations, in one batch,
Remark 3). The applied field is uniform, so with the single-spin propagator
:math:`\Phi(s)` of :mod:`hmm.micro` (:math:`\Phi' = \beta[\mathbf{H}^\varepsilon]_\times\Phi`, exact
rotations, fourth-order Magnus) the substitution :math:`\mathbf{m}_j = \Phi\mathbf{u}_j` turns
(3.11) into the exchange-only problem :math:`\dot{\mathbf{u}}_j = -\beta J\,\mathbf{u}_j\times(\mathbf{u}_{j-1} + \mathbf{u}_{j+1})`
(rotations preserve cross products), with the fixed end spins appearing as the known
boundary data :math:`\mathbf{u}_{\pm r} = \Phi^T\hat{\mathbf{M}}_{\pm r}`. This equation has no
:math:`\varepsilon`-scale stiffness and is integrated by RK4 with a step of a few per
:math:`\varepsilon`. The upscaling is done by parts,
:math:`\mathbf{F}_I = -\int K_\tau'(s)\,\Phi(s)\bar{\mathbf{u}}(s)\,ds` (plus end terms if
:math:`K_\tau` jumps there) with :math:`\bar{\mathbf{u}} = \sum_{|j|<r}\omega_j\mathbf{u}_j`, Hermite-interpolated
to the fine Magnus grid and Simpson's rule; the end spins, held fixed, contribute nothing to (3.12).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg

from . import _checks
from .dns import field_bound, step_grid
from .integrators import NonConvergenceError
from .kernels import Kernel
from .micro import DEFAULT_STEPS_PER_EPS, cumulative_product, step_rotations
from .upscaling import simpson_weights

__all__ = [
    "ChainSolution",
    "dns_average",
    "dns_time_average",
    "macro_particles",
    "solve_dns",
    "solve_hmm",
    "space_average",
    "space_weights",
]

DEFAULT_DNS_STEPS_PER_EPS = 32
DEFAULT_EXCHANGE_STEPS_PER_EPS = 4
DEFAULT_TOL = 1e-10
DEFAULT_MAX_ITER = 30
_UNIT_TOL = 1e-8
_FD_STEP = 1e-7
_MAX_UPDATE = 0.25
_CHUNK = 65_536


@dataclass(frozen=True)
class ChainSolution:
    """Result of a chain solver.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times.
    m : ndarray, shape (n_t, n_points, 3)
        Magnetisation of every particle (DNS) or every macro point (HMM) at ``t``.
    x : ndarray, shape (n_points,)
        Positions :math:`x_i = i\\,\\delta x` of the particles (DNS) or macro points (HMM).
    stats : dict
        Machine-independent work counters: ``"field_evaluations"`` (of ``H``),
        ``"particle_steps"`` (one RK4 step of one particle, in any batch),
        ``"micro_solves"`` (batched micro solves), ``"micro_steps"`` (RK4 steps of one micro box,
        forward plus backward, summed over the micro solves), ``"newton_iterations"``,
        ``"jacobians"`` (finite-difference Jacobians formed).
    """

    t: np.ndarray
    m: np.ndarray
    x: np.ndarray
    stats: dict = field(default_factory=dict)


# ---------------------------------------------------------------- checks
def _chain_state(name: str, m0) -> np.ndarray:
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


def _kernel(name: str, K) -> Kernel:
    if not isinstance(K, Kernel):
        raise ValueError(f"{name} must be a hmm.Kernel from hmm.kernel(p, q), got {K!r}")
    return K


def _dx(dx, n: int) -> float:
    return 1.0 / n if dx is None else _checks.positive("dx", dx)


def _times(t_eval, T: float):
    if t_eval is None:
        return np.linspace(0.0, T, 1001)
    t = np.asarray(t_eval, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)):
        raise ValueError("t_eval must be a finite, non-empty 1-d array")
    if np.any(t < 0) or np.any(t > T) or np.any(np.diff(t) < 0):
        raise ValueError("t_eval must be sorted and lie in [0, T]")
    return t


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
    _kernel("space_kernel", space_kernel)
    r = _checks.integer("r", r, 1)
    w = space_kernel(np.arange(-r, r + 1) / (2.0 * r))
    total = w.sum()
    if not total > 0:
        raise ValueError(
            f"space_kernel sampled on 2r + 1 = {2 * r + 1} points sums to {total:g} <= 0"
        )
    return w / total


# ---------------------------------------------------------------- direct simulation
def _exchange_rhs(m, hf, J, beta, gamma, prev, nxt):
    """(3.8) for ``m`` of shape (3, n) (components first) and the applied field ``hf`` (3, 1)."""
    h = hf + J * (m[:, prev] + m[:, nxt]) if J else hf
    x, y, z = m
    hx, hy, hz = h
    cx, cy, cz = y * hz - z * hy, z * hx - x * hz, x * hy - y * hx
    if gamma:
        dx, dy, dz = y * cz - z * cy, z * cx - x * cz, x * cy - y * cx
        return np.stack([-beta * cx - gamma * dx, -beta * cy - gamma * dy, -beta * cz - gamma * dz])
    return np.stack([-beta * cx, -beta * cy, -beta * cz])


def _rk4_chain(m0, H, t_out, h_max, *, eps, J, beta, gamma):
    """Classical RK4 for (3.8) from ``t_out[0]`` through ``t_out`` (monotone, either direction).

    Returns ``m`` at ``t_out`` (shape ``(len(t_out), n, 3)``) and the number of steps.
    """
    sign = -1.0 if len(t_out) > 1 and t_out[-1] < t_out[0] else 1.0
    starts, h, marks = step_grid(sign * np.asarray(t_out, dtype=float), h_max)
    starts, h = sign * starts, sign * h
    n = m0.shape[0]
    idx = np.arange(n)
    prev, nxt = np.roll(idx, 1), np.roll(idx, -1)
    out = np.empty((len(t_out), n, 3))
    out[0] = m0
    m = np.ascontiguousarray(m0.T)
    filled = 1
    while filled < len(t_out) and marks[filled] == 0:
        out[filled] = m0
        filled += 1
    for c in range(0, len(h), _CHUNK):
        s, hh = starts[c : c + _CHUNK], h[c : c + _CHUNK]
        t = np.stack([s, s + 0.5 * hh, s + hh], axis=1)
        fields = _checks.evaluate_field(H, t, t / eps)[..., None]  # (k, 3 stages, 3, 1)
        for k in range(len(hh)):
            dt = float(hh[k])
            f0, f1, f2 = fields[k]
            k1 = _exchange_rhs(m, f0, J, beta, gamma, prev, nxt)
            k2 = _exchange_rhs(m + (0.5 * dt) * k1, f1, J, beta, gamma, prev, nxt)
            k3 = _exchange_rhs(m + (0.5 * dt) * k2, f1, J, beta, gamma, prev, nxt)
            k4 = _exchange_rhs(m + dt * k3, f2, J, beta, gamma, prev, nxt)
            m = m + (dt / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
            while filled < len(t_out) and marks[filled] == c + k + 1:
                out[filled] = m.T
                filled += 1
    if not np.all(np.isfinite(out)):
        raise ValueError("the chain DNS produced NaN or inf; check H and J")
    return out, len(h)


def _dns_step(H, T, eps, J, beta, gamma, steps_per_eps):
    rate = (beta + gamma) * (field_bound(H, T, eps) + 2.0 * abs(J))
    return min(eps, 1.0 / rate if rate > 0 else np.inf) / steps_per_eps


def solve_dns(
    m0,
    H: Callable,
    *,
    T: float,
    eps: float,
    J: float,
    beta: float = 1.0,
    gamma: float = 1.0,
    t_eval=None,
    steps_per_eps: int = DEFAULT_DNS_STEPS_PER_EPS,
    dx: float | None = None,
) -> ChainSolution:
    r"""Direct simulation of the periodic chain (3.8), every particle and every oscillation resolved.

    Classical fourth-order Runge-Kutta, vectorised over the particles, with steps of at most
    :math:`\min(\varepsilon, 1/\rho)/` ``steps_per_eps``, :math:`\rho = (\beta+\gamma)(\max|\mathbf{H}| + 2|J|)`,
    fitted to hit each output time. The cost grows like :math:`T/\varepsilon`. With the
    default 32 steps per period the error on the Figure 5.5 problem is about 1e-9 (checked against
    scipy's DOP853 at rtol 1e-12 in the tests).

    Parameters
    ----------
    m0 : array_like, shape (n, 3)
        Initial unit spins :math:`\mathbf{m}_i(0)`.
    H : callable
        Applied field ``H(t, s)``, the same on every particle; the field is ``H(t, t/eps)``.
    T, eps : float
        Final time and fast period, > 0.
    J : float
        Nearest-neighbour exchange coupling (finite; 0 decouples the particles).
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    t_eval : array_like, optional
        Sorted output times in ``[0, T]``; default ``linspace(0, T, 1001)``.
    steps_per_eps : int, default 32
        RK4 steps per period :math:`\varepsilon`.
    dx : float, optional
        Particle spacing, only for ``x``; default ``1/n`` (the chain fills :math:`[0, 1)`).

    Returns
    -------
    ChainSolution
        ``t``, ``m`` of shape ``(len(t), n, 3)``, ``x = i dx``, ``stats``.
    """
    m0 = _chain_state("m0", m0)
    T = _checks.positive("T", T)
    eps = _checks.positive("eps", eps)
    J = _checks.finite("J", J)
    beta = _checks.positive("beta", beta)
    gamma = _checks.nonnegative("gamma", gamma)
    steps_per_eps = _checks.integer("steps_per_eps", steps_per_eps, 1)
    _checks.field(H)
    n = m0.shape[0]
    dx = _dx(dx, n)
    t = _times(t_eval, T)
    grid = np.unique(np.concatenate([[0.0], t]))
    h_max = _dns_step(H, T, eps, J, beta, gamma, steps_per_eps)
    m, steps = _rk4_chain(m0, H, grid, h_max, eps=eps, J=J, beta=beta, gamma=gamma)
    stats = {"steps": steps, "field_evaluations": 3 * steps, "particle_steps": steps * n}
    return ChainSolution(t, m[np.searchsorted(grid, t)], np.arange(n) * dx, stats)


def _window(eps: float, tau: float, steps_per_eps: int) -> np.ndarray:
    """Uniform nodes of :math:`[-\\tau/2, \\tau/2]`, step at most ``eps/steps_per_eps``, even count of intervals."""
    n_half = max(1, int(np.ceil(0.5 * tau * steps_per_eps / eps - 1e-9)))
    return np.linspace(-0.5 * tau, 0.5 * tau, 2 * n_half + 1)


def _time_average(m_window: np.ndarray, s: np.ndarray, kernel: Kernel, tau: float) -> np.ndarray:
    """:math:`(K_\\tau * \\mathbf{m})(t)` by Simpson's rule; ``m_window`` has the window on axis 0."""
    w = simpson_weights(s) * kernel(s / tau) / tau
    return np.tensordot(w, m_window, axes=(0, 0))


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
    m0 = _chain_state("m0", m0)
    eps = _checks.positive("eps", eps)
    tau = _checks.positive("tau", tau)
    kernel = _kernel("kernel", kernel)
    J = _checks.finite("J", J)
    beta = _checks.positive("beta", beta)
    gamma = _checks.nonnegative("gamma", gamma)
    steps_per_eps = _checks.integer("steps_per_eps", steps_per_eps, 1)
    _checks.field(H)
    n = m0.shape[0]
    dx = _dx(dx, n)
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 1 or not np.all(np.isfinite(t)) or np.any(t < 0):
        raise ValueError("t must be a finite non-empty 1-d array of times >= 0")
    if np.any(np.diff(t) < 0):
        raise ValueError("t must be sorted")
    s = _window(eps, tau, steps_per_eps)
    nodes = t[:, None] + s[None, :]
    h_max = _dns_step(H, float(nodes.max()), eps, J, beta, gamma, steps_per_eps)
    fwd = np.unique(np.concatenate([[0.0], nodes[nodes >= 0]]))
    m_f, steps = _rk4_chain(m0, H, fwd, h_max, eps=eps, J=J, beta=beta, gamma=gamma)
    values = m_f[np.searchsorted(fwd, np.maximum(nodes, 0.0))]  # (len(t), len(s), n, 3)
    if np.any(nodes < 0):
        bwd = np.unique(np.concatenate([[0.0], nodes[nodes < 0]]))[::-1]
        m_b, steps_b = _rk4_chain(m0, H, bwd, h_max, eps=eps, J=J, beta=beta, gamma=gamma)
        steps += steps_b
        neg = nodes < 0
        values[neg] = m_b[len(bwd) - 1 - np.searchsorted(bwd[::-1], nodes[neg])]
    avg = np.einsum("s,tsic->tic", simpson_weights(s) * kernel(s / tau) / tau, values)
    stats = {"steps": steps, "field_evaluations": 3 * steps, "particle_steps": steps * n}
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
    m0 = _chain_state("m0", m0)
    macro = macro_particles(m0.shape[0], r, ell)
    kernel = _kernel("kernel", kernel)
    space_kernel = kernel if space_kernel is None else _kernel("space_kernel", space_kernel)
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


# ---------------------------------------------------------------- HMM
class _Micro:
    """Precomputed propagators and quadrature for the micro problems (3.11) at the macro midpoints."""

    def __init__(self, H, t_mid, *, eps, tau, kernel, r, ell, J, beta, omega, spe, spe_x, h_bound):
        self.r, self.rp, self.J, self.beta = r, r + ell, J, beta
        self.omega_int = omega[1:-1]  # the fixed end spins contribute nothing to (3.12)
        half = 0.5 * tau
        # coarse (exchange) step: a few per eps and resolving the exchange and precession rates
        rate = max(spe_x / eps, spe_x * beta * (4.0 * abs(J) + h_bound))
        n_c = max(1, int(np.ceil(half * rate - 1e-9)))
        delta = half / n_c
        R = 2 * max(1, int(np.ceil(0.5 * delta * spe / eps - 1e-9)))  # fine nodes per coarse step
        n_f = n_c * R
        h_f = half / n_f
        self.n_c, self.delta = n_c, delta
        # propagators Phi on the fine grid, both directions: (N, 2, n_f + 1, 3, 3)
        s_fwd = np.arange(n_f) * h_f
        Rf = step_rotations(H, t_mid, s_fwd, h_f, eps=eps, beta=beta, method="magnus4")
        Rb = step_rotations(H, t_mid, -s_fwd, -h_f, eps=eps, beta=beta, method="magnus4")
        eye = np.broadcast_to(np.eye(3), (len(t_mid), 1, 3, 3))
        Phi = np.stack(
            [
                np.concatenate([eye, cumulative_product(Rf)], axis=1),
                np.concatenate([eye, cumulative_product(Rb)], axis=1),
            ],
            axis=1,
        )
        self.field_evaluations = 4 * n_f * len(t_mid)
        # quadrature by parts: F = -int K_tau'(s) Phi(s) ubar(s) ds + [K_tau Phi ubar]
        s_full = np.linspace(-half, half, 2 * n_f + 1)
        w = simpson_weights(s_full) * (-kernel.derivative(s_full / tau) / tau**2)
        wd = np.stack([w[n_f:], w[n_f::-1]])  # (2, n_f + 1), node s = 0 in both ...
        wd[1, 0] = 0.0  # ... counted once
        k_end = float(kernel(np.array(0.5))) / tau
        wd[0, -1] += k_end
        wd[1, -1] -= k_end
        G = wd[None, :, :, None, None] * Phi  # (N, 2, n_f + 1, 3, 3)
        # cubic Hermite interpolation of ubar from the coarse nodes to the fine ones
        theta = (np.arange(n_f + 1) % R) / R
        k0 = np.minimum(np.arange(n_f + 1) // R, n_c - 1)
        theta[-1] = 1.0
        h00 = (1 + 2 * theta) * (1 - theta) ** 2
        h10 = theta * (1 - theta) ** 2
        h01 = theta**2 * (3 - 2 * theta)
        h11 = theta**2 * (theta - 1)
        P = np.zeros((n_f + 1, n_c + 1))
        Q = np.zeros((n_f + 1, n_c + 1))
        rows = np.arange(n_f + 1)
        P[rows, k0] += h00
        P[rows, k0 + 1] += h01
        Q[rows, k0] += h10 * delta
        Q[rows, k0 + 1] += h11 * delta
        sign = np.array([1.0, -1.0])
        self.A = np.einsum("ndfab,fk->ndkab", G, P)  # (N, 2, n_c + 1, 3, 3)
        self.B = np.einsum("ndfab,fk,d->ndkab", G, Q, sign)
        # Phi^T at the RK4 stage times (every half coarse step): (N, 2, 2 n_c + 1, 3, 3)
        self.PhiT_half = np.swapaxes(Phi[:, :, :: R // 2], -1, -2)
        # quadratic interpolation weights on the box, slots (I-1, I, I+1)
        xi = np.arange(-r, r + 1) / self.rp
        self.lagrange = np.stack([0.5 * xi * (xi - 1), 1 - xi**2, 0.5 * xi * (xi + 1)], axis=1)
        self.hsign = (delta * sign)[None, :, None, None, None]  # (1, 2, 1, 1, 1)

    def flux(self, n: int, triples: np.ndarray) -> tuple[np.ndarray, int]:
        """Upscaled fluxes (3.12) for macro step ``n``; ``triples`` (B, L, 3 slots, 3) -> (B, L, 3)."""
        P2 = np.einsum("js,blsc->bljc", self.lagrange, triples)
        norm = np.linalg.norm(P2, axis=-1, keepdims=True)
        if not np.all(norm > 1e-12):
            raise NonConvergenceError("the quadratic interpolant of the macro values vanished")
        Mhat = P2 / norm  # (B, L, 2r+1, 3)
        if self.J == 0:
            ubar = np.einsum("j,bljc->blc", self.omega_int, Mhat[:, :, 1:-1])
            F = np.einsum("xy,bly->blx", self.A[n].sum(axis=(0, 1)), ubar)
            return F, 0
        # boundary data in the rotating frame at every stage time: (2r+1 ... ) -> (3, 2, B, L, 2)
        ends = Mhat[:, :, [0, -1]]  # (B, L, 2, 3)
        ub = np.einsum("dhac,blec->hadble", self.PhiT_half[n], ends)  # (2n_c+1, 3, 2, B, L, 2)
        u = np.broadcast_to(
            np.moveaxis(Mhat[:, :, 1:-1], -1, 0)[:, None], (3, 2) + Mhat[:, :, 1:-1].shape[:-1]
        ).copy()  # (3, 2, B, L, 2r-1)
        hs = self.hsign
        w = self.omega_int
        ubar = np.empty((self.n_c + 1, 3, 2) + u.shape[2:4])
        dubar = np.empty_like(ubar)
        for k in range(self.n_c):
            k1 = self._rhs(u, ub[2 * k])
            ubar[k] = u @ w
            dubar[k] = k1 @ w
            k2 = self._rhs(u + 0.5 * hs * k1, ub[2 * k + 1])
            k3 = self._rhs(u + 0.5 * hs * k2, ub[2 * k + 1])
            k4 = self._rhs(u + hs * k3, ub[2 * k + 2])
            u = u + (hs / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
        ubar[-1] = u @ w
        dubar[-1] = self._rhs(u, ub[2 * self.n_c]) @ w
        F = np.einsum("dkab,kbdxl->xla", self.A[n], ubar) + np.einsum(
            "dkab,kbdxl->xla", self.B[n], dubar
        )
        return F, u.shape[2] * u.shape[3] * u.shape[4] * 2 * self.n_c

    def _rhs(self, u, ub):
        r"""Rotating-frame exchange :math:`-\beta J\,\mathbf{u}_j\times(\mathbf{u}_{j-1}+\mathbf{u}_{j+1})` of the interior."""
        full = np.concatenate([ub[..., :1], u, ub[..., 1:]], axis=-1)
        s = full[..., :-2] + full[..., 2:]
        x, y, z = u
        sx, sy, sz = s
        c = -self.beta * self.J
        return np.stack([c * (y * sz - z * sy), c * (z * sx - x * sz), c * (x * sy - y * sx)])


def solve_hmm(
    m0,
    H: Callable,
    *,
    T: float,
    N: int,
    eps: float,
    tau: float,
    kernel: Kernel,
    r: int,
    ell: int,
    J: float,
    beta: float = 1.0,
    gamma: float = 1.0,
    space_kernel: Kernel | None = None,
    initial: str = "average",
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    exchange_steps_per_eps: int = DEFAULT_EXCHANGE_STEPS_PER_EPS,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    dx: float | None = None,
) -> ChainSolution:
    r"""HMM in time and space for the periodic chain (Section 3.3): macro model (3.10), micro (3.11), upscaling (3.12).

    The macro values :math:`\mathbf{M}_I` live on every ``(r + ell)``-th particle. Each macro step
    is the implicit midpoint rule

    .. math::  \mathbf{M}_{n+1} = \mathbf{M}_n + \Delta t\,\mathbf{F}_{n+1/2}
               + \frac{\gamma}{\beta}\Delta t\,\mathbf{M}_{n+1/2}\times\mathbf{F}_{n+1/2},

    with :math:`\mathbf{F}_{I,n+1/2}` upscaled by (3.12) from a micro box of ``2r+1`` particles
    around :math:`X_I`, started at :math:`t_{n+1/2}` from the normalised quadratic
    interpolant of :math:`\mathbf{M}_{I-1}, \mathbf{M}_I, \mathbf{M}_{I+1}` (midpoint values),
    end spins fixed, no damping, solved forward and backward over :math:`\tau/2`.
    The nonlinear step is solved by Newton's method (chord iterations, Jacobian by
    forward differences of all 9 inputs of every box, refreshed when convergence slows)
    to ``tol``, or :class:`hmm.NonConvergenceError` is raised. Updates larger than 0.25 (the
    unknowns are near-unit vectors) are shortened, which keeps Newton on track when a strong
    exchange makes the macro problem stiff. All ``L`` boxes and the
    Newton perturbations are solved as one batched array computation (Remark 3).

    Parameters
    ----------
    m0 : array_like, shape (n, 3)
        Initial unit spins of all particles; ``n = L (r + ell)``.
    H : callable
        Applied field ``H(t, s)``, the same on every particle.
    T : float
        Final time, > 0.
    N : int
        Macro steps, >= 1; :math:`\Delta t = T/N`.
    eps, tau : float
        Fast period and time-averaging window, > 0.
    kernel : Kernel
        Time kernel :math:`K \in \mathbb{K}^{p,q}` (from :func:`hmm.kernel`).
    r : int
        Box half-width, >= 1: ``2r + 1`` particles per micro box, :math:`\eta = 2r\,\delta x`.
    ell : int
        Particles skipped between boxes, >= 0; macro spacing :math:`\Delta x = (r+\ell)\delta x`.
    J : float
        Nearest-neighbour exchange coupling of (3.8).
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    space_kernel : Kernel, optional
        Kernel :math:`K_\eta` of the spatial average; default: ``kernel``.
    initial : {"average", "sample"}, default "average"
        Macro initial data: the space-time average (3.9) of the direct simulation over
        :math:`[-\tau/2, \tau/2]` (the paper), or the spins ``m0`` at the macro points.
    steps_per_eps : int, default 32
        Fine (Magnus) steps per :math:`\varepsilon` for the field propagator and the quadrature.
    exchange_steps_per_eps : int, default 4
        RK4 steps per :math:`\varepsilon` for the rotating-frame exchange problem (also at least this
        many per unit of :math:`1/(\beta(4|J| + \max|\mathbf{H}|))`).
    tol, max_iter
        Newton tolerance (on the update, relative to ``max(1, |M|)``) and iteration cap.
    dx : float, optional
        Particle spacing, only for ``x``; default ``1/n``.

    Returns
    -------
    ChainSolution
        ``t`` (N+1,), ``m`` (N+1, L, 3), ``x`` (L,) the macro points, ``stats``.
    """
    m0 = _chain_state("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    eps = _checks.positive("eps", eps)
    tau = _checks.positive("tau", tau)
    kernel = _kernel("kernel", kernel)
    r = _checks.integer("r", r, 1)
    ell = _checks.integer("ell", ell, 0)
    J = _checks.finite("J", J)
    beta = _checks.positive("beta", beta)
    gamma = _checks.nonnegative("gamma", gamma)
    space_kernel = kernel if space_kernel is None else _kernel("space_kernel", space_kernel)
    initial = _checks.choice("initial", initial, ("average", "sample"))
    steps_per_eps = _checks.integer("steps_per_eps", steps_per_eps, 1)
    exchange_steps_per_eps = _checks.integer("exchange_steps_per_eps", exchange_steps_per_eps, 1)
    tol = _checks.positive("tol", tol)
    max_iter = _checks.integer("max_iter", max_iter, 1)
    _checks.field(H)
    n = m0.shape[0]
    macro = macro_particles(n, r, ell)
    L = len(macro)
    dx = _dx(dx, n)
    omega = space_weights(space_kernel, r)
    t = np.linspace(0.0, T, N + 1)
    dt = T / N
    t_mid = 0.5 * (t[:-1] + t[1:])
    h_bound = field_bound(H, T, eps)
    micro = _Micro(
        H,
        t_mid,
        eps=eps,
        tau=tau,
        kernel=kernel,
        r=r,
        ell=ell,
        J=J,
        beta=beta,
        omega=omega,
        spe=steps_per_eps,
        spe_x=exchange_steps_per_eps,
        h_bound=h_bound,
    )
    stats = {
        "macro_steps": N,
        "micro_solves": 0,
        "micro_steps": 0,
        "particle_steps": 0,
        "field_evaluations": micro.field_evaluations,
        "newton_iterations": 0,
        "jacobians": 0,
    }
    M = np.empty((N + 1, L, 3))
    if initial == "average":
        avg = dns_average(
            m0,
            H,
            t=[0.0],
            eps=eps,
            tau=tau,
            kernel=kernel,
            r=r,
            ell=ell,
            J=J,
            beta=beta,
            gamma=gamma,
            space_kernel=space_kernel,
            steps_per_eps=steps_per_eps,
        )
        M[0] = avg.m[0]
        stats["field_evaluations"] += avg.stats["field_evaluations"]
        stats["particle_steps"] += avg.stats["particle_steps"]
    else:
        M[0] = m0[macro]
    c = gamma / beta
    slots = (np.arange(L)[:, None] + np.arange(-1, 2)[None, :]) % L  # (L, 3)
    # forward-difference perturbations: one per (slot, component)
    E = np.zeros((9, 1, 3, 3))
    E[np.arange(9), 0, np.arange(9) // 3, np.arange(9) % 3] = _FD_STEP
    eye = np.eye(3 * L)
    for k in range(N):
        Y = _predict(M, k)
        lu = None
        refresh = True
        prev = np.inf
        for _ in range(max_iter):
            stats["newton_iterations"] += 1
            triples = Y[slots][None]  # (1, L, 3, 3)
            if refresh:
                batch = np.concatenate([triples, triples + E])
            else:
                batch = triples
            Fb, psteps = micro.flux(k, batch)
            stats["micro_solves"] += 1
            stats["micro_steps"] += 2 * micro.n_c if J else 0
            stats["particle_steps"] += psteps
            F = Fb[0]
            f = F + c * np.cross(Y, F)
            residual = (Y - M[k] - 0.5 * dt * f).reshape(-1)
            if refresh:
                dF = (Fb[1:] - F[None]).reshape(3, 3, L, 3) / _FD_STEP  # (slot, comp, I, a)
                lu = scipy.linalg.lu_factor(eye - 0.5 * dt * _jacobian(Y, F, dF, slots, c))
                stats["jacobians"] += 1
            delta = scipy.linalg.lu_solve(lu, -residual).reshape(L, 3)
            big = float(np.max(np.abs(delta)))
            if big > _MAX_UPDATE:  # the unknowns are near-unit vectors: cap wild Newton steps
                delta = delta * (_MAX_UPDATE / big)
            Y = Y + delta
            size = float(np.max(np.abs(delta)))
            if not np.all(np.isfinite(Y)) or size > 1e3:
                raise NonConvergenceError(
                    f"chain HMM: Newton diverged at macro step {k} (dt={dt:g}); reduce dt"
                )
            if size <= tol * max(1.0, float(np.max(np.abs(Y)))):
                break
            refresh = size > 0.1 * prev
            prev = size
        else:
            raise NonConvergenceError(
                f"chain HMM: Newton did not reach tol={tol:g} in {max_iter} iterations at macro "
                f"step {k} (dt={dt:g}, last update {size:.2e}); reduce dt"
            )
        M[k + 1] = 2.0 * Y - M[k]
    return ChainSolution(t, M, macro * dx, stats)


def _predict(M: np.ndarray, k: int) -> np.ndarray:
    """Extrapolated guess of the midpoint :math:`\\mathbf{M}(t_k + \\Delta t/2)` from past macro values."""
    if k >= 2:
        return (15.0 * M[k] - 10.0 * M[k - 1] + 3.0 * M[k - 2]) / 8.0
    if k == 1:
        return 1.5 * M[k] - 0.5 * M[k - 1]
    return M[k].copy()


def _jacobian(Y, F, dF, slots, c):
    r"""Jacobian of :math:`\mathbf{f}_I = \mathbf{F}_I + c\,\mathbf{Y}_I\times\mathbf{F}_I` w.r.t. all :math:`\mathbf{Y}_K`, shape (3L, 3L)."""
    L = Y.shape[0]
    JF = np.zeros((L, 3, L, 3))  # d F_I[a] / d Y_K[b]
    rows = np.arange(L)
    for s in range(3):
        np.add.at(JF, (rows, slice(None), slots[:, s], slice(None)), np.moveaxis(dF[s], 0, -1))
    if c:
        Yx = _cross_matrix(Y)  # (L, 3, 3)
        Jf = JF + c * np.einsum("iab,ibkc->iakc", Yx, JF)
        Jf[rows, :, rows, :] -= c * _cross_matrix(F)
    else:
        Jf = JF
    return Jf.reshape(3 * L, 3 * L)


def _cross_matrix(a):
    z = np.zeros(a.shape[:-1])
    a1, a2, a3 = a[..., 0], a[..., 1], a[..., 2]
    return np.stack(
        [np.stack([z, -a3, a2], -1), np.stack([a3, z, -a1], -1), np.stack([-a2, a1, z], -1)], -2
    )
