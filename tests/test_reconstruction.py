"""hmm.reconstruction: m^eps back from an HMM solution; the lift and drift options of solve_hmm."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hmm
from hmm import fields
from hmm.averaging import missing_drift_from, missing_drift_jacobian
from hmm.macro import interpolate_stages
from hmm.measure import fit_loglog
from hmm.micro import MicroSettings
from hmm.upscaling import flux_matrix_batch, restricted_flux_matrix_batch

M0 = fields.FIG54_M0
EZ = np.array([0.0, 0.0, 1.0])


def test_corrector_is_m1_of_the_paper_for_its_tail_problem(circular):
    """(4.6) for the field of Sec. 5.1 from M = e_z (the tail chapter): eps m1(t/eps) = eps u(t) - eps u(0)."""
    eps = 0.01
    t = np.linspace(0.0, 1.0, 37)
    theta = t / eps
    integral = np.stack(
        [
            (1 - np.cos(2 * np.pi * theta)) / (2 * np.pi),
            np.sin(2 * np.pi * theta) / (2 * np.pi),
            theta,
        ],
        -1,
    )  # int_0^theta H(sigma) d sigma
    eps_m1 = -eps * np.cross(EZ, integral)
    u = hmm.corrector(circular, t, EZ, eps=eps, gamma=0.0)
    np.testing.assert_allclose(u - u[0], eps_m1, atol=1e-15)


def test_corrector_is_oscillating_part_of_m1(slow):
    """(4.6) solved numerically, any M, slow time frozen at t_a: m1 = -theta M x Hbar + u(theta) - u(0)."""
    t_a, M, beta = 0.7, np.array([0.6, -0.48, 0.64]), 1.0
    Hbar = hmm.averaged_field(slow, t_a)
    theta = np.linspace(0.0, 3.3, 23)
    m1 = solve_ivp(
        lambda th, y: -beta * np.cross(M, slow(np.array(t_a), np.array(th))),
        (0.0, theta[-1]),
        np.zeros(3),
        t_eval=theta,
        rtol=1e-12,
        atol=1e-14,
    ).y.T
    G = hmm.fast_antiderivative(slow, t_a, theta)
    u = -beta * np.cross(M, G)
    np.testing.assert_allclose(m1, -theta[:, None] * np.cross(M, Hbar) + u - u[0], atol=1e-10)


def test_fast_antiderivative_has_zero_mean_and_derivative_h1(slow):
    t = np.array([0.0, 0.4, 1.3])[:, None]
    s = np.linspace(0.0, 1.0, 65)[None, :-1]
    G = hmm.fast_antiderivative(slow, t, s)
    np.testing.assert_allclose(G.mean(axis=1), 0.0, atol=1e-15)
    h = 1e-5
    dG = (hmm.fast_antiderivative(slow, t, s + h) - hmm.fast_antiderivative(slow, t, s - h)) / (
        2 * h
    )
    H1 = slow(*np.broadcast_arrays(t, s)) - hmm.averaged_field(slow, t)
    np.testing.assert_allclose(dG, H1, atol=1e-9)


def test_drift_vector_of_known_fields(circular, squared, slow):
    """c = sum_k a_k x b_k / (4 pi k): -e_z/(4 pi) for Fig. 5.3 left, 0 for a collinear H1."""
    t = np.array([0.0, 0.9, 2.0])
    np.testing.assert_allclose(
        hmm.drift_vector(circular, t), np.tile(-EZ / (4 * np.pi), (3, 1)), atol=1e-16
    )
    np.testing.assert_allclose(hmm.drift_vector(squared, t), 0.0, atol=1e-16)
    # field_slow: a_1 = [1, sin t, 0], b_1 = [0, 0, 0.2]; the k = 2 term has a_2 = 0
    expected = np.stack([0.2 * np.sin(t), np.full(3, -0.2), np.zeros(3)], -1) / (4 * np.pi)
    np.testing.assert_allclose(hmm.drift_vector(slow, t), expected, atol=1e-16)


def test_second_order_drift_is_paper_part_plus_missing_part(slow):
    t, M, beta, gamma = 0.4, np.array([0.3, 0.5, -0.8]), 1.3, 0.7
    c = hmm.drift_vector(slow, t)
    Mxc = np.cross(M, c)
    paper = beta**2 * Mxc + beta * gamma * np.cross(M, Mxc)
    f1 = hmm.second_order_drift(slow, t, M, beta=beta, gamma=gamma)
    missing = hmm.missing_drift(slow, t, M, beta=beta, gamma=gamma)
    np.testing.assert_allclose(f1, paper + missing, atol=1e-16)
    assert np.abs(hmm.missing_drift(slow, t, M, beta=beta, gamma=0.0)).max() == 0.0


def test_missing_drift_jacobian_matches_differences():
    c, M, beta, gamma = np.array([0.2, -0.1, 0.4]), np.array([0.3, 0.5, -0.8]), 1.3, 0.7
    d = 1e-6
    J = np.stack(
        [
            (
                missing_drift_from(c, M + d * e, beta, gamma)
                - missing_drift_from(c, M - d * e, beta, gamma)
            )
            / (2 * d)
            for e in np.eye(3)
        ],
        -1,
    )
    np.testing.assert_allclose(missing_drift_jacobian(c, M, beta, gamma), J, atol=1e-9)


@pytest.mark.parametrize("gamma", [0.0, 1.0])
def test_averaged_start_is_the_fixed_point(circular, gamma):
    eps = 0.02
    M = hmm.averaged_start(circular, M0, eps=eps, gamma=gamma)
    back = M + hmm.corrector(circular, 0.0, M, eps=eps, gamma=gamma)
    np.testing.assert_allclose(back, M0, atol=1e-15)
    assert 1e-3 < np.abs(M - M0).max() < 2 * eps  # an O(eps) shift


def test_lifted_flux_has_the_second_order_drift_of_the_paper_model(circular):
    """(3.2) with the restriction lift = f0 + eps f1^(3.2) + O(eps^2) at every phase; unlifted: O(eps)."""
    M, gamma = np.array([0.6, -0.48, 0.64]), 1.0
    errors = {"lifted": [], "paper": []}
    for eps in (0.02, 0.01):
        micro = MicroSettings.checked(eps, 20 * eps, hmm.kernel(1, 7), 1.0, 16, None, "centred")
        t_a = 0.3 + eps * np.array([0.1, 0.37, 0.73])  # three phases
        Hbar = hmm.averaged_field(circular, t_a)
        c = hmm.drift_vector(circular, t_a)
        Mxc = np.cross(M, c)
        target = hmm.landau_lifshitz(M, Hbar, 1.0, gamma) + eps * (Mxc + gamma * np.cross(M, Mxc))
        for key, batch in (("lifted", restricted_flux_matrix_batch), ("paper", flux_matrix_batch)):
            F = batch(circular, t_a, micro) @ M
            rhs = hmm.macro_scheme.macro_rhs(F, M, gamma)
            errors[key].append(np.abs(rhs - target).max())
    assert fit_loglog([0.02, 0.01], errors["lifted"]).slope == pytest.approx(2, abs=0.2)
    assert errors["paper"][1] > 100 * errors["lifted"][1]


def test_node_derivatives_are_the_macro_model_at_the_nodes(circular):
    eps, gamma, T, N = 0.01, 1.0, 2.0, 10
    kw = dict(eps=eps, tau=20 * eps, kernel=hmm.kernel(1, 7))
    sol = hmm.solve_hmm(
        circular, M0, T=T, N=N, macro="gauss4", lift="restriction", drift="second_order", **kw
    )
    micro = MicroSettings.checked(eps, 20 * eps, kw["kernel"], 1.0, 32, None, "centred")
    A = restricted_flux_matrix_batch(circular, sol.t, micro)
    F = np.einsum("nij,nj->ni", A, sol.m)
    exact = hmm.macro_scheme.macro_rhs(F, sol.m, gamma) + eps * hmm.missing_drift(
        circular, sol.t, sol.m
    )
    assert np.abs(sol.dmdt - exact).max() < 1e-5
    midpoint = hmm.solve_hmm(circular, M0, T=T, N=N, **kw)
    assert midpoint.dmdt.shape == (N + 1, 3)
    damped = hmm.solve_hmm(circular, M0, T=T, N=2, damping="micro", **kw)
    assert damped.dmdt is None


def test_interpolate_stages_is_cubic():
    t_stage = np.sort(np.random.default_rng(1).uniform(0, 1, (5, 2)), axis=None).reshape(5, 2)
    values = np.stack([1 + t_stage**3, t_stage - 2 * t_stage**2], -1)
    t = np.linspace(0, 1, 7)
    np.testing.assert_allclose(
        interpolate_stages(t_stage, values, t), np.stack([1 + t**3, t - 2 * t**2], -1), atol=1e-12
    )


def test_dense_output_order():
    """Cubic Hermite with dmdt: fourth order between the nodes; linear without: second order."""

    def errors(N, with_derivatives):
        t = np.linspace(0.0, 2.0, N + 1)
        m = np.stack([np.cos(t), np.sin(t), t**2], -1)
        dmdt = np.stack([-np.sin(t), np.cos(t), 2 * t], -1) if with_derivatives else None
        sol = hmm.Solution(t, m, dmdt=dmdt)
        tq = np.linspace(0.0, 2.0, 301)
        exact = np.stack([np.cos(tq), np.sin(tq), tq**2], -1)
        return np.abs(hmm.dense_output(sol, tq) - exact).max()

    h = 2.0 / np.array([8, 16])
    assert fit_loglog(h, [errors(8, True), errors(16, True)]).slope == pytest.approx(4, abs=0.2)
    assert fit_loglog(h, [errors(8, False), errors(16, False)]).slope == pytest.approx(2, abs=0.2)
    sol = hmm.Solution(np.array([0.0, 1.0]), np.array([[1.0, 0, 0], [0, 1.0, 0]]))
    np.testing.assert_array_equal(hmm.dense_output(sol, [0.0, 1.0]), sol.m)


def test_reconstruct_is_second_order_in_eps(slow):
    """reconstruct(...) against solve_dns, pointwise at generic times: slope 2 in eps
    (lift, second-order drift, averaged start); the paper's HMM plus corrector: O(eps)."""
    T, gamma = 1.0, 0.5
    t_out = T * (np.arange(1, 6) - 0.381966) / 5
    eps_values = np.array([1e-2, 10**-2.5, 1e-3])
    errors, paper = [], None
    for eps in eps_values:
        dns = hmm.solve_dns(slow, M0, T=T, eps=eps, gamma=gamma, t_eval=t_out, dns_steps_per_eps=32)
        kw = dict(T=T, N=16, eps=eps, tau=20 * eps, kernel=hmm.kernel(1, 7), gamma=gamma)
        kw.update(macro="gauss4", micro_steps_per_eps=16)
        start = hmm.averaged_start(slow, M0, eps=eps, gamma=gamma)
        sol = hmm.solve_hmm(slow, start, lift="restriction", drift="second_order", **kw)
        m = hmm.reconstruct(sol, slow, t_out, eps=eps, gamma=gamma)
        errors.append(np.linalg.norm(m - dns.m, axis=1).max())
        if eps == eps_values[-1]:
            plain = hmm.reconstruct(
                hmm.solve_hmm(slow, M0, **kw), slow, t_out, eps=eps, gamma=gamma
            )
            paper = np.linalg.norm(plain - dns.m, axis=1).max()
    assert fit_loglog(eps_values, errors).slope == pytest.approx(2.0, abs=0.2)
    assert errors[-1] < 3 * eps_values[-1] ** 2  # err/eps^2 = 1.5 for this field
    assert paper > 10 * errors[-1]  # O(eps): 30 eps^2 at eps = 1e-3


