"""Kernels in K^{p,q}: moments, symmetry, support, edge smoothness, exactness."""

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad

import hmm
from hmm.kernels import T, weight_moment
from hmm.measure import fit_loglog

pq = st.tuples(st.integers(0, 9), st.integers(-1, 8))


@settings(max_examples=25, deadline=None)
@given(pq)
def test_moments_exact(pq):
    p, q = pq
    K = hmm.kernel(p, q)
    expr = K.expression()
    half = sympy.Rational(1, 2)
    assert sympy.integrate(expr, (T, -half, half)) == 1
    for r in range(1, p + 1):
        assert sympy.integrate(expr * T**r, (T, -half, half)) == 0


@pytest.mark.parametrize("a", range(0, 7))
def test_weight_moments_closed_form_is_the_integral(a):
    """mu_i = int t^(2i) (1 - 4t^2)^a dt over [-1/2, 1/2]: the Beta-function form is exact."""
    half = sympy.Rational(1, 2)
    for i in range(4):
        exact = sympy.integrate(T ** (2 * i) * (1 - 4 * T**2) ** a, (T, -half, half))
        assert weight_moment(i, a) == exact


@settings(max_examples=25, deadline=None)
@given(pq)
def test_moments_numerical(pq):
    p, q = pq
    K = hmm.kernel(p, q)
    for r in range(p + 1):
        value = quad(lambda t, r=r: K(t) * t**r, -0.5, 0.5, epsabs=1e-13, limit=200)[0]
        assert value == pytest.approx(1.0 if r == 0 else 0.0, abs=1e-10)


@settings(max_examples=25, deadline=None)
@given(pq, st.floats(-2, 2))
def test_float_kernel_is_the_even_exact_kernel_on_its_support(pq, t):
    """K(t) and K(-t) equal the exact expression on [-1/2, 1/2] (which is even), 0 outside."""
    K = hmm.kernel(*pq)
    expr = K.expression()
    assert sympy.expand(expr - expr.subs(T, -T)) == 0
    for x in (t, -t):
        exact = float(expr.subs(T, sympy.Float(x, 30))) if abs(x) <= 0.5 else 0.0
        assert float(K(x)) == pytest.approx(
            exact, rel=1e-11, abs=1e-11 * max(1.0, abs(float(K(0.0))))
        )


@pytest.mark.parametrize("q", range(0, 8))
def test_edge_smoothness(q):
    """K, ..., K^(q) vanish at +-1/2: K(1/2 - d) ~ d^(q+1)."""
    K = hmm.kernel(4, q)
    d = np.array([1e-4, 5e-5])
    assert fit_loglog(d, np.abs(K(0.5 - d))).slope == pytest.approx(q + 1, abs=0.1)
    deriv = sympy.diff(K.expression(), T, q + 1).subs(T, sympy.Rational(1, 2))
    assert deriv != 0
    for k in range(q + 1):
        assert sympy.diff(K.expression(), T, k).subs(T, sympy.Rational(1, 2)) == 0


def test_constant_kernel_is_K1m1():
    K = hmm.kernel(1, -1)
    assert K.coefficients == (1,)
    np.testing.assert_array_equal(K(np.array([-0.5, 0.0, 0.49, 0.51])), [1, 1, 1, 0])


@pytest.mark.parametrize("p,q", [(1, -1), (5, 4), (1, 7), (8, 2)])
def test_derivative_matches_finite_difference(p, q):
    K = hmm.kernel(p, q)
    t = np.linspace(-0.49, 0.49, 41)
    h = 1e-6
    np.testing.assert_allclose(K.derivative(t), (K(t + h) - K(t - h)) / (2 * h), atol=1e-5)


def test_factored_form_is_accurate_at_the_edge():
    """Near the edge the factored weight keeps full relative accuracy."""
    K = hmm.kernel(3, 6)
    d = 1e-6
    exact = K.expression().subs(T, sympy.Rational(1, 2) - sympy.Rational(1, 10**6))
    assert float(K(0.5 - d)) == pytest.approx(float(exact), rel=1e-8)


def test_scaled_kernel_integrates_to_one():
    K_tau = hmm.kernel(5, 4).scaled(0.1)
    assert quad(K_tau, -0.05, 0.05)[0] == pytest.approx(1.0, abs=1e-12)
    assert K_tau(0.06) == 0.0


def test_kernel_is_vectorised():
    K = hmm.kernel(5, 4)
    t = np.linspace(-1, 1, 12).reshape(3, 4)
    assert K(t).shape == (3, 4)
    assert K.derivative(t).shape == (3, 4)


@pytest.mark.parametrize("p,q", [(1, -1), (1, 1), (3, 2), (5, 4), (1, 7)])
def test_fourier_transform_matches_quadrature(p, q):
    K = hmm.kernel(p, q)
    for w in (0.0, 0.3, 2.7, 5.3, 11.0, 23.4):
        ref = quad(K, -0.5, 0.5, weight="cos", wvar=2 * np.pi * w, limit=400, epsabs=1e-15)[0]
        assert float(K.fourier(w)) == pytest.approx(ref, abs=2e-14)
    assert K.fourier(np.array([[0.0, 1.0]])).shape == (1, 2)


@pytest.mark.parametrize("q", [1, 3, 5, 7])
def test_fourier_transform_decays_like_lemma_1(q):
    """The envelope of |K^(w)| over unit windows of w falls like w^-(q+2) (Lemma 1 for one mode)."""
    K = hmm.kernel(1, q)
    starts = np.array([20.0, 40.0, 80.0, 160.0])
    envelope = [np.abs(K.fourier(a + np.linspace(0, 1, 64))).max() for a in starts]
    assert fit_loglog(starts, envelope).slope == pytest.approx(-(q + 2), abs=0.1)
