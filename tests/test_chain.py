"""hmm.chain: direct simulation of the periodic chain (3.8) and the HMM of Section 3.3."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import hmm
import hmm.chain as chain
from hmm.chain.boxes import BoxSettings, box_positions
from hmm.chain.field import ChainField
from hmm.chain.frames import fine_grid
from hmm.chain.micro import MicroBoxes
from hmm.fields import fig51_left as field_circular
from hmm.fields import fig55 as field_chain
from hmm.measure import fit_loglog
from hmm.micro import MicroSettings


def helix(n, tilt=0.0):
    x = np.arange(n) / n
    m = np.stack([np.sin(2 * np.pi * x), np.cos(2 * np.pi * x), tilt * np.ones(n)], -1)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


K54 = hmm.kernel(5, 4)
HMM_ARGS = dict(T=0.5, N=10, eps=0.01, tau=0.05, kernel=K54, r=2, ell=3, J=1.0)


def test_shapes():
    m0 = helix(20)
    d = chain.solve_dns(field_chain, m0, T=0.2, eps=0.05, J=1.0, t_eval=[0.0, 0.1, 0.2])
    assert d.t.shape == (3,) and d.m.shape == (3, 20, 3) and d.x.shape == (20,)
    np.testing.assert_allclose(d.x, np.arange(20) / 20)
    h = chain.solve_hmm(field_chain, m0, **HMM_ARGS)
    assert h.t.shape == (11,) and h.m.shape == (11, 4, 3)
    np.testing.assert_allclose(h.x, [0.0, 0.25, 0.5, 0.75])
    assert tuple(h.stats) == hmm.STAT_KEYS and tuple(d.stats) == hmm.STAT_KEYS
    for key in ("field_evaluations", "spin_steps", "newton_iterations", "micro_steps", "jacobians"):
        assert h.stats[key] > 0
    assert chain.solve_dns(field_chain, m0, T=0.1, eps=0.05, J=0.0).m.shape == (1001, 20, 3)


def test_uncoupled_chain_is_independent_single_spins():
    """J = 0: every particle follows the single-spin problem (1.2)."""
    m0 = helix(5, tilt=0.7)
    t = np.linspace(0, 1.0, 6)
    sol = chain.solve_dns(
        field_circular, m0, T=1.0, eps=0.1, J=0.0, gamma=0.5, t_eval=t, dns_steps_per_eps=64
    )
    for i in range(5):
        ref = hmm.solve_dns(field_circular, m0[i], T=1.0, eps=0.1, gamma=0.5, t_eval=t)
        np.testing.assert_allclose(sol.m[:, i], ref.m, atol=1e-12)


@pytest.mark.parametrize("gamma", [0.0, 0.5])
def test_dns_matches_solve_ivp(gamma):
    n, J, beta, eps, T = 6, 2.0, 1.3, 0.05, 0.6
    m0 = helix(n, tilt=0.4)
    t = np.linspace(0, T, 5)
    sol = chain.solve_dns(field_circular, m0, T=T, eps=eps, J=J, beta=beta, gamma=gamma, t_eval=t)

    def rhs(tt, y):
        m = y.reshape(n, 3)
        h = J * (np.roll(m, 1, 0) + np.roll(m, -1, 0)) + field_circular(np.array(tt), tt / eps)
        return hmm.landau_lifshitz(m, h, beta, gamma).ravel()

    ref = solve_ivp(rhs, (0, T), m0.ravel(), method="DOP853", t_eval=t, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(sol.m, ref.y.T.reshape(-1, n, 3), atol=1e-8)
    assert np.abs(np.linalg.norm(sol.m, axis=-1) - 1).max() < 1e-8


def test_exchange_form_is_laplacian_invariant():
    """The field J (m_{i-1} + m_{i+1}) and the discrete Laplacian J (m_{i-1} - 2 m_i + m_{i+1})
    give the same dynamics (m_i enters only through m_i x .): the DNS matches the Laplacian form."""
    n, J, eps, T = 8, 3.0, 0.05, 0.3
    m0 = helix(n, tilt=0.3)

    def laplacian_form(tt, y):
        m = y.reshape(n, 3)
        h = J * (np.roll(m, 1, 0) - 2 * m + np.roll(m, -1, 0)) + field_chain(np.array(tt), tt / eps)
        return hmm.landau_lifshitz(m, h, 1.0, 1.0).ravel()

    ref = solve_ivp(laplacian_form, (0, T), m0.ravel(), method="DOP853", rtol=1e-12, atol=1e-14)
    sol = chain.solve_dns(field_chain, m0, T=T, eps=eps, J=J, t_eval=[T])
    np.testing.assert_allclose(sol.m[-1], ref.y[:, -1].reshape(n, 3), atol=1e-8)
    uncoupled = chain.solve_dns(field_chain, m0, T=T, eps=eps, J=0.0, t_eval=[T])
    assert np.abs(uncoupled.m - sol.m).max() > 1e-2  # the exchange matters on this chain


def test_hmm_approaches_averaged_dns():
    """HMM vs the space-time average (3.9) of the DNS (Figure 5.5 set-up, shorter T):
    the error is second order in Dt and does not grow as eps -> 0."""
    m0 = helix(100)
    args = dict(T=0.75, eps=0.005, tau=0.025, kernel=K54, r=5, ell=5, J=1.0)
    errors = []
    for N in (5, 10):
        h = chain.solve_hmm(field_chain, m0, N=N, **args)
        ref = chain.dns_average(
            field_chain, m0, t=h.t, **{k: v for k, v in args.items() if k != "T"}
        )
        errors.append(np.abs(h.m - ref.m).max())
    assert errors[1] < 8e-3
    assert fit_loglog(1 / np.array([5, 10]), errors).slope == pytest.approx(2.0, abs=0.3)
    coarse = dict(args, eps=0.02, tau=0.1)
    h = chain.solve_hmm(field_chain, m0, N=10, **coarse)
    ref = chain.dns_average(field_chain, m0, t=h.t, **{k: v for k, v in coarse.items() if k != "T"})
    assert errors[1] <= 1.1 * np.abs(h.m - ref.m).max()


def test_hmm_micro_discretisation_converged():
    m0 = helix(20, tilt=0.5)
    a = chain.solve_hmm(field_circular, m0, **dict(HMM_ARGS, J=10.0)).m
    b = chain.solve_hmm(
        field_circular,
        m0,
        **dict(HMM_ARGS, J=10.0),
        micro_steps_per_eps=64,
        exchange_steps_per_eps=16,
    ).m
    assert np.abs(a - b).max() < 1e-5


def test_hmm_uniform_uncoupled_matches_single_spin():
    """J = 0 and identical spins: every macro point follows the single-spin HMM (3.3)."""
    M0 = np.array([1.0, 1.0, 1.0]) / np.sqrt(3)
    m0 = np.tile(M0, (20, 1))
    h = chain.solve_hmm(field_circular, m0, **dict(HMM_ARGS, J=0.0), initial="sample")
    ref = hmm.solve_hmm(
        field_circular, M0, T=0.5, N=10, eps=0.01, tau=0.05, kernel=K54, project=True
    )
    # the chain normalises the micro data; the single-spin solver projects after each step
    np.testing.assert_allclose(
        h.m / np.linalg.norm(h.m, axis=-1, keepdims=True),
        np.broadcast_to(ref.m[:, None], h.m.shape),
        atol=5e-4,
    )


def test_hmm_stiff_exchange_converges_or_raises():
    m0 = helix(20, tilt=0.5)
    h = chain.solve_hmm(field_chain, m0, **dict(HMM_ARGS, J=200.0, N=4))
    assert h.stats["jacobians"] > 4  # Newton needed fresh Jacobians
    assert np.all(np.isfinite(h.m))
    with pytest.raises(hmm.NonConvergenceError):
        chain.solve_hmm(field_chain, m0, **HMM_ARGS, max_iter=1)


def _bad_field(t, s):
    return np.zeros(np.shape(t) + (2,))


def _bad_spatial(t, s, x):
    return np.zeros(np.broadcast(t, s, x).shape + (2,))


def _nan_spatial(t, s, x):
    return np.full(np.broadcast(t, s, x).shape + (3,), np.nan)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(m0=helix(21)), "multiple of r \\+ ell"),
        (dict(r=0), "r must be"),
        (dict(ell=-1), "ell must be"),
        (dict(J=np.nan), "J must be finite"),
        (dict(J=np.inf), "J must be finite"),
        (dict(m0=np.ones((20, 2))), "shape \\(n, 3\\)"),
        (dict(m0=np.ones(3)), "shape \\(n, 3\\)"),
        (dict(m0=2 * helix(20)), "must be a unit vector \\(row 0\\)"),
        (dict(m0=np.full((20, 3), np.nan)), "finite"),
        (dict(eps=0.0), "eps must be > 0"),
        (dict(tau=-1.0), "tau must be > 0"),
        (dict(T=0.0), "T must be > 0"),
        (dict(N=0), "N must be an integer"),
        (dict(kernel="K"), "kernel must be a hmm.Kernel"),
        (dict(space_kernel=3), "space_kernel must be a hmm.Kernel"),
        (dict(beta=0.0), "beta must be > 0"),
        (dict(gamma=-1.0), "gamma must be >= 0"),
        (dict(initial="exact"), "initial must be one of"),
        (dict(H=1.0), "H must be a callable"),
        (dict(H=_bad_field), "H\\(t, s\\) must return shape"),
        (dict(ends="open"), "ends must be one of"),
        (dict(layer=-1), "layer must be an integer >= 0"),
        (dict(layer=1.5), "layer must be an integer >= 0"),
        (dict(layer_damping=-1.0), "layer_damping must be >= 0"),
        (dict(layer_damping=1.0), "layer_damping = 1 > 0 needs layer >= 1"),
        (dict(spatial_field="yes"), "spatial_field must be True or False"),
        (dict(spatial_field=True), "spatial_field=True H must be callable as H\\(t, s, x\\)"),
        (dict(spatial_field=True, H=_bad_spatial), "H\\(t, s, x\\) must return shape"),
        (dict(spatial_field=True, H=_nan_spatial), "H\\(t, s, x\\) must return finite"),
    ],
)
def test_hmm_value_errors(kwargs, match):
    args = dict(HMM_ARGS, m0=helix(20), H=field_chain)
    args.update(kwargs)
    m0, H = args.pop("m0"), args.pop("H")
    with pytest.raises(ValueError, match=match):
        chain.solve_hmm(H, m0, **args)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(J=np.nan), "J must be finite"),
        (dict(m0=np.ones((4, 3)) / np.sqrt(3) * 1.1), "must be a unit vector \\(row 0\\)"),
        (dict(m0=np.zeros((0, 3))), "shape \\(n, 3\\)"),
        (dict(eps=-1.0), "eps must be > 0"),
        (dict(T=-1.0), "T must be > 0"),
        (dict(t_eval=[0.0, 2.0]), "t_eval must be sorted and lie in"),
        (dict(t_eval=[0.2, 0.1]), "t_eval must be sorted and lie in"),
        (dict(dns_steps_per_eps=0), "dns_steps_per_eps must be"),
        (dict(H=_bad_field), "H\\(t, s\\) must return shape"),
        (dict(spatial_field=1), "spatial_field must be True or False"),
        (dict(spatial_field=True, H=_bad_spatial), "H\\(t, s, x\\) must return shape"),
    ],
)
def test_dns_value_errors(kwargs, match):
    args = dict(m0=helix(4), H=field_chain, T=1.0, eps=0.1, J=1.0)
    args.update(kwargs)
    m0, H = args.pop("m0"), args.pop("H")
    with pytest.raises(ValueError, match=match):
        chain.solve_dns(H, m0, **args)


def test_space_weights():
    w = chain.space_weights(K54, 5)
    assert w.shape == (11,) and w.sum() == pytest.approx(1.0)
    assert w[0] == 0.0 and w[-1] == 0.0
    np.testing.assert_allclose(w, w[::-1])
    with pytest.raises(ValueError, match="multiple of r \\+ ell"):
        chain.macro_particles(100, 5, 6)


def test_dns_time_average_exact_rotation():
    """Constant field [0, 0, h], no damping: every spin rotates about z at rate beta h, for any J
    (a uniform chain feels no exchange torque). The kernel averages over [t - tau/2, t + tau/2],
    including the part before t = 0, must match a fine quadrature of the exact solution."""
    h, beta, tau = 2.0, 1.5, 0.2

    def H(t, s):
        return np.stack([np.zeros_like(t), np.zeros_like(t), h * np.ones_like(t)], -1)

    m0 = np.tile([0.6, 0.0, 0.8], (6, 1))
    t = np.array([0.0, 0.05, 0.3])
    avg = chain.dns_average(H, m0, t=t, eps=0.01, tau=tau, kernel=K54, J=3.0, beta=beta, gamma=0.0)
    s = np.linspace(-tau / 2, tau / 2, 4001)
    w = K54(s / tau) / tau * (s[1] - s[0])
    phase = beta * h * (t[:, None] + s[None, :])  # m' = -beta m x H: counter-clockwise about z
    exact = np.stack(
        [
            0.6 * (w * np.cos(phase)).sum(1),
            0.6 * (w * np.sin(phase)).sum(1),
            0.8 * w.sum() * np.ones(3),
        ],
        -1,
    )
    np.testing.assert_allclose(avg.m, np.broadcast_to(exact[:, None], avg.m.shape), atol=1e-9)
    M = chain.space_average(avg.m, 1, 2, K54)
    assert M.shape == (3, 2, 3)
    np.testing.assert_allclose(M, np.broadcast_to(exact[:, None], M.shape), atol=1e-9)


def test_chain_gauss4_beats_midpoint_at_equal_steps():
    """macro="gauss4" for the chain: at N = 10 its error against the averaged DNS is far below
    the midpoint rule's, whose error is almost all macro error (Fig. 5.5 set-up, T = 0.75)."""
    m0 = helix(100)
    args = dict(T=0.75, N=10, eps=0.005, tau=0.025, kernel=K54, r=5, ell=5, J=1.0)
    ref = chain.dns_average(
        field_chain,
        m0,
        t=np.linspace(0, 0.75, 11),
        **{k: v for k, v in args.items() if k not in ("T", "N")},
    )
    err = {
        m: np.abs(chain.solve_hmm(field_chain, m0, macro=m, **args).m - ref.m).max()
        for m in ("midpoint", "gauss4")
    }
    assert err["gauss4"] < 0.2 * err["midpoint"]


