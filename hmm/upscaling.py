r"""Upscaling (3.5)/(3.7): the kernel average of the micro time derivative.

.. math::  \mathbf{F}(t_a, \mathbf{M}) = \int_{-\tau/2}^{\tau/2} K_\tau(s)\,\frac{d}{ds}\mathbf{m}^\varepsilon(s)\,ds,

with :math:`\frac{d}{ds}\mathbf{m}^\varepsilon = -\beta\,\mathbf{m}^\varepsilon\times\mathbf{H}^\varepsilon`
taken from the micro equation itself at the micro nodes, and composite Simpson quadrature on
the micro grid (``quadrature="simpson"``, the paper's). Beyond the paper, ``quadrature="parts"``
integrates by parts, :math:`\mathbf{F} = -\int K_\tau'(s)\,\mathbf{m}^\varepsilon(s)\,ds` for a
kernel that vanishes at the ends (:func:`parts_weights`), and :func:`grid_fourier` is the factor
by which either quadrature multiplies one harmonic of the field. The micro problem is linear in
:math:`\mathbf{M}`, so the flux is too:
:math:`\mathbf{F}(t_a, \mathbf{M}) = \mathcal{A}(t_a)\mathbf{M}`. Theorem 1 says
:math:`\mathcal{A}(t_a) \to -\bar{\mathcal{H}}(t_a)`, i.e. :math:`\mathbf{F} \to -\beta\,\mathbf{M}\times\bar{\mathbf{H}}`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks
from .integrators import GAUSS4_C
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
QUADRATURES = ("simpson", "parts")


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


def parts_weights(s: np.ndarray, kernel: Kernel, tau: float, window: str = "centred") -> np.ndarray:
    r"""Weights :math:`-w_j K_\tau'(s_j - c)` of the flux by parts on the micro grid (beyond the paper).

    For a kernel with :math:`K(\pm 1/2) = 0` (``q >= 0``) the flux (3.5) is, integrating by
    parts, :math:`\int K_\tau(s - c)\,\frac{d}{ds}\mathbf{m}\,ds = -\int K_\tau'(s - c)\,\mathbf{m}(s)\,ds`,
    with :math:`K_\tau'(t) = K'(t/\tau)/\tau^2`; :math:`w_j` are the Simpson weights and
    :math:`c` the window centre, as in :func:`kernel_weights`. The sum
    :math:`\sum_j (-w_j K_\tau'(s_j - c))\,\mathbf{m}(s_j)` needs the micro solution at the nodes
    only, not the field there: with the Magnus micro steps, :math:`2n` field evaluations per
    window of :math:`n` steps instead of the :math:`3n + 1` of Simpson on
    :math:`K_\tau\,d\mathbf{m}/ds`.
    """
    centre = 0.0 if window == "centred" else 0.5 * tau
    return -simpson_weights(s) * kernel.derivative((s - centre) / tau) / tau**2


def check_quadrature(quadrature: str, kernel: Kernel) -> str:
    """Return ``quadrature``; one of :data:`QUADRATURES`, and ``"parts"`` needs ``kernel.q >= 0``."""
    quadrature = _checks.choice("quadrature", quadrature, QUADRATURES)
    if quadrature == "parts" and kernel.q < 0:
        raise ValueError(
            f"quadrature='parts' needs a kernel that vanishes at +-1/2 (q >= 0), got "
            f"K^{{{kernel.p},{kernel.q}}}; take q >= 0 or quadrature='simpson'"
        )
    return quadrature


def grid_fourier(
    kernel: Kernel, nu, *, rho: float, micro_steps_per_eps: int, quadrature: str = "simpson",
    micro_method: str = "magnus4",
) -> np.ndarray:  # fmt: skip
    r"""The factor :math:`D(\nu)` by which the flux quadrature multiplies the harmonic :math:`\nu` of the field.

    A harmonic :math:`\mathbf{h}\,e^{2\pi i\nu t/\varepsilon}` of the field enters the flux
    matrix (3.7) to leading order in :math:`\varepsilon` as :math:`\beta[D(\nu)\,\mathbf{h}\,e^{2\pi i\nu t_a/\varepsilon}]_\times`
    (Lemma 1 for one mode, on the micro grid; beyond the paper). On the centred micro grid
    :math:`x_j = s_j/\varepsilon` of :class:`hmm.micro.MicroSettings` (``rho`` :math:`= \tau/\varepsilon`,
    ``micro_steps_per_eps`` steps per period) with Simpson weights :math:`w_j`:

    .. math::  D_{\rm simpson}(\nu) &= \sum_j w_j K_\rho(x_j)\cos 2\pi\nu x_j, \\
               D_{\rm parts}(\nu) &= -\sum_j w_j K_\rho'(x_j)\,\mathrm{Re}\,G_j(\nu),

    where :math:`G_j(\nu)` is the integral of :math:`e^{2\pi i\nu x}` from 0 to :math:`x_j` by
    the rule of the micro steps (two-point Gauss for ``"magnus4"``, trapezoidal for
    ``"midpoint"``): the first-order part of the propagator :math:`\Phi(s_j)`. As the grid is
    refined, :math:`D(\nu) \to \hat K(\nu\rho)` (:meth:`hmm.Kernel.fourier`); on a coarse grid
    :math:`D` can differ from :math:`\hat K` by orders of magnitude (aliasing: a harmonic that
    the grid samples at a constant phase is not averaged at all).

    Parameters
    ----------
    kernel : Kernel
        From :func:`hmm.kernel`; ``q >= 0`` for ``quadrature="parts"``.
    nu : array_like
        Frequencies, in harmonics per period :math:`\varepsilon` (any shape).
    rho : float
        :math:`\tau/\varepsilon`, > 0.
    micro_steps_per_eps : int
        Micro steps per period, >= 1.
    quadrature : {"simpson", "parts"}, default "simpson"
        As in :func:`hmm.flux_matrices`.
    micro_method : {"magnus4", "midpoint"}, default "magnus4"
        The micro integrator (enters ``"parts"`` only).

    Returns
    -------
    ndarray, shape of ``nu``
        :math:`D(\nu)`; :math:`D(0) = 1` up to the quadrature error of :math:`\int K = 1`.
    """
    kernel = as_kernel("kernel", kernel)
    quadrature = check_quadrature(quadrature, kernel)
    rho = _checks.positive("rho", rho)
    micro = MicroSettings.checked(
        1.0, rho, kernel, 1.0, micro_steps_per_eps, micro_method, "centred"
    )
    nu = np.asarray(nu, dtype=float)
    if not np.all(np.isfinite(nu)):
        raise ValueError("nu must be finite")
    x, rows = harmonic_rows(nu.reshape(-1), micro, quadrature)
    return (rows @ quadrature_weights(x, kernel, rho, quadrature)).reshape(nu.shape)


def quadrature_weights(
    s: np.ndarray, kernel: Kernel, tau: float, quadrature: str, window: str = "centred"
) -> np.ndarray:
    """:func:`kernel_weights` (``quadrature="simpson"``) or :func:`parts_weights` (``"parts"``)."""
    weights = kernel_weights if quadrature == "simpson" else parts_weights
    return weights(s, kernel, tau, window)


def harmonic_rows(
    nu: np.ndarray, micro: MicroSettings, quadrature: str
) -> tuple[np.ndarray, np.ndarray]:
    r"""What the quadrature weights multiply for the harmonic :math:`e^{2\pi i\nu x}`, one row per :math:`\nu`.

    On the micro grid ``x`` of ``micro`` (in units of :math:`\varepsilon`: ``micro.eps = 1``):
    :math:`\cos 2\pi\nu x_j` for ``"simpson"``, :math:`\mathrm{Re}\,G_j(\nu)` of
    :func:`step_integrals` for ``"parts"``; :math:`D(\nu)` of :func:`grid_fourier` is the row
    times :func:`quadrature_weights`, for any kernel. Returns ``x`` and the rows, shape
    ``(len(nu), len(x))``.
    """
    x, centre = micro.grid()
    if quadrature == "simpson":
        return x, np.cos(2 * np.pi * np.outer(nu, x))
    return x, np.real(step_integrals(nu, x, centre, micro.method))


def step_integrals(nu: np.ndarray, x: np.ndarray, centre: int, method: str) -> np.ndarray:
    r""":math:`G_j(\nu) = \int_0^{x_j} e^{2\pi i\nu x}\,dx` by the micro steps' rule, shape ``(len(nu), len(x))``.

    Two-point Gauss (``"magnus4"``) or the trapezoidal rule (``"midpoint"``) on each step of
    the uniform grid ``x``, summed from the node ``centre`` (:math:`x = 0`) outwards in both
    directions.
    """
    h = x[1] - x[0]
    nodes = GAUSS4_C if method == "magnus4" else np.array([0.0, 1.0])
    points = x[:-1, None] + h * nodes  # (n, 2): the rule's points in each step
    step = 0.5 * h * np.exp(2j * np.pi * nu[:, None, None] * points).sum(axis=-1)  # (B, n)
    G = np.zeros((len(nu), len(x)), dtype=complex)
    G[:, centre + 1 :] = np.cumsum(step[:, centre:], axis=1)
    G[:, :centre] = -np.cumsum(step[:, :centre][:, ::-1], axis=1)[:, ::-1]
    return G


def window_flux(
    H: Callable, t_a: np.ndarray, s: np.ndarray, Phi: np.ndarray, micro: MicroSettings,
    quadrature: str,
) -> np.ndarray:  # fmt: skip
    r"""The flux matrices (3.7) of a batch of windows from their propagators ``Phi`` on the grid ``s``.

    :math:`\sum_j w_j K_\tau(s_j - c)\,\beta[\mathbf{H}^\varepsilon(t_a + s_j)]_\times \Phi(s_j)`
    (``quadrature="simpson"``) or :math:`\sum_j (-w_j K_\tau'(s_j - c))\,\Phi(s_j)`
    (``"parts"``, :func:`parts_weights`: no field at the nodes), shape ``(len(t_a), 3, 3)``.
    """
    weights = quadrature_weights(s, micro.kernel, micro.tau, quadrature, micro.window)
    if quadrature == "simpson":  # d Phi/ds from the micro equation at the nodes
        Phi = micro.beta * cross_matrix(field_on_window(H, t_a, s, micro.eps)) @ Phi
    return np.einsum("j,bjik->bik", weights, Phi)


def flux_matrix_batch(
    H: Callable, t_a: np.ndarray, micro: MicroSettings, quadrature: str = "simpson"
) -> np.ndarray:
    r"""Matrices :math:`\mathcal{A}(t_a)` of (3.7) for a 1-d array of macro times, in chunks that bound memory.

    :math:`\mathcal{A}(t_a) = \sum_j w_j K_\tau(s_j - c)\,\beta[\mathbf{H}^\varepsilon(t_a + s_j)]_\times \Phi(s_j)`
    (``quadrature="simpson"``) or :math:`\sum_j (-w_j K_\tau'(s_j - c))\,\Phi(s_j)`
    (``"parts"``), by :func:`window_flux`; shape ``(len(t_a), 3, 3)``.
    """
    return _in_chunks(
        H, t_a, micro, lambda part, s, Phi: window_flux(H, part, s, Phi, micro, quadrature)
    )


def _in_chunks(H: Callable, t_a: np.ndarray, micro: MicroSettings, flux: Callable) -> np.ndarray:
    """``flux(t_a, s, Phi)`` from the propagators of :math:`t_a`, in chunks of windows that bound memory."""
    out = np.empty((len(t_a), 3, 3))
    chunk = max(1, _CHUNK // (micro.steps + 1))
    for start in range(0, len(t_a), chunk):
        part = t_a[start : start + chunk]
        s, Phi = propagators(H, part, micro)
        out[start : start + chunk] = flux(part, s, Phi)
    return out


def restricted_flux_matrix_batch(
    H: Callable, t_a: np.ndarray, micro: MicroSettings, quadrature: str = "simpson"
) -> np.ndarray:
    r"""Flux matrices of the micro problem lifted by restriction, :math:`\mathcal{A}(t_a)\mathcal{B}(t_a)^{-1}` (beyond the paper).

    :math:`\mathcal{B}(t_a) = \sum_j w_j K_\tau(s_j - c)\,\Phi(s_j)` is the kernel average of the
    propagators that :func:`flux_matrix_batch` computes anyway, so the micro problem started
    from :math:`\mathcal{B}^{-1}\mathbf{M}` has the kernel average :math:`\mathbf{M}` and the flux
    :math:`\mathbf{F} = \mathcal{A}\mathcal{B}^{-1}\mathbf{M}`. Started from :math:`\mathbf{M}`
    itself (the paper), the micro trajectory oscillates about
    :math:`\mathbf{M} - \varepsilon\beta\,\mathbf{M}\times\mathbf{G}` instead of :math:`\mathbf{M}`,
    an :math:`O(\varepsilon)` flux error that depends on the phase :math:`t_a/\varepsilon`; the
    lift removes it, with no more field evaluations and no knowledge of the field's harmonics.
    :math:`\mathcal{A}` by either ``quadrature`` (:func:`window_flux`). Shape ``(len(t_a), 3, 3)``.
    """

    def restricted(part, s, Phi):
        return restricted_flux(window_flux(H, part, s, Phi, micro, quadrature), s, Phi, micro)

    return _in_chunks(H, t_a, micro, restricted)


def restricted_flux(
    A: np.ndarray, s: np.ndarray, Phi: np.ndarray, micro: MicroSettings
) -> np.ndarray:
    r""":math:`\mathcal{A}\mathcal{B}^{-1}`, :math:`\mathcal{B} = \sum_j w_j K_\tau(s_j - c)\,\Phi(s_j)`: the flux matrices ``A`` of the propagators ``Phi`` lifted by restriction.

    ``A`` of shape ``(B, 3, 3)``, ``Phi`` of shape ``(B, len(s), 3, 3)``
    (:func:`restricted_flux_matrix_batch`).
    """
    B = np.einsum("j,bjik->bik", kernel_weights(s, micro.kernel, micro.tau, micro.window), Phi)
    return np.linalg.solve(B.mT, A.mT).mT  # A B^{-1} = (B^{-T} A^T)^T


def damped_flux_batch(
    H: Callable, t_a: np.ndarray, M: np.ndarray, micro: MicroSettings, gamma: float,
    quadrature: str = "simpson",
) -> np.ndarray:  # fmt: skip
    r"""The flux (3.7) of the damped micro model for a batch: shapes ``(B,)``, ``(B, 3)`` -> ``(B, 3)``.

    .. math::  \mathbf{F}_\gamma(t_a, \mathbf{M}) = \int K_\tau(s)\,\Big(-\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon
               - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{H}^\varepsilon)\Big)(s)\,ds,

    where :math:`\mathbf{m}` solves (1.2) on the window from :math:`\mathbf{m}(0) = \mathbf{M}`;
    with ``quadrature="parts"``, :math:`-\int K_\tau'(s)\,\mathbf{m}(s)\,ds` (:func:`parts_weights`).
    """
    s, m = damped_micro_states(H, t_a, M, micro, gamma)
    weights = quadrature_weights(s, micro.kernel, micro.tau, quadrature, micro.window)
    if quadrature == "simpson":  # dm/ds from the micro equation at the nodes
        m = landau_lifshitz(m, field_on_window(H, t_a, s, micro.eps), micro.beta, gamma)
    return np.einsum("j,bjk->bk", weights, m)


def flux_matrices(
    H: Callable, t_a, *, eps: float, tau: float, kernel: Kernel, beta: float = 1.0,
    micro_steps_per_eps: int = DEFAULT_STEPS_PER_EPS, micro_method: str = "magnus4",
    window: str = "centred", quadrature: str = "simpson", max_work: int = _checks.MAX_WORK,
) -> np.ndarray:  # fmt: skip
    r"""Matrices :math:`\mathcal{A}(t_a)` with :math:`\mathbf{F}(t_a, \mathbf{M}) = \mathcal{A}(t_a)\mathbf{M}`, eq. (3.7).

    :math:`\mathcal{A}(t_a) = \sum_j w_j K_\tau(s_j - c)\,\beta[\mathbf{H}^\varepsilon(t_a + s_j)]_\times \Phi(s_j)`
    with Simpson weights :math:`w_j` and :math:`c = 0` (centred window) or :math:`c = \tau/2`
    (forward window); with ``quadrature="parts"``,
    :math:`\mathcal{A}(t_a) = -\sum_j w_j K_\tau'(s_j - c)\,\Phi(s_j)`. All ``t_a`` are done
    in one batched computation.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t_a : array_like
        Macro times, any shape ``B``.
    eps, tau, kernel, beta, micro_steps_per_eps, micro_method, window, quadrature, max_work
        As in :func:`upscaled_flux`.

    Returns
    -------
    ndarray, shape ``B + (3, 3)``
    """
    _checks.field(H)
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(eps, tau, kernel, beta, micro_steps_per_eps, micro_method, window)
    quadrature = check_quadrature(quadrature, kernel)
    t_a = np.asarray(t_a, dtype=float)
    if not np.all(np.isfinite(t_a)):
        raise ValueError("t_a must be finite")
    micro.check_work(t_a.size, _checks.integer("max_work", max_work, 1), "flux_matrices")
    return flux_matrix_batch(H, t_a.reshape(-1), micro, quadrature).reshape(t_a.shape + (3, 3))


def upscaled_flux(
    H: Callable, t_a: float, M, *, eps: float, tau: float, kernel: Kernel, beta: float = 1.0,
    gamma: float = 0.0, micro_steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    micro_method: str | None = None, window: str = "centred", quadrature: str = "simpson",
    max_work: int = _checks.MAX_WORK,
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
    micro_steps_per_eps : int, default 32
        Micro steps per period :math:`\varepsilon`. With the default method the micro error
        of the flux is below about 1e-7 (relative) for the paper's fields.
    micro_method : {"magnus4", "midpoint", "rk4"}, optional
        Micro integrator: default ``"magnus4"``; ``"midpoint"`` is the paper's (order 2);
        ``"rk4"`` (the default) or ``"midpoint"`` when ``gamma > 0``.
    window : {"centred", "forward"}, default "centred"
        Average over :math:`[t_a - \tau/2, t_a + \tau/2]` (the paper) or over
        :math:`[t_a, t_a + \tau]` (the forward-only variant of Section 3.2).
    quadrature : {"simpson", "parts"}, default "simpson"
        ``"simpson"``: Simpson's rule on :math:`K_\tau\,d\mathbf{m}/ds`, with the derivative
        from the micro equation at the nodes (the paper's (3.7)). ``"parts"`` (beyond the
        paper): Simpson's rule on :math:`-K_\tau'\,\mathbf{m}`, the same integral by parts
        (:func:`hmm.upscaling.parts_weights`); it needs no field at the nodes (:math:`2n`
        instead of :math:`3n + 1` field evaluations per window of :math:`n` Magnus steps) and
        a kernel with ``q >= 0``. :func:`hmm.upscaling.grid_fourier` gives the averaging
        factor of each.
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
        eps, tau, kernel, beta, micro_steps_per_eps, micro_method, window, damped=gamma > 0
    )
    quadrature = check_quadrature(quadrature, kernel)
    micro.check_work(1, _checks.integer("max_work", max_work, 1), "upscaled_flux")
    if gamma > 0:
        return damped_flux_batch(H, np.array([t_a]), M[None], micro, gamma, quadrature)[0]
    return flux_matrix_batch(H, np.array([t_a]), micro, quadrature)[0] @ M
