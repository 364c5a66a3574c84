"""hmm.book.kernels: the small pure functions behind the kernels chapter."""

import numpy as np
import pytest
import sympy

import hmm
from hmm.book import kernels as chapter
from hmm.kernels import T


@pytest.mark.parametrize(
    ("p", "q", "missed"),
    [
        (1, -1, []),
        (2, -1, ["moment 2 = 0"]),
        (1, 0, ["K^(0) = 0 at the edges"]),
    ],
)
def test_missed_conditions_of_the_constant_kernel(p, q, missed):
    """The test against the definition can fail: K = 1 is in K^{1,-1} only."""
    assert chapter.missed_conditions(sympy.Integer(1), p, q) == missed


def test_missed_conditions_sees_an_odd_kernel_and_a_wrong_mass():
    assert "even" in chapter.missed_conditions(1 + T, 0, -1)
    assert chapter.missed_conditions(sympy.Integer(2), 0, -1) == ["unit mass"]


@pytest.mark.parametrize(("p", "q"), chapter.PAIRS)
def test_the_packages_kernels_meet_the_definition(p, q):
    assert chapter.missed_conditions(hmm.kernel(p, q).expression(), p, q) == []


def test_kernel_average_of_a_constant_is_the_mass():
    K = hmm.kernel(5, 4)
    for ratio, phase in [(2.3, 0.0), (7.9, 0.41)]:
        value = chapter.kernel_average(K, np.ones_like, ratio, phase)
        assert value == pytest.approx(1.0, abs=1e-13)


@pytest.mark.parametrize("name", ["smooth", "square"])
def test_naive_average_is_the_constant_kernel(name):
    f, _ = chapter.TESTS[name]
    K = hmm.kernel(1, -1)
    for ratio, phase in [(2.3, 0.1), (17.35, 0.77)]:
        assert chapter.naive_average(f, ratio, phase) == pytest.approx(
            chapter.kernel_average(K, f, ratio, phase), abs=1e-13
        )


def test_square_wave_at_whole_periods_averages_to_zero():
    K = hmm.kernel(1, -1)
    value = chapter.kernel_average(K, chapter.f_square, 6.0, 0.3)
    assert abs(value) < 1e-13
