"""Every bad input gets a ValueError that names the argument."""

import numpy as np
import pytest

import hmm

K = hmm.kernel(1, -1)
M = [0.0, 0.0, 1.0]


def good(t, s):
    return np.stack([np.cos(2 * np.pi * s), np.zeros_like(s), np.ones_like(s)], -1)


def wrong_shape(t, s):
    return np.ones(t.shape + (2,))


def nan_field(t, s):
    return np.full(t.shape + (3,), np.nan)


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
            lambda: hmm.upscaled_flux(good, 0.0, M, eps=0.1, tau=0.5, kernel=K, method="euler"),
            "method must be one of",
        ),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "N": 0}), "N must be an integer >= 1"),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "T": 0.0}), "T must be > 0"),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "eps": -1.0}), "eps must be > 0"),
        (lambda: hmm.solve_hmm(good, M, **{**HMM, "tau": 0.0}), "tau must be > 0"),
        (lambda: hmm.solve_hmm(good, [1, 2, 3, 4], **HMM), "M0 must have shape"),
        (lambda: hmm.solve_hmm(good, [np.inf, 0, 0], **HMM), "M0 must be finite"),
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
        (lambda: hmm.solve_averaged(good, M, T=1.0, N=2, method="rk4"), "method must be one of"),
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
