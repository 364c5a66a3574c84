"""The result type of the chain solvers."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class ChainSolution:
    """Result of a chain solver.

    Attributes
    ----------
    t : ndarray, shape (n_t,)
        Times.
    m : ndarray, shape (n_t, n_points, 3)
        Magnetisation of every particle (DNS) or every macro point (HMM) at ``t``.
    x : ndarray, shape (n_points,)
        Positions :math:`x_i = i\\,\\delta x` of the particles (DNS) or macro points (HMM).
    stats : dict
        Machine-independent work counters: ``"field_evaluations"`` (of ``H``),
        ``"particle_steps"`` (one RK4 step of one particle, in any batch),
        ``"micro_solves"`` (batched micro solves), ``"micro_steps"`` (RK4 steps of one micro box,
        forward plus backward, summed over the micro solves), ``"newton_iterations"``,
        ``"jacobians"`` (finite-difference Jacobians formed).
    """

    t: np.ndarray
    m: np.ndarray
    x: np.ndarray
    stats: dict = field(default_factory=dict)
