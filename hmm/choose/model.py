r"""The error model of the chooser: what the computed flux matrix does to the solution (beyond the paper).

A model of the computed flux matrix of the paper's HMM (:math:`\mathbf{F} = \mathcal{A}\mathbf{M}`,
(3.7)) to first order in :math:`\varepsilon` (stated in :mod:`hmm.choose`), built from the field's
harmonics in :math:`s` as Chebyshev series in :math:`t` (:func:`slow_harmonics`), its
second-order drift :math:`-\beta\varepsilon\mathbf{c}` (:func:`hmm.averaging.drift`) and the
zero-mean primitive of its fast part (:func:`hmm.averaging.antiderivative`), and the responses of
the macro scheme to each term, measured by running the scheme on model fluxes in one batch
(:func:`hmm.macro_scheme.batched_march`, :func:`macro_responses`) over the phase sequences of
:func:`phase_sets`; and the factors by which the kernel average on a micro grid multiplies each
response (:func:`averaging_coefficients`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.polynomial import chebyshev

from .. import fields
from ..averaged import exact_solution
from ..averaging import antiderivative, drift
from ..kernels import Kernel, kernel
from ..ll_equation import cross_matrix
from ..macro_scheme import batched_march, stage_times
from ..micro import MicroSettings
from ..upscaling import harmonic_rows, quadrature_weights

ROBUST_DRIFTS = np.linspace(-4.0, 4.0, 9)
r"""Phase drifts over :math:`[0, T]`, in periods, of the robust mode's phase sequences."""
RESONANT_ORIGINS = np.arange(8) / 8
r"""Origins :math:`\theta` of the robust mode's resonant (constant-phase) sequences."""
_ETA = 1e-5  # size of the perturbations whose responses are measured

BAND = np.linspace(-0.5, 0.5, 9)
r"""Offsets of :math:`\nu\rho` around each harmonic at which :math:`D` is sampled."""


class SlowHarmonics:
    r"""The harmonics :math:`\mathbf{h}_k(t)` as Chebyshev series in :math:`t` on ``[a, b]``.

    ``harmonics(t, nu=0)``: the ``nu``-th derivative at the times ``t``, shape
    ``t.shape + (K, 3)``, complex; ``harmonics.x`` the Chebyshev-Lobatto points of the longest
    series (the field was sampled at all of them, at fewer :math:`s` where only some harmonics
    were still open, see :func:`slow_harmonics`); ``harmonics.field(t, s)`` the model field
    :math:`\mathbf{h}_0 + \sum_{k\ge1} 2\,\mathrm{Re}(\mathbf{h}_k e^{2\pi iks})` (no field
    evaluations).
    """

    def __init__(self, coefficients: np.ndarray, a: float, b: float, x: np.ndarray):
        self.coefficients, self.a, self.b, self.x = coefficients, a, b, x

    def __call__(self, t, nu: int = 0) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        c = self.coefficients
        if nu:
            c = chebyshev.chebder(c, nu, scl=2.0 / (self.b - self.a), axis=0)
        u = (2.0 * t.reshape(-1) - self.a - self.b) / (self.b - self.a)
        V = chebyshev.chebvander(u, len(c) - 1)
        return (V @ c.reshape(len(c), -1)).reshape(t.shape + c.shape[1:])

    def field(self, t, s) -> np.ndarray:
        """The model field at ``(t, s)`` (broadcast), shape ``shape + (3,)``."""
        t, s = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(s, dtype=float))
        h = self(t)  # (..., K, 3)
        k = np.arange(h.shape[-2])
        waves = np.where(k == 0, 1.0, 2.0) * np.exp(2j * np.pi * s[..., None] * k)
        return np.real(np.einsum("...k,...kc->...c", waves, h))


def _chebyshev_fit(values: np.ndarray) -> np.ndarray:
    """Chebyshev coefficients (along axis 0) of the interpolant at the Lobatto points ``cos(pi j/n)``."""
    n = len(values) - 1
    ext = np.concatenate([values, values[-2:0:-1]])  # even extension, length 2n
    c = np.fft.fft(ext, axis=0)[: n + 1] / n
    c[0] /= 2
    c[n] /= 2
    return c


