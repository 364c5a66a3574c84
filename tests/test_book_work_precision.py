"""Quick checks of the small pure functions of hmm.book.work_precision."""

import numpy as np

from hmm.book import work_precision as wp


def test_tex_writes_powers_of_ten_as_myst_math():
    assert wp.tex(1e-3) == "10^{-3}"
    assert wp.tex(9.7e-3) == r"9.7\times10^{-3}"
    assert wp.tex(5.04e-4) == r"5.0\times10^{-4}"


def test_dns_work_counts_the_step_grid():
    # k steps per period in each of 20 output intervals, 3 evaluations a
    # step, and the 32^2 points of the field bound
    steps = int(np.ceil(2 * (wp.T / 20) / 1e-2 - 1e-9))
    assert wp.dns_work(1e-2, 2) == 3 * 20 * steps + 1024


def test_best_dns_takes_the_cheapest_run_within_tol():
    dns = {
        (1e-3, 2): wp.Run(100, 5e-4),
        (1e-3, 4): wp.Run(200, 3e-4),
        (1e-3, 8): wp.Run(400, 1e-4),
    }
    assert wp.best_dns(1e-3, 4e-4, dns) == (200, 4)
    assert wp.best_dns(1e-3, 1e-5, dns) is None
    # only runs at the eps asked count: nothing is modelled
    assert wp.best_dns(1e-4, 1.0, dns) is None


def test_ladder_ratio_is_zero_where_the_hmm_misses_tol():
    runs = {
        (1e-3, 1e-3, "direct"): (1000, 2),
        (1e-3, 1e-3, "paper"): 250,
        (1e-3, 1e-3, "+ by parts"): None,
        (1e-3, 1e-3, "+ gauss4"): (40, 10, 1e-4),
    }
    lad = wp.Ladder(runs, {})
    assert lad.ratio(1e-3, 1e-3, "paper") == 4.0
    # all in: the run (40) and the choice (10)
    assert lad.ratio(1e-3, 1e-3, "+ gauss4") == 20.0
    assert lad.ratio(1e-3, 1e-3, "+ by parts") == 0.0


def test_best_rival_is_the_cheapest_of_direct_and_sam():
    runs = {
        (1e-3, 1e-3, "direct"): (1000, 2),
        (1e-3, 1e-3, "SAM"): (800, (20, 2), 5e-4),
        (1e-4, 1e-4, "direct"): None,
        (1e-4, 1e-4, "SAM"): None,
    }
    lad = wp.Ladder(runs, {})
    assert lad.best_rival(1e-3, 1e-3) == (800, "SAM")
    assert lad.best_rival(1e-4, 1e-4) == (None, "none")


def test_chain_dns_work_uses_the_exchange_rate_bound():
    # with J = 30 the exchange's rate, not eps, limits the step at 1e-2
    h = 1.0 / (2.0 * (3.0 + 60.0)) / 3
    expected = 100 * 20 * int(np.ceil((1.5 / 20) / h - 1e-9))
    assert wp.chain_dns_work(1e-2, 3, 30.0) == expected
    assert wp.chain_dns_work(1e-4, 3, 1.0) == 4_500_000


def test_phased_puts_the_steps_at_the_four_phases():
    dt = wp.T / 20
    frac = np.sort((dt / wp.phased(1e-3, dt)) % 1)
    assert np.allclose(frac, wp.PHASES, atol=1e-9)


def test_direct_eps_serves_the_output_and_pointwise_steps():
    # T/180 is a common divisor of T/20, T/36 and T/60: each step sees
    # the four phases at the same four eps'
    for e in (1e-3, 1e-4):
        for n in (20, 36, 60):
            frac = np.sort((wp.T / n / wp.direct_eps(e) + 1e-9) % 1)
            assert np.allclose(frac, wp.PHASES, atol=1e-6)


def test_ratio_text_says_missed_for_zero():
    assert wp._ratio(0.0) == "missed"
    assert wp._ratio(41.2) == "41"


