"""The fast loops of the direct simulations repeat the plain arithmetic to the last bit."""

import numpy as np
import pytest

from hmm import dns, fields
from hmm.chain import dns as chain_dns
from hmm.chain.dns import exchange_rhs
from hmm.chain.field import ChainField
from hmm.dns import _rk4_step, _rk4_steps, step_counts
from hmm.integrators import rk4_step


def _plain_chain_rhs(m, h_applied, J, beta, gamma):
    """(3.8) component by component with np.roll: the written-out arithmetic."""
    h = h_applied + J * (np.roll(m, 1, axis=1) + np.roll(m, -1, axis=1)) if J else h_applied
    x, y, z = m
    hx, hy, hz = h
    cx, cy, cz = y * hz - z * hy, z * hx - x * hz, x * hy - y * hx
    if not gamma:
        return np.stack([-beta * cx, -beta * cy, -beta * cz])
    dx, dy, dz = y * cz - z * cy, z * cx - x * cz, x * cy - y * cx
    return np.stack([-beta * cx - gamma * dx, -beta * cy - gamma * dy, -beta * cz - gamma * dz])


@pytest.mark.parametrize("J, gamma", [(0.0, 1.0), (15.0, 1.0), (2.5, 0.0), (-1.0, 0.3)])
@pytest.mark.parametrize("spatial", [False, True])
def test_chain_rhs_is_the_plain_arithmetic(J, gamma, spatial):
    rng = np.random.default_rng(3)
    m = rng.normal(size=(3, 17))
    h = rng.normal(size=(3, 17 if spatial else 1))
    fast, plain = exchange_rhs(m, h, J, 1.3, gamma), _plain_chain_rhs(m, h, J, 1.3, gamma)
    assert fast.shape == plain.shape == (3, 17)
    assert np.array_equal(fast, plain)


def _ll(x, y, z, H, beta, gamma):
    hx, hy, hz = H
    cx, cy, cz = y * hz - z * hy, z * hx - x * hz, x * hy - y * hx
    dx, dy, dz = y * cz - z * cy, z * cx - x * cz, x * cy - y * cx
    return (-beta * cx - gamma * dx, -beta * cy - gamma * dy, -beta * cz - gamma * dz)


def _plain_spin_step(m, h, f0, f1, f2, beta, gamma):
    """The RK4 step of (1.2) on floats through a right-hand-side function."""
    x, y, z = m
    a = _ll(x, y, z, f0, beta, gamma)
    b = _ll(x + 0.5 * h * a[0], y + 0.5 * h * a[1], z + 0.5 * h * a[2], f1, beta, gamma)
    c = _ll(x + 0.5 * h * b[0], y + 0.5 * h * b[1], z + 0.5 * h * b[2], f1, beta, gamma)
    d = _ll(x + h * c[0], y + h * c[1], z + h * c[2], f2, beta, gamma)
    w = h / 6
    return tuple(v + w * (a[i] + 2 * b[i] + 2 * c[i] + d[i]) for i, v in enumerate((x, y, z)))


@pytest.mark.parametrize("gamma", [0.0, 0.7])
def test_float_steps_are_the_plain_steps(gamma):
    """_rk4_steps (and _rk4_step) repeat the plain step bit for bit, numpy scalar h or not."""
    rng = np.random.default_rng(5)
    values = rng.normal(size=(50, 3, 3))
    m = one = (0.6, 0.0, 0.8)
    for f0, f1, f2 in values.tolist():
        m = _plain_spin_step(m, np.float64(0.01), f0, f1, f2, 1.3, gamma)
        one = _rk4_step(one, 0.01, f0, f1, f2, 1.3, gamma)
    fast = _rk4_steps((0.6, 0.0, 0.8), 0.01, values.ravel().tolist(), 1.3, gamma)
    assert fast == one == tuple(float(x) for x in m)
    assert all(type(x) is float for x in fast)


