r"""The HMM of Section 3.3 for the chain: the macro model (3.10) stepped by the implicit midpoint rule.

Each step is the implicit midpoint step of :mod:`hmm.integrators` (the same as for one spin),
with the fluxes (3.12) of :mod:`hmm.chain.micro` and a Jacobian of forward differences of the 9
inputs of every box, batched with the flux.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _checks, fields
from ..integrators import DEFAULT_MAX_ITER, DEFAULT_TOL
from ..kernels import Kernel, as_kernel
from ..macro import MACRO_SCHEMES, macro_rhs, macro_rhs_jacobian, march, stage_times
from ..micro import DEFAULT_STEPS_PER_EPS, MicroSettings
from ..solution import Solution, make_stats
from . import _checks as chain_checks
from .averages import macro_particles, space_average, space_weights, time_averages
from .dns import DEFAULT_CHAIN_DNS_STEPS_PER_EPS
from .micro import DEFAULT_EXCHANGE_STEPS_PER_EPS, MicroBoxes, fine_grid

_FD_STEP = 1e-7
_MAX_UPDATE = 0.25  # the unknowns are near-unit vectors: longer Newton updates are shortened


def neighbour_slots(L: int) -> np.ndarray:
    """Indices of the macro values (I-1, I, I+1) of every box, periodic, shape (L, 3)."""
    return (np.arange(L)[:, None] + np.arange(-1, 2)[None, :]) % L


def flux_jacobian(dF: np.ndarray, slots: np.ndarray) -> np.ndarray:
    r""":math:`\partial\mathbf{F}_I/\partial\mathbf{M}_K`, shape (L, 3, L, 3), from the derivatives of each box in its three slots.

    ``dF`` of shape (3 slots, 3 components of the input, L, 3 components of F).
    """
    L = slots.shape[0]
    JF = np.zeros((L, 3, L, 3))
    rows = np.arange(L)
    for s in range(3):
        np.add.at(JF, (rows, slice(None), slots[:, s], slice(None)), np.moveaxis(dF[s], 0, -1))
    return JF


def macro_rhs_of_boxes(boxes: MicroBoxes, stages: int, slots: np.ndarray, c: float, counts: dict):
    """(3.10) at stage ``i`` of macro step ``n``, with the Jacobian by forward differences in one batch.

    Returns ``rhs(n, i, Y, jacobian)`` for :func:`hmm.macro.march`; the boxes were built at the
    ``stages`` stage times of every step.
    """
    E = np.zeros((9, 1, 3, 3))
    E[np.arange(9), 0, np.arange(9) // 3, np.arange(9) % 3] = _FD_STEP

    def rhs(n, i, Y, jacobian):
        triples = Y[slots][None]  # (1, L, 3, 3)
        batch = np.concatenate([triples, triples + E]) if jacobian else triples
        Fb = boxes.flux(n * stages + i, batch)
        counts["micro_steps"] += len(batch) * Y.shape[0] * boxes.steps
        counts["spin_steps"] += boxes.spin_steps(len(batch) * Y.shape[0])
        F = Fb[0]
        if not jacobian:
            return macro_rhs(F, Y, c), None
        dF = (Fb[1:] - F[None]).reshape(3, 3, *F.shape) / _FD_STEP
        return macro_rhs(F, Y, c), macro_rhs_jacobian(flux_jacobian(dF, slots), Y, F, c)

    return rhs


def predicted_midpoint(M: np.ndarray, k: int) -> np.ndarray:
    r"""Extrapolated guess of the midpoint :math:`\mathbf{M}(t_k + \Delta t/2)` from past macro values."""
    if k >= 2:
        return (15.0 * M[k] - 10.0 * M[k - 1] + 3.0 * M[k - 2]) / 8.0
    if k == 1:
        return 1.5 * M[k] - 0.5 * M[k - 1]
    return M[k].copy()


def solve_hmm(
    H: Callable, m0, *, T: float, N: int, eps: float, tau: float, kernel: Kernel, r: int,
    ell: int, J: float, beta: float = 1.0, gamma: float = 1.0, macro: str = "midpoint",
    space_kernel: Kernel | None = None, initial: str = "average",
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    exchange_steps_per_eps: int = DEFAULT_EXCHANGE_STEPS_PER_EPS,
    dns_steps_per_eps: int = DEFAULT_CHAIN_DNS_STEPS_PER_EPS, tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER, dx: float | None = None, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""HMM in time and space for the periodic chain (Section 3.3): macro model (3.10), micro (3.11), upscaling (3.12).

    The macro values :math:`\mathbf{M}_I` live on every ``(r + ell)``-th particle. Each macro step
    is the implicit midpoint rule

    .. math::  \mathbf{M}_{n+1} = \mathbf{M}_n + \Delta t\,\mathbf{F}_{n+1/2}
               + \frac{\gamma}{\beta}\Delta t\,\mathbf{M}_{n+1/2}\times\mathbf{F}_{n+1/2},

    with :math:`\mathbf{F}_{I,n+1/2}` upscaled by (3.12) from a micro box of ``2r+1`` particles
    around :math:`X_I`, started at :math:`t_{n+1/2}` from the normalised quadratic interpolant of
    :math:`\mathbf{M}_{I-1}, \mathbf{M}_I, \mathbf{M}_{I+1}` (midpoint values), end spins fixed,
    no damping, solved forward and backward over :math:`\tau/2`. Newton's method (chord
    iterations, Jacobian by forward differences of all 9 inputs of every box, formed again when
    convergence slows, updates capped at 0.25) solves each step to ``tol`` or raises
    :class:`hmm.NonConvergenceError`. All ``L`` boxes and the Newton perturbations are solved as
    one batched array computation (Remark 3).

    Parameters
    ----------
    H : callable
        Applied field ``H(t, s)``, the same on every particle.
    m0 : array_like, shape (n, 3)
        Initial unit spins of all particles; ``n = L (r + ell)``.
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
    macro : {"midpoint", "gauss4"}, default "midpoint"
        Macro scheme: the implicit midpoint rule of the paper, or the 2-stage Gauss-Legendre
        method (order 4; micro boxes at both Gauss points of every step), as in
        :func:`hmm.solve_hmm`.
    space_kernel : Kernel, optional
        Kernel :math:`K_\eta` of the spatial average; default: ``kernel``.
    initial : {"average", "sample"}, default "average"
        Macro initial data: the space-time average (3.9) of the direct simulation over
        :math:`[-\tau/2, \tau/2]` (the paper), or the spins ``m0`` at the macro points.
    steps_per_eps : int, default 32
        Fine (Magnus) steps per :math:`\varepsilon` of the propagator and of the quadrature.
    exchange_steps_per_eps : int, default 4
        RK4 steps per :math:`\varepsilon` of the rotating-frame exchange problem (also at least this
        many per unit of :math:`1/(\beta(4|J| + \max|\mathbf{H}|))`).
    dns_steps_per_eps : int, default 32
        RK4 steps per :math:`\varepsilon` of the direct simulation behind ``initial="average"``.
    tol, max_iter
        Newton tolerance (on the update, relative to ``max(1, |M|)``) and iteration cap.
    dx : float, optional
        Particle spacing, only for ``x``; default ``1/n``.
    max_work : int, default 1e8
        Refuse a run of more spin steps than this (each micro solve and Newton perturbation
        counted).

    Returns
    -------
    Solution
        ``t`` (N+1,), ``m`` (N+1, L, 3), ``x`` (L,) the macro points, ``stats``.
    """
    _checks.field(H)
    m0 = chain_checks.chain_state("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    J, beta, gamma = chain_checks.constants(J, beta, gamma)
    macro = _checks.choice("macro", macro, MACRO_SCHEMES)
    r = _checks.integer("r", r, 1)
    ell = _checks.integer("ell", ell, 0)
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(eps, tau, kernel, beta, steps_per_eps, "magnus4", "centred")
    space_kernel = kernel if space_kernel is None else as_kernel("space_kernel", space_kernel)
    initial = _checks.choice("initial", initial, ("average", "sample"))
    exchange_steps_per_eps = _checks.integer("exchange_steps_per_eps", exchange_steps_per_eps, 1)
    dns_steps_per_eps = _checks.integer("dns_steps_per_eps", dns_steps_per_eps, 1)
    tol = _checks.positive("tol", tol)
    max_iter = _checks.integer("max_iter", max_iter, 1)
    max_work = _checks.integer("max_work", max_work, 1)
    n = m0.shape[0]
    macro_idx = macro_particles(n, r, ell)
    L = len(macro_idx)
    dx = chain_checks.spacing(dx, n)
    H = fields.Counted(H)
    grid = fine_grid(micro, J, fields.field_bound(H, T), exchange_steps_per_eps)
    _checks.work(
        N * (1 if macro == "midpoint" else 2) * L * 10 * (2 * r - 1) * 2 * grid[0],
        max_work,
        asked=(
            f"chain solve_hmm with N = {N} macro steps, L = {L} boxes of {2 * r + 1} particles "
            f"(at least 10 micro solves a step, {2 * grid[0]} RK4 steps each)"
        ),
        change="take fewer macro steps or boxes, shorten tau or raise eps",
    )
    t = np.linspace(0.0, T, N + 1)
    t_stage = stage_times(t, macro)
    omega = space_weights(space_kernel, r)
    boxes = MicroBoxes.build(H, t_stage.reshape(-1), micro, grid, r=r, ell=ell, J=J, omega=omega)
    counts = {"micro_steps": 0, "spin_steps": 0}
    if initial == "average":
        kw = dict(J=J, beta=beta, gamma=gamma, steps_per_eps=dns_steps_per_eps, max_work=max_work)
        avg, steps = time_averages(H, m0, np.array([0.0]), micro, **kw)
        M0 = space_average(avg[0], r, ell, space_kernel)
        counts["spin_steps"] += steps * n
    else:
        M0 = m0[macro_idx]
    rhs = macro_rhs_of_boxes(boxes, t_stage.shape[1], neighbour_slots(L), gamma / beta, counts)
    M, newton = march(
        rhs, M0, t, macro=macro, predict=predicted_midpoint if macro == "midpoint" else None,
        tol=tol, max_iter=max_iter, max_update=_MAX_UPDATE, chord=True,
    )  # fmt: skip
    stats = make_stats(field_evaluations=H.points, steps=N, **counts, **newton)
    return Solution(t, M, stats, macro_idx * dx)