# ---- the exact Newton method, Remark 4, a particle-dependent field, gauss4 (issues 13, 14) ----

FIG55 = dict(T=1.5, eps=0.01, tau=0.05, kernel=K54, r=5, ell=5)
X100 = np.arange(100) / 100


field_x = hmm.fields.fig55_along_chain


def field_flat(t, s, x):
    """The uniform field of Fig. 5.5, written as a particle-dependent one."""
    t, s, _ = np.broadcast_arrays(t, s, x)
    return field_chain(t, s)


def micro_boxes(J, *, r=5, ell=5, field=None, spatial=False, **box):
    """The boxes of a 100-particle chain at the one micro time 0.3 (eps = 0.01, tau = 5 eps)."""
    field = ChainField(field or field_chain, spatial)
    micro = MicroSettings.checked(0.01, 0.05, K54, 1.0, 32, "magnus4", "centred")
    settings = BoxSettings.checked(r, ell, box.get("layer", 0), box.get("layer_damping", 0.0),
                                   box.get("ends", "fixed"))  # fmt: skip
    grid = fine_grid(micro, J, field.bound(1.5, X100), 4, damping=settings.layer_damping,
                     jump=field.jump_bound(1.5, X100))  # fmt: skip
    return MicroBoxes.build(field, np.array([0.3]), micro, grid, settings, J=J,
                            omega=chain.space_weights(K54, r),
                            x_box=box_positions(settings, 100, 0.01))  # fmt: skip


