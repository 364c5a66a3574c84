"""hmm.chain.solve_sam: the stroboscopic averaging method on the chain (3.8)."""

import numpy as np
import pytest

import hmm
import hmm.chain as chain
from hmm import fields
from hmm.book import work_precision as wp
from hmm.chain import sam as chain_sam
from hmm.chain.sam import largest_macro_step, macro_step_limit
from hmm.measure import fit_loglog, max_error

H = fields.fig55
N_SPINS = 16
X = np.arange(N_SPINS) / N_SPINS
_M = np.stack([np.sin(2 * np.pi * X), np.cos(2 * np.pi * X), 0.6 * np.sin(4 * np.pi * X)], axis=1)
M0 = _M / np.linalg.norm(_M, axis=1)[:, None]  # not a helix: the exchange acts
J = 1.0


def test_macro_order_is_four():
    """Against SAM with a much smaller step at the same eps: the O(eps^2) term cancels."""
    T, eps, k = 1.0, 2.0**-10, 4  # every T/N a multiple of eps
    ref = chain.solve_sam(H, M0, T=T, N=128, eps=eps, J=J, micro_steps_per_period=k).m[-1]
    Ns = np.array([8, 16, 32])
    errors = [
        max_error(
            chain.solve_sam(H, M0, T=T, N=n, eps=eps, J=J, micro_steps_per_period=k).m[-1:],
            ref[None],
        )
        for n in Ns
    ]
    assert fit_loglog(T / Ns, errors).slope == pytest.approx(4, abs=0.3)


def test_averaging_error_is_second_order_in_eps():
    """Against a fine RK4 of the chain at the same eps; macro and micro errors far below."""
    T = 0.5
    epss = np.array([1e-2, 5e-3, 2.5e-3])
    errors = []
    for eps in epss:
        sol = chain.solve_sam(H, M0, T=T, N=20, eps=eps, J=J, micro_steps_per_period=8)
        ref = chain.solve_dns(H, M0, T=T, eps=eps, J=J, t_eval=sol.t, dns_steps_per_eps=16)
        errors.append(max_error(sol.m, ref.m))
    assert fit_loglog(epss, errors).slope == pytest.approx(2, abs=0.15)
    assert max(errors) < 1e-3


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_output_is_the_chain_at_non_stroboscopic_times(gamma):
    """t_eval off the stroboscopic grid and off the macro nodes: the chain itself, not X."""
    T, eps = 0.4, 0.005
    t = np.array([0.0, 0.1234, 0.2456, 0.3957])
    assert np.all(np.abs(t / eps - np.round(t / eps))[1:] > 0.1)
    kw = dict(T=T, eps=eps, J=2.0, gamma=gamma, beta=1.3, t_eval=t)
    sol = chain.solve_sam(H, M0, N=16, micro_steps_per_period=8, **kw)
    ref = chain.solve_dns(H, M0, **kw)
    np.testing.assert_array_equal(sol.t, t)
    np.testing.assert_array_equal(sol.x, X)
    # O(eps^2): 2.5e-5 times about 8 here; the chain moves by about 5e-3 within a period
    assert max_error(sol.m, ref.m) < 4e-4


def test_default_output_is_at_the_macro_times():
    T, eps = 0.55, 0.013  # T and T/N are not multiples of eps
    sol = chain.solve_sam(H, M0, T=T, N=10, eps=eps, J=J)
    np.testing.assert_allclose(sol.t, np.linspace(0, T, 11))
    assert sol.m.shape == (11, N_SPINS, 3)
    ref = chain.solve_dns(H, M0, T=T, eps=eps, J=J, t_eval=sol.t)
    assert max_error(sol.m, ref.m) < 1.5e-3  # O(eps^2): 9e-4
    np.testing.assert_array_equal(sol.m[0], M0)


