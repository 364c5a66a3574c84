r"""The oscillating solution :math:`\mathbf{m}^\varepsilon` back from an HMM solution (beyond the paper).

The HMM computes an average :math:`\mathbf{M}(t)`; the solution of (1.2) oscillates about it with
amplitude :math:`O(\varepsilon)`: :math:`\mathbf{m}^\varepsilon(t) = \bar{\mathbf{m}}(t) + \varepsilon\,\mathbf{u}(t, t/\varepsilon, \bar{\mathbf{m}}(t)) + O(\varepsilon^2)`
with the corrector :math:`\mathbf{u}` of second-order averaging (:mod:`hmm.averaging`, which
states the theory), and the average starts from the fixed point
:math:`\bar{\mathbf{m}}(0) = \mathbf{m}^\varepsilon(0) - \varepsilon\,\mathbf{u}(0, 0, \bar{\mathbf{m}}(0))`.
Here: the corrector (:func:`corrector`), that start (:func:`averaged_start`), the macro solution
between its nodes (:func:`dense_output`) and both together (:func:`reconstruct`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks
from .averaging import DEFAULT_N_QUAD, corrector_from, fast_antiderivative
from .integrators import NonConvergenceError
from .solution import Solution


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
    t = _checks.finite_array("t", t)
    M = _checks.states("M", M)
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
    sol = _checks.single_spin(sol)
    t = _checks.finite_array("t", t)
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
