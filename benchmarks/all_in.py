r"""All-in work at a fixed tolerance: the chosen HMM against RK4, worst over phases (issues 20, 21).

Shared by ``precision.py`` (Figure 5.3's spin, ``make bench``) and ``choose_validation.py``
(fields no chapter uses). Every number that decides a target is the worst over four phases
:math:`\{\Delta t/\varepsilon'\} = 0, 1/4, 1/2, 3/4` (resonant macro steps included):

* the HMM: :func:`hmm.choose_parameters` at ``eps``, its choice run at the phases of its own
  macro step (:func:`hmm.book.work_precision.chosen_runs`); work = the worst run's field
  evaluations plus the chooser's own (``choice.cost``); error = the worst against the averaged
  solution at the macro times;
* the direct simulation: RK4 (:func:`hmm.solve_dns`) run at each phase near ``eps`` (never
  modelled from another eps), the fewest steps per period whose worst error against the
  averaged solution at the output times is within tol.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

import hmm
from hmm.book import work_precision as wp
from hmm.measure import max_error

DIRECT_KS = (2, 3, 4, 5, 6, 8, 12, 16)  # RK4 steps per period tried, cheapest first


@dataclass(frozen=True)
class Problem:
    """A field with its damping, initial state and final time."""

    H: Callable
    gamma: float
    m0: np.ndarray
    T: float


@dataclass(frozen=True)
class Direct:
    """The cheapest RK4 within tol: steps per period, worst work and error over the phases."""

    k: int
    work: int
    error: float


@dataclass(frozen=True)
class AllIn:
    """The chosen HMM: the choice, the worst run's work and error, the chooser's own cost."""

    choice: object
    run: int
    cost: int
    error: float

    @property
    def work(self) -> int:
        """All-in work: the run plus the choice."""
        return self.run + self.cost


def direct_rival(p: Problem, tol: float, eps_list: Sequence[float], n_out: int = 20):
    """The cheapest RK4 (:data:`DIRECT_KS`) whose worst error over ``eps_list`` is <= tol.

    Errors against the averaged solution at ``n_out + 1`` equally spaced output times. A k is
    dropped at the first phase that misses tol (its worst error is then above tol). Returns a
    :class:`Direct`, or None if no k reaches tol (the direct simulation's floor is above it).
    """
    t_out = np.linspace(0.0, p.T, n_out + 1)
    mbar = hmm.solve_averaged(p.H, p.m0, T=p.T, N=n_out, gamma=p.gamma).m
    for k in DIRECT_KS:
        work, error = 0, 0.0
        for x in eps_list:
            sol = hmm.solve_dns(
                p.H, p.m0, T=p.T, eps=x, gamma=p.gamma, t_eval=t_out, dns_steps_per_eps=k
            )
            work = max(work, sol.stats["field_evaluations"])
            error = max(error, max_error(sol.m, mbar))
            if error > tol:
                break
        if error <= tol:
            return Direct(k, work, error)
    return None


def hmm_all_in(p: Problem, tol: float, eps: float) -> AllIn:
    """The robust choice at ``eps``, run at the four phases of its step; raises if refused."""
    c = hmm.choose_parameters(p.H, p.m0, tol=tol, T=p.T, eps=eps, gamma=p.gamma)
    sols = wp.chosen_runs(p.H, p.m0, p.T, c)
    mbar = hmm.solve_averaged(p.H, p.m0, T=p.T, N=c.N, gamma=p.gamma).m
    run = max(s.stats["field_evaluations"] for s in sols)
    return AllIn(c, run, c.cost, max(max_error(s.m, mbar) for s in sols))


def verdict(direct: Direct | None, h: AllIn, tol: float, target: float) -> tuple[float, str]:
    """Work ratio direct / all-in HMM and PASS/FAIL against ``target``.

    The HMM must keep its promise (worst error <= tol); where no RK4 reaches tol, the HMM wins
    by default (ratio ``inf``).
    """
    if h.error > tol:
        return 0.0, "FAIL"
    ratio = np.inf if direct is None else direct.work / h.work
    return ratio, "PASS" if ratio >= target else "FAIL"