def tilted_triples(L=10):
    """Macro values (I-1, I, I+1) of every box: a helix lifted to a cone, shape (L, 3, 3)."""
    M = helix(L, tilt=0.6)
    return M[(np.arange(L)[:, None] + np.arange(-1, 2)[None, :]) % L]


@pytest.mark.parametrize(
    "J, kw",
    [(0.0, {}), (1.0, {}), (30.0, dict(layer=3, layer_damping=1.0)),
     (30.0, dict(ends="precessing")), (10.0, dict(field=field_x, spatial=True))],
)  # fmt: skip
def test_exact_flux_jacobian_is_the_derivative_of_the_flux(J, kw):
    """The tangent-linear run against central differences of the discrete flux (3.12)."""
    boxes, tr = micro_boxes(J, **kw), tilted_triples()
    F, dF = boxes.flux_jacobian(0, tr)
    np.testing.assert_allclose(F, boxes.flux(0, tr[None])[0], rtol=0, atol=1e-13)
    h, E = 1e-6, np.zeros((1, 3, 3))
    for slot in range(3):
        for c in range(3):
            E[:] = 0.0
            E[0, slot, c] = h
            central = (boxes.flux(0, tr[None] + E) - boxes.flux(0, tr[None] - E))[0] / (2 * h)
            np.testing.assert_allclose(dF[slot, c], central, rtol=0, atol=1e-7)
    if J == 0.0:  # without exchange the whole Jacobian is the part that costs no micro steps
        np.testing.assert_allclose(boxes.static_jacobian(0, tr), dF, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "J, kw", [(30.0, dict(layer=3, layer_damping=1.0)), (10.0, dict(field=field_x, spatial=True))]
)
def test_upscaled_fluxes_are_those_of_the_boxes(J, kw):
    """hmm.chain.upscaled_fluxes: the fluxes (3.12) of the boxes solve_hmm builds, to the bit."""
    boxes, M = micro_boxes(J, **kw), helix(10, tilt=0.6)
    field = kw.pop("field", field_chain)
    spatial = kw.pop("spatial", False)
    F = chain.upscaled_fluxes(
        field, M, t=[0.3, 0.3], eps=0.01, tau=0.05, kernel=K54, r=5, ell=5, J=J, T=1.5,
        spatial_field=spatial, **kw,
    )  # fmt: skip
    assert F.shape == (2, 10, 3)
    np.testing.assert_array_equal(F[0], boxes.flux(0, tilted_triples()[None])[0])
    np.testing.assert_array_equal(F[1], F[0])
    with pytest.raises(ValueError, match="unit vector"):
        chain.upscaled_fluxes(field, 2 * M, t=[0.3], eps=0.01, tau=0.05, kernel=K54, r=5, ell=5,
                              J=J, spatial_field=spatial)  # fmt: skip


