r"""The stroboscopic averaging method (SAM) of Calvo et al. 2011: a rival to the HMM, beyond the paper.

The slow time is made part of the state, :math:`\mathbf{y} = (\mathbf{m}, \tau)` with
:math:`d\tau/dt = 1`, so that (1.2) depends on :math:`t` only through the fast phase
:math:`t/\varepsilon`. Its *stroboscopically averaged* solution :math:`\mathbf{X}(t)` solves an
autonomous equation :math:`d\mathbf{X}/dt = \mathbf{F}(\mathbf{X})` and agrees with
:math:`\mathbf{m}^\varepsilon` at the stroboscopic times :math:`t_k = k\varepsilon`. The flow of
:math:`\mathbf{F}` over one period is the true flow over one period from phase 0,
:math:`\Phi_{\pm\varepsilon}(\mathbf{X}) = \varphi_{\pm\varepsilon}(\mathbf{X})`, so that

.. math::  \mathbf{F}(\mathbf{X}) = \frac{\varphi_{\varepsilon}(\mathbf{X})
           - \varphi_{-\varepsilon}(\mathbf{X})}{2\varepsilon} + O(\varepsilon^2).

SAM steps :math:`d\mathbf{X}/dt = \mathbf{F}(\mathbf{X})` with a standard macro method (classical
RK4 here) and gathers every value of :math:`\mathbf{F}` it needs by two micro runs of one period
each, forward and backward, started at phase 0 from the stage value. Reference: M. P. Calvo, Ph.
Chartier, A. Murua and J. M. Sanz-Serna, *Numerical stroboscopic averaging for ODEs and DAEs*,
Appl. Numer. Math. 61 (2011) 1077-1095 (cited as Calvo et al. 2011).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import _checks, fields
from .dns import _rk4_step, rk4_spin, rk4_step_limit, step_counts
from .integrators import rk4_step
from .solution import Solution, make_stats

DEFAULT_SAM_MICRO_STEPS = 16
"""Micro RK4 steps per period of :func:`solve_sam` (see its ``micro_steps_per_period``)."""


def stroboscopic_floor(t, eps: float) -> np.ndarray:
    r"""The last stroboscopic time :math:`k\varepsilon \le t`, :math:`k = \lfloor t/\varepsilon\rfloor`.

    A ``t`` within a relative 1e-9 of a multiple of :math:`\varepsilon` counts as that multiple,
    so that rounding in ``t/eps`` never costs a nearly full extra period.
    """
    return np.floor(np.asarray(t, dtype=float) / eps + 1e-9) * eps


class _Averaged:
    r"""The stroboscopically averaged right-hand side :math:`\mathbf{F}` by micro runs, and its work.

    A call ``F(X, tau)`` runs RK4 with ``n`` steps of :math:`h = \varepsilon/n` from ``X`` at slow
    time ``tau`` and phase 0, once forward and once backward over a period:
    :math:`d\mathbf{m}/ds = \mathrm{LL}(\mathbf{m}, \mathbf{H}(\tau + s, s/\varepsilon))`,
    :math:`s \in [0, \pm\varepsilon]`. The field is evaluated once per call at the
    :math:`4n + 1` distinct stage points of both runs.
    """

    def __init__(self, H: Callable, eps: float, n: int, beta: float, gamma: float):
        self.H, self.eps, self.n, self.beta, self.gamma = H, eps, n, beta, gamma
        self.phase = np.arange(-2 * n, 2 * n + 1) / (2 * n)  # s/eps at every stage point
        self.micro_steps = 0

    def __call__(self, X: np.ndarray, tau: float) -> np.ndarray:
        n, eps = self.n, self.eps
        values = fields.evaluate(self.H, tau + self.phase * eps, self.phase).tolist()
        h = eps / n
        ends = []
        for sign in (1, -1):
            m = tuple(float(x) for x in X)
            for i in range(n):
                j = 2 * n + sign * 2 * i
                f0, f1, f2 = values[j], values[j + sign], values[j + 2 * sign]
                m = _rk4_step(m, sign * h, f0, f1, f2, self.beta, self.gamma)
            ends.append(m)
        self.micro_steps += 2 * n
        return (np.array(ends[0]) - np.array(ends[1])) / (2 * eps)


def solve_sam(
    H: Callable, m0, *, T: float, N: int, eps: float, beta: float = 1.0, gamma: float = 1.0,
    t_eval=None, micro_steps_per_period: int = DEFAULT_SAM_MICRO_STEPS,
    field_bound: float | None = None, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""The stroboscopic averaging method (SAM, Calvo et al. 2011) for (1.2): a rival beyond the paper.

    For :math:`d\mathbf{m}/dt = -\beta\,\mathbf{m}\times\mathbf{H}^\varepsilon
    - \gamma\,\mathbf{m}\times(\mathbf{m}\times\mathbf{H}^\varepsilon)`,
    :math:`\mathbf{H}^\varepsilon(t) = \mathbf{H}(t, t/\varepsilon)`, SAM integrates the
    stroboscopically averaged equation :math:`d\mathbf{X}/dt = \mathbf{F}(\mathbf{X}, t)`, whose
    solution equals :math:`\mathbf{m}^\varepsilon` at the stroboscopic times :math:`k\varepsilon`
    (the slow time is part of the state, so :math:`\mathbf{F}` depends on :math:`t` only through
    the slow argument of :math:`\mathbf{H}`), by classical RK4. Every stage value of
    :math:`\mathbf{F}` comes from two micro runs of one period started at phase 0,

    .. math::  \mathbf{F}(\mathbf{X}, \tau) \approx \frac{\varphi_{\tau,\varepsilon}(\mathbf{X})
               - \varphi_{\tau,-\varepsilon}(\mathbf{X})}{2\varepsilon},

    where :math:`\varphi_{\tau,\pm\varepsilon}` solves
    :math:`d\mathbf{m}/ds = -\beta\,\mathbf{m}\times\mathbf{H}(\tau+s, s/\varepsilon) - \dots`
    from :math:`s = 0` to :math:`\pm\varepsilon` (micro RK4, ``micro_steps_per_period`` steps).
    The error is :math:`O(\Delta t^4 + \varepsilon^2)` plus the micro error, at a cost
    independent of :math:`\varepsilon`.

    The macro nodes are the stroboscopic times :math:`s_n = \lfloor n\Delta t/\varepsilon\rfloor
    \varepsilon` (steps of :math:`\Delta t` give or take less than a period), at which
    :math:`\mathbf{X} = \mathbf{m}^\varepsilon`; the solution at an output time :math:`t` is then
    reached by a last run of the oscillating equation (1.2) from :math:`\lfloor t/\varepsilon
    \rfloor\varepsilon` to :math:`t`, shorter than a period. For an output time of ``t_eval``
    whose stroboscopic time is not a macro node, one extra RK4 step of the averaged equation
    from the node before it (a side branch; the macro trajectory stays the same) gives
    :math:`\mathbf{X}` there. The field is evaluated at slow times in
    :math:`[-\varepsilon, T + \varepsilon]`.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``, 1-periodic in ``s``; ``t``, ``s`` arrays of one shape ``S``, returns
        ``S + (3,)``.
    m0 : array_like, shape (3,)
        Initial magnetisation, a unit vector (within :data:`hmm._checks.UNIT_TOL`).
    T : float
        Final time, > 0.
    N : int
        Number of macro steps, >= 1; :math:`\Delta t = T/N`.
    eps : float
        Fast period, > 0.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    t_eval : array_like, optional
        Sorted output times in ``[0, T]``; default the macro times :math:`n\Delta t`,
        ``n = 0..N``.
    micro_steps_per_period : int, default 16
        RK4 steps per period :math:`\varepsilon` of the micro runs and the last runs (more for a
        strong field: the step also obeys the bound of :func:`hmm.solve_dns`). The micro error
        falls like ``micro_steps_per_period**-4`` but is only :math:`O(\varepsilon)`: on the
        field of Fig. 5.3 (:func:`hmm.fields.fig51_left`, :math:`\gamma = 1`, up to
        :math:`T = 2\pi`) it is about :math:`5\cdot10^{-6}\varepsilon` with 16 steps
        (:math:`8\cdot10^{-5}\varepsilon` with 8), against an averaging error of about
        :math:`0.2\,\varepsilon^2` at :math:`T = 1`: a few per cent of it at
        :math:`\varepsilon = 10^{-3}`.
        Raise it for smaller :math:`\varepsilon`.
    field_bound : float, optional
        A bound of :math:`|\mathbf{H}|` on :math:`[0, T]\times[0, 1]` known in advance (> 0),
        for the step limit; default: sampled by :func:`hmm.fields.field_bound` on a
        :math:`32\times32` grid, whose 1,024 field evaluations are counted.
    max_work : int, default 1e8
        Refuse a run of more spin steps (micro and last RK4 steps, counted up front) than this.

    Returns
    -------
    Solution
        ``m`` of shape ``(len(t), 3)``: :math:`\mathbf{m}^\varepsilon` at ``t``. ``stats``:
        ``steps`` (macro RK4 steps, side branches included), ``micro_steps`` (RK4 steps of the
        one-period micro runs, forward and backward), ``spin_steps`` (those and the steps of
        the last runs), ``field_evaluations`` (counted points; :math:`4n + 1` per value of
        :math:`\mathbf{F}` with :math:`n` micro steps per period, three per step of a last run,
        and the :math:`32^2` of the field bound that sets the step, as in :func:`hmm.solve_dns`,
        unless ``field_bound`` is given).
    """
    _checks.field(H)
    m0 = _checks.unit_vector("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    eps = _checks.positive("eps", eps)
    beta, gamma = _checks.constants(beta, gamma)
    k = _checks.integer("micro_steps_per_period", micro_steps_per_period, 1)
    max_work = _checks.integer("max_work", max_work, 1)
    t_eval = _checks.output_times(t_eval, T)
    t = np.linspace(0.0, T, N + 1) if t_eval is None else t_eval

    if field_bound is not None:
        field_bound = _checks.positive("field_bound", field_bound)

    H = fields.Counted(H)
    bound = fields.field_bound(H, T) if field_bound is None else field_bound
    h_max = rk4_step_limit(bound, eps, beta, gamma, k)
    n = int(np.ceil(eps / h_max - 1e-9))  # micro steps per period
    nodes = stroboscopic_floor(np.linspace(0.0, T, N + 1), eps)
    starts = stroboscopic_floor(t, eps)
    macro_steps, last_steps = _step_counts(nodes, starts, t, eps / n)
    _checks.work(
        macro_steps * 8 * n + last_steps,
        max_work,
        asked=f"solve_sam with N = {N}, micro_steps_per_period = {k} (RK4 steps)",
        change="lower N or micro_steps_per_period",
    )
    F = _Averaged(H, eps, n, beta, gamma)
    X = _averaged_at(F, m0, nodes, starts)
    m = np.stack(
        [
            rk4_spin(H, Xj, np.array([sj, tj]), eps / n, eps=eps, beta=beta, gamma=gamma)[-1]
            for Xj, sj, tj in zip(X, starts, t, strict=True)
        ]
    )
    stats = make_stats(
        field_evaluations=H.points,
        steps=macro_steps,
        micro_steps=F.micro_steps,
        spin_steps=F.micro_steps + last_steps,
    )
    return Solution(t, m, stats)


def _step_counts(nodes, starts, t, h: float) -> tuple[int, int]:
    """Macro RK4 steps (side steps included) and RK4 steps of the last runs, known before the run."""
    side = np.count_nonzero(~np.isin(starts, nodes))
    last = sum(int(step_counts(np.array([a, b]), h).sum()) for a, b in zip(starts, t, strict=True))
    return int(np.count_nonzero(np.diff(nodes) > 0) + side), last


def _averaged_at(F: _Averaged, m0: np.ndarray, nodes: np.ndarray, starts: np.ndarray) -> np.ndarray:
    r""":math:`\mathbf{X}` at the stroboscopic times ``starts``: RK4 over the macro ``nodes``, and one side step to a start between nodes."""

    def step(X, a, b):
        return rk4_step(F, X, b - a, (a, 0.5 * (a + b), b))

    X = np.empty((len(nodes),) + np.shape(m0))  # a spin, or a chain
    X[0] = m0
    for i in range(len(nodes) - 1):
        X[i + 1] = step(X[i], nodes[i], nodes[i + 1]) if nodes[i + 1] > nodes[i] else X[i]
    at = np.empty((len(starts),) + np.shape(m0))
    for j, sj in enumerate(starts):
        i = int(np.searchsorted(nodes, sj, side="right")) - 1  # last node <= sj
        at[j] = X[i] if nodes[i] == sj else step(X[i], nodes[i], sj)
    return at
