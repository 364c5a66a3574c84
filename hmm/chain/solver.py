r"""The HMM of Section 3.3 for the chain: the macro model (3.10) stepped like (3.3).

Each macro step is the implicit step of :mod:`hmm.integrators` that the single spin uses
(:func:`hmm.macro_scheme.march`: the implicit midpoint rule of the paper, or the 2-stage Gauss-Legendre
method), with the fluxes (3.12) of :mod:`hmm.chain.micro`. Its Newton matrix needs the
Jacobian of the fluxes with respect to the macro values.

**Newton's method.** The flux Jacobian is exact, from a tangent-linear run of the micro boxes
(:meth:`hmm.chain.micro.MicroBoxes.flux_jacobian`), and split in two: the part without exchange,
which costs no micro steps and is formed again at the first iterate of every stage, and the
exchange part, which is kept from the last exact Jacobian, over macro steps. A new exact
Jacobian is formed only when the chord iteration slows (an update not ten times smaller than
the one before). The iteration stops when the error left after an update, estimated from the
observed contraction, is below ``tol`` (:func:`hmm.integrators.newton`). The stage values are
predicted by quadratic extrapolation of the last three macro values.

The method before these, a Jacobian by forward differences of the 9 inputs of every box at
the first iterate of every step and the plain update rule, is kept for comparisons: see
``jacobian="difference"`` of :func:`solve_hmm`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .. import _checks, macro_scheme
from ..integrators import DEFAULT_MAX_ITER, DEFAULT_TOL, GAUSS4_C
from ..kernels import Kernel, as_kernel
from ..macro_scheme import MACRO_SCHEMES, macro_rhs, macro_rhs_jacobian, march, stage_times
from ..micro import DEFAULT_STEPS_PER_EPS, MicroSettings
from ..solution import Solution, make_stats
from .averages import macro_particles, space_average, space_weights, time_averages
from .boxes import BoxSettings, box_positions, neighbour_slots
from .dns import DEFAULT_CHAIN_DNS_STEPS_PER_EPS
from .field import ChainField
from .micro import DEFAULT_EXCHANGE_STEPS_PER_EPS, MicroBoxes, box_grid

_FD_STEP = 1e-7
_MAX_UPDATE = 0.25  # the unknowns are near-unit vectors: longer Newton updates are shortened


def flux_jacobian(dF: np.ndarray, slots: np.ndarray) -> np.ndarray:
    r""":math:`\partial\mathbf{F}_I/\partial\mathbf{M}_K`, shape (L, 3, L, 3), from the derivatives of each box in its three slots.

    ``dF`` of shape (3 slots, 3 components of the input, L, 3 components of F).
    """
    L = slots.shape[0]
    JF = np.zeros((L, 3, L, 3))
    rows = np.arange(L)
    for s in range(3):
        np.add.at(JF, (rows, slice(None), slots[:, s], slice(None)), np.moveaxis(dF[s], 0, -1))
    return JF


class MacroRhs:
    r"""(3.10) at stage ``i`` of macro step ``n`` for :func:`hmm.macro_scheme.march`, with the flux Jacobian, counting the work.

    Parameters
    ----------
    boxes : MicroBoxes
        Built at the ``stages`` stage times of every macro step.
    stages : int
        Stages per macro step.
    c : float
        :math:`\gamma/\beta`.
    jacobian : {"exact", "difference"}
        How the flux Jacobian is formed (see the module docstring).

    Attributes
    ----------
    counts : dict
        ``micro_steps`` and ``spin_steps`` of the micro solves, the flux Jacobians' included
        (the Newton matrices are counted by the Newton solver, as on every solver).
    """

    def __init__(self, boxes: MicroBoxes, stages: int, L: int, c: float, jacobian: str):
        self.boxes, self.stages, self.slots, self.c = boxes, stages, neighbour_slots(L), c
        self.jacobian = jacobian
        self.counts = {"micro_steps": 0, "spin_steps": 0}
        self.exchange: list[np.ndarray | None] = [None] * stages  # exchange part, per stage
        self.step_of = [-1] * stages  # macro step of the last Jacobian asked for, per stage

    def __call__(self, n: int, i: int, Y: np.ndarray, jacobian: bool):
        k, triples = n * self.stages + i, Y[self.slots]
        if not jacobian:
            return macro_rhs(self._fluxes(k, triples[None])[0], Y, self.c), None
        if self.jacobian == "difference":
            F, dF = self._differences(k, triples)
        else:
            F, dF = self._exact(n, i, k, triples)
        J = macro_rhs_jacobian(flux_jacobian(dF, self.slots), Y, F, self.c)
        return macro_rhs(F, Y, self.c), J

    def _fluxes(self, k: int, triples: np.ndarray, tangents: bool = False) -> np.ndarray:
        """Fluxes of a batch of boxes (or of one state and its 9 tangents), counted."""
        copies = 10 if tangents else len(triples)
        boxes = copies * self.slots.shape[0]
        self.counts["micro_steps"] += boxes * self.boxes.steps
        self.counts["spin_steps"] += self.boxes.spin_steps(boxes)
        if tangents:
            return self.boxes.flux_jacobian(k, triples)
        return self.boxes.flux(k, triples)

    def _differences(self, k: int, triples: np.ndarray):
        """Flux and forward differences in the 9 inputs of every box, in one batch."""
        E = np.zeros((9, 1, 3, 3))
        E[np.arange(9), 0, np.arange(9) // 3, np.arange(9) % 3] = _FD_STEP
        Fb = self._fluxes(k, np.concatenate([triples[None], triples[None] + E]))
        return Fb[0], (Fb[1:] - Fb[0][None]).reshape((3, 3) + Fb.shape[1:]) / _FD_STEP

    def _exact(self, n: int, i: int, k: int, triples: np.ndarray):
        """Flux and Jacobian: a new exact one, or the exchange part kept from the last one.

        The first Jacobian asked for in a stage of a macro step reuses the exchange part; a
        second one in the same step means that the chord iteration slowed: it is exact.
        """
        reuse = self.step_of[i] != n and self.exchange[i] is not None
        self.step_of[i] = n
        if reuse:
            static = self.boxes.static_jacobian(k, triples)
            return self._fluxes(k, triples[None])[0], static + self.exchange[i]
        F, dF = self._fluxes(k, triples, tangents=True)
        if self.boxes.coupling:
            self.exchange[i] = dF - self.boxes.static_jacobian(k, triples)
        return F, dF


def predicted_stages(M: np.ndarray, k: int, fractions: np.ndarray) -> np.ndarray:
    r"""Guesses of :math:`\mathbf{M}(t_k + c_i\Delta t)` by extrapolation from the last three macro values, shape ``(stages,) + M[k].shape``.

    The parabola through :math:`\mathbf{M}_{k-2}, \mathbf{M}_{k-1}, \mathbf{M}_k` (a line at
    :math:`k = 1`, the constant at :math:`k = 0`); at :math:`c = 1/2` it is
    :math:`(15\mathbf{M}_k - 10\mathbf{M}_{k-1} + 3\mathbf{M}_{k-2})/8`.
    """
    c = fractions[:, None, None]
    if k >= 2:
        return (
            0.5 * (c + 1) * (c + 2) * M[k] - c * (c + 2) * M[k - 1] + 0.5 * c * (c + 1) * M[k - 2]
        )
    if k == 1:
        return (1 + c) * M[k] - c * M[k - 1]
    return np.broadcast_to(M[k], (len(fractions),) + M[k].shape).copy()


def predictor(macro: str, jacobian: str) -> Callable | None:
    """The stage predictor for :func:`hmm.macro_scheme.march`: extrapolation (None: the explicit Euler of the step)."""
    if macro == "midpoint":
        return lambda M, k: predicted_stages(M, k, np.array([0.5]))[0]
    if jacobian == "difference":
        return None
    return lambda M, k: predicted_stages(M, k, GAUSS4_C)


def solve_hmm(
    H: Callable, m0, *, T: float, N: int, eps: float, tau: float, kernel: Kernel, r: int,
    ell: int, J: float, beta: float = 1.0, gamma: float = 1.0, macro: str = "midpoint",
    ends: str = "fixed", layer: int = 0, layer_damping: float = 0.0, spatial_field: bool = False,
    space_kernel: Kernel | None = None, initial: str = "average",
    micro_steps_per_eps: int = DEFAULT_STEPS_PER_EPS,
    exchange_steps_per_eps: int = DEFAULT_EXCHANGE_STEPS_PER_EPS,
    dns_steps_per_eps: int = DEFAULT_CHAIN_DNS_STEPS_PER_EPS, newton_tol: float = DEFAULT_TOL,
    jacobian: str = "exact",
    max_iter: int = DEFAULT_MAX_ITER, dx: float | None = None, max_work: int = _checks.MAX_WORK,
) -> Solution:  # fmt: skip
    r"""HMM in time and space for the periodic chain (Section 3.3): macro model (3.10), micro (3.11), upscaling (3.12).

    The macro values :math:`\mathbf{M}_I` live on every ``(r + ell)``-th particle. Each macro step
    is the implicit midpoint rule

    .. math::  \mathbf{M}_{n+1} = \mathbf{M}_n + \Delta t\,\mathbf{F}_{n+1/2}
               + \frac{\gamma}{\beta}\Delta t\,\mathbf{M}_{n+1/2}\times\mathbf{F}_{n+1/2},

    (or the 2-stage Gauss-Legendre method) with :math:`\mathbf{F}_{I,n+1/2}` upscaled by (3.12)
    from a micro box around :math:`X_I`, started at :math:`t_{n+1/2}` from the normalised quadratic
    interpolant of :math:`\mathbf{M}_{I-1}, \mathbf{M}_I, \mathbf{M}_{I+1}` (midpoint values), no
    damping, solved forward and backward over :math:`\tau/2`. Newton's method (exact flux
    Jacobians from a tangent-linear run, their exchange part reused over macro steps, updates
    capped at 0.25; see :mod:`hmm.chain.solver`) solves each step to ``newton_tol`` or raises
    :class:`hmm.NonConvergenceError`. All ``L`` boxes, and the tangents, are solved as one
    batched array computation (Remark 3).

    Parameters
    ----------
    H : callable
        Applied field ``H(t, s)``, the same on every particle; or ``H(t, s, x)`` with
        ``spatial_field=True``.
    m0 : array_like, shape (n, 3)
        Initial unit spins of all particles; ``n = L (r + ell)``.
    T : float
        Final time, > 0.
    N : int
        Macro steps, >= 1; :math:`\Delta t = T/N`.
    eps, tau : float
        Fast period and time-averaging window, > 0.
    kernel : Kernel
        Time kernel :math:`K \in \mathbb{K}^{p,q}` (from :func:`hmm.kernel`).
    r : int
        Half-width of the averaging window in space, >= 1: :math:`\eta = 2r\,\delta x`; without a
        layer, ``2r + 1`` particles per micro box.
    ell : int
        Particles skipped between boxes, >= 0; macro spacing :math:`\Delta x = (r+\ell)\delta x`.
    J : float
        Nearest-neighbour exchange coupling of (3.8).
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    macro : {"midpoint", "gauss4"}, default "midpoint"
        Macro scheme: the implicit midpoint rule of the paper, or the 2-stage Gauss-Legendre
        method (order 4; micro boxes at both Gauss points of every step), as in
        :func:`hmm.solve_hmm`.
    ends : {"fixed", "precessing"}, default "fixed"
        End spins of the micro boxes: held at their initial values (3.11), or precessing about
        their applied field like free spins (Remark 4: fixed ends turn against the precessing
        interior and send exchange waves into the box).
    layer : int, default 0
        Extra particles on each side of every box, outside the averaging window and inside the
        end spins (Remark 4); 0 is the paper's box of ``2r + 1`` particles.
    layer_damping : float, default 0
        Largest damping :math:`\alpha` of the exchange torque in the layer,
        :math:`-\alpha_j J\,\mathbf{m}_j\times(\mathbf{m}_j\times\mathbf{S}_j)` with a quadratic
        profile growing towards the ends (:mod:`hmm.chain.micro`); > 0 needs ``layer >= 1``.
    spatial_field : bool, default False
        ``H`` depends on the particle, ``H(t, s, x)`` at :math:`x_i = i\,\delta x` (see
        :mod:`hmm.chain.field`): every particle of a box gets its own rotating frame.
    space_kernel : Kernel, optional
        Kernel :math:`K_\eta` of the spatial average; default: ``kernel``.
    initial : {"average", "sample"}, default "average"
        Macro initial data: the space-time average (3.9) of the direct simulation over
        :math:`[-\tau/2, \tau/2]` (the paper), or the spins ``m0`` at the macro points.
    micro_steps_per_eps : int, default 32
        Fine (Magnus) steps per :math:`\varepsilon` of the propagator and of the quadrature.
    exchange_steps_per_eps : int, default 4
        RK4 steps per :math:`\varepsilon` of the rotating-frame exchange problem (also at least this
        many per unit of :math:`1/\rho`, the rate of :func:`hmm.chain.frames.fine_grid`).
    dns_steps_per_eps : int, default 32
        RK4 steps per :math:`\varepsilon` of the direct simulation behind ``initial="average"``.
    newton_tol, max_iter
        Newton tolerance (on the error left after an update, relative to ``max(1, |M|)``) and
        iteration cap.
    jacobian : {"exact", "difference"}, default "exact"
        Newton's Jacobians: exact flux Jacobians from tangent-linear runs, or (the chain's
        method before them, for comparisons of results and work) forward differences of the 9
        inputs of every box (a batch of 10 micro boxes per macro point), formed at the first
        iterate of every macro step and again when the chord iteration slows, with the plain
        update stop rule, the midpoint predicted from past values and the Gauss-Legendre stages
        by explicit Euler.
    dx : float, optional
        Particle spacing (positions of ``x`` and of a particle-dependent field); default ``1/n``.
    max_work : int, default 1e8
        Refuse a run of more spin steps than this (each micro solve and tangent counted).

    Returns
    -------
    Solution
        ``t`` (N+1,), ``m`` (N+1, L, 3), ``x`` (L,) the macro points, ``stats``; the spin steps
        of the tangent-linear runs count in ``micro_steps`` and ``spin_steps``.
    """
    field = ChainField(H, spatial_field)
    m0 = _checks.chain_state("m0", m0)
    T = _checks.positive("T", T)
    N = _checks.integer("N", N, 1)
    J, beta, gamma = _checks.chain_constants(J, beta, gamma)
    macro = _checks.choice("macro", macro, MACRO_SCHEMES)
    box = BoxSettings.checked(r, ell, layer, layer_damping, ends)
    kernel = as_kernel("kernel", kernel)
    micro = MicroSettings.checked(eps, tau, kernel, beta, micro_steps_per_eps, "magnus4", "centred")
    space_kernel = kernel if space_kernel is None else as_kernel("space_kernel", space_kernel)
    initial = _checks.choice("initial", initial, ("average", "sample"))
    exchange_steps_per_eps = _checks.integer("exchange_steps_per_eps", exchange_steps_per_eps, 1)
    dns = dict(J=J, beta=beta, gamma=gamma, max_work=_checks.integer("max_work", max_work, 1))
    dns["dns_steps_per_eps"] = _checks.integer("dns_steps_per_eps", dns_steps_per_eps, 1)
    newton = dict(
        tol=_checks.positive("newton_tol", newton_tol),
        max_iter=_checks.integer("max_iter", max_iter, 1),
        jacobian=_checks.choice("jacobian", jacobian, ("exact", "difference")),
    )
    n = m0.shape[0]
    macro_idx = macro_particles(n, box.r, box.ell)
    dx = _checks.spacing(dx, n)
    x = np.arange(n) * dx
    grid = box_grid(field, micro, box, J, T, x, exchange_steps_per_eps)
    check_work(N, macro_scheme.stages(macro), len(macro_idx), box, grid[0], dns["max_work"])
    t = np.linspace(0.0, T, N + 1)
    boxes = MicroBoxes.build(
        field, stage_times(t, macro).reshape(-1), micro, grid, box, J=J,
        omega=space_weights(space_kernel, box.r), x_box=box_positions(box, n, dx),
    )  # fmt: skip
    if initial == "average":
        avg, steps = time_averages(field, m0, np.array([0.0]), micro, x=x, **dns)
        M0, initial_steps = space_average(avg[0], box.r, box.ell, space_kernel), steps * n
    else:
        M0, initial_steps = m0[macro_idx], 0
    M, counts = _march(boxes, M0, t, macro, gamma / beta, **newton)
    counts["spin_steps"] += initial_steps
    stats = make_stats(field_evaluations=field.points, steps=N, **counts)
    return Solution(t, M, stats, x[macro_idx])


def check_work(N: int, stages: int, L: int, box: BoxSettings, n_c: int, max_work: int) -> None:
    """Refuse a run whose micro solves alone (at least 10 boxes a macro point and stage) exceed ``max_work``."""
    _checks.work(
        N * stages * L * 10 * box.interior * 2 * n_c,
        max_work,
        asked=(
            f"chain solve_hmm with N = {N} macro steps, L = {L} boxes of {box.interior + 2} "
            f"particles (at least 10 micro solves a step, {2 * n_c} RK4 steps each)"
        ),
        change="take fewer macro steps or boxes, shorten tau or raise eps",
    )


def _march(
    boxes: MicroBoxes, M0: np.ndarray, t: np.ndarray, macro: str, c: float, jacobian: str, **newton
):
    """The macro steps of (3.10) with the Newton method ``jacobian``; the macro values and the work counters."""
    rhs = MacroRhs(boxes, macro_scheme.stages(macro), M0.shape[0], c, jacobian)
    M, counts = march(
        rhs, M0, t, macro=macro, predict=predictor(macro, jacobian), max_update=_MAX_UPDATE,
        chord=True, stop="update" if jacobian == "difference" else "estimate", **newton,
    )  # fmt: skip
    return M, dict(counts, **rhs.counts)
