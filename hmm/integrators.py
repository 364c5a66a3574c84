r"""The two time steppers that everything else uses: the implicit midpoint rule and classical RK4.

The implicit midpoint rule for :math:`\dot{\mathbf{y}} = \mathbf{f}(\mathbf{y})` (the time is fixed
by the caller),

.. math::  \mathbf{y}_{n+1} = \mathbf{y}_n + \Delta t\,\mathbf{f}(\mathbf{y}_{n+1/2}),
           \qquad \mathbf{y}_{n+1/2} = (\mathbf{y}_n + \mathbf{y}_{n+1})/2,

is solved for the midpoint :math:`\mathbf{Y} = \mathbf{y}_{n+1/2}`, the root of
:math:`\mathbf{Y} - \mathbf{y}_n - \frac{\Delta t}{2}\mathbf{f}(\mathbf{Y})`, by Newton's method;
then :math:`\mathbf{y}_{n+1} = 2\mathbf{Y} - \mathbf{y}_n`. It is the macro solver (3.3) when
:math:`\mathbf{f}` is the macro model (3.2), for one spin and for the chain alike, and (4.10)
when :math:`\mathbf{f}` is the averaged equation (4.3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.linalg

DEFAULT_TOL = 1e-12
"""Newton tolerance of every implicit step: the update, relative to ``max(1, max|Y|)``."""
DEFAULT_MAX_ITER = 30
"""Newton iterations allowed per implicit step."""


class NonConvergenceError(RuntimeError):
    """The Newton iteration of an implicit step did not reach its tolerance."""


@dataclass(frozen=True)
class NewtonWork:
    """Newton iterations and Newton matrices formed (one per fresh Jacobian, whatever the stages) of one implicit step."""

    iterations: int
    jacobians: int


def newton(
    system: Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]],
    Y: np.ndarray, *, dt: float, start_size: float, what: str, tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER, max_update: float = np.inf, chord: bool = False,
    stop: str = "update",
) -> tuple[np.ndarray, NewtonWork]:  # fmt: skip
    r"""Newton's method for :math:`\mathbf{G}(\mathbf{Y}) = 0`, the iteration of every implicit step.

    Parameters
    ----------
    system : callable
        ``system(Y, fresh)`` returns the residual :math:`\mathbf{G}(\mathbf{Y})` as a flat
        array and, when ``fresh`` is True, the Newton matrix :math:`\partial\mathbf{G}/\partial\mathbf{Y}`
        (else None). A batch of independent systems: residuals of shape ``(B, n)`` and
        matrices ``(B, n, n)``, solved together with one stop rule.
    Y : ndarray
        Starting guess, any shape.
    dt : float
        The step size, for the error messages.
    start_size : float
        :math:`\max(1, \max|\mathbf{y}_n|)` of the step's start: an update :math:`10^3` times
        larger is divergence.
    what : str
        The scheme's name, for the error messages.
    tol, max_iter, max_update, chord
        As in :func:`implicit_midpoint_step`.
    stop : {"update", "estimate"}
        ``"update"``: stop when :math:`\max|\delta\mathbf{Y}| \le` ``tol`` :math:`\cdot\max(1, \max|\mathbf{Y}|)`.
        ``"estimate"``: stop also when the error left after the update, estimated as
        :math:`\theta/(1-\theta)\,\max|\delta\mathbf{Y}|` with the observed contraction
        :math:`\theta = |\delta\mathbf{Y}_k|/|\delta\mathbf{Y}_{k-1}| < 1` (Hairer and Wanner,
        *Solving ODEs II*, Section IV.8), is below that level: one iteration fewer, typically.

    Returns
    -------
    Y : ndarray
        The root.
    work : NewtonWork
    """
    lu, previous, jacobians, size = None, np.inf, 0, np.inf
    for iteration in range(1, max_iter + 1):
        fresh = lu is None or not chord
        residual, matrix = system(Y, fresh)
        if fresh:
            lu = _factor(matrix)
            jacobians += 1
        delta = _solve(lu, -residual).reshape(Y.shape)
        size = float(np.max(np.abs(delta)))
        if size > max_update:
            delta *= max_update / size
            size = max_update
        Y = Y + delta
        if not np.all(np.isfinite(Y)) or size > 1e3 * start_size:
            raise NonConvergenceError(f"{what}: Newton diverged (dt={dt:g}); reduce dt")
        if _converged(size, previous, tol * max(1.0, float(np.max(np.abs(Y)))), stop):
            return Y, NewtonWork(iteration, jacobians)
        if chord and size > 0.1 * previous:
            lu = None  # convergence slowed: form a new Jacobian
        previous = size
    raise NonConvergenceError(
        f"{what}: Newton did not reach tol={tol:g} in {max_iter} iterations "
        f"(dt={dt:g}, last update {size:.2e}); reduce dt or raise max_iter"
    )


def _factor(matrix: np.ndarray):
    """The LU factors of a Newton matrix; a stack of matrices (a batch of systems) is kept as it is."""
    return scipy.linalg.lu_factor(matrix) if matrix.ndim == 2 else matrix


def _solve(lu, rhs: np.ndarray) -> np.ndarray:
    """The Newton update from :func:`_factor`'s result: one system, or a batch ``(B, n, n)``, ``(B, n)``."""
    if isinstance(lu, tuple):
        return scipy.linalg.lu_solve(lu, rhs)
    return np.linalg.solve(lu, rhs[..., None])[..., 0]


