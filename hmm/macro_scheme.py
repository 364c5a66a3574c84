r"""The macro scheme that both HMMs (one spin, :mod:`hmm.macro`; the chain, :mod:`hmm.chain.solver`) step with.

The macro model (3.2)/(3.10), :math:`\dot{\mathbf{M}} = \mathbf{F} + \frac{\gamma}{\beta}\mathbf{M}\times\mathbf{F}`
(:func:`macro_rhs`, its Jacobian :func:`macro_rhs_jacobian`), is stepped by the implicit midpoint
rule (3.3) or by the 2-stage Gauss-Legendre method (:data:`MACRO_SCHEMES`), with the flux at the
:func:`stage_times` of each step: :func:`march` for one model, :func:`batched_march` for many
linear-flux models at once (the error model of :mod:`hmm.choose`). Both solve the stage equations
by the one Newton iteration of :func:`hmm.integrators.newton`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .integrators import (
    GAUSS4_A,
    GAUSS4_C,
    GAUSS4_D,
    gauss4_step,
    implicit_midpoint_step,
    newton,
)
from .ll_equation import cross_matrix

MACRO_SCHEMES = ("midpoint", "gauss4")
"""The macro schemes: the implicit midpoint rule (3.3) and the 2-stage Gauss-Legendre method."""


def stages(macro: str) -> int:
    """Flux evaluations (stage times) per step of the macro scheme ``macro``: 1 or 2."""
    return 1 if macro == "midpoint" else 2


def macro_rhs(F: np.ndarray, M: np.ndarray, c: float) -> np.ndarray:
    r"""Right-hand side of the macro model (3.2), :math:`\mathbf{F} + c\,\mathbf{M}\times\mathbf{F}` with :math:`c = \gamma/\beta`.

    ``F`` and ``M`` of shape ``(..., 3)``: one spin, or every macro point of a chain.
    """
    return F + c * np.cross(M, F)


def macro_rhs_jacobian(dF: np.ndarray, M: np.ndarray, F: np.ndarray, c: float) -> np.ndarray:
    r"""Jacobian of (3.2) with respect to all macro values, a ``(3L, 3L)`` matrix.

    :math:`\partial_{\mathbf{M}_K}(\mathbf{F}_I + c\,\mathbf{M}_I\times\mathbf{F}_I)
    = \partial_K\mathbf{F}_I + c\,[\mathbf{M}_I]_\times\partial_K\mathbf{F}_I - c\,\delta_{IK}[\mathbf{F}_I]_\times`.

    Parameters
    ----------
    dF : ndarray, shape (L, 3, L, 3)
        :math:`\partial \mathbf{F}_I[a] / \partial \mathbf{M}_K[b]`.
    M, F : ndarray, shape (L, 3)
        Macro values and their fluxes.
    c : float
        :math:`\gamma/\beta`.
    """
    L = M.shape[0]
    J = dF + c * np.einsum("iab,ibkc->iakc", cross_matrix(M), dF)
    rows = np.arange(L)
    J[rows, :, rows, :] -= c * cross_matrix(F)
    return J.reshape(3 * L, 3 * L)


def stage_times(t: np.ndarray, macro: str) -> np.ndarray:
    r"""Times at which a macro step of the scheme ``macro`` needs the flux, shape ``(N, stages)``.

    ``"midpoint"``: :math:`t_{n+1/2}`; ``"gauss4"``: :math:`t_n + c_i\Delta t` with the Gauss
    points :math:`c_{1,2} = 1/2 \mp \sqrt3/6`.
    """
    fractions = np.array([0.5]) if macro == "midpoint" else GAUSS4_C
    return t[:-1, None] + np.diff(t)[:, None] * fractions


def march(
    rhs: Callable, M0: np.ndarray, t: np.ndarray, *, macro: str, project: bool = False,
    predict: Callable | None = None, **newton_options,
) -> tuple[np.ndarray, dict]:  # fmt: skip
    """The macro scheme over the grid ``t`` from ``M0``: (3.3), or its fourth-order sibling.

    ``rhs(n, i, M, jacobian)`` returns the right-hand side of the macro model at stage ``i`` of
    step ``n`` (the times of :func:`stage_times`) and, if asked, its Jacobian. ``macro`` is
    ``"midpoint"`` (the implicit midpoint rule (3.3) of the paper, order 2) or ``"gauss4"`` (the
    2-stage Gauss-Legendre method, order 4, :func:`hmm.integrators.gauss4_step`). With
    ``project`` each new value is scaled back to ``|M0|`` (the projection of Section 6).
    ``predict(m, n)``, if given, guesses the values of step ``n`` at its stage times from the
    values so far: the midpoint (midpoint rule), or both stage values, stacked (``"gauss4"``).
    ``newton_options`` go to the Newton solver. Returns the values, shape
    ``(len(t),) + M0.shape``, and the Newton counters.
    """
    m = np.empty((len(t),) + M0.shape)
    m[0] = M0
    counts = {"newton_iterations": 0, "jacobians": 0}
    for n in range(len(t) - 1):
        dt = t[n + 1] - t[n]
        guess = None if predict is None else predict(m, n)
        if macro == "midpoint":
            m[n + 1], work = implicit_midpoint_step(
                lambda M, jac, n=n: rhs(n, 0, M, jac), m[n], dt, guess=guess, **newton_options
            )
        else:
            m[n + 1], work = gauss4_step(
                lambda i, M, jac, n=n: rhs(n, i, M, jac), m[n], dt, guess=guess, **newton_options
            )
        counts["newton_iterations"] += work.iterations
        counts["jacobians"] += work.jacobians
        if project:
            m[n + 1] *= np.linalg.norm(M0, axis=-1, keepdims=True) / np.linalg.norm(
                m[n + 1], axis=-1, keepdims=True
            )
    return m, counts


def batched_march(
    M0: np.ndarray, A: np.ndarray, dt: float, c: float, macro: str, tol: float = 1e-13
) -> np.ndarray:
    r"""The macro scheme for ``B`` linear-flux macro models (3.2) at once.

    :math:`d\mathbf{M}/dt = \mathcal{A}\mathbf{M} + c\,\mathbf{M}\times\mathcal{A}\mathbf{M}` with
    ``A`` of shape ``(B, N, S, 3, 3)`` at the :func:`stage_times` (``S = 1`` midpoint, ``2``
    Gauss-Legendre); the stage equations of all members are one batch of Newton systems with the
    exact Jacobian (:func:`hmm.integrators.newton`), the stages as in
    :func:`hmm.integrators.gauss4_step`. Returns the values, shape ``(B, N + 1, 3)``.
    """
    a, d = (np.array([[0.5]]), np.array([2.0])) if macro == "midpoint" else (GAUSS4_A, GAUSS4_D)
    m = np.empty((A.shape[0], A.shape[1] + 1, 3))
    m[:, 0] = M0
    for n in range(A.shape[1]):
        m[:, n + 1] = _batched_step(A[:, n], m[:, n], dt, c, (a, d), macro, tol)
    return m


def _batched_step(An, y, dt, c, tableau, macro, tol):
    """One step of :func:`batched_march`: ``An`` (B, S, 3, 3) at the stage times, ``y`` (B, 3)."""
    a, d = tableau
    B, S = An.shape[:2]
    eye = np.eye(3 * S)

    def system(Y, fresh):
        F = np.einsum("bsij,bsj->bsi", An, Y)
        G = Y - y[:, None] - dt * np.einsum("ij,bjk->bik", a, macro_rhs(F, Y, c))
        J = An + c * (cross_matrix(Y) @ An - cross_matrix(F))  # (B, S, 3, 3)
        block = eye - dt * np.einsum("ij,bjkl->bikjl", a, J).reshape(B, 3 * S, 3 * S)
        return G.reshape(B, 3 * S), block

    Y0 = np.repeat(y[:, None], S, 1)
    F0 = macro_rhs(np.einsum("bsij,bsj->bsi", An, Y0), Y0, c)
    Y = y[:, None] + dt * np.einsum("ij,bj...->bi...", a, F0)  # explicit Euler predictor
    Y, _ = newton(
        system, Y, dt=dt, start_size=max(1.0, float(np.abs(y).max())), what=f"batched {macro}",
        tol=tol, max_iter=30,
    )  # fmt: skip
    return y + np.einsum("i,bik->bk", d, Y - y[:, None])
