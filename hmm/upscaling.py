r"""Upscaling (3.5)/(3.7): the kernel average of the micro time derivative.

.. math::  \mathbf{F}(t_a, \mathbf{M}) = \int_{-\tau/2}^{\tau/2} K_\tau(s)\,\frac{d}{ds}\mathbf{m}^\varepsilon(s)\,ds,

with :math:`\frac{d}{ds}\mathbf{m}^\varepsilon = -\beta\,\mathbf{m}^\varepsilon\times\mathbf{H}^\varepsilon`
taken from the micro equation itself at the micro nodes, and composite Simpson
quadrature on the micro grid. Because the micro problem is linear in
:math:`\mathbf{M}`, so is the flux: :math:`\mathbf{F}(t_a, \mathbf{M}) = \mathcal{A}(t_a)\mathbf{M}`.
Theorem 1 says :math:`\mathcal{A}(t_a) \to -\bar{\mathcal{H}}(t_a)`, i.e.
:math:`\mathbf{F} \to -\beta\,\mathbf{M}\times\bar{\mathbf{H}}`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks
from .kernels import Kernel
from .ll_equation import cross_matrix, landau_lifshitz
from .micro import (
    DEFAULT_MICRO_METHOD,
    DEFAULT_STEPS_PER_EPS,
    damped_micro_states,
    field_on_grid,
    micro_grid,
    micro_options,
    micro_propagators,
)

_CHUNK = 2_000_000  # micro nodes handled at once, bounds memory


def simpson_weights(s: np.ndarray) -> np.ndarray:
    """Composite Simpson weights on a uniform grid with an even number of intervals."""
    n = len(s) - 1
    if n < 2 or n % 2:
        raise ValueError(f"s must have an even number >= 2 of intervals, got {n}")
    w = np.ones(n + 1)
    w[1:-1:2] = 4.0
    w[2:-1:2] = 2.0
    return w * (s[1] - s[0]) / 3.0


def kernel_weights(
    s: np.ndarray, kernel: Kernel, tau: float, window: str = "centred"
) -> np.ndarray:
    r"""Weights :math:`w_j K_\tau(s_j - c)` of the kernel average in (3.5)/(3.7) on the micro grid.

    :math:`w_j` are the Simpson weights of :func:`simpson_weights` and
    :math:`K_\tau(t) = K(t/\tau)/\tau`; the window centre is :math:`c = 0` for the
    centred window and :math:`c = \tau/2` for the forward window :math:`[0, \tau]`, so
    that :math:`\sum_j w_j K_\tau(s_j - c)\,g(s_j) \approx \int K_\tau(s - c)\,g(s)\,ds`.
    """
    centre = 0.0 if window == "centred" else 0.5 * tau
    return simpson_weights(s) * kernel((s - centre) / tau) / tau


def flux_matrices(
    H: Callable,
    t_a,
    *,
    eps: float,
    tau: float,
    kernel: Kernel,
    beta: float = 1.0,
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    method: str = DEFAULT_MICRO_METHOD,
    window: str = "centred",
) -> np.ndarray:
    r"""Matrices :math:`\mathcal{A}(t_a)` with :math:`\mathbf{F}(t_a, \mathbf{M}) = \mathcal{A}(t_a)\mathbf{M}`, eq. (3.7).

    :math:`\mathcal{A}(t_a) = \sum_j w_j K_\tau(s_j - c)\,\beta[\mathbf{H}^\varepsilon(t_a + s_j)]_\times \Phi(s_j)`
    with Simpson weights :math:`w_j` and :math:`c = 0` (centred window) or
    :math:`c = \tau/2` (forward window). All ``t_a`` are done in one batched computation.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t_a : array_like
        Macro times, any shape ``B``.
    eps, tau, kernel, beta, steps_per_eps, method, window
        As in :func:`upscaled_flux`.

    Returns
    -------
    ndarray, shape ``B + (3, 3)``
    """
    opts = micro_options(
        H, eps=eps, tau=tau, beta=beta, steps_per_eps=steps_per_eps, method=method, window=window
    )
    _checks.kernel("kernel", kernel)
    t_a = np.asarray(t_a, dtype=float)
    if not np.all(np.isfinite(t_a)):
        raise ValueError("t_a must be finite")
    flat = t_a.reshape(-1)
    out = np.empty((flat.size, 3, 3))
    n_nodes = len(micro_grid(opts["eps"], opts["tau"], opts["steps_per_eps"], opts["window"])[0])
    chunk = max(1, _CHUNK // n_nodes)
    for start in range(0, flat.size, chunk):
        out[start : start + chunk] = _flux_matrices(H, flat[start : start + chunk], kernel, opts)
    return out.reshape(t_a.shape + (3, 3))


def upscaled_flux(
    H: Callable,
    t_a: float,
    M,
    *,
    eps: float,
    tau: float,
    kernel: Kernel,
    beta: float = 1.0,
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    method: str = DEFAULT_MICRO_METHOD,
    window: str = "centred",
    gamma: float = 0.0,
) -> np.ndarray:
    r"""Upscaled flux :math:`\mathbf{F}(t_a, \mathbf{M})` of (3.5)/(3.7).

    Solves the micro problem (3.6) forward and backward from :math:`\mathbf{M}`
    and averages :math:`\frac{d}{ds}\mathbf{m}^\varepsilon` with :math:`K_\tau`.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)`` taking arrays of one shape ``S``, returning ``S + (3,)``.
    t_a : float
        Macro time.
    M : array_like, shape (3,)
        Macro magnetisation, the micro initial data.
    eps : float
        Period of the fast oscillation, > 0.
    tau : float
        Length of the averaging window, > 0.
    kernel : Kernel
        Averaging kernel from :func:`hmm.kernel`.
    beta : float, default 1
        Precession constant.
    steps_per_eps : int, default 32
        Micro steps per period :math:`\varepsilon`. With the default method the
        micro discretisation error of the flux is below about 1e-7 (relative)
        for the paper's fields; see the book's chapter on the upscaling error.
    method : {"magnus4", "midpoint"}, default "magnus4"
        Micro integrator; ``"midpoint"`` is the paper's (order 2).
    window : {"centred", "forward"}, default "centred"
        Average over :math:`[t_a - \tau/2, t_a + \tau/2]` (the paper) or over
        :math:`[t_a, t_a + \tau]` (the forward-only variant of Section 3.2).
    gamma : float, default 0
        Damping in the micro model, >= 0. The paper's micro model (3.4) has none
        (``gamma = 0``); with ``gamma > 0`` the flux is :func:`damped_flux`, the
        average of the damped micro derivative (nonlinear in :math:`\mathbf{M}`).

    Returns
    -------
    ndarray, shape (3,)
    """
    t_a = _checks.finite("t_a", t_a)
    M = _checks.vector3("M", M)
    gamma = _checks.nonnegative("gamma", gamma)
    if gamma > 0:
        return damped_flux(
            H,
            np.array([t_a]),
            M[None],
            eps=eps,
            tau=tau,
            kernel=kernel,
            beta=beta,
            gamma=gamma,
            steps_per_eps=steps_per_eps,
            method=method,
            window=window,
        )[0]
    A = flux_matrices(
        H,
        t_a,
        eps=eps,
        tau=tau,
        kernel=kernel,
        beta=beta,
        steps_per_eps=steps_per_eps,
        method=method,
        window=window,
    )
    return A @ M


def damped_flux(
    H: Callable,
    t_a,
    M,
    *,
    eps: float,
    tau: float,
    kernel: Kernel,
    beta: float = 1.0,
    gamma: float = 1.0,
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    method: str = DEFAULT_MICRO_METHOD,
    window: str = "centred",
) -> np.ndarray:
    r"""Flux (3.7) of the micro model *with* damping, for a batch of states.

    .. math::  \mathbf{F}_\gamma(t_a, \mathbf{M}) = \int K_\tau(s)\,\Big(-\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon
               - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{H}^\varepsilon)\Big)(s)\,ds,

    where :math:`\mathbf{m}` solves (1.2) on the window from :math:`\mathbf{m}(0) = \mathbf{M}`
    (:func:`hmm.micro.damped_micro_states`). This is the variant of Section 3.2
    in which the damping leaves the macro model (3.2), which becomes
    :math:`d\mathbf{M}/dt = \mathbf{F}_\gamma(t, \mathbf{M})`, the form (3.1).
    As :math:`\varepsilon, \tau \to 0` it tends to the right-hand side of (4.3),
    because :math:`\mathbf{m}\times(\mathbf{m}\times\mathbf{H})` is linear in
    :math:`\mathbf{H}` and :math:`\mathbf{m} = \mathbf{M} + O(\varepsilon)` on the window.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t_a : array_like, shape ``B``
        Macro times.
    M : array_like, shape ``B + (3,)``
        Micro initial data (macro states).
    eps, tau, kernel, beta, steps_per_eps, window
        As in :func:`upscaled_flux`.
    gamma : float, default 1
        Damping constant of the micro model, >= 0.
    method : {"magnus4", "midpoint"}, default "magnus4"
        ``"magnus4"`` means classical RK4 here (the equation is nonlinear).

    Returns
    -------
    ndarray, shape ``B + (3,)``
    """
    opts = micro_options(
        H, eps=eps, tau=tau, beta=beta, steps_per_eps=steps_per_eps, method=method, window=window
    )
    gamma = _checks.nonnegative("gamma", gamma)
    _checks.kernel("kernel", kernel)
    t_a = np.asarray(t_a, dtype=float)
    M = np.asarray(M, dtype=float)
    if M.shape != t_a.shape + (3,):
        raise ValueError(f"M must have shape t_a.shape + (3,) = {t_a.shape + (3,)}, got {M.shape}")
    if not (np.all(np.isfinite(t_a)) and np.all(np.isfinite(M))):
        raise ValueError("t_a and M must be finite")
    s, m = damped_micro_states(H, t_a.reshape(-1), M.reshape(-1, 3), gamma=gamma, **opts)
    weights = kernel_weights(s, kernel, opts["tau"], opts["window"])
    Hs = field_on_grid(H, t_a.reshape(-1), s, opts["eps"])
    dm = landau_lifshitz(m, Hs, opts["beta"], gamma)
    return np.einsum("j,bjk->bk", weights, dm).reshape(t_a.shape + (3,))


def _flux_matrices(H: Callable, t_a: np.ndarray, kernel: Kernel, opts: dict) -> np.ndarray:
    s, Phi = micro_propagators(H, t_a, **opts)
    weights = kernel_weights(s, kernel, opts["tau"], opts["window"])
    Hs = field_on_grid(H, t_a, s, opts["eps"])
    dPhi = opts["beta"] * cross_matrix(Hs) @ Phi
    return np.einsum("j,bjik->bik", weights, dPhi)
