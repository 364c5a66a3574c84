r"""The HMM for a single spin: the macro model (3.2) with the upscaled flux, stepped by the macro solver (3.3).

.. math::  \frac{d\mathbf{M}}{dt} = \mathbf{F}(t, \mathbf{M}) + \frac{\gamma}{\beta}\,\mathbf{M}\times\mathbf{F}(t, \mathbf{M}),
           \qquad \mathbf{M}(0) = \mathbf{m}^\varepsilon(0),                                   \tag{3.2}

with the flux :math:`\mathbf{F}` upscaled from the micro problem (:mod:`hmm.upscaling`), stepped
by the macro scheme of :mod:`hmm.macro_scheme`, the implicit midpoint rule

.. math::  \mathbf{M}_{n+1} = \mathbf{M}_n + \Delta t\,\mathbf{F}_{n+1/2}
           + \frac{\gamma}{\beta}\Delta t\,\mathbf{M}_{n+1/2}\times\mathbf{F}_{n+1/2},
           \qquad \mathbf{F}_{n+1/2} = \mathbf{F}(t_{n+1/2}, \mathbf{M}_{n+1/2}).          \tag{3.3}
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks, fields
from .averaging import DEFAULT_N_QUAD, drift_vector, missing_drift_from, missing_drift_jacobian
from .integrators import DEFAULT_MAX_ITER, DEFAULT_TOL
from .kernels import Kernel, as_kernel
from .macro_scheme import (
    MACRO_SCHEMES,
    macro_rhs,
    macro_rhs_jacobian,
    march,
    stage_times,
    stages,
)
from .micro import DEFAULT_STEPS_PER_EPS, MicroSettings
from .solution import Solution, make_stats
from .upscaling import (
    check_quadrature,
    damped_flux_batch,
    flux_matrix_batch,
    restricted_flux_matrix_batch,
)

DAMPING = ("macro", "micro")
LIFTS = {"none": flux_matrix_batch, "restriction": restricted_flux_matrix_batch}
DRIFTS = ("paper", "second_order")
_FD_STEP = 1e-6


def linear_rhs(A: np.ndarray, c: float) -> Callable:
    r"""(3.2) with the linear flux :math:`\mathbf{F} = \mathcal{A}\mathbf{M}` at stage ``i`` of step ``n``, and its exact Jacobian.

    ``A`` of shape ``(N, stages, 3, 3)``, the flux matrices at :func:`stage_times`.
    """

    def rhs(n, i, M, jacobian):
        F = A[n, i] @ M
        J = macro_rhs_jacobian(A[n, i][None, :, None, :], M[None], F[None], c) if jacobian else None
        return macro_rhs(F, M, c), J

    return rhs


def second_order_rhs(rhs: Callable, c: np.ndarray, eps: float, beta: float, gamma: float):
    r"""The macro model ``rhs`` plus :math:`\varepsilon` times the missing drift, at stage ``i`` of step ``n`` (beyond the paper).

    :math:`\varepsilon\,(\beta\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{c}) - \gamma^2|\mathbf{M}|^2\,\mathbf{M}\times\mathbf{c})`
    (:func:`hmm.missing_drift`) with its exact Jacobian; ``c`` of shape
    ``(N, stages, 3)``, :math:`\mathbf{c}` at the stage times.
    """

    def with_drift(n, i, M, jacobian):
        F, J = rhs(n, i, M, jacobian)
        F = F + eps * missing_drift_from(c[n, i], M, beta, gamma)
        if jacobian:
            J = J + eps * missing_drift_jacobian(c[n, i], M, beta, gamma)
        return F, J

    return with_drift


def interpolate_stages(t_stage: np.ndarray, values: np.ndarray, t: np.ndarray) -> np.ndarray:
    r"""Values given at the stage times, at the times ``t``: cubic Lagrange interpolation (beyond the paper).

    Each time takes the four nearest stage times (all, if fewer), so a smooth quantity is
    interpolated with error :math:`O(\Delta t^4)`. ``values`` of shape ``t_stage.shape + X``,
    ``t`` of shape ``(n,)``; returns ``(n,) + X``.
    """
    ts = t_stage.reshape(-1)
    flat = values.reshape((len(ts),) + values.shape[t_stage.ndim :])
    k = min(4, len(ts))
    first = np.clip(np.searchsorted(ts, t) - k // 2, 0, len(ts) - k)
    x = ts[first[:, None] + np.arange(k)]
    weights = np.ones_like(x)
    for j in range(k):
        for i in range(k):
            if i != j:
                weights[:, j] *= (t - x[:, i]) / (x[:, j] - x[:, i])
    return np.einsum("nk,nk...->n...", weights, flat[first[:, None] + np.arange(k)])


def node_derivatives(
    t: np.ndarray, t_stage: np.ndarray, A: np.ndarray, c: np.ndarray | None, m: np.ndarray,
    micro: MicroSettings, gamma: float,
) -> np.ndarray:  # fmt: skip
    r"""The macro model's right-hand side at the nodes, for the dense output (beyond the paper).

    (3.2) at :math:`(t_n, \mathbf{M}_n)`, with :math:`\mathcal{A}(t_n)` (and :math:`\mathbf{c}(t_n)`
    of ``drift="second_order"``, if given) interpolated from the stage times
    (:func:`interpolate_stages`): no more micro problems or field evaluations, and an error
    :math:`O(\Delta t^4)` where the flux is smooth in :math:`t_a` (with ``lift="restriction"``).
    Shape ``(N + 1, 3)``.
    """
    A_nodes = interpolate_stages(t_stage, A, t)[:, None]
    c_nodes = None if c is None else interpolate_stages(t_stage, c, t)[:, None]
    rhs = macro_model(A_nodes, micro, gamma, c_nodes)
    return np.stack([rhs(n, 0, m[n], False)[0] for n in range(len(t))])


def macro_model(A: np.ndarray, micro: MicroSettings, gamma: float, c: np.ndarray | None):
    """(3.2) with the flux matrices ``A`` (:func:`linear_rhs`), plus the missing drift if ``c`` is given (:func:`second_order_rhs`)."""
    rhs = linear_rhs(A, gamma / micro.beta)
    return rhs if c is None else second_order_rhs(rhs, c, micro.eps, micro.beta, gamma)


def damped_micro_rhs(
    H: Callable, t_stage: np.ndarray, micro: MicroSettings, gamma: float, used: list,
    quadrature: str = "simpson",
):  # fmt: skip
    r""":math:`\mathbf{F}_\gamma` of the damped micro model at the stage times, Jacobian by central differences.

    The state and its six perturbations are solved as one batch of micro problems; ``used``
    collects the number of micro windows.
    """

    def rhs(n, i, M, jacobian):
        d = _FD_STEP * max(1.0, float(np.max(np.abs(M))))
        batch = (
            np.concatenate([M[None], M + d * np.eye(3), M - d * np.eye(3)]) if jacobian else M[None]
        )
        t_a = np.full(len(batch), t_stage[n, i])
        F = damped_flux_batch(H, t_a, batch, micro, gamma, quadrature)
        used[0] += len(batch)
        return F[0], ((F[1:4] - F[4:7]) / (2 * d)).T if jacobian else None

    return rhs


def upscaled_model(
    H: Callable, t_stage: np.ndarray, micro: MicroSettings, lift: str, drift: str,
    quadrature: str, n_quad: int,
) -> tuple[np.ndarray, np.ndarray | None]:  # fmt: skip
    r"""What the macro model (3.2) needs at the stage times: the flux matrices (3.7) and the drift vector.

    :math:`\mathcal{A}` of shape ``t_stage.shape + (3, 3)``, from micro problems started at
    :math:`\mathbf{M}` (``lift="none"``, :func:`hmm.upscaling.flux_matrix_batch`) or at its
    restriction (``"restriction"``, :func:`hmm.upscaling.restricted_flux_matrix_batch`), all
    stage times in one batch; :math:`\mathbf{c}` of :func:`hmm.drift_vector` for
    ``drift="second_order"``, else None.
    """
    A = LIFTS[lift](H, t_stage.reshape(-1), micro, quadrature).reshape(t_stage.shape + (3, 3))
    c = None if drift == "paper" else drift_vector(H, t_stage, n_quad=n_quad)
    return A, c


def _checked_variant(macro, damping, lift, drift) -> tuple[str, str, str, str]:
    """The macro scheme and the variant of the method (``solve_hmm``'s options), checked together."""
    macro = _checks.choice("macro", macro, MACRO_SCHEMES)
    damping = _checks.choice("damping", damping, DAMPING)
    lift = _checks.choice("lift", lift, tuple(LIFTS))
    drift = _checks.choice("drift", drift, DRIFTS)
    if damping == "micro" and (lift, drift) != ("none", "paper"):
        raise ValueError(
            "lift and drift must be 'none' and 'paper' with damping='micro': they lift and "
            "correct the macro model (3.2) with the undamped micro model"
        )
    return macro, damping, lift, drift


def solve_hmm(
    H: Callable, m0, *, T: float, N: int, eps: float, tau: float, kernel: Kernel,
    beta: float = 1.0, gamma: float = 1.0, macro: str = "midpoint",
    micro_method: str | None = None, micro_steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    window: str = "centred", damping: str = "macro", lift: str = "none", drift: str = "paper",
    n_quad: int = DEFAULT_N_QUAD, project: bool = False, newton_tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER, max_work: int = _checks.MAX_WORK,
    quadrature: str = "simpson",
) -> Solution:  # fmt: skip
    r"""HMM for a single spin: the macro solver (3.3) with the upscaled flux (3.5)/(3.7).

    The flux is linear in :math:`\mathbf{M}` (the micro model has no damping), so the micro
    problems at all :math:`t_{n+1/2}` (or all Gauss points, for ``macro="gauss4"``) are solved
    once, in one batch, as propagators; each implicit step is then a Newton solve on three (or
    six) unknowns with the exact Jacobian.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``; ``t``, ``s`` arrays of one shape ``S``, returns ``S + (3,)``.
    m0 : array_like, shape (3,)
        Initial magnetisation :math:`\mathbf{M}_0 = \mathbf{m}^\varepsilon(0)`, a unit vector.
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
    macro : {"midpoint", "gauss4"}, default "midpoint"
        Macro scheme: ``"midpoint"``, the implicit midpoint rule (3.3) of the paper (order 2,
        one flux per step, at :math:`t_{n+1/2}`); ``"gauss4"``, the 2-stage Gauss-Legendre
        method (order 4, fluxes at the two Gauss points of each step, batched like the
        midpoint's). Both keep :math:`|\mathbf{M}|` for an exactly skew flux.
    micro_method : {"magnus4", "midpoint", "rk4"}, optional
        Micro integrator: default ``"magnus4"``; ``"midpoint"`` is the paper's. With
        ``damping="micro"``: ``"rk4"`` (default) or ``"midpoint"``.
    micro_steps_per_eps : int, default 32
        Micro steps per period :math:`\varepsilon` (of the micro integrator ``micro_method``).
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
    lift : {"none", "restriction"}, default "none"
        Initial data of the micro problems. ``"none"``: :math:`\mathbf{M}` (the paper), which
        leaves an :math:`O(\varepsilon)` flux error oscillating with the phase
        :math:`t_a/\varepsilon`. ``"restriction"`` (beyond the paper): the state whose micro
        trajectory has kernel average :math:`\mathbf{M}`, i.e. the flux
        :math:`\mathcal{A}\mathcal{B}^{-1}\mathbf{M}`
        (:func:`hmm.upscaling.restricted_flux_matrix_batch`), consistent to
        :math:`O(\varepsilon^2)`, with no more field evaluations and no knowledge of the
        field. Needs ``damping="macro"``.
    drift : {"paper", "second_order"}, default "paper"
        ``"paper"``: the macro model (3.2). ``"second_order"`` (beyond the paper): (3.2) plus
        :math:`\varepsilon` times :func:`hmm.missing_drift`, the
        :math:`O(\varepsilon\gamma)` drift that (3.2) with an undamped micro model misses, so
        that with ``lift="restriction"`` the macro solution is the averaged solution to
        :math:`O(\varepsilon^2)` (:func:`hmm.reconstruct`). It uses
        :math:`\mathbf{c}(t) = \frac12\langle\mathbf{G}\times\mathbf{H}_1\rangle`
        (:func:`hmm.drift_vector`), i.e. knowledge of the field beyond
        :math:`\bar{\mathbf{H}}` that an HMM normally does not use (evaluations counted).
        Nothing to add for :math:`\gamma = 0` or a collinear oscillation. Needs
        ``damping="macro"``. The alternative without :math:`\mathbf{c}`, the damping in the
        micro model with the micro start lifted by restriction (a fixed point of the nonlinear
        micro problem), is not offered: a prototype reached the same errors with some 100
        times the field evaluations (1.2 million against 10,728 at :math:`\varepsilon = 10^{-3}`,
        :math:`N = 36`, error 6e-6; measured on 2 December 2026).
    n_quad : int, default 64
        Samples per period of the field for :math:`\mathbf{c}(t)` at each stage time, with
        ``drift="second_order"``.
    project : bool, default False
        Renormalise :math:`\mathbf{M}_{n+1}` to :math:`|\mathbf{M}_0|` after each macro step
        (the projection mentioned in Section 6).
    newton_tol, max_iter
        Newton tolerance and iteration cap of each macro step; a step that does not converge
        raises :class:`hmm.NonConvergenceError`.
    max_work : int, default 1e8
        Refuse a run of more micro steps than this (see :data:`hmm.STAT_KEYS`).
    quadrature : {"simpson", "parts"}, default "simpson"
        Quadrature of the flux, as in :func:`hmm.upscaled_flux`: the paper's Simpson rule on
        :math:`K_\tau\,d\mathbf{m}/ds`, or (beyond the paper) :math:`-\int K_\tau'\mathbf{m}\,ds`
        by parts, which needs ``kernel.q >= 0`` and evaluates the field :math:`2n` times per
        micro window of :math:`n` steps instead of :math:`3n + 1`.

    Returns
    -------
    Solution
        ``t`` of shape ``(N + 1,)``, ``m`` of shape ``(N + 1, 3)``, ``stats``; with
        ``damping="macro"`` also ``dmdt``, the macro model's right-hand side at ``t``
        (:func:`node_derivatives`) for the dense output of :func:`hmm.reconstruct`.
    """
    _checks.field(H)
    m0 = _checks.unit_vector("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    gamma = _checks.nonnegative("gamma", gamma)
    macro, damping, lift, drift = _checked_variant(macro, damping, lift, drift)
    n_quad = _checks.integer("n_quad", n_quad, 4)
    project = _checks.flag("project", project)
    newton = dict(
        tol=_checks.positive("newton_tol", newton_tol),
        max_iter=_checks.integer("max_iter", max_iter, 1),
    )
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(
        eps, tau, kernel, beta, micro_steps_per_eps, micro_method, window, damped=damping == "micro"
    )
    quadrature = check_quadrature(quadrature, kernel)
    _check_work(micro, N, macro, damping, _checks.integer("max_work", max_work, 1))
    H = fields.Counted(H)
    t = np.linspace(0.0, T, N + 1)
    t_stage = stage_times(t, macro)
    if damping == "macro":
        windows = [t_stage.size]
        A, c = upscaled_model(H, t_stage, micro, lift, drift, quadrature, n_quad)
        rhs = macro_model(A, micro, gamma, c)
    else:
        windows = [0]
        rhs = damped_micro_rhs(H, t_stage, micro, gamma, windows, quadrature)
    m, counts = march(rhs, m0, t, macro=macro, project=project, **newton)
    dmdt = node_derivatives(t, t_stage, A, c, m, micro, gamma) if damping == "macro" else None
    micro_steps = windows[0] * micro.steps
    stats = make_stats(
        field_evaluations=H.points, steps=N, micro_steps=micro_steps, spin_steps=micro_steps,
        **counts,
    )  # fmt: skip
    return Solution(t, m, stats, dmdt=dmdt)


def _check_work(micro: MicroSettings, N: int, macro: str, damping: str, max_work: int) -> None:
    """Refuse a run whose micro windows (seven per stage with ``damping="micro"``) exceed ``max_work``."""
    solves = 1 if damping == "macro" else 7
    micro.check_work(
        solves * stages(macro) * N,
        max_work,
        f"solve_hmm with N = {N} macro steps"
        + (" (7 micro solves each)" if damping == "micro" else ""),
    )
