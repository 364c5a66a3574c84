r"""The three single-spin solvers: HMM (3.3), direct simulation (1.2), averaged equation (4.3)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from . import _checks
from .dns import field_bound, rk4_spin, step_grid
from .integrators import DEFAULT_MAX_ITER, DEFAULT_TOL, implicit_midpoint_step
from .kernels import Kernel
from .ll_equation import cross_matrix, landau_lifshitz
from .micro import DEFAULT_MICRO_METHOD, DEFAULT_STEPS_PER_EPS, micro_grid, micro_options
from .upscaling import damped_flux, flux_matrices


@dataclass(frozen=True)
class Solution:
    """Result of a solver.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times.
    m : ndarray, shape (n_t, ..., 3)
        Magnetisation at ``t``.
    stats : dict
        Work counters (machine independent), e.g. ``"field_evaluations"``,
        ``"micro_steps"``, ``"newton_iterations"``, ``"nfev"``.
    """

    t: np.ndarray
    m: np.ndarray
    stats: dict = field(default_factory=dict)


def solve_hmm(
    H: Callable,
    M0,
    *,
    T: float,
    N: int,
    eps: float,
    tau: float,
    kernel: Kernel,
    beta: float = 1.0,
    gamma: float = 1.0,
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    micro_method: str = DEFAULT_MICRO_METHOD,
    window: str = "centred",
    project: bool = False,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
    damping: str = "macro",
) -> Solution:
    r"""HMM for a single spin: macro solver (3.3) with the upscaled flux (3.5)/(3.7).

    .. math::  \mathbf{M}_{n+1} &= \mathbf{M}_n + \Delta t\,\mathbf{F}_{n+1/2}
               + \frac{\gamma}{\beta}\Delta t\,\mathbf{M}_{n+1/2}\times\mathbf{F}_{n+1/2}, \\
               \mathbf{F}_{n+1/2} &= \mathbf{F}(t_{n+1/2}, \mathbf{M}_{n+1/2}).

    The flux is linear in :math:`\mathbf{M}` (the micro model has no damping), so
    the micro problems at all :math:`t_{n+1/2}` are solved once, in one batch,
    as propagators; each implicit step is then a Newton solve on three unknowns
    with the exact Jacobian.

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
    steps_per_eps : int, default 32
        Micro steps per period :math:`\varepsilon`.
    micro_method : {"magnus4", "midpoint"}, default "magnus4"
        Micro integrator (``"midpoint"`` is the paper's).
    window : {"centred", "forward"}, default "centred"
        Averaging window of the upscaling.
    project : bool, default False
        Renormalise :math:`\mathbf{M}_{n+1}` to :math:`|\mathbf{M}_0|` after each
        macro step (the projection mentioned in Section 6).
    tol, max_iter
        Newton tolerance and iteration cap of each macro step; a step that does
        not converge raises :class:`hmm.NonConvergenceError`.
    damping : {"macro", "micro"}, default "macro"
        Where the damping :math:`\gamma` lives. ``"macro"``: the paper's method,
        damping in the macro model (3.2), micro model (3.4) without it.
        ``"micro"``: the variant mentioned in Section 3.2, micro model (1.2)
        with damping (:func:`hmm.upscaling.damped_flux`) and macro model
        :math:`d\mathbf{M}/dt = \mathbf{F}_\gamma(t, \mathbf{M})` (the form (3.1)),
        stepped by the same implicit midpoint rule. The flux is then nonlinear
        in :math:`\mathbf{M}`, so every Newton iteration solves the micro
        problem again, for seven initial states in one batch (the state and
        the six of a central-difference Jacobian);
        ``micro_method="magnus4"`` then means classical RK4.

    Returns
    -------
    Solution
        ``t`` of shape ``(N + 1,)``, ``m`` of shape ``(N + 1, 3)``.
    """
    M0 = _checks.vector3("M0", M0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    beta = _checks.positive("beta", beta)
    gamma = _checks.nonnegative("gamma", gamma)
    tol = _checks.positive("tol", tol)
    max_iter = _checks.integer("max_iter", max_iter, 1)
    damping = _checks.choice("damping", damping, ("macro", "micro"))
    if not isinstance(project, bool | np.bool_):
        raise ValueError(f"project must be True or False, got {project!r}")
    t = np.linspace(0.0, T, N + 1)
    if damping == "micro":
        return _solve_hmm_damped_micro(
            H,
            M0,
            t,
            eps=eps,
            tau=tau,
            kernel=kernel,
            beta=beta,
            gamma=gamma,
            steps_per_eps=steps_per_eps,
            micro_method=micro_method,
            window=window,
            project=project,
            tol=tol,
            max_iter=max_iter,
        )
    A = flux_matrices(
        H,
        0.5 * (t[:-1] + t[1:]),
        eps=eps,
        tau=tau,
        kernel=kernel,
        beta=beta,
        steps_per_eps=steps_per_eps,
        method=micro_method,
        window=window,
    )
    c = gamma / beta

    def step(n):
        An = A[n]

        def f(M):
            F = M @ An.T
            return F + c * np.cross(M, F)

        def jac(M):
            return An + c * (cross_matrix(M) @ An - cross_matrix(An @ M))

        return f, jac

    m, iterations = _march(M0, N, T / N, step, project=project, tol=tol, max_iter=max_iter)
    n_micro = len(micro_grid(eps, tau, steps_per_eps, window)[0]) - 1
    stats = {
        "macro_steps": N,
        "micro_steps": N * n_micro,
        "field_evaluations": N * (3 * n_micro + 1),
        "newton_iterations": iterations,
    }
    return Solution(t, m, stats)


def _march(M0, N: int, dt: float, step: Callable, *, project: bool, tol: float, max_iter: int):
    """The macro scheme (3.3): ``N`` implicit midpoint steps of size ``dt`` from ``M0``.

    ``step(n)`` returns the right-hand side ``f`` of step ``n`` and its Jacobian ``jac``. With
    ``project`` each new value is scaled back to ``|M0|``. Returns the values, shape
    ``(N + 1, 3)``, and the total number of Newton iterations.
    """
    m = np.empty((N + 1, 3))
    m[0] = M0
    iterations = 0
    for n in range(N):
        f, jac = step(n)
        m[n + 1], its = implicit_midpoint_step(f, m[n], dt, jac=jac, tol=tol, max_iter=max_iter)
        iterations += its
        if project:
            m[n + 1] *= np.linalg.norm(M0) / np.linalg.norm(m[n + 1])
    return m, iterations


def _solve_hmm_damped_micro(
    H,
    M0,
    t,
    *,
    eps,
    tau,
    kernel,
    beta,
    gamma,
    steps_per_eps,
    micro_method,
    window,
    project,
    tol,
    max_iter,
) -> Solution:
    """HMM with the damping in the micro model: M_{n+1} = M_n + dt F_gamma(t_{n+1/2}, M_{n+1/2})."""
    micro_options(
        H,
        eps=eps,
        tau=tau,
        beta=beta,
        steps_per_eps=steps_per_eps,
        method=micro_method,
        window=window,
    )
    _checks.kernel("kernel", kernel)
    N = len(t) - 1
    micro_solves = [0]  # micro states integrated

    def step(n):
        t_mid = 0.5 * (t[n] + t[n + 1])

        def flux(batch):
            micro_solves[0] += len(batch)
            return damped_flux(
                H,
                np.full(len(batch), t_mid),
                batch,
                eps=eps,
                tau=tau,
                kernel=kernel,
                beta=beta,
                gamma=gamma,
                steps_per_eps=steps_per_eps,
                method=micro_method,
                window=window,
            )

        cache = {}

        def f(M):
            # one batched micro solve gives F(M) and the central-difference Jacobian
            d = 1e-6 * max(1.0, float(np.max(np.abs(M))))
            E = d * np.eye(3)
            F = flux(np.concatenate([M[None], M + E, M - E]))
            cache["key"] = M.tobytes()
            cache["jac"] = ((F[1:4] - F[4:7]) / (2 * d)).T
            return F[0]

        def jac(M):
            if cache.get("key") != M.tobytes():
                f(M)
            return cache["jac"]

        return f, jac

    m, iterations = _march(M0, N, t[1] - t[0], step, project=project, tol=tol, max_iter=max_iter)
    n_micro = len(micro_grid(eps, tau, steps_per_eps, window)[0]) - 1
    stats = {
        "macro_steps": N,
        "micro_solves": micro_solves[0],
        "micro_steps": micro_solves[0] * n_micro,
        "newton_iterations": iterations,
    }
    return Solution(t, m, stats)


def solve_dns(
    H: Callable,
    m0,
    *,
    T: float,
    eps: float,
    beta: float = 1.0,
    gamma: float = 1.0,
    t_eval=None,
    steps_per_eps: int = 64,
) -> Solution:
    r"""Direct simulation of the full problem (1.2) with :math:`\mathbf{H}^\varepsilon(t) = \mathbf{H}(t, t/\varepsilon)`.

    .. math::  \frac{d\mathbf{m}^\varepsilon}{dt} = -\beta\,\mathbf{m}^\varepsilon\times\mathbf{H}^\varepsilon
               - \gamma\,\mathbf{m}^\varepsilon\times(\mathbf{m}^\varepsilon\times\mathbf{H}^\varepsilon),

    integrated by the classical fourth-order Runge-Kutta method with steps that
    resolve every oscillation of the field (see :mod:`hmm.dns`). Its cost grows
    like :math:`T/\varepsilon`. With the default 64 steps per period the error
    on the paper's problems is about 1e-10 (checked against scipy's DOP853 at
    rtol 1e-12 in the tests).

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    m0 : array_like, shape (3,)
        Initial magnetisation.
    T, eps : float
        Final time and fast period, > 0.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    t_eval : array_like, optional
        Sorted output times in ``[0, T]``; default ``linspace(0, T, 1001)``.
        The steps are fitted to hit each output time exactly.
    steps_per_eps : int, default 64
        Steps per period :math:`\varepsilon`.

    Returns
    -------
    Solution
        ``m`` of shape ``(len(t), 3)``; ``stats["field_evaluations"]`` counts
        field evaluations (three per step).
    """
    m0 = _checks.vector3("m0", m0)
    T = _checks.positive("T", T)
    eps = _checks.positive("eps", eps)
    beta = _checks.positive("beta", beta)
    gamma = _checks.nonnegative("gamma", gamma)
    steps_per_eps = _checks.integer("steps_per_eps", steps_per_eps, 1)
    _checks.field(H)
    t_eval = _output_times("t_eval", t_eval, T)
    t = np.linspace(0.0, T, 1001) if t_eval is None else t_eval
    grid = np.unique(np.concatenate([[0.0], t]))
    rate = (beta + gamma) * field_bound(H, T, eps)
    h_max = min(eps, 1.0 / rate if rate > 0 else np.inf) / steps_per_eps
    m = rk4_spin(H, m0, grid, h_max, eps=eps, beta=beta, gamma=gamma)
    steps = len(step_grid(grid, h_max)[1])
    return Solution(
        t, m[np.searchsorted(grid, t)], {"steps": steps, "field_evaluations": 3 * steps}
    )


def averaged_field(H: Callable, t, *, n_quad: int = 128) -> np.ndarray:
    r"""Effective field :math:`\bar{\mathbf{H}}(t) = \int_0^1 \mathbf{H}(t, s)\,ds` (Section 4).

    The trapezoidal rule with ``n_quad`` points in the period; for a smooth
    periodic field it converges faster than any power of ``1/n_quad``.

    Returns
    -------
    ndarray, shape ``t.shape + (3,)``
    """
    _checks.field(H)
    n_quad = _checks.integer("n_quad", n_quad, 1)
    t = np.asarray(t, dtype=float)
    s = np.arange(n_quad) / n_quad
    tt, ss = np.broadcast_arrays(t[..., None], s)
    return _checks.evaluate_field(H, tt, ss).mean(axis=-2)


def solve_averaged(
    H: Callable,
    m0,
    *,
    T: float,
    N: int,
    beta: float = 1.0,
    gamma: float = 1.0,
    method: str = "exact",
    n_quad: int = 128,
) -> Solution:
    r"""Solve the averaged (effective) equation (4.3) at :math:`t_n = nT/N`.

    .. math::  \frac{d\bar{\mathbf{m}}}{dt} = -\beta\,\bar{\mathbf{m}}\times\bar{\mathbf{H}}(t)
               - \gamma\,\bar{\mathbf{m}}\times(\bar{\mathbf{m}}\times\bar{\mathbf{H}}(t)),

    with :math:`\bar{\mathbf{H}}` from :func:`averaged_field`. Used only to check
    the HMM, which never sees :math:`\bar{\mathbf{H}}`.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    m0 : array_like, shape (3,)
        Initial magnetisation.
    T : float
        Final time, > 0.
    N : int
        Number of intervals of the output grid, >= 1.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    method : {"exact", "midpoint"}, default "exact"
        ``"exact"``: DOP853 at rtol 1e-12 (the exact :math:`\bar{\mathbf{m}}(t_n)`);
        ``"midpoint"``: the implicit midpoint rule (4.10) with step ``T/N``, the
        discrete averaged solution :math:`\bar{\mathbf{m}}^{\Delta t}_n` of Section 4.3.
    n_quad : int, default 128
        Quadrature points for :math:`\bar{\mathbf{H}}`.

    Returns
    -------
    Solution
        ``t`` of shape ``(N + 1,)``, ``m`` of shape ``(N + 1, 3)``.
    """
    m0 = _checks.vector3("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    beta = _checks.positive("beta", beta)
    gamma = _checks.nonnegative("gamma", gamma)
    method = _checks.choice("method", method, ("exact", "midpoint"))
    t = np.linspace(0.0, T, N + 1)
    if method == "exact":
        sol = solve_ivp(
            lambda tt, m: landau_lifshitz(m, averaged_field(H, tt, n_quad=n_quad), beta, gamma),
            (0.0, T),
            m0,
            method="DOP853",
            t_eval=t,
            rtol=1e-12,
            atol=1e-14,
        )
        _check_ivp(sol)
        return Solution(sol.t, sol.y.T, {"nfev": sol.nfev})
    Hbar = averaged_field(H, 0.5 * (t[:-1] + t[1:]), n_quad=n_quad)
    m = np.empty((N + 1, 3))
    m[0] = m0
    for n in range(N):
        h = Hbar[n]

        def f(y, h=h):
            return landau_lifshitz(y, h, beta, gamma)

        def jac(y, h=h):
            return beta * cross_matrix(h) + gamma * (
                cross_matrix(np.cross(y, h)) + cross_matrix(y) @ cross_matrix(h)
            )

        m[n + 1], _ = implicit_midpoint_step(f, m[n], T / N, jac=jac)
    return Solution(t, m, {})


def _output_times(name: str, t_eval, T: float):
    if t_eval is None:
        return None
    t = np.asarray(t_eval, dtype=float)
    if t.ndim != 1 or not np.all(np.isfinite(t)):
        raise ValueError(f"{name} must be a finite 1-d array")
    if np.any(t < 0) or np.any(t > T) or np.any(np.diff(t) < 0):
        raise ValueError(f"{name} must be sorted and lie in [0, T]")
    return t


def _check_ivp(sol) -> None:
    if not sol.success:
        raise RuntimeError(f"time integration failed: {sol.message}")
    if not np.all(np.isfinite(sol.y)):
        raise ValueError("H(t, s) must return finite values, got NaN or inf")
