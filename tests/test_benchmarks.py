"""Tests of the pure helpers of benchmarks/all_in.py: the all-in verdict and the direct rival."""

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from all_in import AllIn, Direct, Problem, direct_rival, verdict  # noqa: E402

from hmm import fields  # noqa: E402

SPIN = Problem(fields.fig51_left, 1.0, fields.FIG54_M0, 2 * np.pi)


def test_all_in_work_counts_the_choice():
    assert AllIn(None, run=900, cost=144, error=1e-4).work == 1044


def test_verdict_decides_on_the_sum():
    h = AllIn(None, run=900, cost=100, error=5e-4)
    assert verdict(Direct(2, 20_000, 1e-4), h, 1e-3, 20.0) == (20.0, "PASS")
    assert verdict(Direct(2, 19_999, 1e-4), h, 1e-3, 20.0)[1] == "FAIL"


def test_verdict_fails_a_broken_promise_and_wins_without_a_rival():
    assert verdict(Direct(2, 10**9, 1e-4), AllIn(None, 1, 1, 2e-3), 1e-3, 20.0) == (0.0, "FAIL")
    assert verdict(None, AllIn(None, 1, 1, 1e-4), 1e-3, 20.0) == (np.inf, "PASS")


def test_direct_rival_takes_the_cheapest_k_and_refuses_below_its_floor():
    eps_list = (1e-2, 0.99e-2)
    d = direct_rival(SPIN, 1.0, eps_list)
    assert d.k == 2 and d.error <= 1.0
    assert d.work > 2 * 3 * 2 * np.pi / 1e-2  # RK4: 3 evaluations a step, 2 steps a period
    assert direct_rival(SPIN, 1e-9, eps_list) is None  # the O(eps) distance to mbar
