r"""The stroboscopic averaging method (SAM, Calvo et al. 2011) on the chain (3.8): a rival beyond the paper.

The method of :mod:`hmm.sam` with the whole chain as the state. The stroboscopically averaged
chain :math:`d\mathbf{X}/dt = \mathbf{F}(\mathbf{X}, t)` (one :math:`\mathbf{X}_i` per particle)
agrees with the chain at the stroboscopic times :math:`k\varepsilon`; its right-hand side is the
centred difference of the chain's own flow over one period from phase 0,

.. math::  \mathbf{F}(\mathbf{X}, \tau) \approx \frac{\varphi_{\tau,\varepsilon}(\mathbf{X})
           - \varphi_{\tau,-\varepsilon}(\mathbf{X})}{2\varepsilon},

computed by micro RK4 runs of the chain (every particle, the exchange included), and the macro
method is classical RK4 on :math:`\mathbf{X}`. Unlike the chain HMM it does not upscale in space:
every particle is a macro unknown, so the exchange's stiffness stays in the averaged chain and
bounds the macro step (:func:`macro_step_limit`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _checks
from ..dns import rk4_step_limit
from ..integrators import rk4_step
from ..sam import DEFAULT_SAM_MICRO_STEPS, _averaged_at, _step_counts, stroboscopic_floor
from ..solution import Solution, make_stats
from .dns import check_dns_work, exchange_rhs, rk4_chain
from .field import ChainField

MACRO_STABILITY = 2.5
r"""Largest :math:`\Delta t\,\rho_{\mathrm{macro}}` of :func:`solve_sam` (:func:`macro_step_limit`)."""
_RULE = f"{MACRO_STABILITY} / (sqrt(beta^2 + gamma^2) (max|H| + 4|J|))"


def macro_step_limit(bound: float, J: float, beta: float, gamma: float) -> float:
    r"""Largest stable macro RK4 step of the averaged chain: :data:`MACRO_STABILITY` :math:`/\rho_{\mathrm{macro}}`.

    :math:`\rho_{\mathrm{macro}} = \sqrt{\beta^2 + \gamma^2}\,(\max|\mathbf{H}| + 4|J|)` bounds
    the rate of the chain's fastest mode, the zigzag :math:`\mathbf{m}_i = \mathbf{m} +
    (-1)^i\boldsymbol{\delta}`, whose exchange field turns at :math:`4J` (twice the
    :math:`2J` of a uniform chain); RK4 is stable up to :math:`|\lambda\Delta t| \approx 2.8`
    on the imaginary axis and the negative real axis.
    """
    rate = np.hypot(beta, gamma) * (bound + 4.0 * abs(J))
    return MACRO_STABILITY / rate if rate > 0 else np.inf


class _ChainAveraged:
    r"""The averaged chain's right-hand side :math:`\mathbf{F}` by micro runs of the chain.

    A call ``F(X, tau)`` (``X`` of shape ``(n, 3)``) runs RK4 on (3.8) with ``k`` steps of
    :math:`h = \varepsilon/k` from ``X`` at slow time ``tau`` and phase 0, once forward and
    once backward over a period: the field :math:`\mathbf{H}(\tau + s, s/\varepsilon)`,
    :math:`s \in [0, \pm\varepsilon]`, is evaluated once per call at the :math:`4k + 1`
    distinct stage points of both runs.
    """

    def __init__(self, field: ChainField, x: np.ndarray, eps: float, k: int, constants):
        self.field, self.x, self.eps, self.k = field, x, eps, k
        self.J, self.beta, self.gamma = constants
        self.phase = np.arange(-2 * k, 2 * k + 1) / (2 * k)  # s/eps at every stage point
        self.micro_steps = 0

    def __call__(self, X: np.ndarray, tau: float) -> np.ndarray:
        k, eps = self.k, self.eps
        values = self._field(tau + self.phase * eps, self.phase)
        ends = []
        for sign in (1, -1):
            m = np.ascontiguousarray(X.T)
            for i in range(k):
                j = 2 * k + sign * 2 * i
                data = (values[j], values[j + sign], values[j + 2 * sign])
                m = rk4_step(self._rhs, m, sign * eps / k, data)
            ends.append(m)
        self.micro_steps += 2 * k
        return ((ends[0] - ends[1]) / (2 * eps)).T

    def _rhs(self, m: np.ndarray, h_applied: np.ndarray) -> np.ndarray:
        return exchange_rhs(m, h_applied, self.J, self.beta, self.gamma)

    def _field(self, t: np.ndarray, s: np.ndarray) -> np.ndarray:
        """The field at ``t``, ``s`` components first: ``(len(t), 3, 1)``, or ``(len(t), 3, n)``."""
        if not self.field.spatial:
            return self.field.uniform(t, s)[..., None]
        return np.swapaxes(self.field.at(t, s, self.x), -1, -2)


def solve_sam(
    H: Callable, m0, *, T: float, N: int, eps: float, J: float, beta: float = 1.0,
    gamma: float = 1.0, t_eval=None,
    micro_steps_per_period: int = DEFAULT_SAM_MICRO_STEPS, dx: float | None = None,
    spatial_field: bool = False, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""The stroboscopic averaging method (SAM, Calvo et al. 2011) for the chain (3.8).

    :func:`hmm.solve_sam` with the whole chain as the state: classical RK4 with :math:`N` steps
    on the stroboscopically averaged chain, whose every right-hand side value comes from two
    micro RK4 runs of the chain over one period from phase 0, forward and backward (the
    centred difference of :mod:`hmm.chain.sam`). The macro nodes are the stroboscopic times
    :math:`\lfloor n\Delta t/\varepsilon\rfloor\varepsilon`, where the averaged chain equals
    the chain; an output time :math:`t` is reached by a last RK4 run of (3.8) from
    :math:`\lfloor t/\varepsilon\rfloor\varepsilon`, shorter than a period (after one side
    step of the averaged chain if that time is not a node). The error is
    :math:`O(\Delta t^4 + \varepsilon^2)` plus the micro error, at a cost independent of
    :math:`\varepsilon`.

    **The macro step is bounded.** Every particle is a macro unknown, so the exchange's
    stiffness survives the averaging: every macro step (:func:`largest_macro_step`, up to a
    period longer than :math:`T/N`) must be within :func:`macro_step_limit`,
    :math:`2.5/(\sqrt{\beta^2+\gamma^2}(\max|\mathbf{H}| + 4|J|))`; a smaller ``N`` is
    refused with the fewest steps that pass (and an ``eps`` above the limit with the limit).

    Parameters
    ----------
    H : callable
        Applied field ``H(t, s)``, 1-periodic in ``s``, the same on every particle; or
        ``H(t, s, x)`` with ``spatial_field=True`` (see :mod:`hmm.chain.field`).
    m0 : array_like, shape (n, 3)
        Initial unit spins :math:`\mathbf{m}_i(0)`.
    T : float
        Final time, > 0.
    N : int
        Number of macro steps, >= 1, and enough for the macro step bound (above).
    eps : float
        Fast period, > 0.
    J : float
        Nearest-neighbour exchange coupling (finite).
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    t_eval : array_like, optional
        Sorted output times in ``[0, T]``; default the macro times :math:`n\Delta t`.
    micro_steps_per_period : int, default 16
        RK4 steps per period of the micro runs and the last runs; the step also obeys the
        bound of :func:`hmm.chain.solve_dns`, :math:`\min(\varepsilon, 1/\rho)/`
        ``micro_steps_per_period``, :math:`\rho = (\beta+\gamma)(\max|\mathbf{H}| + 2|J|)`.
    dx : float, optional
        Particle spacing (positions :math:`x_i = i\,\delta x`); default ``1/n``.
    spatial_field : bool, default False
        ``H`` depends on the particle: it is called as ``H(t, s, x)``.
    max_work : int, default 1e8
        Refuse a run of more spin steps (RK4 steps of the micro and last runs times the
        particles, counted up front) than this.

    Returns
    -------
    Solution
        ``t``, ``m`` of shape ``(len(t), n, 3)`` (the chain at ``t``), ``x = i dx``, ``stats``:
        ``steps`` (macro RK4 steps, side steps included), ``micro_steps`` (RK4 steps of the
        one-period runs, forward and backward), ``spin_steps`` (the RK4 steps of the micro and
        last runs times the particles, as :func:`hmm.chain.solve_dns` counts them),
        ``field_evaluations`` (points :math:`(t, s)`, times the particles for a particle-dependent
        field: :math:`4k + 1` per value of :math:`\mathbf{F}` with :math:`k` micro steps per
        period, three per step of a last run, and the :math:`32^2` that estimate
        :math:`\max|\mathbf{H}|`, as in :func:`hmm.chain.solve_dns`).
    """
    field = ChainField(H, spatial_field)
    m0 = _checks.chain_state("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    eps = _checks.positive("eps", eps)
    constants = _checks.chain_constants(J, beta, gamma)
    k = _checks.integer("micro_steps_per_period", micro_steps_per_period, 1)
    max_work = _checks.integer("max_work", max_work, 1)
    n = m0.shape[0]
    x = np.arange(n) * _checks.spacing(dx, n)
    t_eval = _checks.output_times(t_eval, T)
    t = np.linspace(0.0, T, N + 1) if t_eval is None else t_eval

    bound = field.bound(T, x)
    _check_macro_step(N, T, eps, macro_step_limit(bound, *constants))
    h = rk4_step_limit(bound + 2.0 * abs(constants[0]), eps, *constants[1:], k)
    k = int(np.ceil(eps / h - 1e-9))  # micro steps per period
    nodes = stroboscopic_floor(np.linspace(0.0, T, N + 1), eps)
    starts = stroboscopic_floor(t, eps)
    macro_steps, last_steps = _step_counts(nodes, starts, t, eps / k)
    check_dns_work(macro_steps * 8 * k + last_steps, n, max_work, f"chain solve_sam, N = {N}")
    F = _ChainAveraged(field, x, eps, k, constants)
    X = _averaged_at(F, m0, nodes, starts)
    if not np.all(np.isfinite(X)):
        raise ValueError("the chain SAM produced NaN or inf; check H and J, or raise N")
    m = np.stack([_last_run(field, Xj, sj, tj, eps / k, eps, constants, x)
                  for Xj, sj, tj in zip(X, starts, t, strict=True)])  # fmt: skip
    stats = make_stats(
        field_evaluations=field.points,
        steps=macro_steps,
        micro_steps=F.micro_steps,
        spin_steps=(F.micro_steps + last_steps) * n,
    )
    return Solution(t, m, stats, x)


def largest_macro_step(T: float, N: int, eps: float) -> float:
    r"""The longest step between :func:`solve_sam`'s macro nodes :math:`\lfloor n\Delta t/\varepsilon\rfloor\varepsilon`.

    Snapped to the stroboscopic times, a step of :math:`\Delta t = T/N` can grow by up to
    one period; side steps to an output time are shorter.
    """
    return float(np.max(np.diff(stroboscopic_floor(np.linspace(0.0, T, N + 1), eps))))


def _check_macro_step(N: int, T: float, eps: float, limit: float) -> None:
    """Refuse a macro step above ``limit``, naming the fewest steps that pass."""
    if largest_macro_step(T, N, eps) <= limit:
        return
    if eps >= limit:
        raise ValueError(
            f"eps must be < {limit:.3g} for a stable macro RK4 step of the averaged chain (a "
            f"macro step is at least a period; {_RULE}), got eps = {eps!r}"
        )
    need = int(np.ceil(T / limit - 1e-9))
    while largest_macro_step(T, need, eps) > limit:
        need += 1
    raise ValueError(
        f"N = {N} gives macro steps up to {largest_macro_step(T, N, eps):.3g}, above "
        f"{limit:.3g} for a stable macro RK4 step of the averaged chain ({_RULE}); the "
        f"fewest steps from T / {limit:.3g} that pass are N = {need}"
    )


def _last_run(field, X, start, t, h, eps, constants, x) -> np.ndarray:
    """The chain from the stroboscopic time ``start`` (state ``X``) to ``t`` by RK4 on (3.8)."""
    J, beta, gamma = constants
    grid = np.array([start, t])
    return rk4_chain(field, X, grid, h, eps=eps, J=J, beta=beta, gamma=gamma, x=x)[-1]
