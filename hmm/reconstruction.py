r"""The oscillating solution :math:`\mathbf{m}^\varepsilon` back from an HMM solution (beyond the paper).

The HMM computes an average :math:`\mathbf{M}(t)`; the solution of (1.2) oscillates about it with
amplitude :math:`O(\varepsilon)`. Second-order averaging of (1.2), with
:math:`\mathbf{H}(t, s) = \bar{\mathbf{H}}(t) + \mathbf{H}_1(t, s)` and
:math:`\mathbf{G}(t, s)` the antiderivative of :math:`\mathbf{H}_1` in :math:`s` with zero mean, gives

.. math::  \mathbf{m}^\varepsilon(t) = \bar{\mathbf{m}}(t) + \varepsilon\,\mathbf{u}(t, t/\varepsilon, \bar{\mathbf{m}}(t)) + O(\varepsilon^2),
           \qquad \mathbf{u}(t, s, \mathbf{m}) = -\beta\,\mathbf{m}\times\mathbf{G}(t, s) - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{G}(t, s)),

where the average :math:`\bar{\mathbf{m}}` moves by

.. math::  \frac{d\bar{\mathbf{m}}}{dt} = \mathbf{f}_0(\bar{\mathbf{m}}) + \varepsilon\,\mathbf{f}_1(\bar{\mathbf{m}}) + O(\varepsilon^2),
           \qquad \mathbf{f}_1(\mathbf{m}) = (\beta^2 - \gamma^2|\mathbf{m}|^2)\,\mathbf{m}\times\mathbf{c}
           + 2\beta\gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{c}),
           \qquad \mathbf{c}(t) = \tfrac12\langle\mathbf{G}\times\mathbf{H}_1\rangle,

:math:`\mathbf{f}_0` the right-hand side of the averaged equation (4.3), and starts from the
fixed point :math:`\bar{\mathbf{m}}(0) = \mathbf{m}^\varepsilon(0) - \varepsilon\,\mathbf{u}(0, 0, \bar{\mathbf{m}}(0))`.
With :math:`\beta = 1`, :math:`\gamma = 0` the corrector :math:`\varepsilon\mathbf{u}` is the
oscillating part of :math:`\varepsilon\mathbf{m}_1` of (4.6):
:math:`\varepsilon\mathbf{m}_1(t/\varepsilon) = -t\,\mathbf{M}\times\bar{\mathbf{H}} + \varepsilon\mathbf{u}(t) - \varepsilon\mathbf{u}(0)`
for a field constant in the slow time.

The macro model (3.2) with the undamped micro model (3.4), lifted so that the micro trajectory
averages to :math:`\mathbf{M}` (``lift="restriction"`` of :func:`hmm.solve_hmm`), has the drift
:math:`\mathbf{f}_0 + \varepsilon(\beta^2\,\mathbf{M}\times\mathbf{c} + \beta\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{c}))`:
it misses :func:`missing_drift`, which ``drift="second_order"`` adds. The paper's unlifted micro
start (micro problem from :math:`\mathbf{M}` instead of from the oscillating state) leaves an
:math:`O(\varepsilon)` flux error that depends on the phase :math:`t_a/\varepsilon`.

The fields' Fourier series in :math:`s` are computed by the FFT of ``n_quad`` samples per period:
exact for trigonometric polynomials of degree below ``n_quad/2`` (:math:`\mathbf{c}`: ``n_quad/4``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks, fields
from .integrators import NonConvergenceError
from .ll_equation import cross_matrix
from .solution import Solution

DEFAULT_N_QUAD = 64
"""Samples per period of the field for :math:`\\mathbf{G}` and :math:`\\mathbf{c}`."""


def _fourier(H: Callable, t: np.ndarray, n_quad: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Samples :math:`\mathbf{H}(t, j/n)`, the coefficients :math:`\hat{\mathbf{G}}_k` and the wave numbers :math:`k \ge 1`.

    :math:`\mathbf{G}(t, s) = 2\,\mathrm{Re}\sum_k \hat{\mathbf{G}}_k e^{2\pi iks}` with
    :math:`\hat{\mathbf{G}}_k = \hat{\mathbf{H}}_k/(2\pi ik)`; shapes ``t.shape + (n, 3)``,
    ``t.shape + (kmax, 3)``, ``(kmax,)``.
    """
    tt, ss = np.broadcast_arrays(t[..., None], np.arange(n_quad) / n_quad)
    values = fields.evaluate(H, tt, ss)
    k = np.arange(1, (n_quad - 1) // 2 + 1)
    Hk = np.fft.rfft(values, axis=-2)[..., 1 : len(k) + 1, :] / n_quad
    return values, Hk / (2j * np.pi * k[:, None]), k


def _series(Gk: np.ndarray, k: np.ndarray, phases: np.ndarray) -> np.ndarray:
    r""":math:`2\,\mathrm{Re}\sum_k \hat{\mathbf{G}}_k e^{2\pi ik s}` for ``phases`` of shape ``Gk.shape[:-2] + (n,)``: ``+ (n, 3)``."""
    waves = np.exp(2j * np.pi * phases[..., None] * k)
    return 2.0 * np.real(np.einsum("...kj,...nk->...nj", Gk, waves))


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
    :math:`\mathbf{H}(t, \cdot)`.

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
    t, s = np.broadcast_arrays(_finite_array("t", t), _finite_array("s", s))
    _, Gk, k = _fourier(H, t, n_quad)
    return _series(Gk, k, s[..., None])[..., 0, :]


def drift_vector(H: Callable, t, *, n_quad: int = DEFAULT_N_QUAD) -> np.ndarray:
    r"""The vector :math:`\mathbf{c}(t) = \frac12\int_0^1 \mathbf{G}(t, s)\times\mathbf{H}_1(t, s)\,ds` of the second-order drift (beyond the paper).

    For :math:`\mathbf{H}_1 = \sum_k \mathbf{a}_k\cos 2\pi ks + \mathbf{b}_k\sin 2\pi ks`,
    :math:`\mathbf{c} = \sum_k \mathbf{a}_k\times\mathbf{b}_k/(4\pi k)`: zero when the
    oscillation is collinear (Fig. 5.3 right), :math:`-\mathbf{e}_z/(4\pi)` for
    :func:`hmm.fields.fig51_left`. The HMM does not need it unless asked for
    ``drift="second_order"`` (:func:`hmm.solve_hmm`).

    ``H`` and ``n_quad`` are as in :func:`fast_antiderivative`; ``t``, slow times of any shape
    ``S``, gives the result's shape ``S + (3,)``.
    """
    _checks.field(H)
    n_quad = _checks.integer("n_quad", n_quad, 4)
    t = _finite_array("t", t)
    values, Gk, k = _fourier(H, t, n_quad)
    nodes = np.broadcast_to(np.arange(n_quad) / n_quad, t.shape + (n_quad,))
    H1 = values - values.mean(axis=-2, keepdims=True)
    return 0.5 * np.mean(np.cross(_series(Gk, k, nodes), H1), axis=-2)


def corrector(
    H: Callable, t, M, *, eps: float, beta: float = 1.0, gamma: float = 1.0,
    n_quad: int = DEFAULT_N_QUAD,
) -> np.ndarray:  # fmt: skip
    r"""The first-order corrector :math:`\varepsilon\,\mathbf{u}(t, t/\varepsilon, \mathbf{M})` (beyond the paper).

    .. math::  \varepsilon\,\mathbf{u} = -\varepsilon\beta\,\mathbf{M}\times\mathbf{G}(t, t/\varepsilon)
               - \varepsilon\gamma\,\mathbf{M}\times(\mathbf{M}\times\mathbf{G}(t, t/\varepsilon)),

    with :math:`\mathbf{G}` of :func:`fast_antiderivative`:
    :math:`\mathbf{m}^\varepsilon(t) = \bar{\mathbf{m}}(t) + \varepsilon\,\mathbf{u} + O(\varepsilon^2)`.
    With :math:`\beta = 1`, :math:`\gamma = 0` it is the oscillating part of
    :math:`\varepsilon\mathbf{m}_1` of (4.6) (module docstring).

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t : array_like
        Times, any shape ``S``; the fast phase is ``t/eps``.
    M : array_like, shape ``S + (3,)`` (or broadcastable to it)
        Averaged states :math:`\bar{\mathbf{m}}(t)`.
    eps : float
        Fast period, > 0.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    n_quad : int, default 64
        Samples per period of the field, >= 4.

    Returns
    -------
    ndarray, shape ``S + (3,)``
    """
    eps = _checks.positive("eps", eps)
    beta, gamma = _checks.constants(beta, gamma)
    t = _finite_array("t", t)
    M = _states("M", M)
    G = fast_antiderivative(H, t, t / eps, n_quad=n_quad)
    return eps * corrector_from(G, M, beta, gamma)


def averaged_start(
    H: Callable, m0, *, eps: float, beta: float = 1.0, gamma: float = 1.0,
    n_quad: int = DEFAULT_N_QUAD,
) -> np.ndarray:  # fmt: skip
    r"""The averaged initial state :math:`\bar{\mathbf{m}}(0)` for :math:`\mathbf{m}^\varepsilon(0) = \mathbf{M}_0` (beyond the paper).

    The fixed point of :math:`\mathbf{M} = \mathbf{M}_0 - \varepsilon\,\mathbf{u}(0, 0, \mathbf{M})`
    (:func:`corrector`), by fixed-point iteration to round-off: the start of the HMM whose
    solution :func:`reconstruct` turns into :math:`\mathbf{m}^\varepsilon` to
    :math:`O(\varepsilon^2)`. The paper starts from :math:`\mathbf{M}_0` itself, an
    :math:`O(\varepsilon)` error in :math:`\bar{\mathbf{m}}` that persists.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    m0 : array_like, shape (3,)
        :math:`\mathbf{m}^\varepsilon(0)`, a unit vector.
    eps, beta, gamma, n_quad
        As in :func:`corrector`.

    Returns
    -------
    ndarray, shape (3,)

    Raises
    ------
    hmm.NonConvergenceError
        If the iteration does not contract (:math:`\varepsilon` too large for the field).
    """
    m0 = _checks.unit_vector("m0", m0)
    eps = _checks.positive("eps", eps)
    beta, gamma = _checks.constants(beta, gamma)
    G = fast_antiderivative(H, 0.0, 0.0, n_quad=n_quad)
    M, previous, level = m0, np.inf, 1e-15
    for _ in range(100):
        M_new = m0 - eps * corrector_from(G, M, beta, gamma)
        change = float(np.max(np.abs(M_new - M)))
        if change <= level:
            return M_new
        if change >= previous:
            break  # no contraction
        M, previous = M_new, change
    raise NonConvergenceError(
        f"averaged_start: the fixed-point iteration did not converge for eps = {eps:g}; "
        "eps |G| (beta + gamma |m0|) must be well below 1"
    )


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
        As in :func:`corrector`.

    Returns
    -------
    ndarray, shape ``S + (3,)``
    """
    beta, gamma = _checks.constants(beta, gamma)
    M = _states("M", M)
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
    M = _states("M", M)
    return missing_drift_from(drift_vector(H, t, n_quad=n_quad), M, beta, gamma)


def dense_output(sol: Solution, t) -> np.ndarray:
    r"""The macro solution :math:`\mathbf{M}(t)` between the nodes of an HMM solution (beyond the paper).

    Cubic Hermite interpolation of the values ``sol.m`` and derivatives ``sol.dmdt`` at the
    nodes where ``sol.dmdt`` is set (:func:`hmm.solve_hmm` with ``damping="macro"``): error
    :math:`O(\Delta t^4)` between the nodes, so the dense output has the order of the macro
    scheme, 4 for ``"gauss4"``, 2 for ``"midpoint"``. Without ``sol.dmdt`` (``damping="micro"``):
    linear interpolation, second order.

    Parameters
    ----------
    sol : Solution
        A single-spin solution.
    t : array_like
        Times in ``[sol.t[0], sol.t[-1]]``, any shape ``S``.

    Returns
    -------
    ndarray, shape ``S + (3,)``
    """
    sol = _single_spin(sol)
    t = _finite_array("t", t)
    nodes = sol.t
    if np.any(t < nodes[0]) or np.any(t > nodes[-1]):
        raise ValueError(f"t must lie in [{nodes[0]:g}, {nodes[-1]:g}], the times of sol")
    i = np.clip(np.searchsorted(nodes, t, side="right") - 1, 0, len(nodes) - 2)
    h = (nodes[i + 1] - nodes[i])[..., None]
    x = (t - nodes[i])[..., None] / h
    if sol.dmdt is None:
        return (1.0 - x) * sol.m[i] + x * sol.m[i + 1]
    d = sol.dmdt
    return (
        (2 * x**3 - 3 * x**2 + 1) * sol.m[i]
        + (x**3 - 2 * x**2 + x) * h * d[i]
        + (3 * x**2 - 2 * x**3) * sol.m[i + 1]
        + (x**3 - x**2) * h * d[i + 1]
    )


def reconstruct(
    sol: Solution, H: Callable, t, *, eps: float, beta: float = 1.0, gamma: float = 1.0,
    n_quad: int = DEFAULT_N_QUAD,
) -> np.ndarray:  # fmt: skip
    r"""The oscillating solution :math:`\mathbf{m}^\varepsilon(t)` from an HMM solution, at any :math:`t` (beyond the paper).

    .. math::  \mathbf{m}^\varepsilon(t) \approx \mathbf{M}(t) + \varepsilon\,\mathbf{u}(t, t/\varepsilon, \mathbf{M}(t)),

    :math:`\mathbf{M}(t)` the :func:`dense_output` of ``sol``, :math:`\varepsilon\mathbf{u}`
    the :func:`corrector`. The error is :math:`O(\varepsilon^2)` plus the HMM's own error in
    :math:`\mathbf{M}`; for the :math:`\varepsilon^2` to show, ``sol`` must approximate the
    averaged solution to :math:`O(\varepsilon^2)`: started from :func:`averaged_start`, with
    ``lift="restriction"`` and ``drift="second_order"`` (for :math:`\gamma > 0` and a
    non-collinear oscillation), an averaging error below :math:`\varepsilon^2` and enough
    macro steps. The paper's HMM (unlifted micro start, start from
    :math:`\mathbf{m}^\varepsilon(0)`) gives :math:`O(\varepsilon)`.

    Parameters
    ----------
    sol : Solution
        From :func:`hmm.solve_hmm` (single spin).
    H : callable
        The field ``sol`` was computed with.
    t : array_like
        Times in ``[sol.t[0], sol.t[-1]]``, any shape ``S``.
    eps, beta, gamma : float
        Those ``sol`` was computed with.
    n_quad : int, default 64
        As in :func:`corrector`.

    Returns
    -------
    ndarray, shape ``S + (3,)``
    """
    M = dense_output(sol, t)
    return M + corrector(H, t, M, eps=eps, beta=beta, gamma=gamma, n_quad=n_quad)


def _finite_array(name: str, value) -> np.ndarray:
    """``value`` as a finite real float array of any shape."""
    try:
        v = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a finite real array") from None
    if v.dtype.kind not in "fiu" or not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be a finite real array, got {value!r}")
    return v.astype(float)


def _states(name: str, value) -> np.ndarray:
    """``value`` as a finite real float array of shape ``(..., 3)``."""
    v = _finite_array(name, value)
    if v.ndim == 0 or v.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., 3), got shape {v.shape}")
    return v


def _single_spin(sol) -> Solution:
    """``sol`` if it is a single-spin :class:`Solution` with at least two times."""
    if not isinstance(sol, Solution) or sol.m.ndim != 2 or len(sol.t) < 2:
        raise ValueError("sol must be a single-spin hmm.Solution with at least two times")
    return sol
