r"""The implicit midpoint rule with a Newton solve that converges or raises.

One step of :math:`\dot{\mathbf{y}} = \mathbf{f}(\mathbf{y})` (the time is fixed by the caller),

.. math::  \mathbf{y}_{n+1} = \mathbf{y}_n + \Delta t\,\mathbf{f}(\mathbf{y}_{n+1/2}),
           \qquad \mathbf{y}_{n+1/2} = (\mathbf{y}_n + \mathbf{y}_{n+1})/2,

is solved for the midpoint :math:`\mathbf{Y} = \mathbf{y}_{n+1/2}`, the root of
:math:`\mathbf{Y} - \mathbf{y}_n - \frac{\Delta t}{2}\mathbf{f}(\mathbf{Y})`, by Newton's
method; then :math:`\mathbf{y}_{n+1} = 2\mathbf{Y} - \mathbf{y}_n`. This is the macro
solver (3.3) when :math:`\mathbf{f}` is the macro model (3.2), and (4.10) when
:math:`\mathbf{f}` is the averaged equation (4.3).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

DEFAULT_TOL = 1e-12
DEFAULT_MAX_ITER = 30


class NonConvergenceError(RuntimeError):
    """The Newton iteration of an implicit step did not reach its tolerance."""


def implicit_midpoint_step(
    f: Callable[[np.ndarray], np.ndarray],
    y: np.ndarray,
    dt: float,
    *,
    jac: Callable[[np.ndarray], np.ndarray] | None = None,
    tol: float = DEFAULT_TOL,
    max_iter: int = DEFAULT_MAX_ITER,
) -> tuple[np.ndarray, int]:
    r"""One implicit midpoint step; Newton until the update is below ``tol``.

    Parameters
    ----------
    f : callable
        Right-hand side ``f(y)`` at the step's midpoint time. With ``jac=None``
        it must accept a leading batch axis (``f(Y)`` for ``Y`` of shape
        ``(k,) + y.shape``): the Jacobian is then formed by central differences
        in one batched call.
    y : ndarray
        State :math:`\mathbf{y}_n`, any shape.
    dt : float
        Step size.
    jac : callable, optional
        ``jac(y)`` returning :math:`\partial\mathbf{f}/\partial\mathbf{y}` as a
        ``(y.size, y.size)`` matrix.
    tol : float
        Stop when :math:`\max|\delta\mathbf{Y}| \le` ``tol`` :math:`\cdot\max(1, \max|\mathbf{Y}|)`.
    max_iter : int
        Newton iterations allowed before :class:`NonConvergenceError` is raised.

    Returns
    -------
    y_next : ndarray
        :math:`\mathbf{y}_{n+1}`.
    iterations : int
        Newton iterations used.
    """
    shape, n = y.shape, y.size
    Y = y + 0.5 * dt * f(y)  # explicit Euler predictor for the midpoint
    eye = np.eye(n)
    for it in range(1, max_iter + 1):
        residual = (Y - y - 0.5 * dt * f(Y)).reshape(n)
        J = jac(Y) if jac is not None else _fd_jacobian(f, Y)
        delta = np.linalg.solve(eye - 0.5 * dt * J, -residual).reshape(shape)
        Y = Y + delta
        if not np.all(np.isfinite(Y)):
            raise NonConvergenceError(f"implicit midpoint: Newton diverged (dt={dt:g})")
        if np.max(np.abs(delta)) <= tol * max(1.0, np.max(np.abs(Y))):
            return 2.0 * Y - y, it
    raise NonConvergenceError(
        f"implicit midpoint: Newton did not reach tol={tol:g} in {max_iter} iterations "
        f"(dt={dt:g}, last update {np.max(np.abs(delta)):.2e}); reduce dt"
    )


def _fd_jacobian(f: Callable, Y: np.ndarray) -> np.ndarray:
    """Central-difference Jacobian of ``f`` at ``Y``, with one batched call of ``f``."""
    n = Y.size
    h = 1e-6 * max(1.0, float(np.max(np.abs(Y))))
    E = (h * np.eye(n)).reshape((n,) + Y.shape)
    values = f(np.concatenate([Y + E, Y - E]))
    return ((values[:n] - values[n:]).reshape(n, n) / (2 * h)).T
