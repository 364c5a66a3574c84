"""Quick checks of the small pure functions of hmm.book.chain."""

import numpy as np

from hmm.book import chain as book


def test_relaxed_mz_starts_on_the_equator_and_rises():
    t = np.linspace(0.0, book.T, 41)
    mz = book.relaxed_mz(t)
    assert abs(mz[0]) < 1e-15
    assert np.all(np.diff(mz) > 0)
    assert 0.99 < mz[-1] < 1.0


def test_relaxed_mz_solves_the_polar_angle_equation():
    # d theta/dt = -gamma h sin theta, h the z-field of Fig. 5.5
    t = np.linspace(0.0, 0.5, 20001)
    theta = np.arccos(book.relaxed_mz(t))
    h = book.H(t, t / book.EPS)[:, 2]
    rate = np.gradient(theta, t)
    inner = slice(1, -1)
    assert np.allclose(rate[inner], -(h * np.sin(theta))[inner], atol=1e-3)


def test_missed_fraction_small_angle():
    k, Dx = 2 * np.pi, 1e-3
    assert np.isclose(book.missed_fraction(k, Dx), (k * Dx) ** 2 / 12)
    assert book.missed_fraction(k, 0.1) > 0


def test_cone_is_unit_macro_values_one_turn():
    m = book.cone(1)
    assert m.shape == (10, 3)
    assert np.allclose(np.linalg.norm(m, axis=-1), 1.0)
    assert np.allclose(m[:, 2], m[0, 2])  # a cone: the same tilt everywhere
    assert np.allclose(m[0, :2] / np.linalg.norm(m[0, :2]), [0.0, 1.0])