def test_exact_ratio_counts_a_miss_or_refusal_as_zero():
    runs = {
        (1e-3, 1e-3, "SAM"): (800, (20, 2), 5e-4),
        (1e-3, 1e-3, "exact"): (100, 100, 5e-4),  # all in: 200
        (1e-4, 1e-4, "SAM"): (1500, (30, 2), 5e-5),
        (1e-4, 1e-4, "exact"): (100, 100, 2e-4),  # misses 1e-4
        (1e-4, 1e-5, "SAM"): (1500, (30, 2), 5e-5),
        (1e-4, 1e-5, "exact"): None,  # refused
    }
    lad = wp.Ladder(runs, {})
    assert wp._exact_ratio(lad, 1e-3, 1e-3) == 4.0
    assert wp._exact_ratio(lad, 1e-4, 1e-4) == 0.0
    assert wp._exact_ratio(lad, 1e-4, 1e-5) == 0.0


def test_choosing_costs_at_most_the_run_counts_a_tie_as_a_pass():
    runs = {(*k, "exact"): (80, 80, 1e-5) for k in wp.SPIN_TARGETS}
    assert wp._cost_part(wp.Ladder(runs, {}), "exact").holds
    runs[1e-3, 1e-3, "exact"] = (80, 81, 1e-5)  # one evaluation over
    assert not wp._cost_part(wp.Ladder(runs, {}), "exact").holds
    runs[1e-3, 1e-3, "exact"] = None  # refused: nothing to compare
    assert not wp._cost_part(wp.Ladder(runs, {}), "exact").holds


def test_detuned_field_has_the_longer_period():
    t = np.linspace(0.0, 1.0, 7)
    s = np.linspace(0.0, 1.0, 7)
    got = wp.detuned_field(t, s * wp.DETUNE)
    np.testing.assert_allclose(got, wp.H(t, s), rtol=0, atol=1e-12)
    assert wp.DETUNE != 1.0


def _fake_race(hmm_error=1e-4, effect=1.2e-2):
    """A chain race of made-up runs at the chapter's tolerances."""
    runs = {}
    for tol in wp.CHAIN_SETTINGS:
        for e, spin in ((1e-3, 456_000), (1e-4, 4_506_000)):
            runs[tol, e, "direct"] = wp.ChainRun(spin, 10_000, 1e-6, 3)
            runs[tol, e, "hmm"] = wp.ChainRun(30_000, 4_000, hmm_error)
    tols = list(wp.CHAIN_SETTINGS)
    return wp.ChainRace(
        15.0,
        wp.CHAIN_SETTINGS,
        runs,
        dict.fromkeys(tols, effect),
        dict.fromkeys(tols, 1e-7),
        True,
    )


def test_chain_work_is_all_in():
    stats = {"spin_steps": 30_400, "field_evaluations": 3_680}
    assert wp.chain_work(stats) == 34_080
    run = wp.ChainRun.worst([(stats, 1e-4), (dict(stats, spin_steps=10), 2e-4)])
    assert (run.spin, run.evals, run.error, run.work) == (30_400, 3_680, 2e-4, 34_080)


def test_chain_ratio_is_all_in_and_zero_where_the_hmm_misses():
    race = _fake_race()
    assert race.ratio(3e-4, 1e-4) == 4_516_000 / 34_000
    assert _fake_race(hmm_error=5e-4).ratio(3e-4, 1e-3) == 0.0
    assert "-" in wp.chain_tables(_fake_race(hmm_error=5e-4)).splitlines()[-1]


def test_chain_claim_fails_where_the_exchange_does_not_matter():
    claim = wp.chain_claim(_fake_race())
    assert claim.verdict == "reproduced"
    assert "exchange effect" in claim.parts[0].checks[0].what
    small = wp._chain_setup_checks(_fake_race(effect=8.3e-4))
    assert not small[0].holds and small[1].holds


def test_space_mean_uses_the_layout_of_the_settings():
    for s in wp.CHAIN_SETTINGS.values():
        assert s["r"] >= 2
        w = wp.chain.space_weights(wp.hmm.kernel(*s["space"]), s["r"])
        assert np.count_nonzero(np.abs(w) > 1e-3) >= 5  # not (0, 1, 0)
        m = np.tile([0.0, 0.6, 0.8], (100, 1))
        got = wp.space_mean(m, s)
        assert got.shape == (100 // (s["r"] + s["ell"]), 3)
        assert np.allclose(got, [0.0, 0.6, 0.8])
