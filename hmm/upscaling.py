r"""Upscaling (3.5)/(3.7): the kernel average of the micro time derivative.

.. math::  \mathbf{F}(t_a, \mathbf{M}) = \int_{-\tau/2}^{\tau/2} K_\tau(s)\,\frac{d}{ds}\mathbf{m}^\varepsilon(s)\,ds,

with :math:`\frac{d}{ds}\mathbf{m}^\varepsilon = -\beta\,\mathbf{m}^\varepsilon\times\mathbf{H}^\varepsilon`
taken from the micro equation itself at the micro nodes, and composite Simpson quadrature on
the micro grid. The micro problem is linear in :math:`\mathbf{M}`, so the flux is too:
:math:`\mathbf{F}(t_a, \mathbf{M}) = \mathcal{A}(t_a)\mathbf{M}`. Theorem 1 says
:math:`\mathcal{A}(t_a) \to -\bar{\mathcal{H}}(t_a)`, i.e. :math:`\mathbf{F} \to -\beta\,\mathbf{M}\times\bar{\mathbf{H}}`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks
from .kernels import Kernel, as_kernel
from .ll_equation import cross_matrix, landau_lifshitz
from .micro import (
    DEFAULT_STEPS_PER_EPS,
    MicroSettings,
    damped_micro_states,
    field_on_window,
    propagators,
)

_CHUNK = 200_000  # micro nodes handled at once: bounds the memory to some 50 MB


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
    :math:`K_\tau(t) = K(t/\tau)/\tau`; the window centre is :math:`c = 0` for the centred window
    and :math:`c = \tau/2` for the forward window :math:`[0, \tau]`, so that
    :math:`\sum_j w_j K_\tau(s_j - c)\,g(s_j) \approx \int K_\tau(s - c)\,g(s)\,ds`.
    """
    centre = 0.0 if window == "centred" else 0.5 * tau
    return simpson_weights(s) * kernel((s - centre) / tau) / tau