def _converged(size: float, previous: float, level: float, stop: str) -> bool:
    """The stop rule of :func:`newton` after an update of max norm ``size``."""
    if size <= level:
        return True
    if stop != "estimate" or not np.isfinite(previous):
        return False
    theta = size / previous  # observed contraction
    return theta < 1 and theta / (1 - theta) * size <= level


def implicit_midpoint_step(
    f: Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]], y: np.ndarray,
    dt: float, *, guess: np.ndarray | None = None, tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER, max_update: float = np.inf, chord: bool = False,
    stop: str = "update",
) -> tuple[np.ndarray, NewtonWork]:  # fmt: skip
    r"""One implicit midpoint step; Newton until the update is below ``tol``.

    Parameters
    ----------
    f : callable
        ``f(Y, jacobian)`` returns :math:`\mathbf{f}(\mathbf{Y})` (shape of ``y``) and, when
        ``jacobian`` is True, :math:`\partial\mathbf{f}/\partial\mathbf{Y}` as a
        ``(y.size, y.size)`` matrix (else None): one call can then share work between the two.
    y : ndarray
        State :math:`\mathbf{y}_n`, any shape.
    dt : float
        Step size.
    guess : ndarray, optional
        Starting guess for the midpoint; default the explicit Euler predictor
        :math:`\mathbf{y}_n + \frac{\Delta t}{2}\mathbf{f}(\mathbf{y}_n)`.
    tol : float
        Stop when :math:`\max|\delta\mathbf{Y}| \le` ``tol`` :math:`\cdot\max(1, \max|\mathbf{Y}|)`.
    max_iter : int
        Newton iterations allowed before :class:`NonConvergenceError` is raised.
    max_update : float
        Newton updates larger than this (max norm) are shortened to it.
    chord : bool
        Keep the factored Jacobian while each update is at least ten times smaller than the one
        before (chord iterations), and form a new one when convergence slows; False: a new
        Jacobian every iteration.
    stop : {"update", "estimate"}
        The stop rule of :func:`newton`; ``"update"`` is the rule of ``tol`` above.

    Returns
    -------
    y_next : ndarray
        :math:`\mathbf{y}_{n+1}`.
    work : NewtonWork
        Newton iterations and Jacobians formed.
    """
    Y = y + 0.5 * dt * f(y, False)[0] if guess is None else np.array(guess, dtype=float)
    eye = np.eye(y.size)

    def evaluate(Y, fresh):
        fY, J = f(Y, fresh)
        return (Y - y - 0.5 * dt * fY).reshape(-1), eye - 0.5 * dt * J if fresh else None

    Y, work = newton(
        evaluate, Y, dt=dt, start_size=max(1.0, float(np.max(np.abs(y)))),
        what="implicit midpoint", tol=tol, max_iter=max_iter, max_update=max_update,
        chord=chord, stop=stop,
    )  # fmt: skip
    return 2.0 * Y - y, work


GAUSS4_C = np.array([0.5 - np.sqrt(3) / 6, 0.5 + np.sqrt(3) / 6])
"""Stage times of the 2-stage Gauss-Legendre method, as fractions of the step."""
GAUSS4_A = np.array([[0.25, 0.25 - np.sqrt(3) / 6], [0.25 + np.sqrt(3) / 6, 0.25]])
"""Its Runge-Kutta matrix; the weights are 1/2, 1/2."""
GAUSS4_D = np.array([-np.sqrt(3), np.sqrt(3)])
"""Weights :math:`b^T a^{-1}` that give the step from the stage values without evaluating ``f``."""


