"""Every bad input gets a ValueError that names the argument."""

import numpy as np
import pytest

import hmm
from hmm.upscaling import grid_fourier

K = hmm.kernel(1, -1)
M = [0.0, 0.0, 1.0]


def good(t, s):
    return np.stack([np.cos(2 * np.pi * s), np.zeros_like(s), np.ones_like(s)], -1)


def wrong_shape(t, s):
    return np.ones(t.shape + (2,))


def nan_field(t, s):
    return np.full(t.shape + (3,), np.nan)


def complex_field(t, s):
    return good(t, s) + 0j


HMM = dict(T=1.0, N=4, eps=0.1, tau=0.5, kernel=K)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: hmm.kernel(-1, 0), "p must be an integer >= 0"),
        (lambda: hmm.kernel(2, -2), "q must be an integer >= -1"),
        (lambda: hmm.kernel(2.5, 1), "p must be an integer"),
        (lambda: hmm.kernel(True, 1), "p must be an integer"),
        (lambda: hmm.kernel(1, -1).scaled(0), "tau must be > 0"),
        (lambda: hmm.upscaled_flux(good, 0.0, M, eps=0, tau=0.5, kernel=K), "eps must be > 0"),
        (lambda: hmm.upscaled_flux(good, 0.0, M, eps=0.1, tau=-1, kernel=K), "tau must be > 0"),
        (
            lambda: hmm.upscaled_flux(good, 0.0, [1, 0], eps=0.1, tau=0.5, kernel=K),
            "M must have shape",
        ),
        (
            lambda: hmm.upscaled_flux(good, 0.0, [1, np.nan, 0], eps=0.1, tau=0.5, kernel=K),
            "M must be finite",
        ),
        (
            lambda: hmm.upscaled_flux(good, np.inf, M, eps=0.1, tau=0.5, kernel=K),
            "t_a must be finite",
        ),
        (lambda: hmm.upscaled_flux(good, 0.0, M, eps=0.1, tau=0.5, kernel="K"), "kernel must be"),
        (lambda: hmm.upscaled_flux(wrong_shape, 0.0, M, eps=0.1, tau=0.5, kernel=K), "H\\(t, s\\)"),
        (lambda: hmm.upscaled_flux(nan_field, 0.0, M, eps=0.1, tau=0.5, kernel=K), "finite values"),
        (lambda: hmm.upscaled_flux(42, 0.0, M, eps=0.1, tau=0.5, kernel=K), "H must be a callable"),
        (
            lambda: hmm.upscaled_flux(
                good, 0.0, M, eps=0.1, tau=0.5, kernel=K, micro_method="euler"
            ),
            "micro_method must be one of",
        ),
        (
            lambda: hmm.flux_matrices(good, 0.0, eps=0.1, tau=0.5, kernel=K, quadrature="parts"),
            "quadrature='parts' needs a kernel that vanishes at \\+-1/2 \\(q >= 0\\)",
        ),
        (
            lambda: hmm.upscaled_flux(good, 0.0, M, eps=0.1, tau=0.5, kernel=K, quadrature="trap"),
            "quadrature must be one of",
        ),
        (lambda: hmm.solve_hmm(good, M, **HMM, quadrature="parts"), "quadrature='parts' needs"),
        (lambda: grid_fourier(K, 1.0, rho=0.0, micro_steps_per_eps=4), "rho must be > 0"),
        (lambda: grid_fourier(K, 1.0, rho=2.0, micro_steps_per_eps=0), "steps_per_eps must be"),
        (lambda: grid_fourier(K, np.nan, rho=2.0, micro_steps_per_eps=4), "nu must be finite"),
        (
            lambda: grid_fourier(K, 1.0, rho=2.0, micro_steps_per_eps=4, quadrature="parts"),
            "q >= 0",
        ),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "N": 0}), "N must be an integer >= 1"),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "T": 0.0}), "T must be > 0"),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "eps": -1.0}), "eps must be > 0"),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "tau": 0.0}), "tau must be > 0"),
        (lambda: hmm.solve_hmm(good, [1, 2, 3, 4], **HMM), "m0 must have shape"),
        (lambda: hmm.solve_hmm(good, [np.inf, 0, 0], **HMM), "m0 must be finite"),
        (lambda: hmm.solve_hmm(good, [0, 0, 0], **HMM), "m0 must be a unit vector.*no direction"),
        (lambda: hmm.solve_hmm(good, [2, 0, 0], **HMM), "m0 must be a unit vector, got length 2"),
        (lambda: hmm.solve_dns(good, [0, 0, 2], T=1.0, eps=0.1), "m0 must be a unit vector"),
        (lambda: hmm.solve_averaged(good, [0, 0, 0], T=1.0, N=2), "m0 must be a unit vector"),
        (lambda: hmm.averaged_start(good, [0, 3, 0], eps=0.1), "m0 must be a unit vector"),
        (lambda: hmm.solve_hmm(good, M, **HMM, gamma=-1.0), "gamma must be >= 0"),
        (lambda: hmm.solve_hmm(good, M, **HMM, beta=0.0), "beta must be > 0"),
        (lambda: hmm.solve_hmm(nan_field, M, **HMM), "finite values"),
        (lambda: hmm.solve_hmm(wrong_shape, M, **HMM), "H\\(t, s\\)"),
        (lambda: hmm.solve_dns(good, M, T=0.0, eps=0.1), "T must be > 0"),
        (lambda: hmm.solve_dns(good, M, T=1.0, eps=0.0), "eps must be > 0"),
        (lambda: hmm.solve_dns(good, [0, 1], T=1.0, eps=0.1), "m0 must have shape"),
        (lambda: hmm.solve_dns(nan_field, M, T=1.0, eps=0.1), "finite values"),
        (lambda: hmm.solve_dns(wrong_shape, M, T=1.0, eps=0.1), "H\\(t, s\\)"),
        (lambda: hmm.solve_dns(good, M, T=1.0, eps=0.1, t_eval=[0.5, 2.0]), "t_eval must be"),
        (lambda: hmm.solve_averaged(good, M, T=1.0, N=0), "N must be an integer >= 1"),
        (lambda: hmm.solve_averaged(good, M, T=-1.0, N=2), "T must be > 0"),
        (lambda: hmm.solve_averaged(nan_field, M, T=1.0, N=2), "finite values"),
        (lambda: hmm.solve_averaged(good, M, T=1.0, N=2, macro="rk4"), "macro must be one of"),
        # complex input is refused, not cast to real with a warning
        (lambda: hmm.solve_dns(complex_field, M, T=1.0, eps=0.1), "must return real numbers"),
        (lambda: hmm.solve_hmm(complex_field, M, **HMM), "must return real numbers"),
        (lambda: hmm.solve_averaged(complex_field, M, T=1.0, N=2), "must return real numbers"),
        (lambda: hmm.solve_hmm(good, [1j, 0, 0], **HMM), "m0 must hold real numbers"),
        # work beyond the documented limit (hmm.MAX_WORK) is refused up front, naming the argument
        (
            lambda: hmm.solve_dns(good, M, T=1.0, eps=1e-9),
            r"eps = 1e-09.*6.4e\+10 spin steps.*max_work",
        ),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "N": 10**9}), r"N = 1000000000.*max_work=\d+"),
        (lambda: hmm.solve_averaged(good, M, T=1.0, N=10**9), "N = 1000000000.*max_work"),
        (
            lambda: hmm.upscaled_flux(good, 0.0, M, eps=1e-9, tau=1.0, kernel=K),
            "upscaled_flux.*tau / eps",
        ),
        (lambda: hmm.solve_micro(good, 0.0, M, eps=1e-9, tau=1.0), "solve_micro.*max_work"),
        (
            lambda: hmm.flux_matrices(good, np.zeros(10**7), eps=0.1, tau=0.5, kernel=K),
            r"flux_matrices.*1e\+07 micro windows",
        ),
        (
            lambda: hmm.solve_dns(good, M, T=1.0, eps=0.1, max_work=0),
            "max_work must be an integer >= 1",
        ),
        (
            lambda: hmm.solve_dns(good, M, T=1.0, eps=0.1, max_work=10),
            "raise eps, lower T or dns_steps_per_eps",
        ),
    ],
)
def test_value_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_field_nan_late_in_time_is_caught():
    def late_nan(t, s):
        out = good(t, s)
        out[t > 0.5] = np.nan
        return out

    with pytest.raises(ValueError, match="finite values"):
        hmm.solve_dns(late_nan, M, T=1.0, eps=0.1)
    with pytest.raises(ValueError, match="finite values"):
        hmm.solve_hmm(late_nan, M, **HMM)


def test_max_work_can_be_raised():
    """The limit is a default: a caller who means it passes max_work."""
    with pytest.raises(ValueError, match="max_work"):
        hmm.solve_dns(good, M, T=1.0, eps=0.1, max_work=100)
    sol = hmm.solve_dns(good, M, T=1.0, eps=0.1, max_work=1000)
    assert sol.stats["spin_steps"] <= 1000


def test_chain_work_limits():
    m0 = np.tile([0.0, 0.0, 1.0], (10, 1))
    with pytest.raises(ValueError, match="chain solve_dns with eps = 1e-09.*max_work"):
        hmm.chain.solve_dns(good, m0, T=1.0, eps=1e-9, J=1.0)
    with pytest.raises(ValueError, match="N = 1000000000.*max_work"):
        hmm.chain.solve_hmm(good, m0, T=1.0, N=10**9, eps=0.1, tau=0.5, kernel=K, r=2, ell=3, J=1.0)
