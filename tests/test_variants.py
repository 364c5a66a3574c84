"""Variants of the HMM beyond the paper: damping in the micro model, forward
window, projection, micro integrators; and their option checks."""

import numpy as np
import pytest

import hmm
from hmm.measure import fit_loglog
from hmm.micro import MicroSettings, damped_micro_states
from hmm.upscaling import damped_flux_batch

M0 = np.array([1.0, 0.0, 0.0])


def _e_hmm(H, sol, gamma):
    ref = hmm.solve_averaged(H, M0, T=sol.t[-1], N=len(sol.t) - 1, gamma=gamma, macro="midpoint")
    return np.abs(sol.m - ref.m).max()


def test_damped_micro_matches_solve_ivp(slow):
    """The damped micro states solve (1.2) on the window, forward and backward."""
    from scipy.integrate import solve_ivp

    eps, t_a, M, gamma = 0.02, 0.41, np.array([0.0, 0.6, 0.8]), 0.7
    for method in ("rk4", "midpoint"):
        s, m = hmm.solve_micro(
            slow, t_a, M, eps=eps, tau=0.1, micro_steps_per_eps=64, gamma=gamma, micro_method=method
        )

        def rhs(t, y):
            h = slow(np.array(t_a + t), np.array((t_a + t) / eps))
            return hmm.landau_lifshitz(y, h, 1.0, gamma)

        c = np.argmin(np.abs(s))
        for part in (slice(c, None), slice(c, None, -1)):
            ref = solve_ivp(rhs, (0.0, s[part][-1]), M, t_eval=s[part], rtol=1e-12, atol=1e-13)
            tol = 1e-9 if method == "rk4" else 1e-5
            assert np.abs(ref.y.T - m[part]).max() < tol


def test_damped_flux_with_zero_damping_is_the_linear_flux(squared):
    kw = dict(eps=0.01, tau=0.05, kernel=hmm.kernel(5, 4))
    t_a = np.array([0.3, 1.7])
    M = np.array([[0.6, 0.0, 0.8], [0.0, 1.0, 0.0]])
    micro = MicroSettings.checked(0.01, 0.05, kw["kernel"], 1.0, 32, "rk4", "centred", damped=True)
    F = damped_flux_batch(squared, t_a, M, micro, 0.0)
    A = hmm.flux_matrices(squared, t_a, **kw)
    np.testing.assert_allclose(F, np.einsum("bij,bj->bi", A, M), atol=1e-9)


def test_damped_flux_tends_to_averaged_right_hand_side(squared):
    """F_gamma(t, M) -> -M x Hbar - gamma M x (M x Hbar), error shrinking with eps."""
    M = np.array([0.6, 0.0, 0.8])
    Hbar = hmm.averaged_field(squared, 0.0)
    exact = hmm.landau_lifshitz(M, Hbar, 1.0, 1.0)
    errors = [
        np.abs(
            hmm.upscaled_flux(
                squared, 0.0, M, eps=eps, tau=5.3 * eps, kernel=hmm.kernel(1, 7), gamma=1.0
            )
            - exact
        ).max()
        for eps in (0.02, 0.01, 0.005)
    ]
    assert errors[-1] < 0.05
    assert errors[0] / errors[-1] > 3  # about O(eps)


def test_damping_in_micro_converges_to_averaged_solution(squared):
    """damping="micro": E_HMM -> 0 as eps -> 0 (tau = 5.3 eps; at least first order)."""
    kw = dict(T=2.0, N=8, kernel=hmm.kernel(1, 7), gamma=1.0, damping="micro")
    errors = [
        _e_hmm(squared, hmm.solve_hmm(squared, M0, eps=eps, tau=5.3 * eps, **kw), 1.0)
        for eps in (0.02, 0.005)
    ]
    assert errors[1] < 1e-4
    assert fit_loglog([0.02, 0.005], errors).slope > 1.0


def test_damping_micro_steps_satisfy_the_macro_scheme(circular):
    """Each step solves M_{n+1} = M_n + dt F_gamma(t_{n+1/2}, M_{n+1/2}) (form (3.1))."""
    kw = dict(eps=0.02, tau=0.1, kernel=hmm.kernel(5, 4))
    sol = hmm.solve_hmm(circular, M0, T=1.0, N=4, gamma=0.5, damping="micro", **kw)
    for n in range(4):
        Mh = 0.5 * (sol.m[n] + sol.m[n + 1])
        F = hmm.upscaled_flux(circular, (n + 0.5) * 0.25, Mh, gamma=0.5, **kw)
        assert np.abs(sol.m[n + 1] - sol.m[n] - 0.25 * F).max() < 1e-10