def test_stats_count_real_work():
    calls = []

    def counted(t, s):
        calls.append(np.size(t))
        return H(t, s)

    T, eps, N, k = 0.5, 0.01, 4, 8
    t = [0.0, 0.1434, 0.25, 0.5]  # 0.1434: its period starts at 0.14, not a macro node
    sol = chain.solve_sam(counted, M0, T=T, N=N, eps=eps, J=J, micro_steps_per_period=k, t_eval=t)
    assert set(sol.stats) == set(hmm.STAT_KEYS)
    assert sol.stats["field_evaluations"] == sum(calls)
    assert sol.stats["steps"] == N + 1  # one side step for t = 0.1434
    assert sol.stats["micro_steps"] == 4 * (N + 1) * 2 * k
    # 4k + 1 points per value of F, 3 per step of the last run (ceil(0.34 k) = 3 steps), 32^2
    assert sum(calls) == 4 * (N + 1) * (4 * k + 1) + 3 * 3 + 32**2
    assert sol.stats["spin_steps"] == (sol.stats["micro_steps"] + 3) * N_SPINS
    assert sol.stats["newton_iterations"] == sol.stats["jacobians"] == 0


def test_max_work_refuses_exactly_in_spin_steps():
    kw = dict(T=0.3, N=3, eps=0.01, J=J, micro_steps_per_period=4, t_eval=[0.0, 0.123, 0.3])
    spin_steps = chain.solve_sam(H, M0, **kw).stats["spin_steps"]
    chain.solve_sam(H, M0, max_work=spin_steps, **kw)
    with pytest.raises(ValueError, match="spin steps, above max_work"):
        chain.solve_sam(H, M0, max_work=spin_steps - 1, **kw)


def test_a_spatial_field_counts_every_particle():
    """A field that ignores x, passed as H(t, s, x): the same chain, n times the evaluations."""
    kw = dict(T=0.3, N=3, eps=0.01, J=J, micro_steps_per_period=4)
    uniform = chain.solve_sam(H, M0, **kw)
    spatial = chain.solve_sam(lambda t, s, x: H(t, s), M0, spatial_field=True, **kw)
    np.testing.assert_allclose(spatial.m, uniform.m, rtol=0, atol=1e-13)
    evals = uniform.stats["field_evaluations"]
    assert spatial.stats["field_evaluations"] == N_SPINS * evals


@pytest.mark.parametrize("eps, need", [(1e-3, 24), (1e-2, 25)])
def test_the_macro_step_is_bounded(eps, need):
    """At the step limit the run is stable; one step fewer is refused, naming the N needed.

    J = 20, max|H| = 3: steps up to 0.0213. At eps = 1e-3 that is T/N <= limit; at 1e-2
    N = 24 is refused, its steps snapped to 0.02 and 0.03.
    """
    T, J_stiff = 0.5, 20.0
    limit = macro_step_limit(3.0, J_stiff, 1.0, 1.0)
    assert np.ceil(T / limit) == 24
    assert largest_macro_step(T, 24, 1e-2) == pytest.approx(0.03)
    kw = dict(T=T, eps=eps, J=J_stiff, micro_steps_per_period=3)
    sol = chain.solve_sam(H, M0, N=need, **kw)
    assert np.all(np.abs(np.linalg.norm(sol.m, axis=-1) - 1) < 1e-2)  # RK4 keeps |m| roughly
    with pytest.raises(ValueError, match=f"N = {need - 1} gives .* stable macro .* N = {need}$"):
        chain.solve_sam(H, M0, N=need - 1, **kw)
    with pytest.raises(ValueError, match="eps must be < 0.0213 for a stable macro"):
        chain.solve_sam(H, M0, **dict(kw, N=need, eps=0.03))