@pytest.mark.parametrize("J, macro, N", [(1.0, "midpoint", 20), (30.0, "gauss4", 20)])
def test_exact_newton_same_result_less_work(J, macro, N):
    """Exact Jacobians with the exchange part reused and the estimate stop rule: the solution of
    the finite-difference Newton method to 1e-10 (both solve to tol = 1e-12), at under half the
    spin steps per macro step (the Figure 5.5 set-up; measured 3.4x and 3.0x fewer)."""
    args = dict(FIG55, J=J, macro=macro, N=N, initial="sample")
    before = chain.solve_hmm(field_chain, helix(100), **args, jacobian="difference")
    after = chain.solve_hmm(field_chain, helix(100), **args)
    assert np.abs(after.m - before.m).max() < 1e-10
    assert after.stats["spin_steps"] / N < 0.5 * before.stats["spin_steps"] / N


@pytest.mark.parametrize("r", [2, 3])
def test_remark4_remedies_cut_the_pollution_by_the_ends(r):
    """Remark 4 at J = 100: fixed end spins pollute the flux of small boxes. Against the same box
    with the ends 24 particles further out, precessing ends cut the pollution over 10-fold (measured
    13-14x) and a 4-particle layer with damping 1 over 50-fold (measured 200-250x); the damping
    beats an undamped buffer of the same width (measured 1.8-3x)."""
    tr = tilted_triples()[None]
    boxes = dict(r=r, ell=10 - r)
    reference = micro_boxes(100.0, layer=24, **boxes).flux(0, tr)

    def pollution(**kw):
        return np.abs(micro_boxes(100.0, **kw, **boxes).flux(0, tr) - reference).max()

    fixed = pollution()
    assert pollution(ends="precessing") < fixed / 10
    assert pollution(layer=4, layer_damping=1.0) < fixed / 50
    assert pollution(layer=4, layer_damping=1.0) < pollution(layer=4) / 1.5


