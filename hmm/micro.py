r"""The micro problem (3.4)/(3.6): precession without damping around the macro time :math:`t_a`.

.. math::  \frac{d}{ds}\mathbf{m}^\varepsilon(s) = -\beta\,\mathbf{m}^\varepsilon \times \mathbf{H}^\varepsilon(t_a + s),
           \qquad \mathbf{m}^\varepsilon(0) = \mathbf{M},

solved forward on :math:`(0, \tau/2]` and backward on :math:`[-\tau/2, 0)` (Remark 1). The
equation is linear in :math:`\mathbf{M}`: :math:`\mathbf{m}(s) = \Phi(s)\mathbf{M}` with a rotation
matrix :math:`\Phi`, computed on the micro grid for many :math:`t_a` at once; each micro step
is an exact rotation, so :math:`|\mathbf{m}|` is kept to round-off.

Micro methods (``micro_method``), each one rotation per step:

``"midpoint"``
    the implicit midpoint rule of Section 2 (the paper's choice), order 2: a Cayley rotation
    with :math:`\mathbf{a} = \beta\,\delta t\,(\mathbf{H}_j + \mathbf{H}_{j+1})/4`;
``"magnus4"``
    the fourth-order Magnus integrator with two Gauss points,
    :math:`\boldsymbol\omega = \frac{\beta\delta t}{2}(\mathbf{H}_1 + \mathbf{H}_2) + \frac{\sqrt3}{12}\beta^2\delta t^2\,\mathbf{H}_2\times\mathbf{H}_1`,
    step :math:`\exp([\boldsymbol\omega]_\times)`.

A variant that the paper mentions in Section 3.2 moves the damping into the micro problem,
:math:`\frac{d}{ds}\mathbf{m} = -\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{H}^\varepsilon)`,
i.e. (1.2) itself on the window. It is nonlinear, so it has no propagator:
:func:`damped_micro_states` integrates it for a batch of macro times and initial states, with
``"rk4"`` (classical RK4, order 4) or ``"midpoint"`` (solved by fixed-point iteration).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _checks, fields
from .integrators import rk4_step
from .kernels import Kernel, as_kernel
from .ll_equation import cayley_rotation, exp_rotation, landau_lifshitz

LINEAR_METHODS = ("magnus4", "midpoint")
DAMPED_METHODS = ("rk4", "midpoint")
WINDOWS = ("centred", "forward")
DEFAULT_STEPS_PER_EPS = 32

_GAUSS = np.array([0.5 - np.sqrt(3) / 6, 0.5 + np.sqrt(3) / 6])


@dataclass(frozen=True)
class MicroSettings:
    r"""The micro problem's settings, checked once and passed whole through the internal layers.

    Attributes
    ----------
    eps, tau : float
        Fast period :math:`\varepsilon` and window length :math:`\tau`.
    kernel : Kernel or None
        Averaging kernel :math:`K` of the upscaling (None where no average is taken).
    beta : float
        Precession constant.
    micro_steps_per_eps : int
        Micro steps per period :math:`\varepsilon`.
    method : str
        Micro integrator: ``"magnus4"`` or ``"midpoint"`` (linear micro model), ``"rk4"`` or
        ``"midpoint"`` (damped micro model).
    window : str
        ``"centred"``: :math:`[-\tau/2, \tau/2]` (the paper); ``"forward"``: :math:`[0, \tau]`.
    """

    eps: float
    tau: float
    kernel: Kernel | None
    beta: float
    micro_steps_per_eps: int
    method: str
    window: str

    @classmethod
    def checked(
        cls, eps, tau, kernel, beta, micro_steps_per_eps, micro_method, window, *, damped=False
    ) -> MicroSettings:
        """Check every setting (``ValueError`` naming the bad one) and return the record.

        The arguments are the public keywords of the same names, in the order of the
        attributes. ``kernel=None`` is allowed where nothing is averaged. ``micro_method=None``
        means ``"magnus4"`` for the linear micro model and ``"rk4"`` for the damped one
        (``damped=True``); ``"magnus4"`` needs the linear model.
        """
        methods = DAMPED_METHODS if damped else LINEAR_METHODS
        if micro_method is None:
            micro_method = methods[0]
        if damped and micro_method == "magnus4":
            raise ValueError(
                "micro_method='magnus4' needs the linear micro model (3.4); with the damping in "
                "the micro model use 'rk4' or 'midpoint'"
            )
        return cls(
            eps=_checks.positive("eps", eps),
            tau=_checks.positive("tau", tau),
            kernel=None if kernel is None else as_kernel("kernel", kernel),
            beta=_checks.positive("beta", beta),
            micro_steps_per_eps=_checks.integer("micro_steps_per_eps", micro_steps_per_eps, 1),
            method=_checks.choice("micro_method", micro_method, methods),
            window=_checks.choice("window", window, WINDOWS),
        )

    @property
    def half_steps(self) -> int:
        """Micro steps on each side of :math:`s = 0` (centred window; half the steps of a forward one)."""
        return max(1, int(np.ceil(0.5 * self.tau * self.micro_steps_per_eps / self.eps - 1e-9)))

    @property
    def steps(self) -> int:
        """Micro steps of one window, forward plus backward: an even number."""
        return 2 * self.half_steps

    def grid(self) -> tuple[np.ndarray, int]:
        r"""Uniform micro grid relative to :math:`t_a` and the index of :math:`s = 0`.

        :meth:`steps` intervals of at most :math:`\varepsilon/` ``micro_steps_per_eps`` (an even
        number, for Simpson's rule) on the window.
        """
        n = self.half_steps
        if self.window == "centred":
            return np.linspace(-0.5 * self.tau, 0.5 * self.tau, 2 * n + 1), n
        return np.linspace(0.0, self.tau, 2 * n + 1), 0

    def check_work(self, windows: float, max_work: int, caller: str) -> None:
        """Refuse ``windows`` micro problems if their steps exceed ``max_work``.

        ``caller`` names the call and the arguments behind ``windows``, e.g. ``"solve_hmm with
        N = 20"``.
        """
        _checks.work(
            windows * self.steps,
            max_work,
            asked=(
                f"{caller} ({windows:.3g} micro windows of {self.steps} steps: tau / eps x "
                f"micro_steps_per_eps = {self.tau:.3g} / {self.eps:.3g} x {self.micro_steps_per_eps})"
            ),
            change="shorten tau, raise eps, lower micro_steps_per_eps or take fewer macro steps",
        )


def field_on_window(H: Callable, t_a: np.ndarray, s: np.ndarray, eps: float) -> np.ndarray:
    r""":math:`\mathbf{H}^\varepsilon(t_a + s) = \mathbf{H}(t_a + s, (t_a + s)/\varepsilon)`, shape ``(len(t_a), len(s), 3)``."""
    return fields.oscillating(H, t_a[:, None] + s[None, :], eps)


def step_rotations(H: Callable, t_a: np.ndarray, s0: np.ndarray, h: float, micro: MicroSettings):
    """Rotation matrices of the micro steps from ``s0`` to ``s0 + h`` (``h`` may be negative).

    Returns shape ``(len(t_a), len(s0), 3, 3)``.
    """
    bh = micro.beta * h
    if micro.method == "midpoint":
        H0 = field_on_window(H, t_a, s0, micro.eps)
        H1 = field_on_window(H, t_a, s0 + h, micro.eps)
        return cayley_rotation(0.25 * bh * (H0 + H1))
    H1 = field_on_window(H, t_a, s0 + _GAUSS[0] * h, micro.eps)
    H2 = field_on_window(H, t_a, s0 + _GAUSS[1] * h, micro.eps)
    return exp_rotation(0.5 * bh * (H1 + H2) + (np.sqrt(3) / 12) * bh**2 * np.cross(H2, H1))


def cumulative_product(R: np.ndarray) -> np.ndarray:
    r"""Ordered products :math:`P_j = R_j R_{j-1} \cdots R_0` along axis ``-3``.

    A log-depth (Hillis-Steele) scan: :math:`\lceil\log_2 n\rceil` batched matrix products
    instead of a Python loop over the ``n`` steps.
    """
    P = R.copy()
    n, d = P.shape[-3], 1
    while d < n:
        P[..., d:, :, :] = P[..., d:, :, :] @ P[..., :-d, :, :]
        d *= 2
    return P


def propagators(
    H: Callable, t_a: np.ndarray, micro: MicroSettings
) -> tuple[np.ndarray, np.ndarray]:
    r"""Propagators :math:`\Phi(s)` of the micro problem (3.6) on the micro grid, for every :math:`t_a`.

    Returns
    -------
    s : ndarray, shape ``(n + 1,)``
        Micro grid relative to :math:`t_a`.
    Phi : ndarray, shape ``(len(t_a), n + 1, 3, 3)``
        :math:`\mathbf{m}(s_j) = \Phi_j \mathbf{M}`; :math:`\Phi = I` at :math:`s = 0`.
    """
    s, c = micro.grid()
    h = s[1] - s[0]
    parts = [np.broadcast_to(np.eye(3), (len(t_a), 1, 3, 3))]
    if c < len(s) - 1:  # forward from s = 0
        parts.append(cumulative_product(step_rotations(H, t_a, s[c:-1], h, micro)))
    if c > 0:  # backward from s = 0, nodes s[c-1], ..., s[0]
        parts.insert(0, cumulative_product(step_rotations(H, t_a, s[c:0:-1], -h, micro))[:, ::-1])
    return s, np.concatenate(parts, axis=1)


def damped_micro_states(
    H: Callable, t_a: np.ndarray, M: np.ndarray, micro: MicroSettings, gamma: float
) -> tuple[np.ndarray, np.ndarray]:
    r"""The damped micro problem, (1.2) on the window around :math:`t_a`, for a batch.

    .. math::  \frac{d}{ds}\mathbf{m} = -\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon(t_a + s)
               - \gamma\,\mathbf{m}\times\left(\mathbf{m}\times\mathbf{H}^\varepsilon(t_a + s)\right),
               \qquad \mathbf{m}(0) = \mathbf{M},

    solved forward to :math:`\tau/2` and backward to :math:`-\tau/2` (or forward to :math:`\tau`)
    on the grid of :meth:`MicroSettings.grid`, vectorised over the batch and both directions;
    the only Python loop is over the micro steps.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``.
    t_a : ndarray, shape ``(B,)``
        Macro times.
    M : ndarray, shape ``(B, 3)``
        Initial states, one per macro time.
    micro : MicroSettings
        With ``method`` ``"rk4"`` or ``"midpoint"``.
    gamma : float
        Damping constant of the micro model, >= 0.

    Returns
    -------
    s : ndarray, shape ``(n + 1,)``
        Micro grid relative to :math:`t_a`.
    m : ndarray, shape ``(B, n + 1, 3)``
        :math:`\mathbf{m}(s_j)` for each batch member.
    """
    s, c = micro.grid()
    n, h = len(s) - 1, s[1] - s[0]
    Hf = field_on_window(H, t_a, np.linspace(s[0], s[-1], 2 * n + 1), micro.eps)  # nodes, midpoints
    paths = [(np.arange(2 * c, 2 * n + 1), h)] if c < n else []
    if c > 0:
        paths.append((np.arange(2 * c, -1, -1), -h))
    Hp = np.stack([Hf[:, idx] for idx, _ in paths])  # (D, B, 2 * steps + 1, 3)
    hh = np.array([dh for _, dh in paths])[:, None, None]  # (D, 1, 1)
    steps = (len(paths[0][0]) - 1) // 2
    y = np.broadcast_to(M, Hp.shape[:2] + (3,)).copy()
    traj = np.empty(Hp.shape[:2] + (steps + 1, 3))
    traj[:, :, 0] = y

    def rhs(m, Hk):
        return landau_lifshitz(m, Hk, micro.beta, gamma)

    for k in range(steps):
        if micro.method == "midpoint":
            y = _midpoint_fixed_point(rhs, y, hh, 0.5 * (Hp[:, :, 2 * k] + Hp[:, :, 2 * k + 2]))
        else:
            y = rk4_step(rhs, y, hh, (Hp[:, :, 2 * k], Hp[:, :, 2 * k + 1], Hp[:, :, 2 * k + 2]))
        traj[:, :, k + 1] = y
    if len(paths) == 1:
        return s, traj[0]
    return s, np.concatenate([traj[1][:, :0:-1], traj[0]], axis=1)


def _midpoint_fixed_point(rhs: Callable, y: np.ndarray, h, Hm: np.ndarray) -> np.ndarray:
    """One implicit midpoint step ``z = y + h rhs((y + z)/2, Hm)`` by fixed-point iteration to round-off."""
    z = y + h * rhs(y, Hm)
    for _ in range(100):
        z_new = y + h * rhs(0.5 * (y + z), Hm)
        done = np.max(np.abs(z_new - z)) <= 1e-15 * max(1.0, np.max(np.abs(z_new)))
        z = z_new
        if done:
            return z
    raise RuntimeError(
        "damped micro midpoint: fixed-point iteration did not converge; reduce the step"
    )


def solve_micro(
    H: Callable, t_a: float, M, *, eps: float, tau: float, beta: float = 1.0, gamma: float = 0.0,
    micro_steps_per_eps: int = DEFAULT_STEPS_PER_EPS, micro_method: str | None = None,
    window: str = "centred", max_work: int = _checks.MAX_WORK,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
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
        Fast period and window length, > 0.
    beta : float, default 1
        Precession constant, > 0.
    gamma : float, default 0
        Damping in the micro model, >= 0. The paper's micro model (3.4) has none; ``gamma > 0``
        solves (1.2) on the window instead (:func:`damped_micro_states`).
    micro_steps_per_eps : int, default 32
        Micro steps per period :math:`\varepsilon`.
    micro_method : {"magnus4", "midpoint", "rk4"}, optional
        Micro integrator; default ``"magnus4"`` (``"rk4"`` when ``gamma > 0``).
    window : {"centred", "forward"}, default "centred"
        Solve on :math:`[-\tau/2, \tau/2]` (the paper) or on :math:`[0, \tau]`.
    max_work : int, default 1e8
        Refuse a window of more micro steps than this.

    Returns
    -------
    s : ndarray, shape ``(n + 1,)``
        Micro times relative to ``t_a``.
    m : ndarray, shape ``(n + 1, 3)``
        :math:`\mathbf{m}^\varepsilon(s)`.
    """
    _checks.field(H)
    gamma = _checks.nonnegative("gamma", gamma)
    micro = MicroSettings.checked(
        eps, tau, None, beta, micro_steps_per_eps, micro_method, window, damped=gamma > 0
    )
    t_a = np.array([_checks.finite("t_a", t_a)])
    M = _checks.vector3("M", M)
    micro.check_work(1, _checks.integer("max_work", max_work, 1), "solve_micro")
    if gamma > 0:
        s, m = damped_micro_states(H, t_a, M[None], micro, gamma)
        return s, m[0]
    s, Phi = propagators(H, t_a, micro)
    return s, Phi[0] @ M
