"""hmm.book.tail_expansion: the small pure functions behind the tail chapter."""

import numpy as np
import pytest
import sympy as sp

import hmm
from hmm.book import tail_expansion as chapter

t, eps = sp.symbols("t varepsilon", real=True)
H51 = sp.Matrix([sp.sin(2 * sp.pi * t), sp.cos(2 * sp.pi * t), 1])


def expansion(M0):
    m1 = chapter.integrate0(-chapter.calH(H51, M0))
    return m1, 2 * chapter.integrate0(-chapter.calH(H51, m1))


def test_growing_part_keeps_only_secular_terms():
    e = sp.Matrix([t * sp.sin(2 * sp.pi * t) + 3 * t, sp.cos(2 * sp.pi * t), 5])
    assert chapter.growing_part(e) == sp.Matrix([t * sp.sin(2 * sp.pi * t) + 3 * t, 0, 0])


def test_series_residual_can_fail():
    """The printed residual check is not a tautology: a wrong m2 fails it."""
    ez = sp.Matrix([0, 0, 1])
    m1, m2 = expansion(ez)
    assert chapter.series_residual(H51, ez, m1, m2, eps) == [True] * 3
    wrong = chapter.series_residual(H51, ez, m1, m2 + t * ez, eps)
    assert wrong == [True, True, False]


def test_vector_function_broadcasts_constants():
    f = chapter.vector_function(sp.Matrix([t, 1, 0]))
    tt = np.linspace(0, 1, 5)
    assert f(tt).shape == (5, 3)
    assert np.array_equal(f(tt)[:, 1], np.ones(5))


def test_power_of_ten_as_latex():
    assert chapter._power(1e-4) == "10^{-4}"
    with pytest.raises(ValueError):
        chapter._power(3e-4)


def test_frozen_average_of_a_constant_field_is_the_cross_product():
    def H(tt, zz):
        tt, zz = np.broadcast_arrays(tt, zz)
        return np.stack([np.ones_like(zz), 0 * zz, 0 * zz], axis=-1)

    M0 = np.array([0.0, 0.0, 1.0])
    K = hmm.kernel(5, 4)
    for window in ("centred", "forward"):
        value = chapter.frozen_average(H, 0.3, M0, 1e-2, 0.053, window, K)
        assert value == pytest.approx(np.cross(M0, [1.0, 0, 0]), abs=1e-13)
