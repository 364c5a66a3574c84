r"""The micro problem (3.4)/(3.6): precession without damping around :math:`t_a`.

.. math::  \frac{d}{dt}\mathbf{m}^\varepsilon(t) = -\beta\,\mathbf{m}^\varepsilon \times \mathbf{H}^\varepsilon(t + t_a),
           \qquad \mathbf{m}^\varepsilon(0) = \mathbf{M},

solved forward on :math:`(0, \tau/2]` and backward on :math:`[-\tau/2, 0)` (Remark 1).
The equation is linear in :math:`\mathbf{m}`, so its solution is
:math:`\mathbf{m}(s) = \Phi(s)\mathbf{M}` with a rotation matrix :math:`\Phi`.
We compute :math:`\Phi` on the micro grid once for many :math:`t_a` at a time;
each micro step is an exact rotation, so :math:`|\mathbf{m}|` is conserved to round-off.

Two one-step methods are offered, both written as a rotation per step:

``"midpoint"``
    the implicit midpoint rule of Section 2 (the paper's choice), order 2:
    a Cayley rotation with :math:`\mathbf{a} = \beta\,\delta t\,(\mathbf{H}_j + \mathbf{H}_{j+1})/4`.
``"magnus4"``
    the fourth-order Magnus integrator with two Gauss points,
    :math:`\boldsymbol\omega = \frac{\beta\delta t}{2}(\mathbf{H}_1 + \mathbf{H}_2) + \frac{\sqrt3}{12}\beta^2\delta t^2\,\mathbf{H}_2\times\mathbf{H}_1`,
    step :math:`\exp([\boldsymbol\omega]_\times)`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks
from .ll_equation import cayley_rotation, exp_rotation

MICRO_METHODS = ("magnus4", "midpoint")
WINDOWS = ("centred", "forward")
DEFAULT_MICRO_METHOD = "magnus4"
DEFAULT_STEPS_PER_EPS = 32

_GAUSS = np.array([0.5 - np.sqrt(3) / 6, 0.5 + np.sqrt(3) / 6])


def micro_grid(eps: float, tau: float, steps_per_eps: int, window: str) -> tuple[np.ndarray, int]:
    r"""Uniform micro grid relative to :math:`t_a` and the index of :math:`s = 0`.

    ``"centred"``: :math:`[-\tau/2, \tau/2]` (3.6); ``"forward"``: :math:`[0, \tau]`.
    The step is at most :math:`\varepsilon/` ``steps_per_eps`` and the number of
    intervals is even (for Simpson's rule).
    """
    n_half = max(1, int(np.ceil(0.5 * tau * steps_per_eps / eps - 1e-9)))
    if window == "centred":
        return np.linspace(-0.5 * tau, 0.5 * tau, 2 * n_half + 1), n_half
    return np.linspace(0.0, tau, 2 * n_half + 1), 0


def field_on_grid(H: Callable, t_a: np.ndarray, s: np.ndarray, eps: float) -> np.ndarray:
    r""":math:`\mathbf{H}^\varepsilon(t_a + s) = \mathbf{H}(t_a + s, (t_a + s)/\varepsilon)`, shape ``(len(t_a), len(s), 3)``."""
    t = t_a[:, None] + s[None, :]
    return _checks.evaluate_field(H, t, t / eps)


def step_rotations(
    H: Callable, t_a: np.ndarray, s0: np.ndarray, h: float, *, eps: float, beta: float, method: str
) -> np.ndarray:
    """Rotation matrices of the micro steps from ``s0`` to ``s0 + h`` (``h`` may be negative).

    Returns shape ``(len(t_a), len(s0), 3, 3)``.
    """
    if method == "midpoint":
        Hm = 0.5 * (field_on_grid(H, t_a, s0, eps) + field_on_grid(H, t_a, s0 + h, eps))
        return cayley_rotation(0.5 * beta * h * Hm)
    H1 = field_on_grid(H, t_a, s0 + _GAUSS[0] * h, eps)
    H2 = field_on_grid(H, t_a, s0 + _GAUSS[1] * h, eps)
    w = 0.5 * beta * h * (H1 + H2) + (np.sqrt(3) / 12) * (beta * h) ** 2 * np.cross(H2, H1)
    return exp_rotation(w)


def cumulative_product(R: np.ndarray) -> np.ndarray:
    r"""Ordered products :math:`P_j = R_j R_{j-1} \cdots R_0` along axis ``-3``.

    A log-depth (Hillis-Steele) scan: :math:`\lceil\log_2 n\rceil` batched matrix
    products instead of a Python loop over the ``n`` steps.
    """
    P = R.copy()
    n = P.shape[-3]
    d = 1
    while d < n:
        P[..., d:, :, :] = P[..., d:, :, :] @ P[..., :-d, :, :]
        d *= 2
    return P


def micro_propagators(
    H: Callable,
    t_a: np.ndarray,
    *,
    eps: float,
    tau: float,
    beta: float,
    steps_per_eps: int,
    method: str,
    window: str,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Propagators :math:`\Phi(s)` of the micro problem (3.6) on the micro grid.

    Returns
    -------
    s : ndarray, shape ``(n + 1,)``
        Micro grid relative to :math:`t_a`.
    Phi : ndarray, shape ``(len(t_a), n + 1, 3, 3)``
        :math:`\mathbf{m}(s_j) = \Phi_j \mathbf{M}`; :math:`\Phi = I` at :math:`s = 0`.
    """
    s, c = micro_grid(eps, tau, steps_per_eps, window)
    h = s[1] - s[0]
    eye = np.broadcast_to(np.eye(3), (len(t_a), 1, 3, 3))
    parts = [eye]
    if c < len(s) - 1:  # forward from s = 0
        R = step_rotations(H, t_a, s[c:-1], h, eps=eps, beta=beta, method=method)
        parts.append(cumulative_product(R))
    if c > 0:  # backward from s = 0, nodes s[c-1], ..., s[0]
        R = step_rotations(H, t_a, s[c:0:-1], -h, eps=eps, beta=beta, method=method)
        parts.insert(0, cumulative_product(R)[:, ::-1])
    return s, np.concatenate(parts, axis=1)


def solve_micro(
    H: Callable,
    t_a: float,
    M,
    *,
    eps: float,
    tau: float,
    beta: float = 1.0,
    steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    method: str = DEFAULT_MICRO_METHOD,
    window: str = "centred",
) -> tuple[np.ndarray, np.ndarray]:
    r"""Solve the micro problem (3.6) forward and backward from :math:`\mathbf{m}(0) = \mathbf{M}`.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``; the micro field is ``H(t_a + s, (t_a + s)/eps)``.
    t_a : float
        Macro time the micro problem is centred on.
    M : array_like, shape (3,)
        Initial data, the current macro state.
    eps, tau : float
        Fast period and window length.
    beta : float
        Precession constant.
    steps_per_eps : int
        Micro steps per period :math:`\varepsilon`.
    method : {"magnus4", "midpoint"}
        One-step method (see module docstring).
    window : {"centred", "forward"}
        Solve on :math:`[-\tau/2, \tau/2]` (the paper) or on :math:`[0, \tau]`.

    Returns
    -------
    s : ndarray, shape ``(n + 1,)``
        Micro times relative to ``t_a``.
    m : ndarray, shape ``(n + 1, 3)``
        :math:`\mathbf{m}^\varepsilon(s)`.
    """
    opts = micro_options(
        H, eps=eps, tau=tau, beta=beta, steps_per_eps=steps_per_eps, method=method, window=window
    )
    t_a = np.array([_checks.finite("t_a", t_a)])
    M = _checks.vector3("M", M)
    s, Phi = micro_propagators(H, t_a, **opts)
    return s, Phi[0] @ M


def micro_options(H, *, eps, tau, beta, steps_per_eps, method, window) -> dict:
    """Check the micro problem's parameters; return them as keyword arguments."""
    _checks.field(H)
    return dict(
        eps=_checks.positive("eps", eps),
        tau=_checks.positive("tau", tau),
        beta=_checks.positive("beta", beta),
        steps_per_eps=_checks.integer("steps_per_eps", steps_per_eps, 1),
        method=_checks.choice("method", method, MICRO_METHODS),
        window=_checks.choice("window", window, WINDOWS),
    )
