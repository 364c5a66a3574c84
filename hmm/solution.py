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
"""The work counters in every :class:`Solution`'s ``stats``; each is a machine-independent count.

``field_evaluations``
    points :math:`(t, s)` at which the field ``H`` was evaluated (times particles for a field
    that differs from particle to particle);
``steps``
    time steps of the outermost integrator: RK4 steps (direct simulation), macro steps (HMM),
    steps of the averaged solver;
``micro_steps``
    steps of the micro integrator, summed over every micro problem that was solved (forward
    and backward; 0 where there is none);
``spin_steps``
    steps of one spin's integrator, summed over all spins and all problems (micro, macro,
    direct, start and averaged solvers alike: a step of ``n`` spins counts ``n``): the unit of
    work, and of the ``max_work`` limit, that all solvers share;
``newton_iterations``
    Newton iterations of the implicit steps (0 for explicit solvers);
``jacobians``
    Newton matrices formed (and factorised) for those iterations, 0 for explicit solvers; the
    work of forming a matrix (micro solves of tangents or differences) is in the counts above.
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
