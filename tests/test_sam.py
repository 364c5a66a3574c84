"""solve_sam: the stroboscopic averaging method (Calvo et al. 2011), a rival beyond the paper."""

import numpy as np
import pytest

import hmm
from hmm import fields
from hmm.measure import fit_loglog, max_error

H = fields.fig51_left  # the field of Fig. 5.3 (left)
M0 = fields.FIG54_M0


def test_macro_order_is_four():
    """Against SAM with a much smaller step at the same eps: the O(eps^2) term cancels."""
    T, eps = 1.0, 1e-3
    ref = hmm.solve_sam(H, M0, T=T, N=128, eps=eps).m[-1]
    Ns = np.array([2, 4, 8, 16])
    errors = [np.linalg.norm(hmm.solve_sam(H, M0, T=T, N=n, eps=eps).m[-1] - ref) for n in Ns]
    assert fit_loglog(T / Ns, errors).slope == pytest.approx(4, abs=0.3)


def test_averaging_error_is_second_order_in_eps():
    """At the macro times (stroboscopic here): macro error ~2e-8, micro error ~5e-6 eps."""
    T = 1.0
    epss = np.array([1e-2, 5e-3, 2.5e-3])
    errors = []
    for eps in epss:
        sol = hmm.solve_sam(H, M0, T=T, N=32, eps=eps)
        ref = hmm.solve_dns(H, M0, T=T, eps=eps, t_eval=sol.t)
        errors.append(max_error(sol.m, ref.m))
    assert fit_loglog(epss, errors).slope == pytest.approx(2, abs=0.15)
    assert max(errors) < 5e-5


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_output_is_m_eps_at_non_stroboscopic_times(gamma):
    """t_eval off the stroboscopic grid and off the macro nodes: m^eps itself, not X."""
    T, eps = 0.7, 0.005
    t = np.array([0.0, 0.1234, 0.3456, 0.5678, 0.6957])
    assert np.all(np.abs(t / eps - np.round(t / eps))[1:] > 0.1)
    sol = hmm.solve_sam(H, M0, T=T, N=16, eps=eps, gamma=gamma, t_eval=t, beta=1.3)
    ref = hmm.solve_dns(H, M0, T=T, eps=eps, gamma=gamma, t_eval=t, beta=1.3)
    np.testing.assert_array_equal(sol.t, t)
    # O(eps^2) = 2.5e-5 * 0.2; the oscillation within a period is O(eps), far larger
    assert max_error(sol.m, ref.m) < 2e-5


def test_default_output_is_at_the_macro_times():
    T, eps = 0.55, 0.013  # T and T/N are not multiples of eps
    sol = hmm.solve_sam(H, M0, T=T, N=5, eps=eps)
    np.testing.assert_allclose(sol.t, np.linspace(0, T, 6))
    assert sol.m.shape == (6, 3)
    ref = hmm.solve_dns(H, M0, T=T, eps=eps, t_eval=sol.t)
    assert max_error(sol.m, ref.m) < 1e-4
    np.testing.assert_array_equal(sol.m[0], M0)


def test_stats_count_real_work():
    calls = []

    def counted(t, s):
        calls.append(np.size(t))
        return H(t, s)

    T, eps, N, k = 0.5, 0.01, 4, 8
    t = [0.0, 0.1434, 0.25, 0.5]  # 0.1434: its period starts at 0.14, not a macro node
    sol = hmm.solve_sam(counted, M0, T=T, N=N, eps=eps, micro_steps_per_period=k, t_eval=t)
    assert set(sol.stats) == set(hmm.STAT_KEYS)
    assert sol.stats["field_evaluations"] == sum(calls)
    assert sol.stats["steps"] == N + 1  # one side step for t = 0.123
    assert sol.stats["micro_steps"] == 4 * (N + 1) * 2 * k
    # the last runs: 0.34 of a period from 0.14 to 0.1434, none at the macro nodes
    assert sol.stats["spin_steps"] - sol.stats["micro_steps"] == np.ceil(0.34 * k)
    assert sol.stats["newton_iterations"] == sol.stats["jacobians"] == 0


def test_a_given_field_bound_saves_exactly_the_sampling():
    # |H| = sqrt(2) for the field of Fig. 5.3 (left): the same steps, the
    # same answer, and 32^2 fewer field evaluations
    kw = dict(T=1.0, N=8, eps=0.01, micro_steps_per_period=4)
    sampled = hmm.solve_sam(H, M0, **kw)
    given = hmm.solve_sam(H, M0, field_bound=np.sqrt(2.0), **kw)
    np.testing.assert_allclose(given.m, sampled.m, rtol=0, atol=1e-12)
    saved = sampled.stats["field_evaluations"] - given.stats["field_evaluations"]
    assert saved == 32**2


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(m0=[1.0, 1.0, 0.0]), "m0 must be a unit vector.*np.linalg.norm"),
        (dict(m0=[1.0, 0.0]), "m0 must have shape"),
        (dict(m0=[np.nan, 0.0, 1.0]), "m0 must be finite"),
        (dict(T=0.0), "T must be > 0"),
        (dict(N=0), "N must be an integer >= 1"),
        (dict(N=2.0), "N must be an integer"),
        (dict(eps=-1e-3), "eps must be > 0"),
        (dict(beta=0.0), "beta must be > 0"),
        (dict(gamma=-1.0), "gamma must be >= 0"),
        (dict(micro_steps_per_period=0), "micro_steps_per_period must be an integer >= 1"),
        (dict(t_eval=[0.0, 2.0]), "t_eval must be sorted and lie in"),
        (dict(max_work=10), "max_work"),
        (dict(field_bound=0.0), "field_bound must be > 0"),
        (dict(H=lambda t, s: np.ones(np.shape(t))), r"H\(t, s\) must return shape"),
        (dict(H="field"), "H must be a callable"),
    ],
)
def test_bad_input_raises(kwargs, match):
    args = dict(H=H, m0=M0, T=1.0, N=4, eps=0.01) | kwargs
    with pytest.raises(ValueError, match=match):
        hmm.solve_sam(args.pop("H"), args.pop("m0"), **args)
