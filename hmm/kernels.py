r"""Averaging kernels :math:`K \in \mathbb{K}^{p,q}` (Section 2.2 of the paper).

A kernel in :math:`\mathbb{K}^{p,q}` is supported in :math:`[-1/2, 1/2]`, even,
has :math:`K^{(q+1)}` of bounded variation and ``p`` vanishing moments:
:math:`\int K = 1` and :math:`\int K(t) t^r dt = 0` for :math:`0 < r \le p`.

We build it as

.. math::  K(t) = P(t^2)\,(1 - 4t^2)^{q+1}, \qquad |t| \le 1/2,

with an even polynomial :math:`P` of degree :math:`2\lfloor p/2 \rfloor`. The
factor :math:`(1-4t^2)^{q+1}` makes :math:`K, \dots, K^{(q)}` vanish at
:math:`\pm 1/2`, so :math:`K^{(q+1)}` jumps there and is of bounded
variation. Symmetry kills the odd moments; the coefficients of :math:`P` solve
the :math:`\lfloor p/2 \rfloor + 1` even moment conditions exactly in rational
arithmetic (sympy). ``q = -1`` and ``p <= 1`` give the constant kernel
:math:`K^{1,-1} = 1` on :math:`[-1/2, 1/2]`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy

from . import _checks

T = sympy.Symbol("t", real=True)


@functools.cache
def kernel_coefficients(p: int, q: int) -> tuple[sympy.Rational, ...]:
    r"""Exact coefficients :math:`c_k` of :math:`P(t) = \sum_k c_k t^{2k}`.

    They solve the moment conditions of Section 2.2,
    :math:`\sum_k c_k \mu_{j+k} = \delta_{j0}` for :math:`j = 0, \dots, \lfloor p/2 \rfloor`,
    in rational arithmetic (sympy), with the moments of the weight in closed form (a Beta
    integral, :func:`weight_moment`).

    Parameters
    ----------
    p : int
        Number of vanishing moments, ``p >= 0``.
    q : int
        Regularity index, ``q >= -1``.

    Returns
    -------
    tuple of sympy.Rational
        ``(c_0, ..., c_{p // 2})``.
    """
    p = _checks.integer("p", p, 0)
    q = _checks.integer("q", q, -1)
    n = p // 2 + 1
    mu = [weight_moment(i, q + 1) for i in range(2 * n - 1)]
    system = sympy.Matrix(n, n, lambda j, k: mu[j + k])
    rhs = sympy.Matrix([1] + [0] * (n - 1))
    return tuple(sympy.Rational(c) for c in system.LUsolve(rhs))


def weight_moment(i: int, a: int) -> sympy.Rational:
    r"""The moment :math:`\mu_i = \int_{-1/2}^{1/2} t^{2i}(1-4t^2)^a\,dt`, exactly.

    With :math:`t = \sqrt v/2` it is the Beta integral :math:`2^{-2i-1} B(i + \tfrac12, a + 1)`,

    .. math::  \mu_i = \frac{a!}{2^{2i+1}\prod_{j=0}^{a}(i + j + \tfrac12)},

    a rational number (beyond the paper; sympy's symbolic integral gives the same, slower).
    """
    half = sympy.Rational(1, 2)
    return sympy.factorial(a) / (2 ** (2 * i + 1) * sympy.prod(i + j + half for j in range(a + 1)))


@dataclass(frozen=True)
class Kernel:
    r"""A kernel :math:`K \in \mathbb{K}^{p,q}`, callable on arrays.

    Attributes
    ----------
    p, q : int
        Vanishing moments and regularity index.
    coefficients : tuple of sympy.Rational
        Exact coefficients of :math:`P` (see :func:`kernel_coefficients`).
    """

    p: int
    q: int
    coefficients: tuple

    @functools.cached_property
    def _c(self) -> np.ndarray:
        return np.array([float(c) for c in self.coefficients])

    def expression(self) -> sympy.Expr:
        r"""The exact kernel :math:`P(t^2)(1-4t^2)^{q+1}` on :math:`[-1/2, 1/2]` as a sympy expression in ``hmm.kernels.T``."""
        poly = sum(c * T ** (2 * k) for k, c in enumerate(self.coefficients))
        return poly * (1 - 4 * T**2) ** (self.q + 1)

    def __call__(self, t) -> np.ndarray:
        r"""Evaluate :math:`K(t)`; zero outside :math:`[-1/2, 1/2]`.

        The weight is evaluated in the factored form
        :math:`((1-2|t|)(1+2|t|))^{q+1}`, accurate up to the support edge.
        """
        t = np.asarray(t, dtype=float)
        a = np.abs(t)
        inside = a <= 0.5
        u = np.where(inside, a, 0.5)
        value = np.polynomial.polynomial.polyval(u * u, self._c) * _weight(u, self.q + 1)
        return np.where(inside, value, 0.0)

    def derivative(self, t) -> np.ndarray:
        r"""Evaluate :math:`K'(t)` inside the support, zero outside.

        :math:`K' = 2t P'(t^2) w + P(t^2) w'` with :math:`w = (1-4t^2)^{q+1}`,
        :math:`w' = -8t (q+1) (1-4t^2)^q`. For ``q = -1`` the jumps of :math:`K`
        at :math:`\pm 1/2` are not included.
        """
        t = np.asarray(t, dtype=float)
        inside = np.abs(t) <= 0.5
        u = np.where(inside, t, 0.0)
        x = u * u
        poly = np.polynomial.polynomial.polyval(x, self._c)
        dpoly = np.polynomial.polynomial.polyval(x, np.polynomial.polynomial.polyder(self._c))
        a = self.q + 1
        value = 2 * u * dpoly * _weight(np.abs(u), a)
        if a > 0:
            value = value - 8 * u * a * poly * _weight(np.abs(u), a - 1)
        return np.where(inside, value, 0.0)

    @functools.cached_property
    def _full_polynomial(self) -> np.polynomial.Polynomial:
        """:math:`K` on its support as one polynomial in :math:`t` (float coefficients)."""
        expanded = sympy.Poly(sympy.expand(self.expression()), T)
        return np.polynomial.Polynomial([float(c) for c in expanded.all_coeffs()[::-1]])

    def fourier(self, w) -> np.ndarray:
        r"""The kernel's Fourier transform :math:`\hat K(w) = \int_{-1/2}^{1/2} K(t)\cos(2\pi w t)\,dt`.

        The averaging error of one harmonic :math:`e^{2\pi i k s}` of a 1-periodic function over
        a window :math:`\tau = \rho\varepsilon` is :math:`\hat K(k\rho)` times its amplitude
        (Lemma 1 for a single mode). With :math:`\kappa = 2\pi w` and :math:`K` a polynomial
        :math:`p` of degree :math:`d` on its support, integration by parts ends after
        :math:`d + 1` terms:

        .. math::  \hat K(w) = 2\sum_{j\ge 0} (-1)^j \left(\frac{p^{(2j)}(\tfrac12)\sin(\kappa/2)}{\kappa^{2j+1}}
                   + \frac{p^{(2j+1)}(\tfrac12)\cos(\kappa/2)}{\kappa^{2j+2}}\right),

        whose first nonzero terms, :math:`j` near :math:`(q+1)/2`, give the decay
        :math:`\kappa^{-(q+2)}` of Lemma 1. That sum is used for :math:`\kappa > 2d + 8`, where
        its terms decrease; below, Gauss-Legendre quadrature with 64 nodes, exact to round-off.
        What the flux quadrature on a micro grid applies instead is
        :func:`hmm.upscaling.grid_fourier`, which tends to this as the grid is refined.
        """
        w = np.abs(np.asarray(w, dtype=float))
        p = self._full_polynomial
        d = p.degree()
        kappa = 2 * np.pi * w
        x, weights = np.polynomial.legendre.leggauss(64)
        x, weights = 0.5 * x, 0.5 * weights
        small = kappa <= 2 * d + 8
        quad = np.cos(np.multiply.outer(np.where(small, kappa, 0.0), x)) @ (weights * p(x))
        k = np.where(small, 1.0, kappa)
        sin, cos = np.sin(0.5 * k), np.cos(0.5 * k)
        series = np.zeros_like(k)
        derivative = p
        for j in range(d + 1):
            value = derivative(0.5)
            term = (sin if j % 2 == 0 else cos) / k ** (j + 1)
            series += 2 * (-1) ** (j // 2) * value * term
            derivative = derivative.deriv()
        return np.where(small, quad, series)

    def scaled(self, tau: float):
        r"""Return the scaled kernel :math:`K_\tau(t) = K(t/\tau)/\tau` as a function of ``t``."""
        tau = _checks.positive("tau", tau)
        return lambda t: self(np.asarray(t, dtype=float) / tau) / tau

    def __repr__(self) -> str:
        return f"Kernel(p={self.p}, q={self.q})"


def kernel(p: int, q: int) -> Kernel:
    r"""Return the kernel :math:`K \in \mathbb{K}^{p,q}` of Section 2.2.

    Parameters
    ----------
    p : int
        Number of vanishing moments, ``p >= 0``.
    q : int
        :math:`K^{(q+1)}` is of bounded variation, ``q >= -1``.

    Returns
    -------
    Kernel
        Callable on arrays, with attributes ``p``, ``q``, ``coefficients`` and
        methods ``derivative``, ``scaled(tau)`` (:math:`K_\tau`) and ``expression``.

    Examples
    --------
    >>> K = kernel(1, -1)      # the constant kernel
    >>> float(K(0.3)), float(K(0.7))
    (1.0, 0.0)
    """
    p = _checks.integer("p", p, 0)
    q = _checks.integer("q", q, -1)
    return Kernel(p, q, kernel_coefficients(p, q))


def as_kernel(name: str, value) -> Kernel:
    """Return ``value``; it must be a :class:`Kernel` made by :func:`kernel`."""
    if not isinstance(value, Kernel):
        raise ValueError(f"{name} must be a hmm.Kernel from hmm.kernel(p, q), got {value!r}")
    return value


def _weight(a: np.ndarray, power: int) -> np.ndarray:
    """``((1 - 2a)(1 + 2a))**power`` for ``0 <= a <= 1/2``."""
    if power == 0:
        return np.ones_like(a)
    return ((1 - 2 * a) * (1 + 2 * a)) ** power
