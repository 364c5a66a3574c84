r"""The averaged (effective) equation (4.3), solved exactly or by the midpoint rule (4.10).

.. math::  \frac{d\bar{\mathbf{m}}}{dt} = -\beta\,\bar{\mathbf{m}}\times\bar{\mathbf{H}}(t)
           - \gamma\,\bar{\mathbf{m}}\times(\bar{\mathbf{m}}\times\bar{\mathbf{H}}(t)),
           \qquad \bar{\mathbf{m}}(0) = \mathbf{m}^\varepsilon(0),                            \tag{4.3}

with :math:`\bar{\mathbf{H}}(t) = \int_0^1 \mathbf{H}(t, s)\,ds`. The book uses it only to measure
the HMM, which never sees :math:`\bar{\mathbf{H}}`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.integrate import solve_ivp

from . import _checks, fields
from .ll_equation import cross_matrix, landau_lifshitz
from .macro_scheme import march, stage_times
from .solution import Solution, make_stats

SCHEMES = ("exact", "midpoint", "gauss4")


def landau_lifshitz_jacobian(m: np.ndarray, h: np.ndarray, beta: float, gamma: float) -> np.ndarray:
    r"""Jacobian of (1.2) in :math:`\mathbf{m}` at a fixed field :math:`\mathbf{h}`.

    :math:`\beta[\mathbf{h}]_\times + \gamma\left([\mathbf{m}\times\mathbf{h}]_\times + [\mathbf{m}]_\times[\mathbf{h}]_\times\right)`.
    """
    return beta * cross_matrix(h) + gamma * (
        cross_matrix(np.cross(m, h)) + cross_matrix(m) @ cross_matrix(h)
    )


def exact_solution(Hbar: Callable, m0: np.ndarray, T: float, beta: float, gamma: float):
    r"""(4.3) on :math:`[0, T]` by DOP853 at rtol 1e-12, with dense output: the exact :math:`\bar{\mathbf{m}}`.

    ``Hbar(t)`` gives :math:`\bar{\mathbf{H}}(t)`, shape (3,): from the field
    (:func:`solve_averaged`) or from its harmonics (the error model of :mod:`hmm.choose`).
    Returns scipy's solution object (``sol.sol(t)`` the dense output, ``sol.t`` the steps).
    """
    sol = solve_ivp(
        lambda t, m: landau_lifshitz(m, Hbar(t), beta, gamma), (0.0, T), m0, method="DOP853",
        rtol=1e-12, atol=1e-14, dense_output=True,
    )  # fmt: skip
    if not sol.success:
        raise RuntimeError(f"the averaged equation (4.3) failed: {sol.message}")
    return sol


def solve_averaged(
    H: Callable, m0, *, T: float, N: int, beta: float = 1.0, gamma: float = 1.0,
    macro: str = "exact", n_quad: int = 128, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""Solve the averaged equation (4.3) at :math:`t_n = nT/N`.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``; :math:`\bar{\mathbf{H}}` is its mean over ``s``
        (:func:`hmm.averaged_field`).
    m0 : array_like, shape (3,)
        Initial magnetisation.
    T : float
        Final time, > 0.
    N : int
        Number of intervals of the output grid, >= 1.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    macro : {"exact", "midpoint", "gauss4"}, default "exact"
        ``"exact"``: DOP853 at rtol 1e-12 (the exact :math:`\bar{\mathbf{m}}(t_n)`);
        ``"midpoint"``: the implicit midpoint rule (4.10) with step ``T/N``, the discrete
        averaged solution :math:`\bar{\mathbf{m}}^{\Delta t}_n` of Section 4.3;
        ``"gauss4"``: the 2-stage Gauss-Legendre method with step ``T/N``, the same for the
        fourth-order macro scheme of :func:`hmm.solve_hmm`.
    n_quad : int, default 128
        Quadrature points for :math:`\bar{\mathbf{H}}`.
    max_work : int, default 1e8
        Refuse a call of more spin steps than this (one spin: the ``N`` steps of the grid).

    Returns
    -------
    Solution
        ``t`` of shape ``(N + 1,)``, ``m`` of shape ``(N + 1, 3)``.
    """
    _checks.field(H)
    m0 = _checks.unit_vector("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    beta, gamma = _checks.constants(beta, gamma)
    macro = _checks.choice("macro", macro, SCHEMES)
    n_quad = _checks.integer("n_quad", n_quad, 1)
    _checks.work(
        N,
        _checks.integer("max_work", max_work, 1),
        asked=f"solve_averaged with N = {N} output steps",
        change="lower N",
    )
    H = fields.Counted(H)
    t = np.linspace(0.0, T, N + 1)
    if macro == "exact":
        sol = exact_solution(
            lambda tt: fields.averaged_field(H, tt, n_quad=n_quad), m0, T, beta, gamma
        )
        steps = len(sol.t) - 1
        stats = make_stats(field_evaluations=H.points, steps=steps, spin_steps=steps)
        return Solution(t, sol.sol(t).T, stats)
    Hbar = fields.averaged_field(H, stage_times(t, macro), n_quad=n_quad)  # (N, stages, 3)

    def rhs(n, i, y, jacobian):
        h = Hbar[n, i]
        J = landau_lifshitz_jacobian(y, h, beta, gamma) if jacobian else None
        return landau_lifshitz(y, h, beta, gamma), J

    m, newton = march(rhs, m0, t, macro=macro)
    return Solution(t, m, make_stats(field_evaluations=H.points, steps=N, spin_steps=N, **newton))
