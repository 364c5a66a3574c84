r"""Choosing the HMM's parameters for a tolerance (beyond the paper): :func:`choose_parameters`.

Given a field, a tolerance ``tol`` on :math:`\max_n|\mathbf{M}_n - \bar{\mathbf{m}}(t_n)|` against
the averaged solution (4.3), and the problem (``T``, ``eps``, ``M0``, ``beta``, ``gamma``), pick the
macro steps :math:`N`, the kernel :math:`K^{p,q}`, :math:`\rho = \tau/\varepsilon`, the micro steps
per period and the flux quadrature with the fewest field evaluations whose *predicted* error is
below ``safety * tol``. No HMM is run: the choice rests on a model of the computed flux matrix
(:math:`\mathbf{F} = \mathcal{A}\mathbf{M}`, (3.7)), to first order in :math:`\varepsilon`,

.. math::  \mathcal{A}(t) = \beta\Big[D(0)\bar{\mathbf{H}}
           + \sum_{k\ge1} 2\,\mathrm{Re}\big(D(k)\,\mathbf{h}_k(t)\,e^{2\pi ikt/\varepsilon}\big)
           + \delta\mathbf{H}\Big]_\times
           - \varepsilon\beta^2[\bar{\mathbf{H}}]_\times[\mathbf{Q}(t/\varepsilon)]_\times
           + (\text{micro error}),

with :math:`\mathbf{h}_k` the harmonics of :math:`\mathbf{H}(t, \cdot)` (:func:`field_harmonics`),
:math:`D` the averaging factor of the quadrature on the micro grid
(:func:`hmm.upscaling.grid_fourier`), :math:`\delta\mathbf{H}` the second-order drift
(:func:`second_order_shift`) and :math:`\mathbf{Q}` the zero-mean primitive of the fast part
(:func:`fast_primitive`). What each term does to the solution is measured by the macro scheme run
on model fluxes (no micro problem; one batch, :func:`batched_march`):

``macro``
    the scheme on (4.3) against :math:`\bar{\mathbf{m}}`;
``floor``
    the :math:`O(\varepsilon)` terms :math:`\delta\mathbf{H}` and :math:`\mathbf{Q}`: the floor of
    the HMM, which no kernel or micro grid removes;
``averaging``
    :math:`|1 - D(0)|R_0 + \sum_k (|D(k)| + \varepsilon r_k|D'(k)|/2\pi)R_k
    + \tfrac12\tau^2|\mu_2|R_2`, with :math:`R_k` the response of the solution to the harmonic
    :math:`k` (keeping the cancellation over the phases :math:`t_n/\varepsilon`), :math:`r_k` its
    relative rate of change in :math:`t`, :math:`\mu_2 = \int K t^2` and :math:`R_2` the response to
    :math:`\mathcal{C} = d^3\mathbf{m}/ds^3` of the averaged micro problem (:func:`window_curvature`:
    the :math:`\tau` term of Theorem 1, second order for the centred window, 0 for ``p >= 2``);
``micro``
    the micro-step error of the flux that :math:`D` does not explain, probed at a few times against
    four times the steps per period (:class:`MicroProbe`), times :math:`T\sqrt{1 + (\gamma/\beta)^2}`.

The sources are bounded separately and added. With ``robust=True`` the prediction does not rely on
the period being exactly :math:`\varepsilon`: :math:`|D|` and :math:`|D'|` are maximised over
:math:`\nu \pm 1/(2\rho)` (no zero of :math:`D` is used; this covers a period off by
:math:`1/(2k\rho)`, relative, for harmonic :math:`k`), and the responses over nine phase
sequences :math:`t_n/\varepsilon`: shifted origins and drifts of up to four periods over
:math:`[0, T]` (:func:`phase_sets`). A period further off gives other phase sequences of the same
kind, which the nine sample but do not bound.

The model is that of the paper's HMM, :func:`hmm.solve_hmm` with ``lift="none"`` and
``drift="paper"``, measured against the solution of (4.3). The options ``lift="restriction"``
and ``drift="second_order"`` remove the phase term and change the drift, aiming at the second-order
average that :func:`hmm.reconstruct` needs; their errors against (4.3) are not what this predicts.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp
from scipy.interpolate import CubicSpline

from . import _checks, fields
from .integrators import GAUSS4_A, GAUSS4_D, NonConvergenceError
from .kernels import Kernel, kernel
from .ll_equation import cross_matrix, landau_lifshitz
from .macro import MACRO_SCHEMES, stage_times
from .micro import MicroSettings, field_on_window, propagators
from .upscaling import QUADRATURES, harmonic_rows, quadrature_weights

KERNELS = tuple((1, q) for q in (0, 1, 2, 3, 4, 5, 6, 8, 10)) + (
    (3, 2), (3, 4), (3, 6), (3, 8), (5, 4),
)  # fmt: skip
"""Kernels :math:`K^{p,q}` the chooser considers by default."""
MICRO_STEPS = (2, 3, 4, 6, 8, 12, 16)
"""Micro steps per period the chooser considers by default."""
N_GRID = {
    "gauss4": (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112,
               128, 160, 192, 224, 256, 320, 384, 448, 512),
    "midpoint": (4, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320,
                 384, 512, 640, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096),
}  # fmt: skip
"""Macro step counts the chooser considers, per macro scheme."""
REFERENCE_FACTOR = 4
"""The reference flux of the micro-error probe has this many times the candidate's steps per period."""
BAND = np.linspace(-0.5, 0.5, 9)
r"""Offsets of :math:`\nu\rho` around each harmonic at which :math:`D` is sampled."""
ROBUST_DRIFTS = np.linspace(-4.0, 4.0, 9)
r"""Phase drifts over :math:`[0, T]`, in periods, of the robust mode's phase sequences."""
MAX_STEP = 2.5
r"""Largest :math:`\Delta t\,\max|\bar{\mathbf{H}}|\sqrt{\beta^2+\gamma^2}` considered (Newton's basin)."""
_ETA = 1e-5  # size of the perturbations whose responses are measured


