"""Micro problem (3.6) and upscaled flux (3.7)."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hmm
from hmm import fields
from hmm.ll_equation import cayley_rotation, cross_matrix, exp_rotation
from hmm.measure import fit_loglog
from hmm.micro import cumulative_product
from hmm.upscaling import grid_fourier
from tests.conftest import averaged_slow


def test_rotations_are_orthogonal_and_match_midpoint():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 3))
    for R in (cayley_rotation(a), exp_rotation(a)):
        np.testing.assert_allclose(
            R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-14
        )
    # Cayley = (I - A)^-1 (I + A): one midpoint step of m' = a x m / (dt/2)
    A = cross_matrix(a)
    np.testing.assert_allclose(
        cayley_rotation(a), np.linalg.solve(np.eye(3) - A, np.eye(3) + A), atol=1e-13
    )


def test_exp_rotation_small_angle_branch():
    w = np.array([[1e-6, -2e-6, 3e-7], [1e-3, 0.0, 0.0]])
    from scipy.linalg import expm

    for wi, R in zip(w, exp_rotation(w), strict=True):
        np.testing.assert_allclose(R, expm(cross_matrix(wi)), atol=1e-15)


def test_cumulative_product_matches_loop():
    rng = np.random.default_rng(1)
    R = exp_rotation(rng.normal(size=(2, 13, 3)))
    P = cumulative_product(R)
    for b in range(2):
        acc = np.eye(3)
        for j in range(13):
            acc = R[b, j] @ acc
            np.testing.assert_allclose(P[b, j], acc, atol=1e-13)


@pytest.mark.parametrize("method", ["magnus4", "midpoint"])
def test_micro_preserves_length(circular, method):
    s, m = hmm.solve_micro(circular, 0.37, [0.6, 0.0, 0.8], eps=1e-3, tau=5e-3, micro_method=method)
    assert np.abs(np.linalg.norm(m, axis=1) - 1).max() < 1e-13
    assert m[np.argmin(np.abs(s))] == pytest.approx([0.6, 0.0, 0.8])


@pytest.mark.parametrize("window", ["centred", "forward"])
def test_micro_matches_solve_ivp(slow, window):
    eps, t_a, M = 0.02, 0.41, np.array([0.0, 0.6, 0.8])
    s, m = hmm.solve_micro(slow, t_a, M, eps=eps, tau=0.1, micro_steps_per_eps=64, window=window)

    def rhs(t, y):
        return -np.cross(y, slow(np.array(t_a + t), np.array((t_a + t) / eps)))

    for end, m_end in ((s[-1], m[-1]), (s[0], m[0])):
        if end == 0:
            continue
        ref = solve_ivp(rhs, (0, end), M, method="DOP853", rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(m_end, ref.y[:, -1], atol=1e-9)


@pytest.mark.parametrize("method,order", [("magnus4", 4), ("midpoint", 2)])
def test_micro_order_in_step(slow, method, order):
    eps, t_a, M = 0.05, 0.2, np.array([1.0, 0.0, 0.0])
    ends = [
        hmm.solve_micro(
            slow, t_a, M, eps=eps, tau=0.25, micro_steps_per_eps=n, micro_method=method
        )[1][-1]
        for n in (8, 16, 32, 64)
    ]
    errors = [np.linalg.norm(e - ends[-1]) for e in ends[:-1]]
    assert fit_loglog(1 / np.array([16, 32]), errors[1:]).slope == pytest.approx(order, abs=0.35)


def test_flux_is_linear_in_M(slow):
    K = hmm.kernel(3, 2)
    kw = dict(eps=0.01, tau=0.05, kernel=K)
    A = hmm.flux_matrices(slow, 0.3, **kw)
    rng = np.random.default_rng(2)
    for M in rng.normal(size=(3, 3)):
        np.testing.assert_allclose(hmm.upscaled_flux(slow, 0.3, M, **kw), A @ M, atol=1e-14)


def test_flux_error_is_first_order_in_eps_at_fixed_ratio(slow):
    """Theorem 1 with tau = 16 eps and q = 7 ((eps/tau)^(q+2) negligible): the error falls like
    eps (tau and eps shrink together, so this cannot tell tau from eps; see the next tests)."""
    K = hmm.kernel(1, 7)
    M = np.array([0.48, 0.6, 0.64])
    t_a = 0.5
    target = -np.cross(M, averaged_slow(t_a))
    eps = np.array([0.04, 0.02, 0.01, 0.005]) / 16
    errors = [
        np.linalg.norm(hmm.upscaled_flux(slow, t_a, M, eps=e, tau=16 * e, kernel=K) - target)
        for e in eps
    ]
    assert fit_loglog(eps, errors).slope == pytest.approx(1.0, abs=0.1)


PHASES = np.arange(8) / 8


def _flux_errors(eps, tau, M, window):
    """Error vectors F(t_a, M) + M x Hbar for the field (5.1), one per phase {t_a / eps}."""
    t_a = 0.3 + PHASES * eps
    A = hmm.flux_matrices(
        fields.fig51_right, t_a, eps=eps, tau=tau, kernel=hmm.kernel(1, 7), window=window
    )
    return A @ M + np.cross(M, hmm.averaged_field(fields.fig51_right, t_a))


def test_centred_window_tau_term_is_second_order():
    """At fixed eps the centred window does not attain the O(tau) term of Theorem 1: its error is
    an O(eps) tail plus a part that grows like tau^2 (the tail, measured at tau = 20 eps, taken
    away phase by phase); the forward window [0, tau] grows like tau."""
    eps, M = 1e-4, np.array([1.0, 0.0, 1.0]) / np.sqrt(2)
    taus = np.array([40, 80, 160]) * eps
    tail = _flux_errors(eps, 20 * eps, M, "centred")
    centred = [
        np.linalg.norm(_flux_errors(eps, tau, M, "centred") - tail, axis=-1).max() for tau in taus
    ]
    forward = [np.linalg.norm(_flux_errors(eps, tau, M, "forward"), axis=-1).max() for tau in taus]
    assert fit_loglog(taus, centred).slope == pytest.approx(2.0, abs=0.2)
    assert fit_loglog(taus, forward).slope == pytest.approx(1.0, abs=0.1)
    assert max(centred) < 0.1 * min(forward)


def test_flux_averaging_term_decays_like_q_plus_2():
    """The averaging term of Theorem 1 alone: for the field (5.1) it is the projection of the
    error on [1, -1, 0]; at eps = 1e-6 the tail is negligible. Its envelope over windows of one
    unit in tau/eps falls with slope -(q + 2) = -3 for q = 1 on 8 <= tau/eps <= 32."""
    K = hmm.kernel(1, 1)
    eps, M = 1e-6, np.array([0.0, 0.0, 1.0])
    direction = np.array([1.0, -1.0, 0.0]) / np.sqrt(2)
    starts = np.array([8.0, 12.0, 16.0, 24.0, 32.0])
    t_a = (np.arange(8) / 8 + 5) * eps
    envelope = []
    for a in starts:
        worst = 0.0
        for ratio in a + np.arange(8) / 8:
            A = hmm.flux_matrices(fields.fig51_right, t_a, eps=eps, tau=ratio * eps, kernel=K)
            worst = max(worst, np.abs((A @ M + np.cross(M, [0.0, 0.0, 1.0])) @ direction).max())
        envelope.append(worst)
    assert fit_loglog(starts + 0.5, envelope).slope == pytest.approx(-3.0, abs=0.2)


def test_flux_matrices_batch_equals_single(circular):
    K = hmm.kernel(5, 4)
    t_a = np.array([[0.1, 0.2], [0.3, 0.4]])
    A = hmm.flux_matrices(circular, t_a, eps=0.01, tau=0.05, kernel=K)
    assert A.shape == (2, 2, 3, 3)
    np.testing.assert_allclose(
        A[1, 0], hmm.flux_matrices(circular, 0.3, eps=0.01, tau=0.05, kernel=K), atol=1e-15
    )


# kernel, tau/eps, micro steps per eps: coarse grids where D differs from K^ (some by orders of
# magnitude: aliasing), and one fine grid where they agree
GRID_CASES = [
    ((1, 0), 2.0, 3),
    ((1, 0), 2.0, 32),
    ((1, 4), 3.0, 4),
    ((1, 5), 4.5, 4),
    ((5, 4), 5.0, 6),
    ((1, 10), 8.0, 2),
    ((1, 6), 5.0, 3),
    ((3, 4), 7.0, 4),
]


@pytest.mark.parametrize("quadrature", ["simpson", "parts"])
@pytest.mark.parametrize("pq, rho, steps", GRID_CASES)
def test_grid_fourier_is_the_measured_averaging_factor(pq, rho, steps, quadrature):
    """For the field (5.1) and M = e_z the flux error is beta [D(1) cos(2 pi t_a/eps) (1, 1, 0)]_x e_z
    to O(eps): its envelope over the phases {t_a/eps}, divided by sqrt 2, is |D(1)| (eps = 1e-7,
    so the O(eps) tail is ~1e-8), not |K^(rho)|: 0.33 instead of 5e-6 for K^{1,10}, rho = 8 on
    two Simpson steps per period."""
    K = hmm.kernel(*pq)
    eps = 1e-7
    t_a = (3_000_000 + np.arange(16) / 16) * eps
    A = hmm.flux_matrices(
        fields.fig51_right, t_a, eps=eps, tau=rho * eps, kernel=K, micro_steps_per_eps=steps,
        quadrature=quadrature,
    )  # fmt: skip
    measured = np.linalg.norm(A @ [0.0, 0.0, 1.0], axis=1).max() / np.sqrt(2)
    D = float(grid_fourier(K, 1.0, rho=rho, micro_steps_per_eps=steps, quadrature=quadrature))
    assert measured == pytest.approx(abs(D), rel=1e-3, abs=5e-8)


@pytest.mark.parametrize("quadrature", ["simpson", "parts"])
@pytest.mark.parametrize("pq", [(1, 0), (1, 3), (3, 4), (5, 4), (1, 7)])
def test_grid_fourier_tends_to_kernel_fourier(pq, quadrature):
    """Where the micro grid resolves the kernel and the harmonic, D(nu) = K^(nu rho)."""
    K = hmm.kernel(*pq)
    nu = np.array([[0.0, 0.5, 1.0], [2.0, 3.3, 4.0]])
    for rho in (2.0, 5.0, 8.5):
        D = grid_fourier(K, nu, rho=rho, micro_steps_per_eps=64, quadrature=quadrature)
        assert D.shape == nu.shape
        np.testing.assert_allclose(D, K.fourier(nu * rho), atol=1e-5)
        coarse = grid_fourier(K, nu, rho=rho, micro_steps_per_eps=16, quadrature=quadrature)
        fine_error = np.abs(D - K.fourier(nu * rho)).max()
        assert fine_error < 0.1 * np.abs(coarse - K.fourier(nu * rho)).max()


@pytest.mark.parametrize("window", ["centred", "forward"])
def test_parts_flux_is_the_simpson_flux_up_to_the_quadrature_error(slow, window):
    """-int K_tau' m ds = int K_tau dm/ds ds for q >= 0: the two quadratures agree to their
    (micro-step) errors, which fall as the micro grid is refined."""
    K = hmm.kernel(3, 4)
    t_a = np.array([0.11, 0.52, 0.93])
    kw = dict(eps=1e-3, tau=6.3e-3, kernel=K, window=window)

    def gap(steps):
        simpson, parts = (
            hmm.flux_matrices(slow, t_a, micro_steps_per_eps=steps, quadrature=quad, **kw)
            for quad in ("simpson", "parts")
        )
        return np.abs(simpson - parts).max()

    assert gap(64) < 1e-7
    assert gap(64) < 0.01 * gap(8)
    M = np.array([0.48, 0.6, 0.64])
    F = hmm.upscaled_flux(slow, 0.52, M, micro_steps_per_eps=64, quadrature="parts", **kw)
    np.testing.assert_allclose(
        F, hmm.flux_matrices(slow, 0.52, micro_steps_per_eps=64, **kw) @ M, atol=1e-7
    )


def test_parts_avoids_the_aliasing_of_simpson_on_two_steps_per_period():
    """K^{1,10}, tau = 8 eps, 2 micro steps per period: Simpson samples cos(2 pi s/eps) at
    s = j eps/2 (values +-1) and its weights do not cancel them, so the flux of the field (5.1)
    is off by sqrt(2)/3; by parts the nodes see only the propagator, whose first-order part is
    the exact Gauss integral of the field, and the flux is off by the O(eps) tail only."""
    K, eps = hmm.kernel(1, 10), 1e-7
    t_a = 0.3 + np.arange(8) / 8 * eps
    kw = dict(eps=eps, tau=8 * eps, kernel=K, micro_steps_per_eps=2)
    error = {  # the averaged flux -M x Hbar is 0 for M = e_z
        quad: np.linalg.norm(
            hmm.flux_matrices(fields.fig51_right, t_a, quadrature=quad, **kw) @ [0.0, 0.0, 1.0],
            axis=1,
        ).max()
        for quad in ("simpson", "parts")
    }
    assert error["simpson"] == pytest.approx(np.sqrt(2) / 3, rel=1e-3)
    assert error["parts"] < 1e-6
    assert abs(K.fourier(8.0)) < 1e-5


@pytest.mark.parametrize("lift", ["none", "restriction"])
@pytest.mark.parametrize("macro, stages", [("midpoint", 1), ("gauss4", 2)])
def test_parts_evaluates_the_field_twice_per_micro_step(squared, macro, stages, lift):
    """Simpson on K dm/ds: 2 Magnus Gauss points per step and the n + 1 nodes; by parts: 2n,
    with the paper's micro start and with the restriction lift alike."""
    kw = dict(
        T=1.0, N=5, eps=1e-3, tau=5e-3, kernel=hmm.kernel(5, 4), macro=macro, micro_steps_per_eps=8,
        lift=lift,
    )  # fmt: skip
    n = 40  # micro steps per window: tau / eps x steps_per_eps
    simpson = hmm.solve_hmm(squared, fields.FIG54_M0, **kw)
    parts = hmm.solve_hmm(squared, fields.FIG54_M0, quadrature="parts", **kw)
    assert simpson.stats["field_evaluations"] == 5 * stages * (3 * n + 1)
    assert parts.stats["field_evaluations"] == 5 * stages * 2 * n
    assert np.abs(parts.m - simpson.m).max() < 1e-4  # both micro errors at 8 steps per eps
