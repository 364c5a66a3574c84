"""The one result type of every solver, with a fixed set of work counters."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

STAT_KEYS = (
    "field_evaluations",
    "steps",
    "micro_steps",
    "spin_steps",
    "newton_iterations",
    "jacobians",
)
r"""The work counters in every :class:`Solution`'s ``stats``: each a machine-independent count, with one meaning on every solver.

``field_evaluations``
    points :math:`(t, s)` at which the field ``H`` was evaluated, counted as the field is called
    (times the particles for a field that differs from particle to particle), the estimate of
    :math:`\max|\mathbf{H}|` that sets a direct simulation's step included;
``steps``
    steps of the outermost integrator: RK4 steps (direct simulations :func:`hmm.solve_dns`,
    :func:`hmm.chain.solve_dns`, :func:`hmm.chain.dns_average`), macro steps (the HMMs; SAM's
    RK4 steps of the averaged equation, side steps included), steps of the averaged solver
    (:func:`hmm.solve_averaged`: DOP853's or the grid's);
``micro_steps``
    steps of the micro integrator, summed over every micro problem that was solved, forward
    and backward: the micro windows of :func:`hmm.solve_hmm` (seven per Newton matrix with
    ``damping="micro"``), the RK4 steps of every chain box (:func:`hmm.chain.solve_hmm`, the
    boxes of the flux Jacobians included), SAM's one-period runs; 0 where there is none;
``spin_steps``
    steps of one spin's integrator, summed over all spins and all problems: a step of ``n``
    spins counts ``n`` (a direct run: RK4 steps times particles; a chain box: its RK4 steps
    times its moving particles; the chain HMM adds the direct simulation of its initial
    average, SAM its last runs to the output times). The unit of work, and of the
    ``max_work`` limit, that all solvers share: a solver refuses up front a call whose spin
    steps, as far as they are known before it runs, exceed ``max_work`` (exactly, for the
    solvers whose work does not depend on Newton's iterations);
``newton_iterations``
    Newton iterations of the implicit steps (0 for explicit solvers);
``jacobians``
    Newton matrices formed (and factorised) for those iterations, one per fresh Jacobian
    whatever the number of stages, so ``jacobians <= newton_iterations``; 0 for explicit
    solvers. The work of forming a matrix (micro solves of tangents or differences) is in
    the counts above.
"""


def make_stats(**counts: int) -> dict[str, int]:
    """The counters of :data:`STAT_KEYS` as ints, 0 where not given; unknown names are refused."""
    unknown = set(counts) - set(STAT_KEYS)
    if unknown:
        raise KeyError(f"unknown work counters {sorted(unknown)}")
    return {key: int(counts.get(key, 0)) for key in STAT_KEYS}


@dataclass(frozen=True)
class Solution:
    """Result of every solver, single spin or chain.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Output times.
    m : ndarray, shape (n_t, 3) or (n_t, n_points, 3)
        Magnetisation at ``t``: of the spin, or of every particle (chain direct simulation) or
        macro point (chain HMM).
    stats : dict
        The work counters of :data:`STAT_KEYS`, all present on every solver and path.
    x : ndarray, shape (n_points,), or None
        Positions of the particles or macro points of a chain; None for a single spin.
    dmdt : ndarray, shape (n_t, 3), or None
        Right-hand side of the macro model at ``t`` (:func:`hmm.solve_hmm` with
        ``damping="macro"``), for the dense output of :func:`hmm.dense_output`;
        None elsewhere.
    """

    t: np.ndarray
    m: np.ndarray
    stats: dict = field(default_factory=make_stats)
    x: np.ndarray | None = None
    dmdt: np.ndarray | None = None
