r"""Second-order averaging of (1.2): the antiderivative :math:`\mathbf{G}`, the drift vector :math:`\mathbf{c}` and the drifts (beyond the paper).

With :math:`\mathbf{H}(t, s) = \bar{\mathbf{H}}(t) + \mathbf{H}_1(t, s)` and :math:`\mathbf{G}(t, s)`
the antiderivative of :math:`\mathbf{H}_1` in :math:`s` with zero mean, second-order averaging of
(1.2) gives

.. math::

   \mathbf{m}^\varepsilon(t) &= \bar{\mathbf{m}}(t) + \varepsilon\,\mathbf{u}(t, t/\varepsilon, \bar{\mathbf{m}}(t)) + O(\varepsilon^2),\\
   \mathbf{u}(t, s, \mathbf{m}) &= -\beta\,\mathbf{m}\times\mathbf{G}(t, s) - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{G}(t, s)),

where the average :math:`\bar{\mathbf{m}}` moves by

.. math::

   \frac{d\bar{\mathbf{m}}}{dt} &= \mathbf{f}_0(\bar{\mathbf{m}}) + \varepsilon\,\mathbf{f}_1(\bar{\mathbf{m}}) + O(\varepsilon^2),\\
   \mathbf{f}_1(\mathbf{m}) &= (\beta^2 - \gamma^2|\mathbf{m}|^2)\,\mathbf{m}\times\mathbf{c}
   + 2\beta\gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{c}),\\
   \mathbf{c}(t) &= \tfrac12\langle\mathbf{G}\times\mathbf{H}_1\rangle,

:math:`\mathbf{f}_0` the right-hand side of the averaged equation (4.3). With :math:`\beta = 1`,
:math:`\gamma = 0` the corrector :math:`\varepsilon\mathbf{u}` is the oscillating part of
:math:`\varepsilon\mathbf{m}_1` of (4.6):
:math:`\varepsilon\mathbf{m}_1(t/\varepsilon) = -t\,\mathbf{M}\times\bar{\mathbf{H}} + \varepsilon\mathbf{u}(t) - \varepsilon\mathbf{u}(0)`
for a field constant in the slow time.

The macro model (3.2) with the undamped micro model (3.4), lifted so that the micro trajectory
averages to :math:`\mathbf{M}` (``lift="restriction"`` of :func:`hmm.solve_hmm`), has the drift
:math:`\mathbf{f}_0 + \varepsilon(\beta^2\,\mathbf{M}\times\mathbf{c} + \beta\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{c}))`:
it misses :func:`missing_drift`, which ``drift="second_order"`` adds. The paper's unlifted micro
start (micro problem from :math:`\mathbf{M}` instead of from the oscillating state) leaves an
:math:`O(\varepsilon)` flux error that depends on the phase :math:`t_a/\varepsilon`.

Everything here comes from the field's harmonics in :math:`s`, :math:`\mathbf{h}_k(t)`
(:func:`field_harmonics`, the FFT of ``n_quad`` samples per period: exact for trigonometric
polynomials of degree below ``n_quad/2``): :math:`\mathbf{G}` by :func:`antiderivative` and
:math:`\mathbf{c}` by :func:`drift`, for the reconstruction (:mod:`hmm.reconstruction`), the
single-spin HMM's ``drift="second_order"`` (:mod:`hmm.macro`) and the error model of the chooser
(:mod:`hmm.choose`) alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks, fields
from .ll_equation import cross_matrix

DEFAULT_N_QUAD = 64
"""Samples per period of the field for :math:`\\mathbf{G}` and :math:`\\mathbf{c}`."""


def field_harmonics(H: Callable, t, n_s: int = DEFAULT_N_QUAD) -> np.ndarray:
    r"""Fourier coefficients :math:`\mathbf{h}_k(t)` of :math:`\mathbf{H}(t, \cdot)` by the FFT on ``n_s`` points.

    :math:`\mathbf{H}(t, s) = \mathbf{h}_0(t) + \sum_{k\ge1} 2\,\mathrm{Re}\big(\mathbf{h}_k(t)\,e^{2\pi iks}\big)`,
    :math:`\mathbf{h}_0 = \bar{\mathbf{H}}`. ``t`` of any shape ``S``; returns shape
    ``S + ((n_s + 1) // 2, 3)``, complex, :math:`k = 0, \dots, \lceil n_s/2\rceil - 1`.
    """
    t = np.asarray(t, dtype=float)
    tt, ss = np.broadcast_arrays(t[..., None], np.arange(n_s) / n_s)
    values = fields.evaluate(H, tt, ss)
    return np.fft.rfft(values, axis=-2)[..., : (n_s + 1) // 2, :] / n_s


def antiderivative(h: np.ndarray, phase) -> np.ndarray:
    r"""The zero-mean antiderivative :math:`\mathbf{G} = \sum_{k\ge1} 2\,\mathrm{Re}\big(\mathbf{h}_k e^{2\pi ik s}/(2\pi ik)\big)` of :math:`\mathbf{H}_1` at the phases ``phase``.

    ``h`` of shape ``S + (K, 3)`` (:func:`field_harmonics`), ``phase`` broadcastable against
    ``S``; returns the broadcast shape plus ``(3,)``.
    """
    k = np.arange(1, h.shape[-2])
    waves = np.exp(2j * np.pi * np.asarray(phase)[..., None] * k) / (2j * np.pi * k)
    return 2 * np.real(np.einsum("...k,...kc->...c", waves, h[..., 1:, :]))


def drift(h: np.ndarray) -> np.ndarray:
    r"""The drift vector :math:`\mathbf{c} = \tfrac12\langle\mathbf{G}\times\mathbf{H}_1\rangle = \sum_{k\ge1}\mathrm{Re}\big(-i\,\mathbf{h}_k\times\bar{\mathbf{h}}_k\big)/(2\pi k)` from the harmonics.

    ``h`` of shape ``S + (K, 3)``; returns ``S + (3,)``.
    """
    k = np.arange(1, h.shape[-2])[:, None]
    hk = h[..., 1:, :]
    return np.sum(np.real(-1j * np.cross(hk, np.conj(hk))) / (2 * np.pi * k), axis=-2)


def corrector_from(G: np.ndarray, M: np.ndarray, beta: float, gamma: float) -> np.ndarray:
    r"""The corrector :math:`\mathbf{u} = -\beta\,\mathbf{M}\times\mathbf{G} - \gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{G})` for given :math:`\mathbf{G}`."""
    MxG = np.cross(M, G)
    return -beta * MxG - gamma * np.cross(M, MxG)


def missing_drift_from(c: np.ndarray, M: np.ndarray, beta: float, gamma: float) -> np.ndarray:
    r""":math:`\beta\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{c}) - \gamma^2|\mathbf{M}|^2\,\mathbf{M}\times\mathbf{c}` for given :math:`\mathbf{c}`."""
    Mxc = np.cross(M, c)
    return beta * gamma * np.cross(M, Mxc) - gamma**2 * np.sum(M * M, -1)[..., None] * Mxc


def missing_drift_jacobian(c: np.ndarray, M: np.ndarray, beta: float, gamma: float) -> np.ndarray:
    r"""Jacobian of :func:`missing_drift_from` in :math:`\mathbf{M}` (one state), a 3 by 3 matrix.

    :math:`\beta\gamma\,(\mathbf{M}\mathbf{c}^T + (\mathbf{M}\cdot\mathbf{c})I - 2\mathbf{c}\mathbf{M}^T)
    - \gamma^2\,(2(\mathbf{M}\times\mathbf{c})\mathbf{M}^T - |\mathbf{M}|^2[\mathbf{c}]_\times)`.
    """
    triple = np.outer(M, c) + np.dot(M, c) * np.eye(3) - 2.0 * np.outer(c, M)
    scaled = 2.0 * np.outer(np.cross(M, c), M) - np.dot(M, M) * cross_matrix(c)
    return beta * gamma * triple - gamma**2 * scaled


def fast_antiderivative(H: Callable, t, s, *, n_quad: int = DEFAULT_N_QUAD) -> np.ndarray:
    r"""The zero-mean antiderivative :math:`\mathbf{G}(t, s)` of :math:`\mathbf{H}_1 = \mathbf{H} - \bar{\mathbf{H}}` in :math:`s` (beyond the paper).

    :math:`\partial_s\mathbf{G} = \mathbf{H}(t, s) - \bar{\mathbf{H}}(t)`,
    :math:`\int_0^1\mathbf{G}(t, s)\,ds = 0`; by the FFT of ``n_quad`` samples of
    :math:`\mathbf{H}(t, \cdot)` (:func:`antiderivative`).

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t, s : array_like
        Slow times and fast variables, broadcast to one shape ``S``.
    n_quad : int, default 64
        Samples per period, >= 4.

    Returns
    -------
    ndarray, shape ``S + (3,)``
    """
    _checks.field(H)
    n_quad = _checks.integer("n_quad", n_quad, 4)
    t, s = np.broadcast_arrays(_checks.finite_array("t", t), _checks.finite_array("s", s))
    return antiderivative(field_harmonics(H, t, n_quad), s)


def drift_vector(H: Callable, t, *, n_quad: int = DEFAULT_N_QUAD) -> np.ndarray:
    r"""The vector :math:`\mathbf{c}(t) = \frac12\int_0^1 \mathbf{G}(t, s)\times\mathbf{H}_1(t, s)\,ds` of the second-order drift (beyond the paper).

    For :math:`\mathbf{H}_1 = \sum_k \mathbf{a}_k\cos 2\pi ks + \mathbf{b}_k\sin 2\pi ks`,
    :math:`\mathbf{c} = \sum_k \mathbf{a}_k\times\mathbf{b}_k/(4\pi k)` (:func:`drift`): zero when
    the oscillation is collinear (Fig. 5.3 right), :math:`-\mathbf{e}_z/(4\pi)` for
    :func:`hmm.fields.fig51_left`. The HMM does not need it unless asked for
    ``drift="second_order"`` (:func:`hmm.solve_hmm`).

    ``H`` and ``n_quad`` are as in :func:`fast_antiderivative`; ``t``, slow times of any shape
    ``S``, gives the result's shape ``S + (3,)``.
    """
    _checks.field(H)
    n_quad = _checks.integer("n_quad", n_quad, 4)
    return drift(field_harmonics(H, _checks.finite_array("t", t), n_quad))


def second_order_drift(
    H: Callable, t, M, *, beta: float = 1.0, gamma: float = 1.0, n_quad: int = DEFAULT_N_QUAD
) -> np.ndarray:
    r"""The second-order drift :math:`\mathbf{f}_1(\mathbf{M})` of the averaged solution (beyond the paper).

    .. math::  \mathbf{f}_1 = (\beta^2 - \gamma^2|\mathbf{M}|^2)\,\mathbf{M}\times\mathbf{c}
               + 2\beta\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{c}),

    :math:`\mathbf{c}(t)` of :func:`drift_vector`:
    :math:`d\bar{\mathbf{m}}/dt = \mathbf{f}_0 + \varepsilon\mathbf{f}_1 + O(\varepsilon^2)`,
    :math:`\mathbf{f}_0` the right-hand side of (4.3).

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t : array_like
        Times, any shape ``S``.
    M : array_like, shape ``S + (3,)`` (or broadcastable to it)
        States.
    beta, gamma, n_quad
        As in :func:`hmm.corrector`.

    Returns
    -------
    ndarray, shape ``S + (3,)``
    """
    beta, gamma = _checks.constants(beta, gamma)
    M = _checks.states("M", M)
    c = drift_vector(H, t, n_quad=n_quad)
    Mxc = np.cross(M, c)
    return (beta**2 - gamma**2 * np.sum(M * M, -1))[..., None] * Mxc + 2 * beta * gamma * np.cross(
        M, Mxc
    )


def missing_drift(
    H: Callable, t, M, *, beta: float = 1.0, gamma: float = 1.0, n_quad: int = DEFAULT_N_QUAD
) -> np.ndarray:
    r"""What the lifted macro model (3.2) misses of :math:`\mathbf{f}_1` (beyond the paper).

    .. math::  \mathbf{f}_1 - \mathbf{f}_1^{(3.2)} &= \beta\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{c})
               - \gamma^2|\mathbf{M}|^2\,\mathbf{M}\times\mathbf{c}, \\
               \mathbf{f}_1^{(3.2)} &= \beta^2\,\mathbf{M}\times\mathbf{c} + \beta\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{c}):

    the damping :math:`(\gamma/\beta)\mathbf{M}\times\mathbf{F}` of (3.2) acts on the flux of an
    undamped micro problem, which lacks the interplay of damping and oscillation. Zero for
    :math:`\gamma = 0` or a collinear oscillation (:math:`\mathbf{c} = 0`).
    ``drift="second_order"`` of :func:`hmm.solve_hmm` adds :math:`\varepsilon` times it.
    The arguments and the shape of the result are those of :func:`second_order_drift`.
    """
    beta, gamma = _checks.constants(beta, gamma)
    M = _checks.states("M", M)
    return missing_drift_from(drift_vector(H, t, n_quad=n_quad), M, beta, gamma)