# Golden results of main before the lift and drift options (commit c980add), bit for bit; the
# gauss4 case counts one Newton matrix a fresh Jacobian (it counted both stages before issue 18).
GOLDEN = [
    (
        dict(H=fields.fig51_left, T=2 * np.pi, N=20, eps=0.01, tau=0.05, kernel=(5, 4), gamma=1.0),
        [0.005597894052844849, 0.003026449923280646, 1.0000627058988334],
        dict(
            field_evaluations=9620, steps=20, micro_steps=3200, newton_iterations=66, jacobians=66
        ),
    ),
    (
        dict(
            H=fields.fig53_right,
            T=1.0,
            N=6,
            eps=0.02,
            tau=0.106,
            kernel=(1, 7),
            gamma=0.3,
            macro="gauss4",
        ),
        [0.2868957828512286, 0.5987026496082619, 0.7478418432735534],
        dict(field_evaluations=6132, steps=6, micro_steps=2040, newton_iterations=18, jacobians=18),
    ),
    (
        dict(
            H=fields.fig51_left,
            T=1.0,
            N=4,
            eps=0.02,
            tau=0.1,
            kernel=(5, 4),
            gamma=0.5,
            damping="micro",
        ),
        [-0.12160328840584733, 0.5603454908011264, 0.8193637031634756],
        dict(
            field_evaluations=52538, steps=4, micro_steps=17440, newton_iterations=15, jacobians=15
        ),
    ),
]