def test_forward_window_has_lower_order(circular):
    """Centred window: no visible tau term; forward window: error grows like tau."""
    eps, K = 1e-3, hmm.kernel(5, 4)
    err = {}
    for window in ("centred", "forward"):
        err[window] = [
            _e_hmm(
                circular,
                hmm.solve_hmm(circular, M0, T=2.0, N=10, eps=eps, tau=tau, kernel=K, window=window),
                1.0,
            )
            for tau in (0.02, 0.04)
        ]
    assert fit_loglog([0.02, 0.04], err["forward"]).slope == pytest.approx(1.0, abs=0.3)
    assert max(err["centred"]) < 0.1 * min(err["forward"])


@pytest.mark.parametrize("damping", ["macro", "micro"])
def test_projection_keeps_length_exactly(circular, damping):
    M = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    kw = dict(T=2.0, N=5, eps=0.02, tau=0.106, kernel=hmm.kernel(1, 7), damping=damping)
    plain = hmm.solve_hmm(circular, M, **kw)
    proj = hmm.solve_hmm(circular, M, project=True, **kw)
    assert np.abs(np.linalg.norm(plain.m, axis=1) - 1).max() > 1e-6  # the drift of Remark 7
    np.testing.assert_allclose(np.linalg.norm(proj.m, axis=1), 1.0, atol=1e-14)
    assert np.abs(proj.m - plain.m).max() < 1e-2  # projection is a small correction


def test_magnus4_needs_fewer_micro_steps(circular):
    """E_micro: midpoint is second order, magnus4 fourth (or better) in the micro step."""
    kw = dict(T=2.0, N=5, eps=0.01, tau=0.05, kernel=hmm.kernel(5, 4))
    ref = hmm.solve_hmm(circular, M0, micro_steps_per_eps=128, **kw)

    def e_micro(method, k):
        sol = hmm.solve_hmm(circular, M0, micro_steps_per_eps=k, micro_method=method, **kw)
        return np.abs(sol.m - ref.m).max()

    mid = [e_micro("midpoint", k) for k in (16, 32)]
    mag = [e_micro("magnus4", k) for k in (16, 32)]
    assert fit_loglog([1 / 16, 1 / 32], mid).slope == pytest.approx(2.0, abs=0.4)
    assert fit_loglog([1 / 16, 1 / 32], mag).slope > 3.5
    assert e_micro("magnus4", 8) < mid[0]  # half the steps of midpoint, smaller error


def test_damped_micro_states_shapes(circular):
    for window, start in (("centred", -0.025), ("forward", 0.0)):
        micro = MicroSettings.checked(0.01, 0.05, None, 1.0, 8, None, window, damped=True)
        s, m = damped_micro_states(
            circular, np.array([0.1, 0.2, 0.3]), np.tile(M0, (3, 1)), micro, 1.0
        )
        assert m.shape == (3, len(s), 3)
        assert s[0] == pytest.approx(start)
        np.testing.assert_allclose(m[:, np.argmin(np.abs(s))], np.tile(M0, (3, 1)))


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(damping="both"), "damping"),
        (dict(damping=None), "damping"),
        (dict(window="backward"), "window"),
        (dict(micro_method="rk2"), "micro_method"),
        (dict(micro_method="rk2", damping="micro"), "micro_method"),
        (dict(micro_method="magnus4", damping="micro"), "micro_method='magnus4' needs the linear"),
        (dict(micro_method="rk4"), "micro_method"),
        (dict(macro="euler"), "macro must be one of"),
        (dict(project="yes"), "project"),
        (dict(gamma=-1.0, damping="micro"), "gamma"),
        (dict(micro_steps_per_eps=0, damping="micro"), "steps_per_eps"),
    ],
)
def test_bad_options_raise(circular, kwargs, name):
    base = dict(T=1.0, N=2, eps=0.01, tau=0.05, kernel=hmm.kernel(1, 7))
    with pytest.raises(ValueError, match=name):
        hmm.solve_hmm(circular, M0, **{**base, **kwargs})


def test_bad_micro_damping_raises(circular):
    with pytest.raises(ValueError, match="gamma"):
        hmm.solve_micro(circular, 0.0, M0, eps=0.01, tau=0.05, gamma=-0.1)
    with pytest.raises(ValueError, match="gamma"):
        hmm.upscaled_flux(
            circular, 0.0, M0, eps=0.01, tau=0.05, kernel=hmm.kernel(1, 7), gamma=np.nan
        )
    with pytest.raises(ValueError, match="M must have shape"):
        hmm.upscaled_flux(
            circular, 0.0, np.zeros(2), eps=0.01, tau=0.05, kernel=hmm.kernel(1, 7), gamma=1.0
        )
    with pytest.raises(ValueError, match="kernel"):
        hmm.upscaled_flux(circular, 0.0, M0, eps=0.01, tau=0.05, kernel=None, gamma=1.0)
