"""Quick tests of the small pure functions of hmm.book.upscaling_error.

The chapter itself is tested by strict nbval; these check the pieces that
turn its measurements into numbers: fits, envelopes over windows, the
normalisation err/delta and the Markdown of the run names.
"""

import numpy as np
import pytest

import hmm
from hmm.book import upscaling_error as ue


def test_theorem1_delta_is_tau_plus_ratio_power():
    assert ue.theorem1_delta(0.01, 0.1, 1) == pytest.approx(0.1 + 0.1**3)


def test_floor_prediction_is_sqrt2_fourier():
    K = hmm.kernel(1, 3)
    expected = np.sqrt(2) * abs(float(K.fourier(5.3)))
    assert ue.floor_prediction(K, 5.3) == expected


def test_fig52_slopes_of_power_laws():
    ratios = np.geomspace(1.5, 300, 14)
    env = {(0.1, 1): ue.TAIL_CONST * 0.1 / ratios}  # the tail term
    phase0 = {(0.1, 1): (0.1 / ratios) ** 2}
    s = ue.fig52_slopes(ratios, env, phase0, where=ratios >= 10)
    assert s.envelope[0.1, 1].slope == pytest.approx(1.0)
    assert s.phase0[0.1, 1] == pytest.approx(2.0)
    assert s.tail_ratio[0.1, 1] == pytest.approx((1.0, 1.0))


def test_averaging_fits_recover_a_power_law_on_the_fixed_range():
    omegas = np.arange(2.0, 40.0 + 1e-9, 0.125)
    err = {3: omegas**-5.0}
    sep = ue.averaging_fits(omegas, err, starts={3: 8.0})
    assert sep.centres[0] == 2.5 and sep.centres[-1] == 39.5
    # the maximum over [a, a + 1) of a falling law sits at a
    assert sep.env[3][0] == 2.0**-5
    assert -5.4 < sep.fits[3].slope < -5.0
    assert sep.fits[3].fit.x_min == 8.5
    assert sep.fits_far[3] > sep.fits[3].slope > sep.early[3]


def test_range_fit_drops_each_end():
    x = np.array([1.0, 2.0, 4.0, 8.0, 16.0])
    y = x**2 * np.array([1.0, 1.0, 1.0, 1.0, 2.0])  # the last point off
    rf = ue.range_fit(x, y, where=x < 20)
    assert rf.without_high == pytest.approx(2.0)
    assert rf.slope > rf.without_high and rf.without_low > rf.slope


def test_asymptotic_start_grows_with_q():
    starts = [ue.asymptotic_start(hmm.kernel(1, q)) for q in (1, 3, 5, 7)]
    assert starts == [2.5, 8.0, 16.5, 28.5]
    a = ue.expansion_terms(hmm.kernel(1, 3))
    assert np.all(a[:4] == 0) and a[4] > 0  # first term: k = q + 1


def test_run_fits_and_markdown_names():
    eps = np.geomspace(1e-1, 1e-4, 5)
    fits = ue.run_fits({"tau = 16 eps, q = 7": (eps, 0.5 * eps**0)})
    f = fits["tau = 16 eps, q = 7"]
    assert f.largest == 0.5 and f.slope == pytest.approx(0, abs=1e-12)
    assert f.fit.without_low == pytest.approx(0, abs=1e-12)
    assert ue._md_run("Fig. 5.2, tau = 0.1, q = -1") == (r"Fig. 5.2, $\tau = 0.1$, $q = -1$")
    assert ue._md_run("tau = 16 eps, q = 7") == (r"$\tau = 16\varepsilon$, $q = 7$")