def slow_harmonics(H: Callable, T: float, level: float) -> SlowHarmonics:
    r"""The harmonics :math:`\mathbf{h}_k(t)` on :math:`[-T/20, 21T/20]` as Chebyshev series in :math:`t`.

    At the 3 Chebyshev-Lobatto points of degree :math:`n_t = 2` in :math:`t` (the ends and the
    middle), the FFT length in :math:`s` doubles (nested) from 16 while a harmonic in the upper
    quarter of the computed ones (:math:`k \ge 3n_s/8`) exceeds ``level`` at any of them
    (:func:`_resolved_in_s`). Then each harmonic gets its own series: a harmonic whose series has
    no coefficient above ``level``/8 of degree :math:`\ge \lfloor 3n_t/4\rfloor` is resolved
    (its series kept up to that degree; the eighth because the model field's error adds up the
    errors of the harmonics, each cut at its own degree), and
    the points in :math:`t` double (nested) for the others only. At the new points the field is
    sampled at just enough :math:`s` for the harmonics still open, after the resolved ones are
    taken out of the samples (:func:`_open_harmonics`): a harmonic that is constant in
    :math:`t` costs no more samples there. A field that needs more than 1024 points in
    :math:`s` or 1025 in :math:`t` is refused (``ValueError``): the error model assumes a field
    smooth in both.
    """
    a, b = -0.05 * T, 1.05 * T

    def points(n):
        return 0.5 * (a + b) + 0.5 * (b - a) * np.cos(np.pi * np.arange(n + 1) / n)

    n_t = 4
    h = _fourier(_resolved_in_s(H, points(n_t), level))  # (n_t + 1, K, 3)
    series = SlowHarmonics(np.zeros((1,) + h.shape[1:], complex), a, b, points(n_t))
    open_ = np.arange(h.shape[1])  # the harmonics not yet resolved in t
    while True:
        c = _chebyshev_fit(h)
        tail = np.abs(c[3 * n_t // 4 :]).max(axis=(0, 2))
        done = tail <= level / 8
        series = _with(series, open_[done], c[: 3 * n_t // 4 + 1, done], points(n_t))
        open_, h = open_[~done], h[:, ~done]
        if not open_.size:
            return series
        if n_t >= 1024:
            raise ValueError(
                f"H(t, s) varies too fast in t for choose_parameters: a Chebyshev series of "
                f"degree {n_t} misses it by {tail.max():.1e} (> {level / 8:.1e}); shorten T"
            )
        both = np.empty((2 * n_t + 1,) + h.shape[1:], complex)
        both[::2], both[1::2] = h, _open_harmonics(H, series, points(2 * n_t)[1::2], open_)
        n_t, h = 2 * n_t, both


def _resolved_in_s(H: Callable, t: np.ndarray, level: float) -> np.ndarray:
    r"""Samples of ``H`` at the times ``t`` and :math:`n_s` equispaced :math:`s`, shape ``(len(t), n_s, 3)``.

    :math:`n_s` doubles (nested) from 16 while a harmonic :math:`k \ge 3n_s/8` exceeds ``level``
    at any of the times; beyond 1024 the field is refused (``ValueError``).
    """
    n_s = 16
    values = fields.evaluate(H, *np.broadcast_arrays(t[:, None], np.arange(n_s) / n_s))
    while (top := np.abs(_fourier(values)[:, 3 * n_s // 8 :]).max()) > level:
        if n_s == 1024:
            raise ValueError(
                f"H(t, s) has harmonics above 384 in s of size {top:.1e} (> {level:.1e}): "
                f"choose_parameters needs a field smooth in s"
            )
        odd = (2 * np.arange(n_s) + 1) / (2 * n_s)
        both = np.empty((len(t), 2 * n_s, 3))
        both[:, ::2] = values
        both[:, 1::2] = fields.evaluate(H, *np.broadcast_arrays(t[:, None], odd))
        n_s, values = 2 * n_s, both
    return values


def _open_harmonics(
    H: Callable, series: SlowHarmonics, t: np.ndarray, open_: np.ndarray
) -> np.ndarray:
    r"""The harmonics ``open_`` at the times ``t``, shape ``(len(t), len(open_), 3)``.

    ``H`` less the resolved harmonics (``series``, zero in the open ones) is sampled at the
    fewest :math:`n_s` (a power of 2) whose FFT separates the open harmonics,
    :math:`n_s > 2\max k`: what is left of the field in the samples is the open harmonics, the
    resolved ones' truncation errors and the harmonics beyond the FFT length of
    :func:`_resolved_in_s`, all of them below the level.
    """
    n_s = 2 ** int(np.ceil(np.log2(2 * open_.max() + 1)))
    t, s = np.broadcast_arrays(t[:, None], np.arange(n_s) / n_s)
    return _fourier(fields.evaluate(H, t, s) - series.field(t, s))[:, open_]


def _with(series: SlowHarmonics, k: np.ndarray, c: np.ndarray, x: np.ndarray) -> SlowHarmonics:
    """``series`` with the coefficients ``c`` for the harmonics ``k`` (zeros padded), sampled at ``x``."""
    old = series.coefficients
    out = np.zeros((max(len(old), len(c)),) + old.shape[1:], complex)
    out[: len(old)] = old
    out[: len(c), k] = c
    return SlowHarmonics(out, series.a, series.b, x)


def _fourier(values: np.ndarray) -> np.ndarray:
    """:func:`hmm.averaging.field_harmonics` from the samples ``values`` of shape ``(n_t, n_s, 3)``."""
    n_s = values.shape[1]
    return np.fft.rfft(values, axis=1)[:, : (n_s + 1) // 2] / n_s


def averaged_solution(
    harmonics: SlowHarmonics, M0: np.ndarray, T: float, beta: float, gamma: float
) -> Callable:
    r""":math:`\bar{\mathbf{m}}(t)` of (4.3) with :math:`\bar{\mathbf{H}} = \mathbf{h}_0` from the series, as a dense output.

    :func:`hmm.averaged.exact_solution`, as :func:`hmm.solve_averaged` (no further field evaluations).
    """
    sol = exact_solution(lambda t: np.real(harmonics(t)[0]), M0, T, beta, gamma)
    return lambda t: sol.sol(t).T


def phase_sets(
    t: np.ndarray, eps: float, T: float, robust: bool, dt: float | None = None
) -> np.ndarray:
    r"""Phases :math:`\phi(t)` of the fast field at the times ``t``, one row per sequence.

    Exact: :math:`t/\varepsilon`. Robust: also :math:`t/\varepsilon + d\,t/T + \theta` for the
    drifts :math:`d` of :data:`ROBUST_DRIFTS` (a period changed by :math:`-d\varepsilon/T`,
    relative) and origins :math:`\theta = 0.618j \bmod 1`; and, given the macro step ``dt``,
    the resonant sequences :math:`jt/\Delta t + \theta` for the integers :math:`j` of
    :func:`resonances` and the origins :math:`\theta` of :data:`RESONANT_ORIGINS`: a period
    :math:`\Delta t/j` at which every macro step sees the fast field at one phase pattern (the
    phase errors add up instead of averaging out).
    """
    nominal = t / eps
    if not robust:
        return nominal[None]
    j = np.arange(len(ROBUST_DRIFTS))
    shift = np.where(ROBUST_DRIFTS == 0, 0.0, (0.618034 * j) % 1.0)
    sets = nominal + ROBUST_DRIFTS[:, None] * t / T + shift[:, None]
    if dt is None:
        return sets
    resonant = resonances(t, dt / eps, dt)
    sets_r = (resonant[:, None, None] * t / dt + RESONANT_ORIGINS[:, None]).reshape(-1, len(t))
    return np.concatenate([sets, sets_r])


def resonances(t: np.ndarray, ratio: float, dt: float) -> np.ndarray:
    r"""Integers :math:`j` near ``ratio`` :math:`= \Delta t/\varepsilon` whose phases in a macro step differ.

    At the period :math:`\Delta t/j` the stage at :math:`t_n + c\Delta t` sees the phase
    :math:`\theta + jc \bmod 1` at every step: what matters is the pattern :math:`jc \bmod 1` over
    the stage nodes :math:`c`. Among the integers within a tenth of ``ratio`` (at least 4; from 1
    up: periods off by up to about 10%, relative), the nearest one of each pattern, the patterns binned by eighths of the first node's phase: up to
    eight integers (two for the midpoint rule, whose node :math:`c = 1/2` has two patterns).
    """
    c = (t[0] / dt) % 1.0  # the first stage node of the first step
    centre, window = max(round(ratio), 1), max(4, int(np.ceil(ratio / 10)))
    J = np.arange(max(centre - window, 1), centre + window + 1)
    J = J[np.argsort(np.abs(J - ratio), kind="stable")]
    bins = np.floor(8 * ((J * c) % 1.0) + 1e-9).astype(int) % 8
    _, first = np.unique(bins, return_index=True)
    return np.sort(J[first]).astype(float)


@dataclass(frozen=True)
class Responses:
    r"""What the model fluxes do to the solution for one :math:`N` (see :func:`macro_responses`).

    ``macro`` is an error and ``floors`` the floor per micro start (``lift``,
    :func:`floor_terms`); ``R`` the responses to :math:`\bar{\mathbf{H}}` (entry 0)
    and to each harmonic of ``harmonics`` (per unit factor :math:`D`), and ``R2`` the response
    to :func:`window_curvature`; all maxima over the macro times (and phase sequences).
    """

    macro: float
    floors: dict
    R: np.ndarray
    R2: float


def macro_responses(
    harmonics: SlowHarmonics, mbar: Callable, active: np.ndarray, M0: np.ndarray, *, T: float,
    N: int, eps: float, beta: float, gamma: float, macro: str, robust: bool,
) -> Responses:  # fmt: skip
    r"""Run the macro scheme with :math:`N` steps on the model fluxes, all in one batch.

    Members: the averaged flux :math:`\beta[\bar{\mathbf{H}}]_\times` (against ``mbar``: the
    macro error); plus the :math:`O(\varepsilon)` terms (the floors, :func:`floor_terms`); plus
    :math:`\eta\,\mathcal{C}` (:func:`window_curvature`),
    :math:`\eta\beta[\bar{\mathbf{H}}]_\times` and :math:`\eta\beta[2\mathrm{Re}(\mathbf{h}_k e^{2\pi ik\phi})]_\times`
    for each ``active`` harmonic (responses, divided by :math:`\eta`), for every phase sequence
    of :func:`phase_sets`.
    """
    t = np.linspace(0.0, T, N + 1)
    ts = stage_times(t, macro).reshape(-1)
    h = harmonics(ts)  # (n, K, 3)
    phases = phase_sets(ts, eps, T, robust, T / N)  # (P, n)
    A0 = beta * cross_matrix(np.real(h[:, 0]))
    tails = floor_terms(h, phases, eps, beta)
    waves = 2 * np.real(
        h[None, :, active] * np.exp(2j * np.pi * phases[..., None] * active)[..., None]
    )
    perturbations = np.concatenate(
        [
            [np.zeros_like(A0)],
            *tails.values(),
            _ETA * np.stack([window_curvature(harmonics, ts, beta), A0]),
            _ETA * beta * cross_matrix(np.moveaxis(waves, 2, 1).reshape(-1, len(ts), 3)),
        ]
    )
    A = (A0 + perturbations).reshape(len(perturbations), N, -1, 3, 3)
    m = batched_march(M0, A, T / N, gamma / beta, macro)
    gap = np.linalg.norm(m[1:] - m[0], axis=-1).max(axis=-1)
    ends = np.cumsum([len(x) for x in tails.values()])
    floors = dict(zip(tails, np.split(gap[: ends[-1]], ends[:-1]), strict=True))
    F = ends[-1]
    R = np.concatenate([[gap[F + 1]], gap[F + 2 :].reshape(len(phases), -1).max(axis=0)]) / _ETA
    macro_error = np.linalg.norm(m[0] - mbar(t), axis=-1).max()
    return Responses(
        float(macro_error), {k: float(v.max()) for k, v in floors.items()}, R, float(gap[F] / _ETA)
    )


def floor_terms(h: np.ndarray, phases: np.ndarray, eps: float, beta: float) -> dict:
    r"""The :math:`O(\varepsilon)` terms of the flux matrix at the stage times, per micro start.

    ``"restriction"`` (the lifted start, :func:`hmm.upscaling.restricted_flux`): the second-order
    drift :math:`\beta[-\beta\varepsilon\mathbf{c}]_\times` (:func:`hmm.averaging.drift`),
    shape ``(1, n, 3, 3)``; ``"none"`` (the paper's start at :math:`\mathbf{M}`): plus the phase
    term :math:`-\varepsilon\beta^2[\bar{\mathbf{H}}]_\times[\mathbf{Q}(\phi)]_\times`
    (:func:`hmm.averaging.antiderivative`) for each phase sequence, shape ``(P, n, 3, 3)``.
    """
    drift_term = beta * cross_matrix(-beta * eps * drift(h))[None]
    phase_term = (
        eps * beta**2 * (cross_matrix(np.real(h[:, 0])) @ cross_matrix(antiderivative(h, phases)))
    )
    return {"restriction": drift_term, "none": drift_term - phase_term}


def window_curvature(harmonics: SlowHarmonics, t: np.ndarray, beta: float) -> np.ndarray:
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
    harmonics : SlowHarmonics
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

    harmonics: SlowHarmonics
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
    t = np.linspace(0.0, T, 257)
    amplitude = np.linalg.norm(np.abs(harmonics(t)), axis=-1).max(axis=0)  # (K,)
    active = np.nonzero(amplitude[1:] * g * T * beta > 1e-2 * level)[0] + 1
    change = np.linalg.norm(np.abs(harmonics(t, 1)), axis=-1).max(axis=0)
    mbar = averaged_solution(harmonics, M0, T, beta, gamma)
    rates = change[active] / amplitude[active]
    return FieldModel(harmonics, mbar, active, rates, amplitude[0], g * T)


@dataclass(frozen=True)
class Grid:
    r"""A micro grid the chooser considers: ``n`` steps per window, :math:`\rho = n/k`, ``k`` steps per period."""

    n: int
    rho: float
    micro_steps_per_eps: int


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
    micro = MicroSettings(1.0, grid.rho, None, 1.0, grid.micro_steps_per_eps, "magnus4", "centred")
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
