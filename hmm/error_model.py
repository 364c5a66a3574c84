r"""The error model behind :func:`hmm.choose_parameters` (beyond the paper).

A model of the computed flux matrix of the paper's HMM (:math:`\mathbf{F} = \mathcal{A}\mathbf{M}`,
(3.7)) to first order in :math:`\varepsilon`, built from the field's harmonics in :math:`s`
(:func:`field_harmonics`, :func:`slow_harmonics`), its second-order drift
(:func:`second_order_shift`) and the zero-mean primitive of its fast part (:func:`fast_primitive`),
and the responses of the macro scheme to each term, measured by running the scheme on model
fluxes in one batch (:func:`batched_march`, :func:`macro_responses`) over the phase sequences of
:func:`phase_sets`. :mod:`hmm.choose` turns these responses into a predicted error split and a
choice; its module docstring states the model.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline

from . import fields
from .integrators import GAUSS4_A, GAUSS4_D, NonConvergenceError
from .kernels import kernel
from .ll_equation import cross_matrix, landau_lifshitz
from .macro import stage_times

ROBUST_DRIFTS = np.linspace(-4.0, 4.0, 9)
r"""Phase drifts over :math:`[0, T]`, in periods, of the robust mode's phase sequences."""
_ETA = 1e-5  # size of the perturbations whose responses are measured