@pytest.mark.parametrize("case, m_end, stats", GOLDEN)
def test_defaults_unchanged(case, m_end, stats):
    """solve_hmm without the new options gives the results from before them, and the same counts.

    Bit for bit on the machine that recorded them; to 1e-12 here, because another SIMD path or
    libm (``make test-portable``) moves the last bits.
    """
    case = dict(case)
    H, kernel = case.pop("H"), hmm.kernel(*case.pop("kernel"))
    for extra in ({}, dict(lift="none", drift="paper")):
        sol = hmm.solve_hmm(H, M0, kernel=kernel, **case, **extra)
        np.testing.assert_allclose(sol.m[-1], m_end, rtol=1e-12, atol=1e-14)
        assert {key: sol.stats[key] for key in stats} == stats


HMM = dict(T=1.0, N=2, eps=0.01, tau=0.05, kernel=hmm.kernel(1, 7))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda H: hmm.solve_hmm(H, M0, lift="corrector", **HMM), "lift must be one of"),
        (lambda H: hmm.solve_hmm(H, M0, drift="exact", **HMM), "drift must be one of"),
        (lambda H: hmm.solve_hmm(H, M0, drift="second_order", n_quad=2, **HMM), "n_quad must be"),
        (
            lambda H: hmm.solve_hmm(H, M0, lift="restriction", damping="micro", **HMM),
            "damping='micro'",
        ),
        (
            lambda H: hmm.solve_hmm(H, M0, drift="second_order", damping="micro", **HMM),
            "damping='micro'",
        ),
        (lambda H: hmm.corrector(H, 0.0, M0, eps=0.0), "eps must be > 0"),
        (lambda H: hmm.corrector(H, 0.0, M0, eps=0.1, beta=0.0), "beta must be > 0"),
        (lambda H: hmm.corrector(H, 0.0, M0, eps=0.1, gamma=-1.0), "gamma must be >= 0"),
        (lambda H: hmm.corrector(H, 0.0, [1.0, 0.0], eps=0.1), r"M must have shape \(\.\.\., 3\)"),
        (lambda H: hmm.corrector(H, np.nan, M0, eps=0.1), "t must be a finite real array"),
        (lambda H: hmm.corrector(H, 0.0, [np.inf, 0, 0], eps=0.1), "M must be a finite"),
        (lambda H: hmm.corrector(H, 0.0, M0, eps=0.1, n_quad=3), "n_quad must be an integer >= 4"),
        (lambda H: hmm.corrector(42, 0.0, M0, eps=0.1), "H must be a callable"),
        (lambda H: hmm.averaged_start(H, [1.0, 0.0], eps=0.1), "m0 must have shape"),
        (lambda H: hmm.averaged_start(H, M0, eps=-0.1), "eps must be > 0"),
        (lambda H: hmm.drift_vector(H, "now"), "t must be a finite real array"),
        (lambda H: hmm.fast_antiderivative(H, 0.0, [0.0, np.nan]), "s must be a finite"),
        (lambda H: hmm.missing_drift(H, 0.0, M0, gamma=np.nan), "gamma must be finite"),
        (lambda H: hmm.second_order_drift(H, 0.0, np.zeros(4)), "M must have shape"),
        (lambda H: hmm.reconstruct("sol", H, 0.5, eps=0.01), "sol must be a single-spin"),
        (
            lambda H: hmm.reconstruct(
                hmm.Solution(np.zeros(1), np.zeros((1, 3))), H, 0.0, eps=0.01
            ),
            "sol must be a single-spin",
        ),
        (
            lambda H: hmm.reconstruct(hmm.solve_hmm(H, M0, **HMM), H, 1.5, eps=0.01),
            r"t must lie in \[0, 1\]",
        ),
        (
            lambda H: hmm.reconstruct(hmm.solve_hmm(H, M0, **HMM), H, 0.5, eps=0.0),
            "eps must be > 0",
        ),
        (
            lambda H: hmm.dense_output(hmm.Solution(np.zeros(2), np.zeros((2, 4, 3))), 0.0),
            "single-spin",
        ),
    ],
)
def test_value_errors(circular, call, match):
    with pytest.raises(ValueError, match=match):
        call(circular)


def test_averaged_start_refuses_a_large_eps():
    def strong(t, s):
        return 50.0 * fields.fig51_left(t, s)

    with pytest.raises(hmm.NonConvergenceError, match="averaged_start"):
        hmm.averaged_start(strong, M0, eps=0.5)