@dataclass(frozen=True)
class ErrorSplit:
    r"""The predicted error of a choice, by source (see :mod:`hmm.choose`).

    Attributes
    ----------
    macro : float
        The macro scheme on the averaged equation (4.3), :math:`E_{\rm macro}`.
    floor : float
        The :math:`O(\varepsilon)` floor of the HMM: second-order drift and phase terms.
    averaging : float
        The kernel average on the micro grid, :math:`\sum_k |D(k)| R_k` and the slow terms.
    micro : float
        The micro steps' error of the flux that :math:`D` does not explain.
    """

    macro: float
    floor: float
    averaging: float
    micro: float

    @property
    def total(self) -> float:
        """The sum of the four sources: the predicted :math:`\\max_n|\\mathbf{M}_n - \\bar{\\mathbf{m}}(t_n)|`."""
        return self.macro + self.floor + self.averaging + self.micro


@dataclass(frozen=True)
class Choice:
    r"""The HMM parameters that :func:`choose_parameters` picked, and what it predicts for them.

    Attributes
    ----------
    macro : str
        Macro scheme, ``"midpoint"`` or ``"gauss4"``.
    N : int
        Macro steps.
    kernel : Kernel
        The kernel :math:`K^{p,q}` (``kernel.p``, ``kernel.q``).
    rho : float
        :math:`\tau/\varepsilon`; ``rho * steps_per_eps`` is the (even) number of micro steps of
        one window.
    steps_per_eps : int
        Micro steps per period :math:`\varepsilon` (the step is exactly
        :math:`\varepsilon/` ``steps_per_eps``).
    quadrature : str
        Flux quadrature, ``"simpson"`` or ``"parts"``.
    T, eps, beta, gamma, tol : float
        The problem and the tolerance asked for.
    robust : bool
        Whether the prediction was made without relying on the period being exactly ``eps``
        (see :mod:`hmm.choose`).
    predicted : ErrorSplit
        Predicted error by source; ``predicted.total <= safety * tol``.
    work : int
        Field evaluations of the HMM run, as ``solve_hmm`` counts them
        (``stats["field_evaluations"]``).
    cost : int
        Field evaluations the chooser itself spent (harmonics and micro probes).
    """

    macro: str
    N: int
    kernel: Kernel
    rho: float
    steps_per_eps: int
    quadrature: str
    T: float
    eps: float
    beta: float
    gamma: float
    tol: float
    robust: bool
    predicted: ErrorSplit
    work: int
    cost: int

    @property
    def tau(self) -> float:
        r"""The window length :math:`\tau = \rho\varepsilon`."""
        return self.rho * self.eps

    def solve_kwargs(self) -> dict:
        """Keywords for :func:`hmm.solve_hmm`: ``hmm.solve_hmm(H, M0, T=T, **choice.solve_kwargs())``.

        They pin what the error model assumes: the Magnus micro steps, the paper's micro start
        (``lift="none"``) and macro model (``drift="paper"``).
        """
        return dict(
            N=self.N, eps=self.eps, tau=self.tau, kernel=self.kernel, beta=self.beta,
            gamma=self.gamma, macro=self.macro, micro_method="magnus4",
            steps_per_eps=self.steps_per_eps, quadrature=self.quadrature, lift="none",
            drift="paper",
        )  # fmt: skip

    def __str__(self) -> str:
        p = self.predicted
        return (
            f"{self.macro} N={self.N} K^{{{self.kernel.p},{self.kernel.q}}} rho={self.rho:.4g} "
            f"steps_per_eps={self.steps_per_eps} {self.quadrature}: {self.work} field evaluations; "
            f"predicted {p.total:.2e} (macro {p.macro:.1e}, floor {p.floor:.1e}, averaging "
            f"{p.averaging:.1e}, micro {p.micro:.1e}); chooser cost {self.cost}"
        )


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
class Grid:
    r"""A micro grid the chooser considers: ``n`` steps per window, :math:`\rho = n/k`, ``k`` steps per period."""

    n: int
    rho: float
    steps_per_eps: int