def flux_matrix_batch(H: Callable, t_a: np.ndarray, micro: MicroSettings) -> np.ndarray:
    r"""Matrices :math:`\mathcal{A}(t_a)` of (3.7) for a 1-d array of macro times, in chunks that bound memory.

    :math:`\mathcal{A}(t_a) = \sum_j w_j K_\tau(s_j - c)\,\beta[\mathbf{H}^\varepsilon(t_a + s_j)]_\times \Phi(s_j)`,
    shape ``(len(t_a), 3, 3)``.
    """
    out = np.empty((len(t_a), 3, 3))
    chunk = max(1, _CHUNK // (micro.steps + 1))
    for start in range(0, len(t_a), chunk):
        part = t_a[start : start + chunk]
        s, Phi = propagators(H, part, micro)
        weights = kernel_weights(s, micro.kernel, micro.tau, micro.window)
        dPhi = micro.beta * cross_matrix(field_on_window(H, part, s, micro.eps)) @ Phi
        out[start : start + chunk] = np.einsum("j,bjik->bik", weights, dPhi)
    return out


def restricted_flux_matrix_batch(H: Callable, t_a: np.ndarray, micro: MicroSettings) -> np.ndarray:
    r"""Flux matrices of the micro problem lifted by restriction, :math:`\mathcal{A}(t_a)\mathcal{B}(t_a)^{-1}` (beyond the paper).

    :math:`\mathcal{B}(t_a) = \sum_j w_j K_\tau(s_j - c)\,\Phi(s_j)` is the kernel average of the
    propagators that :func:`flux_matrix_batch` computes anyway, so the micro problem started
    from :math:`\mathcal{B}^{-1}\mathbf{M}` has the kernel average :math:`\mathbf{M}` and the flux
    :math:`\mathbf{F} = \mathcal{A}\mathcal{B}^{-1}\mathbf{M}`. Started from :math:`\mathbf{M}`
    itself (the paper), the micro trajectory oscillates about
    :math:`\mathbf{M} - \varepsilon\beta\,\mathbf{M}\times\mathbf{G}` instead of :math:`\mathbf{M}`,
    an :math:`O(\varepsilon)` flux error that depends on the phase :math:`t_a/\varepsilon`; the
    lift removes it, with no more field evaluations and no knowledge of the field's harmonics.
    Shape ``(len(t_a), 3, 3)``.
    """
    out = np.empty((len(t_a), 3, 3))
    chunk = max(1, _CHUNK // (micro.steps + 1))
    for start in range(0, len(t_a), chunk):
        part = t_a[start : start + chunk]
        s, Phi = propagators(H, part, micro)
        weights = kernel_weights(s, micro.kernel, micro.tau, micro.window)
        Hs = field_on_window(H, part, s, micro.eps)
        A = np.einsum("j,bjik->bik", weights, micro.beta * cross_matrix(Hs) @ Phi)
        B = np.einsum("j,bjik->bik", weights, Phi)
        # A B^{-1} = (B^{-T} A^T)^T
        out[start : start + chunk] = np.linalg.solve(B.mT, A.mT).mT
    return out


def damped_flux_batch(
    H: Callable, t_a: np.ndarray, M: np.ndarray, micro: MicroSettings, gamma: float
) -> np.ndarray:
    r"""The flux (3.7) of the damped micro model for a batch: shapes ``(B,)``, ``(B, 3)`` -> ``(B, 3)``.

    .. math::  \mathbf{F}_\gamma(t_a, \mathbf{M}) = \int K_\tau(s)\,\Big(-\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon
               - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{H}^\varepsilon)\Big)(s)\,ds,

    where :math:`\mathbf{m}` solves (1.2) on the window from :math:`\mathbf{m}(0) = \mathbf{M}`.
    """
    s, m = damped_micro_states(H, t_a, M, micro, gamma)
    weights = kernel_weights(s, micro.kernel, micro.tau, micro.window)
    dm = landau_lifshitz(m, field_on_window(H, t_a, s, micro.eps), micro.beta, gamma)
    return np.einsum("j,bjk->bk", weights, dm)


def flux_matrices(
    H: Callable, t_a, *, eps: float, tau: float, kernel: Kernel, beta: float = 1.0,
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS, micro_method: str = "magnus4",
    window: str = "centred", max_work: int = _checks.MAX_WORK,
) -> np.ndarray:  # fmt: skip
    r"""Matrices :math:`\mathcal{A}(t_a)` with :math:`\mathbf{F}(t_a, \mathbf{M}) = \mathcal{A}(t_a)\mathbf{M}`, eq. (3.7).

    :math:`\mathcal{A}(t_a) = \sum_j w_j K_\tau(s_j - c)\,\beta[\mathbf{H}^\varepsilon(t_a + s_j)]_\times \Phi(s_j)`
    with Simpson weights :math:`w_j` and :math:`c = 0` (centred window) or :math:`c = \tau/2`
    (forward window). All ``t_a`` are done in one batched computation.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t_a : array_like
        Macro times, any shape ``B``.
    eps, tau, kernel, beta, steps_per_eps, micro_method, window, max_work
        As in :func:`upscaled_flux`.

    Returns
    -------
    ndarray, shape ``B + (3, 3)``
    """
    _checks.field(H)
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(eps, tau, kernel, beta, steps_per_eps, micro_method, window)
    t_a = np.asarray(t_a, dtype=float)
    if not np.all(np.isfinite(t_a)):
        raise ValueError("t_a must be finite")
    micro.check_work(t_a.size, _checks.integer("max_work", max_work, 1), "flux_matrices")
    return flux_matrix_batch(H, t_a.reshape(-1), micro).reshape(t_a.shape + (3, 3))


def upscaled_flux(
    H: Callable, t_a: float, M, *, eps: float, tau: float, kernel: Kernel, beta: float = 1.0,
    gamma: float = 0.0, steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    micro_method: str | None = None, window: str = "centred", max_work: int = _checks.MAX_WORK,
) -> np.ndarray:  # fmt: skip
    r"""Upscaled flux :math:`\mathbf{F}(t_a, \mathbf{M})` of (3.5)/(3.7).

    Solves the micro problem (3.6) forward and backward from :math:`\mathbf{M}` and averages
    :math:`\frac{d}{ds}\mathbf{m}^\varepsilon` with :math:`K_\tau`.

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
    gamma : float, default 0
        Damping in the micro model, >= 0. The paper's micro model (3.4) has none; with
        ``gamma > 0`` the flux is the average of the damped micro derivative (nonlinear in
        :math:`\mathbf{M}`), the variant of Section 3.2.
    steps_per_eps : int, default 32
        Micro steps per period :math:`\varepsilon`. With the default method the micro error
        of the flux is below about 1e-7 (relative) for the paper's fields.
    micro_method : {"magnus4", "midpoint", "rk4"}, optional
        Micro integrator: default ``"magnus4"``; ``"midpoint"`` is the paper's (order 2);
        ``"rk4"`` (the default) or ``"midpoint"`` when ``gamma > 0``.
    window : {"centred", "forward"}, default "centred"
        Average over :math:`[t_a - \tau/2, t_a + \tau/2]` (the paper) or over
        :math:`[t_a, t_a + \tau]` (the forward-only variant of Section 3.2).
    max_work : int, default 1e8
        Refuse a window of more micro steps than this.

    Returns
    -------
    ndarray, shape (3,)
    """
    _checks.field(H)
    t_a = _checks.finite("t_a", t_a)
    M = _checks.vector3("M", M)
    gamma = _checks.nonnegative("gamma", gamma)
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(
        eps, tau, kernel, beta, steps_per_eps, micro_method, window, damped=gamma > 0
    )
    micro.check_work(1, _checks.integer("max_work", max_work, 1), "upscaled_flux")
    if gamma > 0:
        return damped_flux_batch(H, np.array([t_a]), M[None], micro, gamma)[0]
    return flux_matrix_batch(H, np.array([t_a]), micro)[0] @ M
