r"""The macro model (3.2) and the macro solver (3.3): the HMM for a single spin.

.. math::  \frac{d\mathbf{M}}{dt} = \mathbf{F}(t, \mathbf{M}) + \frac{\gamma}{\beta}\,\mathbf{M}\times\mathbf{F}(t, \mathbf{M}),
           \qquad \mathbf{M}(0) = \mathbf{m}^\varepsilon(0),                                   \tag{3.2}

with the flux :math:`\mathbf{F}` upscaled from the micro problem (:mod:`hmm.upscaling`), stepped
by the implicit midpoint rule

.. math::  \mathbf{M}_{n+1} = \mathbf{M}_n + \Delta t\,\mathbf{F}_{n+1/2}
           + \frac{\gamma}{\beta}\Delta t\,\mathbf{M}_{n+1/2}\times\mathbf{F}_{n+1/2},
           \qquad \mathbf{F}_{n+1/2} = \mathbf{F}(t_{n+1/2}, \mathbf{M}_{n+1/2}).          \tag{3.3}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks, fields
from .integrators import DEFAULT_MAX_ITER, DEFAULT_TOL, implicit_midpoint_step
from .kernels import Kernel, as_kernel
from .ll_equation import cross_matrix
from .micro import DEFAULT_STEPS_PER_EPS, MicroSettings
from .solution import Solution, make_stats
from .upscaling import damped_flux_batch, flux_matrix_batch

DAMPING = ("macro", "micro")
MACRO_SCHEMES = ("midpoint",)
_FD_STEP = 1e-6


def macro_rhs(F: np.ndarray, M: np.ndarray, c: float) -> np.ndarray:
    r"""Right-hand side of the macro model (3.2), :math:`\mathbf{F} + c\,\mathbf{M}\times\mathbf{F}` with :math:`c = \gamma/\beta`.

    ``F`` and ``M`` of shape ``(..., 3)``: one spin, or every macro point of a chain.
    """
    return F + c * np.cross(M, F)


def macro_rhs_jacobian(dF: np.ndarray, M: np.ndarray, F: np.ndarray, c: float) -> np.ndarray:
    r"""Jacobian of (3.2) with respect to all macro values, a ``(3L, 3L)`` matrix.

    :math:`\partial_{\mathbf{M}_K}(\mathbf{F}_I + c\,\mathbf{M}_I\times\mathbf{F}_I)
    = \partial_K\mathbf{F}_I + c\,[\mathbf{M}_I]_\times\partial_K\mathbf{F}_I - c\,\delta_{IK}[\mathbf{F}_I]_\times`.

    Parameters
    ----------
    dF : ndarray, shape (L, 3, L, 3)
        :math:`\partial \mathbf{F}_I[a] / \partial \mathbf{M}_K[b]`.
    M, F : ndarray, shape (L, 3)
        Macro values and their fluxes.
    c : float
        :math:`\gamma/\beta`.
    """
    L = M.shape[0]
    J = dF + c * np.einsum("iab,ibkc->iakc", cross_matrix(M), dF)
    rows = np.arange(L)
    J[rows, :, rows, :] -= c * cross_matrix(F)
    return J.reshape(3 * L, 3 * L)


def march_midpoint(
    rhs: Callable, M0: np.ndarray, t: np.ndarray, *, project: bool, tol: float, max_iter: int
) -> tuple[np.ndarray, dict]:
    """The macro scheme (3.3): implicit midpoint steps over the grid ``t`` from ``M0``.

    ``rhs(n, M, jacobian)`` returns the right-hand side of (3.2) at :math:`t_{n+1/2}` and, if
    asked, its Jacobian. With ``project`` each new value is scaled back to ``|M0|`` (the
    projection of Section 6). Returns the values, shape ``(len(t), 3)``, and the Newton counters.
    """
    m = np.empty((len(t), 3))
    m[0] = M0
    counts = {"newton_iterations": 0, "jacobians": 0}
    for n in range(len(t) - 1):
        m[n + 1], work = implicit_midpoint_step(
            lambda M, jac, n=n: rhs(n, M, jac), m[n], t[n + 1] - t[n], tol=tol, max_iter=max_iter
        )
        counts["newton_iterations"] += work.iterations
        counts["jacobians"] += work.jacobians
        if project:
            m[n + 1] *= np.linalg.norm(M0) / np.linalg.norm(m[n + 1])
    return m, counts


def linear_rhs(A: np.ndarray, c: float) -> Callable:
    """(3.2) with the linear flux :math:`\\mathbf{F} = \\mathcal{A}_n\\mathbf{M}` of step ``n``, and its exact Jacobian."""

    def rhs(n, M, jacobian):
        F = A[n] @ M
        J = macro_rhs_jacobian(A[n][None, :, None, :], M[None], F[None], c) if jacobian else None
        return macro_rhs(F, M, c), J

    return rhs


def damped_micro_rhs(
    H: Callable, t_mid: np.ndarray, micro: MicroSettings, gamma: float, used: list
):
    """:math:`\\mathbf{F}_\\gamma` of the damped micro model at :math:`t_{n+1/2}`, Jacobian by central differences.

    The state and its six perturbations are solved as one batch of micro problems; ``used``
    collects the number of micro windows.
    """

    def rhs(n, M, jacobian):
        d = _FD_STEP * max(1.0, float(np.max(np.abs(M))))
        batch = (
            np.concatenate([M[None], M + d * np.eye(3), M - d * np.eye(3)]) if jacobian else M[None]
        )
        F = damped_flux_batch(H, np.full(len(batch), t_mid[n]), batch, micro, gamma)
        used[0] += len(batch)
        return F[0], ((F[1:4] - F[4:7]) / (2 * d)).T if jacobian else None

    return rhs


def solve_hmm(
    H: Callable, M0, *, T: float, N: int, eps: float, tau: float, kernel: Kernel,
    beta: float = 1.0, gamma: float = 1.0, macro: str = "midpoint",
    micro_method: str | None = None, steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    window: str = "centred", damping: str = "macro", project: bool = False,
    tol: float = DEFAULT_TOL, max_iter: int = DEFAULT_MAX_ITER, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""HMM for a single spin: the macro solver (3.3) with the upscaled flux (3.5)/(3.7).

    The flux is linear in :math:`\mathbf{M}` (the micro model has no damping), so the micro
    problems at all :math:`t_{n+1/2}` are solved once, in one batch, as propagators; each
    implicit step is then a Newton solve on three unknowns with the exact Jacobian.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``; ``t``, ``s`` arrays of one shape ``S``, returns ``S + (3,)``.
    M0 : array_like, shape (3,)
        Initial magnetisation :math:`\mathbf{M}_0 = \mathbf{m}^\varepsilon(0)`.
    T : float
        Final time, > 0.
    N : int
        Number of macro steps, >= 1; :math:`\Delta t = T/N`.
    eps, tau : float
        Fast period and averaging window, > 0.
    kernel : Kernel
        From :func:`hmm.kernel`.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    macro : {"midpoint"}, default "midpoint"
        Macro scheme: the implicit midpoint rule (3.3) of the paper.
    micro_method : {"magnus4", "midpoint", "rk4"}, optional
        Micro integrator: default ``"magnus4"``; ``"midpoint"`` is the paper's. With
        ``damping="micro"``: ``"rk4"`` (default) or ``"midpoint"``.
    steps_per_eps : int, default 32
        Micro steps per period :math:`\varepsilon`.
    window : {"centred", "forward"}, default "centred"
        Averaging window of the upscaling.
    damping : {"macro", "micro"}, default "macro"
        Where the damping :math:`\gamma` lives. ``"macro"``: the paper's method, damping in the
        macro model (3.2), micro model (3.4) without it. ``"micro"``: the variant mentioned in
        Section 3.2, the micro model (1.2) with damping and the macro model
        :math:`d\mathbf{M}/dt = \mathbf{F}_\gamma(t, \mathbf{M})` (the form (3.1)), stepped by the
        same implicit midpoint rule. The flux is then nonlinear in :math:`\mathbf{M}`, so every
        Newton iteration solves the micro problem again, for seven initial states in one batch
        (the state and the six of a central-difference Jacobian).
    project : bool, default False
        Renormalise :math:`\mathbf{M}_{n+1}` to :math:`|\mathbf{M}_0|` after each macro step
        (the projection mentioned in Section 6).
    tol, max_iter
        Newton tolerance and iteration cap of each macro step; a step that does not converge
        raises :class:`hmm.NonConvergenceError`.
    max_work : int, default 1e8
        Refuse a run of more micro steps than this (see :data:`hmm.STAT_KEYS`).

    Returns
    -------
    Solution
        ``t`` of shape ``(N + 1,)``, ``m`` of shape ``(N + 1, 3)``, ``stats``.
    """
    _checks.field(H)
    M0 = _checks.vector3("M0", M0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    gamma = _checks.nonnegative("gamma", gamma)
    _checks.choice("macro", macro, MACRO_SCHEMES)
    damping = _checks.choice("damping", damping, DAMPING)
    project = _checks.flag("project", project)
    tol = _checks.positive("tol", tol)
    max_iter = _checks.integer("max_iter", max_iter, 1)
    max_work = _checks.integer("max_work", max_work, 1)
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(
        eps, tau, kernel, beta, steps_per_eps, micro_method, window, damped=damping == "micro"
    )
    micro.check_work(
        N if damping == "macro" else 7 * N,
        max_work,
        f"solve_hmm with N = {N} macro steps"
        + (" (7 micro solves each)" if damping == "micro" else ""),
    )
    H = fields.Counted(H)
    t = np.linspace(0.0, T, N + 1)
    t_mid = 0.5 * (t[:-1] + t[1:])
    if damping == "macro":
        windows = [N]
        rhs = linear_rhs(flux_matrix_batch(H, t_mid, micro), gamma / micro.beta)
    else:
        windows = [0]
        rhs = damped_micro_rhs(H, t_mid, micro, gamma, windows)
    m, newton = march_midpoint(rhs, M0, t, project=project, tol=tol, max_iter=max_iter)
    micro_steps = windows[0] * micro.steps
    stats = make_stats(
        field_evaluations=H.points,
        steps=N,
        micro_steps=micro_steps,
        spin_steps=micro_steps,
        **newton,
    )
    return Solution(t, m, stats)