def test_spatial_path_with_a_uniform_field_is_the_uniform_path():
    """A particle-dependent field that happens to be uniform: per-particle frames and couplings
    R = Phi_j^T Phi_j+1 = I give the uniform code's result, with and without exchange."""
    for J in (0.0, 10.0):
        args = dict(FIG55, T=0.3, N=4, J=J)
        a = chain.solve_hmm(field_chain, helix(100), **args)
        b = chain.solve_hmm(field_flat, helix(100), spatial_field=True, **args)
        np.testing.assert_allclose(b.m, a.m, rtol=0, atol=1e-12)
        args = dict(T=0.1, eps=0.01, J=J, t_eval=[0.1])
        d1 = chain.solve_dns(field_chain, helix(100), **args)
        d2 = chain.solve_dns(field_flat, helix(100), spatial_field=True, **args)
        np.testing.assert_allclose(d2.m, d1.m, rtol=0, atol=1e-14)
        assert d2.stats["field_evaluations"] > 50 * d1.stats["field_evaluations"]


def test_spatial_field_hmm_tracks_the_averaged_dns():
    """A field that varies along the chain moves the (3.9) averages by 0.57 from those of the
    uniform field; the HMM (gauss4, N = 20) follows them to 2e-4 without exchange (measured
    1e-4: upscaling and macro error) and 2e-3 with J = 1 (measured 1.1e-3, the O(Dx^2) error
    of the quadratic interpolant)."""
    t = np.linspace(0, 1.5, 21)
    avg_args = {k: v for k, v in FIG55.items() if k != "T"}
    for J, tol in ((0.0, 2e-4), (1.0, 2e-3)):
        avg = chain.dns_average(field_x, helix(100), t=t, J=J, spatial_field=True, **avg_args)
        h = chain.solve_hmm(field_x, helix(100), N=20, J=J, macro="gauss4", spatial_field=True,
                            **FIG55)  # fmt: skip
        assert np.abs(h.m - avg.m).max() < tol
    uniform = chain.dns_average(field_chain, helix(100), t=t, J=1.0, **avg_args)
    assert np.linalg.norm(avg.m - uniform.m, axis=-1).max() > 0.5


def test_chain_gauss4_is_fourth_order():
    """Order 4 in Dt, at eps = 1e-5 where the O(eps) flux error (its phase t/eps changes from
    one stage time to the next) is far below the macro error (at eps = 0.01 it masks the macro
    error below ~2e-5); the HMM costs the same at every eps."""
    args = dict(FIG55, eps=1e-5, tau=5e-5, J=1.0, initial="sample", macro="gauss4")
    ref = chain.solve_hmm(field_chain, helix(100), N=80, **args).m
    errors = [
        np.abs(chain.solve_hmm(field_chain, helix(100), N=N, **args).m - ref[:: 80 // N]).max()
        for N in (10, 20)
    ]
    assert fit_loglog(1 / np.array([10, 20]), errors).slope == pytest.approx(4.0, abs=0.2)
    midpoint = chain.solve_hmm(field_chain, helix(100), N=20, **dict(args, macro="midpoint")).m
    assert np.abs(midpoint - ref[::4]).max() > 100 * errors[1]