def test_float_steps_refuse_a_partial_step():
    with pytest.raises(ValueError):
        _rk4_steps((0.6, 0.0, 0.8), 0.01, [0.0] * 10, 1.0, 1.0)


def _plain_rk4_chain(field, m0, t_out, h_max, *, eps, J, beta, gamma, x):
    """The chain RK4 interval by interval, the field a step at a time."""
    out, m = np.empty((len(t_out),) + m0.shape), m0.T.copy()
    out[0] = m0
    for i, n in enumerate(step_counts(t_out, h_max)):
        h = (t_out[i + 1] - t_out[i]) / n if n else 0.0
        for j in range(n):
            s = t_out[i] + j * h
            f = field.on_chain(np.array([s, s + 0.5 * h, s + h]), eps, x)
            m = rk4_step(lambda y, a: _plain_chain_rhs(y, a, J, beta, gamma), m, h, tuple(f))
        out[i + 1] = m.T
    return out


@pytest.mark.parametrize("spatial", [False, True])
@pytest.mark.parametrize("backward", [False, True])
def test_rk4_chain_in_blocks_is_the_plain_loop(spatial, backward, monkeypatch):
    """Blocks of steps over many intervals (intervals split, or without steps) change no bit."""
    monkeypatch.setattr(chain_dns, "_CHUNK", 7)  # blocks of several intervals
    monkeypatch.setattr(dns, "_CHUNK", 5)  # intervals split
    H = (lambda t, s, x: fields.fig55(t, s + x)) if spatial else fields.fig55
    x = np.arange(6) / 6
    m0 = fields.fig55_initial(x)
    t_out = np.sort(np.random.default_rng(1).uniform(0, 0.05, 9))
    t_out = np.concatenate([[0.0], t_out[:4], t_out[3:]])  # one interval without steps
    t_out = -t_out if backward else t_out
    kw = dict(eps=0.01, J=2.0, beta=1.0, gamma=0.5, x=x)
    fast = chain_dns.rk4_chain(ChainField(H, spatial), m0, t_out, 0.003, **kw)
    plain = _plain_rk4_chain(ChainField(H, spatial), m0, t_out, 0.003, **kw)
    assert np.array_equal(fast, plain)


@pytest.mark.parametrize("spatial", [False, True])
def test_chain_batch_is_the_single_runs(spatial):
    """solve_dns_batch: each run as solve_dns alone, the same step and field counts.

    Periods whose step counts differ on every interval, so that runs finish at different steps.
    """
    H = (lambda t, s, x: fields.fig55(t, s + x)) if spatial else fields.fig55
    m0 = fields.fig55_initial(np.arange(8) / 8)
    kw = dict(T=0.12, J=3.0, gamma=0.4, t_eval=np.linspace(0, 0.12, 5), spatial_field=spatial)
    eps = [0.01, 0.0093, 0.0121]
    batch = chain_dns.solve_dns_batch(H, m0, eps=eps, dns_steps_per_eps=3, **kw)
    for e, got in zip(eps, batch, strict=True):
        alone = chain_dns.solve_dns(H, m0, eps=e, dns_steps_per_eps=3, **kw)
        np.testing.assert_allclose(got.m, alone.m, rtol=0, atol=1e-12)
        assert got.stats == alone.stats
        per_point = 8 if spatial else 1  # a particle-dependent field counts per particle
        assert got.stats["field_evaluations"] == per_point * (1024 + 3 * got.stats["steps"])
        np.testing.assert_array_equal(got.t, alone.t)
    assert len({b.stats["steps"] for b in batch}) == 3


def test_chain_batch_checks_each_run():
    m0 = fields.fig55_initial(np.arange(8) / 8)
    with pytest.raises(ValueError, match="eps"):
        chain_dns.solve_dns_batch(fields.fig55, m0, T=0.1, eps=[0.01, -1.0], J=1.0)
    with pytest.raises(ValueError, match="eps = 1e-05"):
        chain_dns.solve_dns_batch(fields.fig55, m0, T=0.1, eps=[0.01, 1e-5], J=1.0, max_work=10**5)