def field_harmonics(H: Callable, t, n_s: int = 64) -> np.ndarray:
    r"""Fourier coefficients :math:`\mathbf{h}_k(t)` of :math:`\mathbf{H}(t, \cdot)` by the FFT on ``n_s`` points.

    :math:`\mathbf{H}(t, s) = \mathbf{h}_0(t) + \sum_{k\ge1} 2\,\mathrm{Re}\big(\mathbf{h}_k(t)\,e^{2\pi iks}\big)`,
    :math:`\mathbf{h}_0 = \bar{\mathbf{H}}`. Returns shape ``(len(t), n_s // 2, 3)``, complex,
    :math:`k = 0, \dots, n_s/2 - 1`.
    """
    t = np.asarray(t, dtype=float).reshape(-1)
    s = np.arange(n_s) / n_s
    tt, ss = np.broadcast_arrays(t[:, None], s[None, :])
    return np.fft.fft(fields.evaluate(H, tt, ss), axis=1)[:, : n_s // 2] / n_s


def slow_harmonics(H: Callable, T: float, level: float) -> CubicSpline:
    r"""The harmonics :math:`\mathbf{h}_k(t)` on :math:`[-T/20, 21T/20]` as a cubic spline in :math:`t`.

    The FFT length doubles from 32 while a harmonic in the upper half of the computed ones
    exceeds ``level``, and the :math:`t` grid doubles from 17 points while the spline through
    every other point misses the new points by more than ``level``. A field that needs more than
    1024 points in :math:`s` or 4097 in :math:`t` is refused (``ValueError``): the error model
    assumes a field smooth in both.
    """
    pad = 0.05 * T
    t, n_s = np.linspace(-pad, T + pad, 17), 32
    h = field_harmonics(H, t, n_s)
    while np.abs(h[:, n_s // 4 :]).max() > level:
        if n_s == 1024:
            raise ValueError(
                f"H(t, s) has harmonics above 256 in s of size {np.abs(h[:, 256:]).max():.1e} "
                f"(> {level:.1e}): choose_parameters needs a field smooth in s"
            )
        n_s *= 2
        h = field_harmonics(H, t, n_s)
    while True:
        t_new = 0.5 * (t[:-1] + t[1:])
        h_new = field_harmonics(H, t_new, n_s)
        miss = np.abs(CubicSpline(t, h, axis=0)(t_new) - h_new).max()
        order = np.argsort(np.concatenate([t, t_new]))
        t, h = np.concatenate([t, t_new])[order], np.concatenate([h, h_new])[order]
        if miss <= level:
            return CubicSpline(t, h, axis=0)
        if len(t) >= 4097:
            raise ValueError(
                f"H(t, s) varies too fast in t for choose_parameters: a cubic spline on 2049 "
                f"points in [0, T] misses it by {miss:.1e} (> {level:.1e}); shorten T"
            )


def averaged_solution(
    harmonics: CubicSpline, M0: np.ndarray, T: float, beta: float, gamma: float
) -> Callable:
    r""":math:`\bar{\mathbf{m}}(t)` of (4.3) with :math:`\bar{\mathbf{H}} = \mathbf{h}_0` from the spline, as a dense output.

    DOP853 at rtol 1e-12, like :func:`hmm.solve_averaged` (no further field evaluations).
    """

    def rhs(t, m):
        return landau_lifshitz(m, np.real(harmonics(t)[0]), beta, gamma)

    sol = solve_ivp(rhs, (0.0, T), M0, method="DOP853", rtol=1e-12, atol=1e-14, dense_output=True)
    if not sol.success:
        raise RuntimeError(f"averaged solution failed: {sol.message}")
    return lambda t: sol.sol(t).T


def second_order_shift(h: np.ndarray, beta: float, eps: float) -> np.ndarray:
    r"""The second-order drift of the flux, :math:`\delta\mathbf{H} = \frac{\beta\varepsilon}{2}\langle\tilde{\mathbf{H}}\times\mathbf{Q}\rangle`.

    :math:`\tilde{\mathbf{H}} = \mathbf{H} - \bar{\mathbf{H}}` and :math:`\mathbf{Q}` its zero-mean
    primitive in :math:`s`: the skew part of the :math:`O(\varepsilon)` term of the flux,
    :math:`\varepsilon\beta^2\langle[\tilde{\mathbf{H}}]_\times[\mathbf{Q}]_\times\rangle`. In
    harmonics, :math:`\langle\tilde{\mathbf{H}}\times\mathbf{Q}\rangle = \sum_{k\ge1} i\,(\mathbf{h}_k\times\bar{\mathbf{h}}_k)/(\pi k)`.
    It is :math:`-\beta\varepsilon\,\mathbf{c}(t)` with :math:`\mathbf{c}` of :func:`hmm.drift_vector`,
    here from harmonics the chooser has already (no field evaluations). ``h`` of shape
    ``(..., K, 3)``; returns ``(..., 3)``.
    """
    k = np.arange(1, h.shape[-2])[:, None]
    hk = h[..., 1:, :]
    return 0.5 * beta * eps * np.sum(np.real(1j * np.cross(hk, np.conj(hk))) / (np.pi * k), axis=-2)


def fast_primitive(h: np.ndarray, phase: np.ndarray) -> np.ndarray:
    r"""The zero-mean primitive :math:`\mathbf{Q}(\phi) = \sum_{k\ge1} 2\,\mathrm{Re}\big(\mathbf{h}_k e^{2\pi ik\phi}/(2\pi ik)\big)` of :math:`\tilde{\mathbf{H}}`.

    The :math:`\mathbf{G}` of :func:`hmm.fast_antiderivative`, from harmonics the chooser has
    already, at one phase per time. ``h`` of shape ``(n, K, 3)``, ``phase`` of shape
    ``(..., n)``; returns ``(..., n, 3)``.
    """
    k = np.arange(1, h.shape[-2])
    waves = np.exp(2j * np.pi * phase[..., None] * k) / (2j * np.pi * k)
    return 2 * np.real(np.einsum("...nk,nkc->...nc", waves, h[:, 1:]))


def phase_sets(t: np.ndarray, eps: float, T: float, robust: bool) -> np.ndarray:
    r"""Phases :math:`\phi(t)` of the fast field at the times ``t``, one row per sequence.

    Exact: :math:`t/\varepsilon`. Robust: also :math:`t/\varepsilon + d\,t/T + \theta` for the
    drifts :math:`d` of :data:`ROBUST_DRIFTS` (a period changed by :math:`-d\varepsilon/T`,
    relative) and origins :math:`\theta = 0.618j \bmod 1`.
    """
    nominal = t / eps
    if not robust:
        return nominal[None]
    j = np.arange(len(ROBUST_DRIFTS))
    shift = np.where(ROBUST_DRIFTS == 0, 0.0, (0.618034 * j) % 1.0)
    return nominal + ROBUST_DRIFTS[:, None] * t / T + shift[:, None]


def batched_march(
    M0: np.ndarray, A: np.ndarray, dt: float, c: float, macro: str, tol: float = 1e-13
) -> np.ndarray:
    r"""The macro scheme for ``B`` linear-flux macro models (3.2) at once.

    :math:`d\mathbf{M}/dt = \mathcal{A}\mathbf{M} + c\,\mathbf{M}\times\mathcal{A}\mathbf{M}` with
    ``A`` of shape ``(B, N, S, 3, 3)`` at the :func:`hmm.macro.stage_times` (``S = 1`` midpoint,
    ``2`` Gauss-Legendre); the stage equations of all members are solved by one batched Newton
    iteration with the exact Jacobian, like :func:`hmm.integrators.gauss4_step`. Returns the
    values, shape ``(B, N + 1, 3)``.
    """
    B, N, S = A.shape[:3]
    a, d = (np.array([[0.5]]), np.array([2.0])) if macro == "midpoint" else (GAUSS4_A, GAUSS4_D)
    m = np.empty((B, N + 1, 3))
    m[:, 0] = M0
    eye = np.eye(3 * S)
    for n in range(N):
        An, y = A[:, n], m[:, n]

        def f(Y, An=An):
            F = np.einsum("bsij,bsj->bsi", An, Y)
            return F, F + c * np.cross(Y, F)

        Y = y[:, None] + dt * np.einsum("ij,bj...->bi...", a, f(np.repeat(y[:, None], S, 1))[1])
        for _ in range(30):
            F, rhs = f(Y)
            G = Y - y[:, None] - dt * np.einsum("ij,bjk->bik", a, rhs)
            J = An + c * (cross_matrix(Y) @ An - cross_matrix(F))  # (B, S, 3, 3)
            block = eye - dt * np.einsum("ij,bjkl->bikjl", a, J).reshape(B, 3 * S, 3 * S)
            delta = np.linalg.solve(block, -G.reshape(B, 3 * S, 1)).reshape(B, S, 3)
            Y = Y + delta
            if np.abs(delta).max() <= tol * max(1.0, np.abs(Y).max()):
                break
        else:
            raise NonConvergenceError(f"batched {macro}: Newton did not converge (dt={dt:g})")
        m[:, n + 1] = y + np.einsum("i,bik->bk", d, Y - y[:, None])
    return m


@dataclass(frozen=True)
class Responses:
    r"""What the model fluxes do to the solution for one :math:`N` (see :func:`macro_responses`).

    ``macro`` and ``floor`` are errors; ``R`` the responses to :math:`\bar{\mathbf{H}}` (entry 0)
    and to each harmonic of ``harmonics`` (per unit factor :math:`D`), and ``R2`` the response
    to :func:`window_curvature`; all maxima over the macro times (and phase sequences).
    """

    macro: float
    floor: float
    R: np.ndarray
    R2: float


def macro_responses(
    harmonics: CubicSpline, mbar: Callable, active: np.ndarray, M0: np.ndarray, *, T: float,
    N: int, eps: float, beta: float, gamma: float, macro: str, robust: bool,
) -> Responses:  # fmt: skip
    r"""Run the macro scheme with :math:`N` steps on the model fluxes, all in one batch.

    Members: the averaged flux :math:`\beta[\bar{\mathbf{H}}]_\times` (against ``mbar``: the
    macro error); plus the :math:`O(\varepsilon)` terms (:func:`second_order_shift`,
    :func:`fast_primitive`; the floor); plus :math:`\eta\,\mathcal{C}` (:func:`window_curvature`),
    :math:`\eta\beta[\bar{\mathbf{H}}]_\times` and :math:`\eta\beta[2\mathrm{Re}(\mathbf{h}_k e^{2\pi ik\phi})]_\times`
    for each ``active`` harmonic (responses, divided by :math:`\eta`), for every phase sequence
    of :func:`phase_sets`.
    """
    t = np.linspace(0.0, T, N + 1)
    ts = stage_times(t, macro).reshape(-1)
    h = harmonics(ts)  # (n, K, 3)
    Hbar = np.real(h[:, 0])
    phases = phase_sets(ts, eps, T, robust)  # (P, n)
    A0 = beta * cross_matrix(Hbar)
    tail = beta * cross_matrix(second_order_shift(h, beta, eps)) - eps * beta**2 * (
        cross_matrix(Hbar) @ cross_matrix(fast_primitive(h, phases))
    )  # (P, n, 3, 3)
    waves = 2 * np.real(
        h[None, :, active] * np.exp(2j * np.pi * phases[..., None] * active)[..., None]
    )
    perturbations = np.concatenate(
        [
            [np.zeros_like(A0)],
            tail,
            _ETA * np.stack([window_curvature(harmonics, ts, beta), A0]),
            _ETA * beta * cross_matrix(np.moveaxis(waves, 2, 1).reshape(-1, len(ts), 3)),
        ]
    )
    P = len(phases)
    A = (A0 + perturbations).reshape(len(perturbations), N, -1, 3, 3)
    m = batched_march(M0, A, T / N, gamma / beta, macro)
    gap = np.linalg.norm(m[1:] - m[0], axis=-1).max(axis=-1)
    R = np.concatenate([[gap[P + 1]], gap[P + 2 :].reshape(P, -1).max(axis=0)]) / _ETA
    macro_error = np.linalg.norm(m[0] - mbar(t), axis=-1).max()
    return Responses(float(macro_error), float(gap[:P].max()), R, float(gap[P] / _ETA))


def window_curvature(harmonics: CubicSpline, t: np.ndarray, beta: float) -> np.ndarray:
    r"""The matrix :math:`\mathcal{C} = \mathcal{B}'' + 2\mathcal{B}'\mathcal{B} + \mathcal{B}\mathcal{B}' + \mathcal{B}^3` with :math:`\mathcal{B}(t) = \beta[\bar{\mathbf{H}}(t)]_\times`, shape ``(len(t), 3, 3)``.

    For :math:`d\mathbf{m}/ds = \mathcal{B}(t + s)\,\mathbf{m}`, :math:`d^3\mathbf{m}/ds^3 = \mathcal{C}\,\mathbf{m}`
    at :math:`s = 0`. An even kernel averages :math:`d\mathbf{m}/ds` over the window to
    :math:`\mathcal{B}\mathbf{m} + \frac{\tau^2\mu_2}{2}\mathcal{C}\mathbf{m} + O(\tau^4)`: the
    slow field's variation and the precession itself across the window (the :math:`\tau` term of
    Theorem 1, which the centred window makes second order).
    """
    B, dB, ddB = (beta * cross_matrix(np.real(harmonics(t, d)[:, 0])) for d in range(3))
    return ddB + 2 * dB @ B + B @ dB + B @ B @ B


@functools.cache
def second_moment(p: int, q: int) -> float:
    r""":math:`\mu_2 = \int K(t)\,t^2\,dt` (0 for ``p >= 2``), by Gauss-Legendre quadrature."""
    x, w = np.polynomial.legendre.leggauss(64)
    return float(np.sum(0.5 * w * kernel(p, q)(0.5 * x) * (0.5 * x) ** 2))


@dataclass(frozen=True)
class FieldModel:
    r"""What the chooser knows of the field: its harmonics in :math:`t`, :math:`\bar{\mathbf{m}}`, the harmonics that matter.

    Attributes
    ----------
    harmonics : CubicSpline
        :math:`\mathbf{h}_k(t)` (:func:`slow_harmonics`).
    mbar : callable
        :math:`\bar{\mathbf{m}}(t)` (:func:`averaged_solution`).
    active : ndarray of int
        The harmonics :math:`k \ge 1` whose amplitude could matter at the tolerance.
    rates : ndarray
        :math:`r_k = \max|\mathbf{h}_k'|/\max|\mathbf{h}_k|` of the active harmonics.
    field_scale : float
        :math:`\max_t|\bar{\mathbf{H}}|`.
    sensitivity : float
        :math:`gT`, :math:`g = \sqrt{1 + (\gamma/\beta)^2}`: a flux error :math:`\delta` moves the
        solution by at most about :math:`gT|\delta|`.
    """

    harmonics: CubicSpline
    mbar: Callable
    active: np.ndarray
    rates: np.ndarray
    field_scale: float
    sensitivity: float


def field_model(
    H: Callable, M0: np.ndarray, *, T: float, beta: float, gamma: float, level: float
) -> FieldModel:
    r"""The :class:`FieldModel` of ``H`` on :math:`[0, T]`, resolved so that what it misses moves the solution by at most ``level``.

    A field error :math:`\delta` moves the solution by at most about :math:`gT\beta|\delta|`
    (:attr:`FieldModel.sensitivity`), so the harmonics are resolved to ``level`` :math:`/gT`
    and those below :math:`10^{-2}` ``level`` :math:`/gT` are left out.
    """
    g = np.sqrt(1.0 + (gamma / beta) ** 2)
    harmonics = slow_harmonics(H, T, level / (g * T * beta))
    t = harmonics.x[(harmonics.x >= 0) & (harmonics.x <= T)]
    amplitude = np.linalg.norm(np.abs(harmonics(t)), axis=-1).max(axis=0)  # (K,)
    active = np.nonzero(amplitude[1:] * g * T * beta > 1e-2 * level)[0] + 1
    change = np.linalg.norm(np.abs(harmonics(t, 1)), axis=-1).max(axis=0)
    mbar = averaged_solution(harmonics, M0, T, beta, gamma)
    rates = change[active] / amplitude[active]
    return FieldModel(harmonics, mbar, active, rates, amplitude[0], g * T)