def test_the_bound_is_within_a_factor_two_of_a_real_instability(monkeypatch):
    """Unchecked, 16 steps where the bound asks for 24 (T/N = 1.47 times its limit) blow up."""
    monkeypatch.setattr(chain_sam, "MACRO_STABILITY", 1e3)
    kw = dict(T=0.5, eps=1e-3, J=20.0, micro_steps_per_period=3)
    with (
        pytest.raises(ValueError, match="the chain SAM produced NaN or inf"),
        np.errstate(all="ignore"),
    ):
        chain.solve_sam(H, M0, N=16, **kw)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(m0=[[1.0, 1.0, 0.0]]), "m0 must be"),
        (dict(m0=[1.0, 0.0, 0.0]), "m0 must have shape"),
        (dict(T=0.0), "T must be > 0"),
        (dict(N=0), "N must be an integer >= 1"),
        (dict(N=2.0), "N must be an integer"),
        (dict(eps=-1e-3), "eps must be > 0"),
        (dict(J=np.inf), "J must be"),
        (dict(beta=0.0), "beta must be > 0"),
        (dict(gamma=-1.0), "gamma must be >= 0"),
        (dict(micro_steps_per_period=0), "micro_steps_per_period must be an integer >= 1"),
        (dict(t_eval=[0.0, 2.0]), "t_eval must be sorted and lie in"),
        (dict(max_work=10), "max_work"),
        (dict(dx=0.0), "dx must be > 0"),
        (dict(spatial_field=1), "spatial_field must be True or False"),
        (dict(H=lambda t, s: np.ones(np.shape(t))), r"H\(t, s\) must return shape"),
        (dict(H="field"), "H must be a callable"),
    ],
)
def test_bad_input_raises(kwargs, match):
    args = dict(H=H, m0=M0, T=1.0, N=8, eps=0.01, J=J) | kwargs
    with pytest.raises(ValueError, match=match):
        chain.solve_sam(args.pop("H"), args.pop("m0"), **args)


# --- SAM in the chapter's chain race (hmm.book.work_precision) ------------


def _race(sam_work=150_000, sam_error=1e-6, hmm_work=(30_000, 4_000)):
    """A chain race of made-up runs: RK4, SAM and the HMM."""
    runs = {}
    for tol in wp.CHAIN_SETTINGS:
        for e, spin in ((1e-3, 456_000), (1e-4, 4_506_000)):
            runs[tol, e, "direct"] = wp.ChainRun(spin, 10_000, 1e-6, 3)
            runs[tol, e, "sam"] = wp.ChainRun(sam_work - 4_000, 4_000, sam_error, 3, 60)
            runs[tol, e, "hmm"] = wp.ChainRun(*hmm_work, 1e-4)
    tols = list(wp.CHAIN_SETTINGS)
    effect, target = dict.fromkeys(tols, 1.2e-2), dict.fromkeys(tols, 1e-7)
    return wp.ChainRace(15.0, wp.CHAIN_SETTINGS, runs, effect, target, True, wp.CHAIN_SAM_K)


def test_the_race_is_against_the_cheaper_rival_within_tol():
    race = _race()
    assert race.best_rival(1e-3, 1e-4) == (150_000, "SAM")
    assert race.ratio(1e-3, 1e-4) == 150_000 / 34_000
    assert race.ratio(1e-3, 1e-4, "direct") == 4_516_000 / 34_000
    missing = _race(sam_error=5e-4)  # SAM misses 3e-4, not 1e-3
    assert missing.best_rival(3e-4, 1e-3) == (466_000, "RK4")
    assert missing.best_rival(1e-3, 1e-3) == (150_000, "SAM")
    race_table = wp.chain_tables(missing).split("\n\n")[1].splitlines()
    assert "misses" in race_table[-1] and "(RK4)" in race_table[-1]


def test_the_chain_claim_races_rk4_for_the_targets_and_every_rival_for_the_win():
    assert wp.chain_claim(_race()).verdict == "reproduced"  # SAM / HMM = 4.4 > 1
    dear = wp.chain_claim(_race(hmm_work=(200_000, 4_000))).verdict  # SAM wins
    assert dear.startswith("partly reproduced") and "not: cheaper than the best" in dear
    slow = wp.chain_claim(_race(hmm_work=(500_000, 4_000))).verdict  # RK4 / HMM < 10
    assert "targets against RK4" in slow.split("not:")[1]


def test_sam_steps_are_the_fewest_the_bound_allows():
    limit = macro_step_limit(wp.CHAIN_H_MAX, wp.CHAIN_J, 1.0, 1.0)
    for eps, N in ((1e-2, 80), (1e-3, 60), (1e-4, 60)):
        assert wp.chain_sam_N(wp.CHAIN_J, eps) == N
        phases = wp.phased(eps, wp.CHAIN_T / 20)
        assert all(largest_macro_step(wp.CHAIN_T, N, x) <= limit for x in phases)
        assert any(largest_macro_step(wp.CHAIN_T, N - 20, x) > limit for x in phases)