def candidate_grids(micro_steps: Sequence[int], rho_max: float) -> list[Grid]:
    r"""Micro grids with a step of exactly :math:`\varepsilon/k`: :math:`\rho = n/k` with ``n`` even, :math:`1 \le \rho \le` ``rho_max``."""
    return [
        Grid(n, n / k, k)
        for k in micro_steps
        for n in range(2 * ((k + 1) // 2), int(rho_max * k) + 1, 2)
    ]


def window_evaluations(n: int, quadrature: str) -> int:
    """Field evaluations of one micro window of ``n`` Magnus steps: ``3n + 1`` (Simpson), ``2n`` (parts)."""
    return 3 * n + 1 if quadrature == "simpson" else 2 * n


def averaging_coefficients(
    kernels: Sequence[Kernel], grid: Grid, quadrature: str, active: np.ndarray, rates: np.ndarray,
    eps: float, robust: bool,
) -> np.ndarray:  # fmt: skip
    r"""Per kernel, the factors that multiply ``[R_0, R_k..., R2]`` in the averaging error, shape ``(len(kernels), 2 + K)``.

    :math:`|1 - D(0)|`, :math:`|D(k)| + \varepsilon r_k|D'(k)|/2\pi` and
    :math:`\tfrac12(\rho\varepsilon)^2|\mu_2|`. :math:`D` is sampled at
    :math:`\nu = k + b/\rho` for the offsets :math:`b` of :data:`BAND`; exact: :math:`|D(k)|` and
    the central difference next to it; robust: the maxima over the band.
    """
    micro = MicroSettings(1.0, grid.rho, None, 1.0, grid.steps_per_eps, "magnus4", "centred")
    nu = np.concatenate([[0.0], (active[:, None] + BAND / grid.rho).reshape(-1)])
    x, rows = harmonic_rows(nu, micro, quadrature)
    weights = np.stack([quadrature_weights(x, K, grid.rho, quadrature) for K in kernels], axis=1)
    D = rows @ weights  # (len(nu), kernels)
    band = D[1:].reshape(len(active), len(BAND), -1)
    slope = np.diff(band, axis=1) * grid.rho / (BAND[1] - BAND[0])
    middle = len(BAND) // 2
    if robust:
        size, slope = np.abs(band).max(axis=1), np.abs(slope).max(axis=1)
    else:
        size = np.abs(band[:, middle])
        slope = 0.5 * np.abs(slope[:, middle - 1] + slope[:, middle])
    mu2 = np.array([second_moment(K.p, K.q) for K in kernels])
    return np.concatenate(
        [
            np.abs(1.0 - D[:1]),
            size + eps * rates[:, None] * slope / (2 * np.pi),
            0.5 * (grid.rho * eps) ** 2 * np.abs(mu2)[None],
        ]
    ).T


class MicroProbe:
    r"""Micro-step error of the flux at a few macro times, per kernel, grid and quadrature (cached).

    The error is :math:`\max_t\|\mathcal{A} - \mathcal{A}_{\rm ref} - (\mathcal{L} - \mathcal{L}_{\rm ref})\|_2`:
    the computed flux matrix against the one with :data:`REFERENCE_FACTOR` times the steps per
    period (Simpson), less the difference that the averaging factors :math:`D` of the two grids explain,
    :math:`\mathcal{L} = \beta[D(0)\mathbf{h}_0 + \sum_k 2\mathrm{Re}(D(k)\mathbf{h}_k e^{2\pi ikt/\varepsilon})]_\times`
    (that part is in the averaging error already). The propagators of a grid serve every kernel.
    The error is nearly the same for every kernel and :math:`\rho` at one number of steps per
    period (it is the micro error of the :math:`O(\varepsilon)` terms), so the search does not
    probe a candidate that fails with the smallest error probed so far at its steps per period
    (:meth:`least`): that can make the choice dearer, never less accurate.
    """

    def __init__(self, H: Callable, harmonics: CubicSpline, T: float, eps: float, beta: float):
        self.H, self.eps, self.beta = H, eps, beta
        self.times = np.linspace(0.05 * T, 0.95 * T, 4) + eps * np.linspace(0.0, 0.9, 4)
        self.h = harmonics(self.times)
        self._propagators: dict = {}
        self._errors: dict = {}

    def __call__(self, K: Kernel, grid: Grid, quadrature: str) -> float:
        key = (K.p, K.q, grid, quadrature)
        if key not in self._errors:
            fine = REFERENCE_FACTOR * grid.steps_per_eps
            ref = Grid(REFERENCE_FACTOR * grid.n, grid.rho, fine)
            gap = self._unexplained(K, grid, quadrature) - self._unexplained(K, ref, "simpson")
            self._errors[key] = float(np.linalg.norm(gap, ord=2, axis=(1, 2)).max())
        return self._errors[key]

    def least(self, steps_per_eps: int, quadrature: str) -> float:
        """The smallest error probed so far with ``steps_per_eps`` and ``quadrature`` (0 if none)."""
        probed = [
            e for (_, _, grid, quad), e in self._errors.items()
            if grid.steps_per_eps == steps_per_eps and quad == quadrature
        ]  # fmt: skip
        return min(probed, default=0.0)

    def _unexplained(self, K: Kernel, grid: Grid, quadrature: str) -> np.ndarray:
        """The flux matrices at the probe times less their leading-order model."""
        micro = self._micro(grid)
        s, Phi = self._solve(grid)
        if quadrature == "simpson":
            Phi = self.beta * cross_matrix(field_on_window(self.H, self.times, s, self.eps)) @ Phi
        A = np.einsum("j,bjik->bik", quadrature_weights(s, K, micro.tau, quadrature), Phi)
        k = np.arange(self.h.shape[1])
        unit = MicroSettings(1.0, grid.rho, K, 1.0, grid.steps_per_eps, "magnus4", "centred")
        x, rows = harmonic_rows(k.astype(float), unit, quadrature)
        D = rows @ quadrature_weights(x, K, grid.rho, quadrature)
        waves = np.exp(2j * np.pi * np.outer(self.times / self.eps, k)) * D
        waves[:, 0] = 0.5 * D[0]
        return A - self.beta * cross_matrix(2 * np.real(np.einsum("tk,tkc->tc", waves, self.h)))

    def _micro(self, grid: Grid) -> MicroSettings:
        return MicroSettings(
            self.eps, grid.rho * self.eps, None, self.beta, grid.steps_per_eps, "magnus4", "centred"
        )

    def _solve(self, grid: Grid) -> tuple[np.ndarray, np.ndarray]:
        if grid not in self._propagators:
            self._propagators[grid] = propagators(self.H, self.times, self._micro(grid))
        return self._propagators[grid]


def choose_parameters(
    H: Callable, tol: float, *, T: float, eps: float, M0, beta: float = 1.0, gamma: float = 1.0,
    macro: str = "gauss4", robust: bool = True, quadrature: str | None = None,
    kernels: Sequence[tuple[int, int]] = KERNELS, micro_steps: Sequence[int] = MICRO_STEPS,
    rho_max: float = 24.0, safety: float = 0.8,
) -> Choice:  # fmt: skip
    r"""The cheapest HMM set-up whose predicted error against :math:`\bar{\mathbf{m}}` is below ``safety * tol`` (beyond the paper).

    The error model is described in :mod:`hmm.choose`; the cost is the field evaluations of
    :func:`hmm.solve_hmm` with the Magnus micro steps (``Choice.work``). Candidates: :math:`N`
    from :data:`N_GRID` (up to three times the smallest that leaves room for the averaging),
    every kernel of ``kernels``, every grid of :func:`candidate_grids` and every quadrature.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``, 1-periodic in ``s``.
    tol : float
        Tolerance on :math:`\max_n|\mathbf{M}_n - \bar{\mathbf{m}}(t_n)|`, > 0.
    T, eps : float
        Final time and fast period, > 0.
    M0 : array_like, shape (3,)
        Initial magnetisation.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    macro : {"gauss4", "midpoint"}, default "gauss4"
        Macro scheme of :func:`hmm.solve_hmm`.
    robust : bool, default True
        Predict without assuming the period is exactly ``eps`` (see :mod:`hmm.choose`); False
        uses the exact averaging factors and phases, which may rest on a zero of :math:`D`.
    quadrature : {"simpson", "parts"}, optional
        Flux quadrature; default: both are candidates (``"parts"`` for ``q >= 0`` kernels).
    kernels : sequence of (p, q), default :data:`KERNELS`
        Candidate kernels.
    micro_steps : sequence of int, default :data:`MICRO_STEPS`
        Candidate micro steps per period, each >= 2.
    rho_max : float, default 24
        Largest :math:`\tau/\varepsilon` considered, >= 1.
    safety : float, default 0.8
        Fraction of ``tol`` the prediction may use, in (0, 1].

    Returns
    -------
    Choice
        Run it with ``hmm.solve_hmm(H, M0, T=T, **choice.solve_kwargs())``.

    Raises
    ------
    ValueError
        For bad input, and when no candidate meets the tolerance; the message gives the floor
        of the HMM (the :math:`O(\varepsilon)` error no kernel or grid removes) or the missing
        piece, and what to change.
    """
    _checks.field(H)
    tol = _checks.positive("tol", tol)
    T = _checks.positive("T", T)
    eps = _checks.positive("eps", eps)
    M0 = _checks.vector3("M0", M0)
    beta = _checks.positive("beta", beta)
    gamma = _checks.nonnegative("gamma", gamma)
    macro = _checks.choice("macro", macro, MACRO_SCHEMES)
    robust = _checks.flag("robust", robust)
    quadratures = QUADRATURES if quadrature is None else (
        _checks.choice("quadrature", quadrature, QUADRATURES),
    )  # fmt: skip
    candidates = _kernels(kernels)
    micro_steps = [_checks.integer("micro_steps", k, 2) for k in micro_steps]
    rho_max = _checks.positive("rho_max", rho_max)
    safety = _checks.positive("safety", safety)
    if rho_max < 1 or safety > 1 or not micro_steps:
        raise ValueError(
            "rho_max must be >= 1, safety <= 1 and micro_steps not empty, got "
            f"rho_max={rho_max!r}, safety={safety!r}, micro_steps={micro_steps!r}"
        )

    if quadratures == ("parts",) and all(K.q < 0 for K in candidates):
        raise ValueError("quadrature='parts' needs kernels with q >= 0; kernels has none")

    counted = fields.Counted(H)
    budget = safety * tol
    model = field_model(counted, M0, T=T, beta=beta, gamma=gamma, level=1e-2 * budget)
    probe = MicroProbe(counted, model.harmonics, T, eps, beta)
    options = sorted(
        (window_evaluations(grid.n, quad), grid.n, grid.steps_per_eps, grid, quad)
        for grid in candidate_grids(micro_steps, rho_max)
        for quad in quadratures
    )
    search = Search(model, probe, candidates, options, budget)
    for N in N_GRID[macro]:
        if search.done(N, 1 if macro == "midpoint" else 2):
            break
        if T * model.field_scale * np.hypot(beta, gamma) / N <= MAX_STEP:
            r = macro_responses(
                model.harmonics, model.mbar, model.active, M0, T=T, N=N, eps=eps, beta=beta,
                gamma=gamma, macro=macro, robust=robust,
            )  # fmt: skip
            search.cheapest(N, r, 1 if macro == "midpoint" else 2, eps, robust)
    if search.best is None:
        raise ValueError(search.refusal(tol, macro, eps))
    N, K, grid, quad, split, work = search.best
    return Choice(
        macro, N, K, grid.rho, grid.steps_per_eps, quad, T, eps, beta, gamma, tol, robust, split,
        work, counted.points,
    )  # fmt: skip


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


class Search:
    """The search for the cheapest set-up: the best so far, and what the refusal message needs."""

    def __init__(self, model: FieldModel, probe: MicroProbe, kernels, options, budget: float):
        self.model, self.probe, self.kernels, self.options = model, probe, kernels, options
        self.budget = budget
        self.best = None  # (N, kernel, grid, quadrature, ErrorSplit, work)
        self.first = None  # the smallest N that leaves room for the averaging
        self.floor = np.inf
        self.closest = np.inf  # least (averaging + micro) / room seen
        self.blocked = 0  # N in a row at which the floor alone fills the budget
        self._tables: dict = {}

    def done(self, N: int, stages: int) -> bool:
        """Whether no :math:`N` from here on can do better.

        Beyond three times the first :math:`N` that left room, or dearer than the best, or after
        three :math:`N` in a row at which the macro error is below 1% of the budget and the
        floor alone fills it (more steps only move the phases :math:`t_n/\varepsilon`).
        """
        if self.blocked >= 3 or (self.first is not None and N > 3 * self.first):
            return True
        return self.best is not None and N * stages * self.options[0][0] >= self.best[-1]

    def cheapest(self, N: int, r: Responses, stages: int, eps: float, robust: bool) -> None:
        """Try every grid and quadrature for :math:`N` steps in order of work; keep the first that fits."""
        self.floor = min(self.floor, r.floor)
        room = self.budget - r.macro - r.floor
        self.blocked = self.blocked + 1 if r.floor >= self.budget > 100 * r.macro else 0
        if room <= 0:
            return
        self.first = N if self.first is None else self.first
        R = np.concatenate([r.R, [r.R2]])
        for per_window, _, _, grid, quad in self.options:
            work = N * stages * per_window
            if self.best is not None and work >= self.best[-1]:
                return
            usable = [K for K in self.kernels if quad == "simpson" or K.q >= 0]
            key = (grid, quad)
            if key not in self._tables:
                self._tables[key] = averaging_coefficients(
                    usable, grid, quad, self.model.active, self.model.rates, eps, robust
                )
            averaging = self._tables[key] @ R
            found = _first_passing(
                usable, averaging, room, self.probe, grid, quad, self.model.sensitivity
            )
            if found is None:
                self.closest = min(self.closest, averaging.min() / room)
                continue
            K, E_avg, E_micro = found
            self.best = (N, K, grid, quad, ErrorSplit(r.macro, r.floor, E_avg, E_micro), work)
            return

    def refusal(self, tol: float, macro: str, eps: float) -> str:
        """Why no candidate meets ``tol``, and what to change."""
        if self.floor >= self.budget:
            return (
                f"tol = {tol:g} is below the floor of the HMM at eps = {eps:g}: the O(eps) error "
                f"of the flux (second-order drift and phase terms) alone gives {self.floor:.2e}, "
                f"which no kernel, window or micro grid removes; ask for tol >= "
                f"{self.floor / self.budget * tol:.2e} or a smaller eps (the floor scales like eps)"
            )
        if self.first is None:
            return (
                f"tol = {tol:g}: the macro scheme {macro!r} needs more than {N_GRID[macro][-1]} "
                f"steps; use macro='gauss4' or a larger tol"
            )
        return (
            f"tol = {tol:g}: no kernel and micro grid among the candidates averages well enough "
            f"(the best averaging error is {self.closest:.2g} times the room left by the macro "
            f"error and the floor, or the micro error is too large); allow a larger rho_max, "
            f"more kernels or more micro_steps, or ask for a larger tol"
        )


def _first_passing(usable, averaging, room, probe, grid, quad, scale):
    """The kernel with the least predicted error among those whose averaging and micro errors fit ``room``."""
    passing = []
    for i in np.argsort(averaging):
        if averaging[i] + scale * probe.least(grid.steps_per_eps, quad) >= room:
            break
        E_micro = scale * probe(usable[i], grid, quad)
        if averaging[i] + E_micro <= room:
            passing.append((averaging[i] + E_micro, i, E_micro))
    if not passing:
        return None
    _, i, E_micro = min(passing)
    return usable[i], float(averaging[i]), E_micro


def _kernels(pairs) -> list[Kernel]:
    """The candidate kernels from ``(p, q)`` pairs (checked by :func:`hmm.kernel`)."""
    try:
        out = [kernel(p, q) for p, q in pairs]
    except (TypeError, ValueError) as error:
        raise ValueError(f"kernels must be a sequence of (p, q) pairs: {error}") from None
    if not out:
        raise ValueError("kernels must not be empty")
    return out
