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


def test_phased_eps_hits_the_phases_and_keeps_the_papers_eps():
    eps = book.phased_eps()
    dt = book.T / book.N
    phases = (dt / eps) % 1.0
    assert np.allclose(phases, book.PHASES)
    assert np.isclose(eps[book.PHASES.index(0.5)], book.EPS)
    assert np.all(np.abs(eps / book.EPS - 1) < 0.1)  # near eps


def _fake_phases():
    """Decisive numbers at four phases, with known worst values."""
    base = {key: 1.0 for key in book.decisive_at_paper_eps(_fake_res())}
    return {
        p: base | {"gauss4 30": 4.0 + d, "half 30": 1.0, "sp 0": 1 + d}
        for p, d in zip(book.PHASES, (0.5, -0.2, 0.1, 0.0), strict=True)
    }


def _fake_res():
    """The chapter's results at eps = 0.01, every number 1."""
    one = {J: 1.0 for J in (0.0, 1.0, 30.0)}
    return dict(
        err_ex={key: 1.0 for key in book.PHASE_RUNS},
        err_half=1.0,
        effect=one,
        mz_off={"dns": 1.0, "hmm": 1.0},
        work={"hmm": 1, "hmm32": 1, "dns": 1},
        sp_err=one,
        sp_effect=one,
        r4_err={"fixed": 1.0, "damped 4": 1.0},
    )


def test_decisive_at_paper_eps_has_every_key_of_the_tables():
    numbers = book.decisive_at_paper_eps(_fake_res())
    keys = set(book.PHASE_ERRORS.values())
    keys |= {k for pair in book.PHASE_RATIOS.values() for k in pair}
    assert keys - {None} <= set(numbers)


def test_worst_over_phases():
    res = {"phases": _fake_phases()}
    assert book.worst(res, lambda x: x["sp 0"]) == 1.5
    assert book.worst(res, book.ratio("sp 0", "half 30")) == 1.5
    assert np.isclose(book.phase_spread(res, "sp 0"), 0.7 / 0.8)
    assert book.half_gain(res) == 4.5  # the farthest from 4


def test_phase_table_has_a_row_per_number_and_a_column_per_phase():
    text = book.phase_table(_fake_phases())
    lines = text.splitlines()
    rows = len(book.PHASE_ERRORS) + len(book.PHASE_RATIOS)
    assert len(lines) == rows + 2 * 2 + 2  # two headers, two rules
    assert all(len(line) <= 75 for line in lines)
    assert lines[0].split("|")[3].strip() == "1/2"
