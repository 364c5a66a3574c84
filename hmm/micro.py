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

A variant beyond the paper (Section 3.2 mentions it) moves the damping into the
micro problem, :math:`\frac{d}{dt}\mathbf{m} = -\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon
- \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{H}^\varepsilon)`, i.e. (1.2) itself on the
window. It is nonlinear in :math:`\mathbf{m}`, so there is no propagator;
:func:`damped_micro_states` integrates it for a whole batch of macro times and
initial states at once (``"magnus4"`` is then replaced by classical RK4, also of
order 4; ``"midpoint"`` is the implicit midpoint rule solved by fixed-point iteration).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks
from .ll_equation import cayley_rotation, exp_rotation, landau_lifshitz

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
    gamma: float = 0.0,
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
    gamma : float, default 0
        Damping in the micro model, >= 0. The paper's micro model (3.4) has
        none; ``gamma > 0`` solves (1.2) on the window instead (see
        :func:`damped_micro_states`).

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
    gamma = _checks.nonnegative("gamma", gamma)
    t_a = np.array([_checks.finite("t_a", t_a)])
    M = _checks.vector3("M", M)
    if gamma > 0:
        s, m = damped_micro_states(H, t_a, M[None], gamma=gamma, **opts)
        return s, m[0]
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


def damped_micro_states(
    H: Callable,
    t_a,
    M,
    *,
    eps: float,
    tau: float,
    beta: float,
    gamma: float,
    steps_per_eps: int,
    method: str,
    window: str,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Micro problem with damping, (1.2) on the window around :math:`t_a`, for a batch.

    .. math::  \frac{d}{ds}\mathbf{m} = -\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon(t_a + s)
               - \gamma\,\mathbf{m}\times\left(\mathbf{m}\times\mathbf{H}^\varepsilon(t_a + s)\right),
               \qquad \mathbf{m}(0) = \mathbf{M},

    the variant of (3.6) with the damping in the micro model. Solved forward to
    :math:`\tau/2` and backward to :math:`-\tau/2` (or forward to :math:`\tau`)
    on the grid of :func:`micro_grid`, vectorised over the batch and both
    directions; the only Python loop is over the micro steps.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t_a : array_like, shape ``(B,)``
        Macro times.
    M : array_like, shape ``(B, 3)``
        Initial states, one per macro time.
    eps, tau, beta, steps_per_eps, window
        As in :func:`solve_micro` (already checked).
    gamma : float
        Damping constant, >= 0.
    method : {"magnus4", "midpoint"}
        ``"magnus4"``: classical RK4 (order 4; Magnus needs a linear equation);
        ``"midpoint"``: implicit midpoint rule, fixed-point iteration to round-off.

    Returns
    -------
    s : ndarray, shape ``(n + 1,)``
        Micro grid relative to :math:`t_a`.
    m : ndarray, shape ``(B, n + 1, 3)``
        :math:`\mathbf{m}(s_j)` for each batch member.
    """
    t_a = np.asarray(t_a, dtype=float).reshape(-1)
    M = np.asarray(M, dtype=float).reshape(t_a.shape + (3,))
    s, c = micro_grid(eps, tau, steps_per_eps, window)
    n = len(s) - 1
    h = s[1] - s[0]
    fine = np.linspace(s[0], s[-1], 2 * n + 1)  # nodes and step midpoints
    Hf = field_on_grid(H, t_a, fine, eps)  # (B, 2n + 1, 3)
    paths = []  # (fine indices along the path, signed step)
    if c < n:
        paths.append((np.arange(2 * c, 2 * n + 1), h))
    if c > 0:
        paths.append((np.arange(2 * c, -1, -1), -h))
    steps = (len(paths[0][0]) - 1) // 2
    Hp = np.stack([Hf[:, idx] for idx, _ in paths])  # (D, B, 2 * steps + 1, 3)
    hh = np.array([dh for _, dh in paths])[:, None, None]  # (D, 1, 1)
    y = np.broadcast_to(M, Hp.shape[:2] + (3,)).copy()
    traj = np.empty(Hp.shape[:2] + (steps + 1, 3))
    traj[:, :, 0] = y

    def f(m, k):
        return landau_lifshitz(m, Hp[:, :, k], beta, gamma)

    for k in range(steps):
        if method == "midpoint":
            Hm = 0.5 * (Hp[:, :, 2 * k] + Hp[:, :, 2 * k + 2])
            z = y + hh * landau_lifshitz(y, Hm, beta, gamma)
            for _ in range(100):
                z_new = y + hh * landau_lifshitz(0.5 * (y + z), Hm, beta, gamma)
                done = np.max(np.abs(z_new - z)) <= 1e-15 * max(1.0, np.max(np.abs(z_new)))
                z = z_new
                if done:
                    break
            else:
                raise RuntimeError("damped micro midpoint: fixed-point iteration did not converge")
            y = z
        else:
            k1 = f(y, 2 * k)
            k2 = f(y + 0.5 * hh * k1, 2 * k + 1)
            k3 = f(y + 0.5 * hh * k2, 2 * k + 1)
            k4 = f(y + hh * k3, 2 * k + 2)
            y = y + hh / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        traj[:, :, k + 1] = y
    if len(paths) == 1:
        return s, traj[0]
    return s, np.concatenate([traj[1][:, :0:-1], traj[0]], axis=1)
