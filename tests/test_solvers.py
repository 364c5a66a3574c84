"""solve_hmm, solve_dns, solve_averaged."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hmm
from hmm.measure import fit_loglog
from tests.conftest import averaged_slow

M0 = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)


@pytest.mark.parametrize("gamma", [0.0, 0.3, 1.0])
def test_dns_matches_solve_ivp(slow, gamma):
    eps, T = 0.05, 1.5
    t = np.linspace(0, T, 7)
    sol = hmm.solve_dns(slow, M0, T=T, eps=eps, gamma=gamma, beta=1.3, t_eval=t)

    def rhs(tt, m):
        return hmm.landau_lifshitz(m, slow(np.array(tt), np.array(tt / eps)), 1.3, gamma)

    ref = solve_ivp(rhs, (0, T), M0, method="DOP853", t_eval=t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sol.m, ref.y.T, atol=1e-9)
    assert np.abs(np.linalg.norm(sol.m, axis=1) - 1).max() < 1e-8


def test_dns_default_output_grid(circular):
    sol = hmm.solve_dns(circular, M0, T=0.5, eps=0.1)
    assert sol.t.shape == (1001,) and sol.m.shape == (1001, 3)
    assert sol.t[-1] == 0.5


def test_averaged_field_exact_for_trigonometric_field(squared):
    Hbar = hmm.averaged_field(squared, np.array([0.0, 1.0]))
    np.testing.assert_allclose(Hbar, [[0.5, 0.5, 1.0]] * 2, atol=1e-15)


def test_averaged_midpoint_is_second_order(slow):
    exact = hmm.solve_averaged(slow, M0, T=1.0, N=1).m[-1]
    errors = [
        np.linalg.norm(hmm.solve_averaged(slow, M0, T=1.0, N=n, macro="midpoint").m[-1] - exact)
        for n in (10, 20, 40)
    ]
    assert fit_loglog(1 / np.array([10, 20, 40]), errors).slope == pytest.approx(2, abs=0.1)


def test_averaged_matches_closed_form_precession():
    """Constant Hbar = [0, 0, 1], no damping: m rotates about z with unit rate."""

    def H(t, s):
        return np.stack([np.cos(2 * np.pi * s), np.zeros_like(s), np.ones_like(s)], -1)

    sol = hmm.solve_averaged(H, [1.0, 0.0, 0.0], T=1.0, N=4, gamma=0.0)
    # m' = -m x z = z x m: rotation counter-clockwise about z
    np.testing.assert_allclose(sol.m[:, 0], np.cos(sol.t), atol=1e-11)
    np.testing.assert_allclose(sol.m[:, 1], np.sin(sol.t), atol=1e-11)


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_hmm_tends_to_averaged_solution(slow, gamma):
    """HMM minus the discrete averaged solution (4.10) falls like eps at tau = 16 eps, where
    (eps/tau)^(q+2) is negligible (the first term of Theorems 2-3; it is O(eps), not O(tau))."""
    K = hmm.kernel(1, 7)
    errors = []
    for tau in (0.04, 0.02, 0.01):
        sol = hmm.solve_hmm(slow, M0, T=1.0, N=10, eps=tau / 16, tau=tau, kernel=K, gamma=gamma)
        ref = hmm.solve_averaged(slow, M0, T=1.0, N=10, gamma=gamma, macro="midpoint")
        errors.append(np.abs(sol.m - ref.m).max())
    assert errors[-1] < 1e-4
    assert fit_loglog([0.04, 0.02, 0.01], errors).slope == pytest.approx(1, abs=0.2)


def test_hmm_tracks_dns(circular):
    eps = 0.01
    sol = hmm.solve_hmm(circular, M0, T=2.0, N=10, eps=eps, tau=5 * eps, kernel=hmm.kernel(5, 4))
    dns = hmm.solve_dns(circular, M0, T=2.0, eps=eps, t_eval=sol.t)
    assert np.abs(sol.m - dns.m).max() < 0.05


def test_hmm_macro_step_is_converged(slow):
    """Each macro step satisfies (3.3) to the Newton tolerance."""
    K = hmm.kernel(5, 4)
    kw = dict(eps=0.01, tau=0.05, kernel=K)
    sol = hmm.solve_hmm(slow, M0, T=1.0, N=5, gamma=0.7, **kw)
    dt = 0.2
    for n in range(5):
        Mh = 0.5 * (sol.m[n] + sol.m[n + 1])
        F = hmm.upscaled_flux(slow, (n + 0.5) * dt, Mh, **kw)
        residual = sol.m[n + 1] - sol.m[n] - dt * F - 0.7 * dt * np.cross(Mh, F)
        assert np.abs(residual).max() < 1e-12


def test_hmm_projection_keeps_unit_length(circular):
    sol = hmm.solve_hmm(
        circular, M0, T=2.0, N=10, eps=0.01, tau=0.05, kernel=hmm.kernel(1, -1), project=True
    )
    np.testing.assert_allclose(np.linalg.norm(sol.m, axis=1), 1.0, atol=1e-14)


def test_hmm_nonconvergence_raises(circular):
    with pytest.raises(hmm.NonConvergenceError):
        hmm.solve_hmm(
            circular,
            M0,
            T=50.0,
            N=1,
            eps=0.01,
            tau=0.05,
            kernel=hmm.kernel(1, 7),
            gamma=5.0,
            max_iter=3,
        )


def test_hmm_cost_independent_of_eps(circular):
    counts = [
        hmm.solve_hmm(
            circular, M0, T=1.0, N=4, eps=eps, tau=5 * eps, kernel=hmm.kernel(5, 4)
        ).stats["field_evaluations"]
        for eps in (1e-2, 1e-4)
    ]
    assert counts[0] == counts[1]


def test_averaged_slow_field_reference(slow):
    np.testing.assert_allclose(hmm.averaged_field(slow, 0.7), averaged_slow(0.7), atol=1e-14)


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_gauss4_macro_scheme_is_fourth_order(slow, gamma):
    """macro="gauss4": the macro error (against a fine Gauss run with the same flux) falls like
    Dt^4; eps = 1e-7 so that the O(eps) flux term does not blur the macro error."""
    kw = dict(T=2.0, eps=1e-7, tau=2e-6, kernel=hmm.kernel(1, 7), gamma=gamma, macro="gauss4")
    ref = hmm.solve_hmm(slow, M0, N=256, **kw).m[-1]
    Ns = np.array([4, 8, 16])
    errors = [np.abs(hmm.solve_hmm(slow, M0, N=N, **kw).m[-1] - ref).max() for N in Ns]
    assert fit_loglog(1 / Ns, errors).slope == pytest.approx(4.0, abs=0.2)


def test_gauss4_averaged_solution_is_fourth_order(slow):
    exact = hmm.solve_averaged(slow, M0, T=1.0, N=1).m[-1]
    errors = [
        np.linalg.norm(hmm.solve_averaged(slow, M0, T=1.0, N=n, macro="gauss4").m[-1] - exact)
        for n in (4, 8, 16)
    ]
    assert fit_loglog(1 / np.array([4, 8, 16]), errors).slope == pytest.approx(4, abs=0.2)


def test_gauss4_keeps_length_of_a_skew_flux(circular):
    """Without damping the flux is (nearly) skew: Gauss-Legendre, like the midpoint rule,
    keeps |M| as well as the flux allows, and both agree to their macro errors."""
    kw = dict(T=2.0, N=10, eps=1e-3, tau=5.3e-3, kernel=hmm.kernel(1, 7), gamma=0.0)
    g4 = hmm.solve_hmm(circular, M0, macro="gauss4", **kw)
    mid = hmm.solve_hmm(circular, M0, **kw)
    assert np.abs(np.linalg.norm(g4.m, axis=1) - 1).max() < 1e-3
    assert np.abs(g4.m - mid.m).max() < 0.05
    assert g4.stats["micro_steps"] == 2 * mid.stats["micro_steps"]  # two flux windows a step
