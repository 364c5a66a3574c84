r"""The search for the cheapest HMM set-up whose predicted error meets the tolerance: :func:`choose_parameters`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .. import _checks, fields
from ..kernels import Kernel, kernel
from ..macro import LIFTS
from ..macro_scheme import MACRO_SCHEMES, stages
from ..upscaling import QUADRATURES
from .model import FieldModel, Grid, Responses, averaging_coefficients, field_model, macro_responses
from .probe import MicroProbe

KERNELS = tuple((1, q) for q in (0, 1, 2, 3, 4, 5, 6, 8, 10)) + (
    (3, 2), (3, 4), (3, 6), (3, 8), (5, 4),
)  # fmt: skip
"""Kernels :math:`K^{p,q}` the chooser considers by default."""
MICRO_STEPS = (2, 3, 4, 6, 8, 12, 16)
"""Micro steps per period the chooser considers by default."""
N_GRID = {
    "gauss4": (2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112,
               128, 160, 192, 224, 256, 320, 384, 448, 512),
    "midpoint": (4, 6, 8, 10, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256, 320,
                 384, 512, 640, 768, 1024, 1280, 1536, 2048, 2560, 3072, 4096),
}  # fmt: skip
"""Macro step counts the chooser considers, per macro scheme."""
LIFTS_TRIED = ("restriction", "none")
"""Micro starts the chooser considers by default (:func:`hmm.solve_hmm`'s ``lift``), preferred first."""
MAX_STEP = 2.5
r"""Largest :math:`\Delta t\,\max|\bar{\mathbf{H}}|\sqrt{\beta^2+\gamma^2}` considered (Newton's basin)."""


@dataclass(frozen=True)
class ErrorSplit:
    r"""The predicted error of a choice, by source (see :mod:`hmm.choose`).

    Attributes
    ----------
    macro : float
        The macro scheme on the averaged equation (4.3), :math:`E_{\rm macro}`.
    floor : float
        The :math:`O(\varepsilon)` floor of the HMM: the second-order drift, and the phase term
        of the paper's micro start (``lift="none"``).
    averaging : float
        The kernel average on the micro grid, :math:`\sum_k |D(k)| R_k` and the slow terms.
    micro : float
        The micro steps' error of the flux that :math:`D` does not explain.
    """

    macro: float
    floor: float
    averaging: float
    micro: float

    @property
    def total(self) -> float:
        """The sum of the four sources: the predicted :math:`\\max_n|\\mathbf{M}_n - \\bar{\\mathbf{m}}(t_n)|`."""
        return self.macro + self.floor + self.averaging + self.micro


@dataclass(frozen=True)
class Choice:
    r"""The HMM parameters that :func:`choose_parameters` picked, and what it predicts for them.

    Attributes
    ----------
    macro : str
        Macro scheme, ``"midpoint"`` or ``"gauss4"``.
    N : int
        Macro steps.
    kernel : Kernel
        The kernel :math:`K^{p,q}` (``kernel.p``, ``kernel.q``).
    rho : float
        :math:`\tau/\varepsilon`; ``rho * micro_steps_per_eps`` is the (even) number of micro steps of
        one window.
    micro_steps_per_eps : int
        Micro steps per period :math:`\varepsilon` (the step is exactly
        :math:`\varepsilon/` ``micro_steps_per_eps``).
    quadrature : str
        Flux quadrature, ``"simpson"`` or ``"parts"``.
    lift : str
        The micro start, ``"restriction"`` (lifted so that its kernel average is
        :math:`\mathbf{M}`) or ``"none"`` (the paper's: :math:`\mathbf{M}` itself).
    T, eps, beta, gamma, tol : float
        The problem and the tolerance asked for.
    robust : bool
        Whether the prediction was made without relying on the period being exactly ``eps``
        (see :mod:`hmm.choose`).
    predicted : ErrorSplit
        Predicted error by source; ``predicted.total <= safety * tol``.
    work : int
        Field evaluations of the HMM run, as ``solve_hmm`` counts them
        (``stats["field_evaluations"]``).
    cost : int
        Field evaluations the chooser itself spent: the harmonics of :func:`hmm.choose.model.slow_harmonics`
        (the micro probe runs on the model field built from them).
    """

    macro: str
    N: int
    kernel: Kernel
    rho: float
    micro_steps_per_eps: int
    quadrature: str
    lift: str
    T: float
    eps: float
    beta: float
    gamma: float
    tol: float
    robust: bool
    predicted: ErrorSplit
    work: int
    cost: int

    @property
    def tau(self) -> float:
        r"""The window length :math:`\tau = \rho\varepsilon`."""
        return self.rho * self.eps

    def solve_kwargs(self) -> dict:
        """Keywords for :func:`hmm.solve_hmm`: ``hmm.solve_hmm(H, m0, T=T, **choice.solve_kwargs())``.

        They pin what the error model assumes: the Magnus micro steps, the micro start
        (``lift``) and the paper's macro model (``drift="paper"``).
        """
        return dict(
            N=self.N, eps=self.eps, tau=self.tau, kernel=self.kernel, beta=self.beta,
            gamma=self.gamma, macro=self.macro, micro_method="magnus4",
            micro_steps_per_eps=self.micro_steps_per_eps, quadrature=self.quadrature,
            lift=self.lift, drift="paper",
        )  # fmt: skip

    def __str__(self) -> str:
        p = self.predicted
        return (
            f"{self.macro} N={self.N} K^{{{self.kernel.p},{self.kernel.q}}} rho={self.rho:.4g} "
            f"micro_steps_per_eps={self.micro_steps_per_eps} {self.quadrature} lift={self.lift}: "
            f"{self.work} field evaluations; "
            f"predicted {p.total:.2e} (macro {p.macro:.1e}, floor {p.floor:.1e}, averaging "
            f"{p.averaging:.1e}, micro {p.micro:.1e}); chooser cost {self.cost}"
        )


def candidate_grids(micro_steps: Sequence[int], rho_max: float) -> list[Grid]:
    r"""Micro grids with a step of exactly :math:`\varepsilon/k`: :math:`\rho = n/k` with ``n`` even, :math:`1 \le \rho \le` ``rho_max``."""
    return [
        Grid(n, n / k, k)
        for k in micro_steps
        for n in range(2 * ((k + 1) // 2), int(rho_max * k) + 1, 2)
    ]


def window_evaluations(n: int, quadrature: str) -> int:
    """Field evaluations of one micro window of ``n`` Magnus steps: ``3n + 1`` (Simpson), ``2n`` (parts)."""
    return 3 * n + 1 if quadrature == "simpson" else 2 * n


def choose_parameters(
    H: Callable, m0, *, tol: float, T: float, eps: float, beta: float = 1.0, gamma: float = 1.0,
    macro: str = "gauss4", robust: bool = True, quadrature: str | None = None,
    lift: str | None = None,
    kernels: Sequence[tuple[int, int]] = KERNELS, micro_steps: Sequence[int] = MICRO_STEPS,
    rho_max: float = 24.0, safety: float = 0.8,
) -> Choice:  # fmt: skip
    r"""The cheapest HMM set-up whose predicted error against :math:`\bar{\mathbf{m}}` is below ``safety * tol`` (beyond the paper).

    The error model is described in :mod:`hmm.choose`; the cost is the field evaluations of
    :func:`hmm.solve_hmm` with the Magnus micro steps (``Choice.work``). Candidates: :math:`N`
    from :data:`N_GRID` (up to three times the smallest that leaves room for the averaging),
    every kernel of ``kernels``, every grid of :func:`candidate_grids` and every quadrature.

    Parameters
    ----------
    H : callable
        Field ``H(t, s)``, 1-periodic in ``s``.
    m0 : array_like, shape (3,)
        Initial magnetisation, a unit vector.
    tol : float
        Tolerance on :math:`\max_n|\mathbf{M}_n - \bar{\mathbf{m}}(t_n)|`, > 0.
    T, eps : float
        Final time and fast period, > 0.
    beta, gamma : float, default 1
        Precession (> 0) and damping (>= 0) constants.
    macro : {"gauss4", "midpoint"}, default "gauss4"
        Macro scheme of :func:`hmm.solve_hmm`.
    robust : bool, default True
        Predict without assuming the period is exactly ``eps`` (see :mod:`hmm.choose`); False
        uses the exact averaging factors and phases, which may rest on a zero of :math:`D`.
    quadrature : {"simpson", "parts"}, optional
        Flux quadrature; default: both are candidates (``"parts"`` for ``q >= 0`` kernels).
    lift : {"restriction", "none"}, optional
        Micro start of the HMM (:func:`hmm.solve_hmm`'s ``lift``): ``"restriction"`` removes the
        phase term of the :math:`O(\varepsilon)` floor at no extra field evaluation;
        ``"none"`` is the paper's. Default: both are candidates (:data:`LIFTS_TRIED`).
    kernels : sequence of (p, q), default :data:`KERNELS`
        Candidate kernels.
    micro_steps : sequence of int, default :data:`MICRO_STEPS`
        Candidate micro steps per period, each >= 2.
    rho_max : float, default 24
        Largest :math:`\tau/\varepsilon` considered, >= 1.
    safety : float, default 0.8
        Fraction of ``tol`` the prediction may use, in (0, 1].

    Returns
    -------
    Choice
        Run it with ``hmm.solve_hmm(H, m0, T=T, **choice.solve_kwargs())``.

    Raises
    ------
    ValueError
        For bad input, and when no candidate meets the tolerance; the message gives the floor
        of the HMM (the :math:`O(\varepsilon)` error no kernel or grid removes) or the missing
        piece, and what to change.
    """
    _checks.field(H)
    m0 = _checks.unit_vector("m0", m0)
    tol = _checks.positive("tol", tol)
    T = _checks.positive("T", T)
    eps = _checks.positive("eps", eps)
    beta, gamma = _checks.constants(beta, gamma)
    macro = _checks.choice("macro", macro, MACRO_SCHEMES)
    robust = _checks.flag("robust", robust)
    lifts = LIFTS_TRIED if lift is None else (_checks.choice("lift", lift, tuple(LIFTS)),)
    quadratures, candidates, micro_steps = _candidates(quadrature, kernels, micro_steps)
    rho_max = _checks.positive("rho_max", rho_max)
    safety = _checks.positive("safety", safety)
    if rho_max < 1 or safety > 1:
        raise ValueError(
            f"rho_max must be >= 1 and safety <= 1, got rho_max={rho_max!r}, safety={safety!r}"
        )
    counted = fields.Counted(H)
    budget = safety * tol
    model = field_model(counted, m0, T=T, beta=beta, gamma=gamma, level=1e-2 * budget)
    probe = MicroProbe(model.harmonics, T, eps, beta)
    options = _options(micro_steps, rho_max, quadratures)
    search = Search(model, probe, candidates, options, budget, lifts)
    for N in N_GRID[macro]:
        if search.done(N, stages(macro)):
            break
        if T * model.field_scale * np.hypot(beta, gamma) / N <= MAX_STEP:
            r = macro_responses(
                model.harmonics, model.mbar, model.active, m0, T=T, N=N, eps=eps, beta=beta,
                gamma=gamma, macro=macro, robust=robust,
            )  # fmt: skip
            search.cheapest(N, r, stages(macro), eps, robust)
    if search.best is None:
        raise ValueError(search.refusal(tol, macro, eps))
    N, K, grid, quad, lift, split, work = search.best
    return Choice(
        macro, N, K, grid.rho, grid.micro_steps_per_eps, quad, lift, T, eps, beta, gamma, tol,
        robust, split, work, counted.points,
    )  # fmt: skip


def _options(micro_steps: list[int], rho_max: float, quadratures: tuple) -> list[tuple]:
    """Every micro grid and quadrature, cheapest window first: ``(evaluations, n, k, grid, quadrature)``."""
    return sorted(
        (window_evaluations(grid.n, quad), grid.n, grid.micro_steps_per_eps, grid, quad)
        for grid in candidate_grids(micro_steps, rho_max)
        for quad in quadratures
    )


def _candidates(quadrature, kernels, micro_steps) -> tuple[tuple, list[Kernel], list[int]]:
    """The candidate quadratures, kernels and micro steps per period of :func:`choose_parameters`, checked."""
    quadratures = QUADRATURES if quadrature is None else (
        _checks.choice("quadrature", quadrature, QUADRATURES),
    )  # fmt: skip
    candidates = _kernels(kernels)
    micro_steps = [_checks.integer("micro_steps", k, 2) for k in micro_steps]
    if not micro_steps:
        raise ValueError("micro_steps must not be empty")
    if quadratures == ("parts",) and all(K.q < 0 for K in candidates):
        raise ValueError("quadrature='parts' needs kernels with q >= 0; kernels has none")
    return quadratures, candidates, micro_steps


class Search:
    """The search for the cheapest set-up: the best so far, and what the refusal message needs."""

    def __init__(
        self, model: FieldModel, probe: MicroProbe, kernels, options, budget: float, lifts
    ):
        self.model, self.probe, self.kernels, self.options = model, probe, kernels, options
        self.budget, self.lifts = budget, lifts
        self.best = None  # (N, kernel, grid, quadrature, lift, ErrorSplit, work)
        self.first = None  # the smallest N that leaves room for the averaging
        self.floor = np.inf  # the least floor over N and lifts
        self.closest = np.inf  # least (averaging + micro) / room seen
        self.blocked = 0  # N in a row at which the floor alone fills the budget
        self._tables: dict = {}

    def done(self, N: int, stages: int) -> bool:
        r"""Whether no :math:`N` from here on can do better.

        Beyond three times the first :math:`N` that left room, or dearer than the best, or after
        three :math:`N` in a row at which the macro error is below 1% of the budget and the
        floor alone fills it (more steps only move the phases :math:`t_n/\varepsilon`).
        """
        if self.blocked >= 3 or (self.first is not None and N > 3 * self.first):
            return True
        return self.best is not None and N * stages * self.options[0][0] >= self.best[-1]

    def cheapest(self, N: int, r: Responses, stages: int, eps: float, robust: bool) -> None:
        """For each lift with room left, the cheapest grid and quadrature for :math:`N` steps."""
        floor = min(r.floors[lift] for lift in self.lifts)
        self.floor = min(self.floor, floor)
        self.blocked = self.blocked + 1 if floor >= self.budget > 100 * r.macro else 0
        if self.budget - r.macro - floor <= 0:
            return
        self.first = N if self.first is None else self.first
        R = np.concatenate([r.R, [r.R2]])
        for lift in self.lifts:
            split = ErrorSplit(r.macro, r.floors[lift], 0.0, 0.0)
            if self.budget - split.macro - split.floor > 0:
                self._cheapest_with(N, R, split, lift, stages * N, eps, robust)

    def _cheapest_with(self, N, R, split, lift, stage_count, eps, robust) -> None:
        """Try every grid and quadrature in order of work; keep the first that fits and beats the best."""
        room = self.budget - split.macro - split.floor
        for per_window, _, _, grid, quad in self.options:
            work = stage_count * per_window
            if self.best is not None and work >= self.best[-1]:
                return
            usable = [K for K in self.kernels if quad == "simpson" or K.q >= 0]
            key = (grid, quad)
            if key not in self._tables:
                self._tables[key] = averaging_coefficients(
                    usable, grid, quad, self.model.active, self.model.rates, eps, robust
                )
            averaging = self._tables[key] @ R
            found = _first_passing(
                usable, averaging, room, self.probe, (grid, quad, lift), self.model.sensitivity
            )
            if found is None:
                self.closest = min(self.closest, averaging.min() / room)
                continue
            K, E_avg, E_micro = found
            split = dataclasses.replace(split, averaging=E_avg, micro=E_micro)
            self.best = (N, K, grid, quad, lift, split, work)
            return

    def refusal(self, tol: float, macro: str, eps: float) -> str:
        """Why no candidate meets ``tol``, and what to change."""
        if self.floor >= self.budget:
            terms = "second-order drift" + (
                "" if "restriction" in self.lifts else " and phase terms"
            )
            return (
                f"tol = {tol:g} is below the floor of the HMM at eps = {eps:g}: the O(eps) error "
                f"of the flux ({terms}) alone is predicted as "
                f"{self.floor:.2e}, at or above safety * tol = {self.budget:.2e} (the share of tol "
                f"the prediction may use), and no kernel, window or micro grid removes it; ask "
                f"for tol >= {self.floor / self.budget * tol:.2e} or a smaller eps (the floor "
                f"scales like eps)"
            )
        if self.first is None:
            return (
                f"tol = {tol:g}: the macro scheme {macro!r} needs more than {N_GRID[macro][-1]} "
                f"steps; use macro='gauss4' or a larger tol"
            )
        return (
            f"tol = {tol:g}: no kernel and micro grid among the candidates averages well enough "
            f"(the best averaging error is {self.closest:.2g} times the room left by the macro "
            f"error and the floor, or the micro error is too large); allow a larger rho_max, "
            f"more kernels or more micro_steps, or ask for a larger tol"
        )


def _first_passing(usable, averaging, room, probe, setup, scale):
    """The kernel with the least predicted error among those whose averaging and micro errors fit ``room``.

    ``setup`` is ``(grid, quadrature, lift)``.
    """
    grid, quad, lift = setup
    passing = []
    for i in np.argsort(averaging):
        if averaging[i] + scale * probe.least(grid.micro_steps_per_eps, quad, lift) >= room:
            break
        E_micro = scale * probe(usable[i], grid, quad, lift)
        if averaging[i] + E_micro <= room:
            passing.append((averaging[i] + E_micro, i, E_micro))
    if not passing:
        return None
    _, i, E_micro = min(passing)
    return usable[i], float(averaging[i]), E_micro


def _kernels(pairs) -> list[Kernel]:
    """The candidate kernels from ``(p, q)`` pairs (checked by :func:`hmm.kernel`)."""
    try:
        out = [kernel(p, q) for p, q in pairs]
    except (TypeError, ValueError) as error:
        raise ValueError(f"kernels must be a sequence of (p, q) pairs: {error}") from None
    if not out:
        raise ValueError("kernels must not be empty")
    return out
