r"""The HMM of Section 3.3 for the chain: macro model (3.10) stepped by the implicit midpoint rule.

Each step is solved by Newton's method with a finite-difference Jacobian of the upscaled
fluxes (3.12) of :mod:`hmm.chain.micro`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.linalg

from .. import _checks
from ..dns import field_bound
from ..integrators import NonConvergenceError
from ..kernels import Kernel
from ..ll_equation import cross_matrix
from ..micro import DEFAULT_STEPS_PER_EPS
from . import _checks as chain_checks
from .averages import dns_average, macro_particles, space_weights
from .micro import DEFAULT_EXCHANGE_STEPS_PER_EPS, MicroBoxes
from .solution import ChainSolution

DEFAULT_TOL = 1e-10
DEFAULT_MAX_ITER = 30
_FD_STEP = 1e-7
_MAX_UPDATE = 0.25


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
    m0 = chain_checks.chain_state("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    eps = _checks.positive("eps", eps)
    tau = _checks.positive("tau", tau)
    kernel = _checks.kernel("kernel", kernel)
    r = _checks.integer("r", r, 1)
    ell = _checks.integer("ell", ell, 0)
    J, beta, gamma = chain_checks.constants(J, beta, gamma)
    space_kernel = kernel if space_kernel is None else _checks.kernel("space_kernel", space_kernel)
    initial = _checks.choice("initial", initial, ("average", "sample"))
    steps_per_eps = _checks.integer("steps_per_eps", steps_per_eps, 1)
    exchange_steps_per_eps = _checks.integer("exchange_steps_per_eps", exchange_steps_per_eps, 1)
    tol = _checks.positive("tol", tol)
    max_iter = _checks.integer("max_iter", max_iter, 1)
    _checks.field(H)
    n = m0.shape[0]
    macro = macro_particles(n, r, ell)
    L = len(macro)
    dx = chain_checks.spacing(dx, n)
    omega = space_weights(space_kernel, r)
    t = np.linspace(0.0, T, N + 1)
    dt = T / N
    t_mid = 0.5 * (t[:-1] + t[1:])
    h_bound = field_bound(H, T, eps)
    micro = MicroBoxes(
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
    for k in range(N):
        Y = _newton_midpoint(micro, k, M[k], _predict(M, k), slots, dt, c, tol, max_iter, stats)
        M[k + 1] = 2.0 * Y - M[k]
    return ChainSolution(t, M, macro * dx, stats)


def _newton_midpoint(micro, k, Mk, Y, slots, dt, c, tol, max_iter, stats):
    r"""Midpoint :math:`\mathbf{Y} = \mathbf{M}_{k+1/2}` of macro step ``k`` by chord Newton from the guess ``Y``.

    Solves :math:`\mathbf{Y} - \mathbf{M}_k - \frac{\Delta t}{2}(\mathbf{F} + c\,\mathbf{Y}\times\mathbf{F}) = 0`
    with the fluxes (3.12) of ``micro``; the Jacobian (forward differences of the 9 inputs of
    every box, batched with the flux) is refreshed when convergence slows. Updates are
    capped at 0.25. Adds to the counters in ``stats``.
    """
    L = Mk.shape[0]
    # forward-difference perturbations: one per (slot, component)
    E = np.zeros((9, 1, 3, 3))
    E[np.arange(9), 0, np.arange(9) // 3, np.arange(9) % 3] = _FD_STEP
    eye = np.eye(3 * L)
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
        stats["micro_steps"] += 2 * micro.n_c if micro.J else 0
        stats["particle_steps"] += psteps
        F = Fb[0]
        f = F + c * np.cross(Y, F)
        residual = (Y - Mk - 0.5 * dt * f).reshape(-1)
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
    return Y


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
        Yx = cross_matrix(Y)  # (L, 3, 3)
        Jf = JF + c * np.einsum("iab,ibkc->iakc", Yx, JF)
        Jf[rows, :, rows, :] -= c * cross_matrix(F)
    else:
        Jf = JF
    return Jf.reshape(3 * L, 3 * L)