def gauss4_step(
    f: Callable[[int, np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]], y: np.ndarray,
    dt: float, *, guess: np.ndarray | None = None, **newton_options,
) -> tuple[np.ndarray, NewtonWork]:  # fmt: skip
    r"""One step of the 2-stage Gauss-Legendre method (order 4, the implicit midpoint rule's big brother).

    .. math::  \mathbf{Y}_i &= \mathbf{y}_n + \Delta t \sum_{j=1}^2 a_{ij}\,\mathbf{f}_j(\mathbf{Y}_j), \\
               \mathbf{y}_{n+1} &= \mathbf{y}_n + \frac{\Delta t}{2}\left(\mathbf{f}_1(\mathbf{Y}_1)
               + \mathbf{f}_2(\mathbf{Y}_2)\right) = \mathbf{y}_n + \sqrt3\,(\mathbf{Y}_2 - \mathbf{Y}_1),

    with :math:`a` = :data:`GAUSS4_A` and :math:`\mathbf{f}_i` the right-hand side at the stage
    time :math:`t_n + c_i\Delta t` (:data:`GAUSS4_C`). The two stages are solved together by
    Newton's method, with the block Jacobian
    :math:`\delta_{ij} I - \Delta t\,a_{ij}\,\partial\mathbf{f}_j/\partial\mathbf{Y}`. Like the
    midpoint rule it conserves quadratic invariants, so a precession keeps :math:`|\mathbf{y}|`.

    Parameters
    ----------
    f : callable
        ``f(i, Y, jacobian)`` returns :math:`\mathbf{f}_i(\mathbf{Y})` and, when asked, its
        Jacobian as a ``(y.size, y.size)`` matrix, for stage ``i`` in {0, 1}.
    guess : ndarray, shape ``(2,) + y.shape``, optional
        Starting guess for the two stage values; default the explicit Euler predictor
        :math:`\mathbf{y}_n + c_i\Delta t\,\mathbf{f}_1(\mathbf{y}_n)`.
    y, dt
        As in :func:`implicit_midpoint_step`.
    **newton_options
        ``tol``, ``max_iter``, ``max_update``, ``chord``, ``stop``: as in
        :func:`implicit_midpoint_step`; ``tol`` applies to the stage values.

    Returns
    -------
    y_next : ndarray
    work : NewtonWork
    """
    n = y.size
    if guess is None:
        f0 = f(0, y, False)[0]
        Y = np.stack([y + c * dt * f0 for c in GAUSS4_C])  # explicit Euler predictor
    else:
        Y = np.array(guess, dtype=float)

    def evaluate(Y, fresh):
        evaluated = [f(i, Y[i], fresh) for i in range(2)]
        F = np.stack([e[0] for e in evaluated])
        residual = (Y - y - dt * np.tensordot(GAUSS4_A, F, axes=1)).reshape(-1)
        if not fresh:
            return residual, None
        block = np.eye(2 * n)
        for i in range(2):
            for j in range(2):
                block[i * n : (i + 1) * n, j * n : (j + 1) * n] -= (
                    dt * GAUSS4_A[i, j] * evaluated[j][1]
                )
        return residual, block

    Y, work = newton(
        evaluate, Y, dt=dt, start_size=max(1.0, float(np.max(np.abs(y)))),
        what="Gauss-Legendre", **newton_options,
    )  # fmt: skip
    # y + dt b^T F with F = a^{-1}(Y - y)/dt: no further evaluation of f
    return y + np.tensordot(GAUSS4_D, Y - y, axes=1), work


def rk4_step(
    rhs: Callable, y: np.ndarray, h, data: tuple, k1: np.ndarray | None = None
) -> np.ndarray:
    r"""One classical RK4 step of :math:`\dot{\mathbf{y}} = \mathrm{rhs}(\mathbf{y}, d(t))`.

    .. math::  \mathbf{k}_1 &= r(\mathbf{y}, d_0),\quad
               \mathbf{k}_2 = r(\mathbf{y} + \tfrac h2\mathbf{k}_1, d_{1/2}), \\
               \mathbf{k}_3 &= r(\mathbf{y} + \tfrac h2\mathbf{k}_2, d_{1/2}),\quad
               \mathbf{k}_4 = r(\mathbf{y} + h\mathbf{k}_3, d_1),

    :math:`\mathbf{y} + \frac h6(\mathbf{k}_1 + 2\mathbf{k}_2 + 2\mathbf{k}_3 + \mathbf{k}_4)`.

    Parameters
    ----------
    rhs : callable
        ``rhs(y, d)`` with the time-dependent data ``d`` (a field value, boundary values, ...)
        at the stage time.
    y : ndarray
        State; any shape that ``rhs`` accepts, so one call steps a whole batch.
    h : float or ndarray
        Step, broadcast against ``y`` (a batch may step forward and backward at once).
    data : tuple
        ``(d0, d_half, d1)``: the data at the start, the middle and the end of the step.
    k1 : ndarray, optional
        :math:`r(\mathbf{y}, d_0)` if the caller has it already.
    """
    d0, d_half, d1 = data
    k1 = rhs(y, d0) if k1 is None else k1
    k2 = rhs(y + 0.5 * h * k1, d_half)
    k3 = rhs(y + 0.5 * h * k2, d_half)
    k4 = rhs(y + h * k3, d1)
    return y + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4)
