"""One meaning for each work counter of hmm.STAT_KEYS on every solver, and one call shape.

Every solver runs on a field wrapped in the tests' own tally (independent of hmm.fields.Counted),
and every counter is checked against what it is documented to count (hmm/solution.py)."""

import inspect

import numpy as np
import pytest

import hmm
from hmm import fields

K54 = hmm.kernel(5, 4)
CHAIN_M0 = fields.fig55_initial(np.arange(10) / 10)
BOUND_POINTS = 32 * 32  # the field bound that sets a direct simulation's step (fields.field_bound)


class Tally:
    """A field that counts the points it is evaluated at, ``(t, s)`` or ``(t, s, x)``."""

    def __init__(self, H):
        self.H, self.points = H, 0

    def __call__(self, t, s, *x):
        self.points += np.broadcast(t, s, *x).size
        return self.H(t, s) if not x else self.H(t, s) + 0.0 * np.asarray(x[0])[..., None]


def rk4_steps(t, h_max):
    """RK4 steps of at most h_max through the times t (from 0)."""
    return int(np.ceil(np.diff(np.concatenate([[0.0], t])) / h_max - 1e-9).sum())


HMM = dict(T=1.0, N=3, eps=0.01, tau=0.05, kernel=K54)
WINDOW_STEPS = 2 * 80  # micro steps of one window: tau / eps x 32 steps per period, both ways
CHAIN_HMM = dict(T=0.2, N=2, eps=0.02, tau=0.1, kernel=K54, r=2, ell=3, J=1.0)

RUNS = {
    "hmm midpoint": lambda H, **kw: hmm.solve_hmm(H, fields.FIG54_M0, **HMM, **kw),
    "hmm gauss4 parts": lambda H, **kw: hmm.solve_hmm(
        H, fields.FIG54_M0, **HMM, macro="gauss4", quadrature="parts", **kw
    ),
    "hmm restriction second order": lambda H, **kw: hmm.solve_hmm(
        H, fields.FIG54_M0, **HMM, lift="restriction", drift="second_order", **kw
    ),
    "hmm micro damping": lambda H, **kw: hmm.solve_hmm(
        H, fields.FIG54_M0, **dict(HMM, kernel=hmm.kernel(1, 7)), damping="micro", **kw
    ),
    "dns": lambda H, **kw: hmm.solve_dns(H, fields.FIG54_M0, T=1.0, eps=0.05, **kw),
    "averaged exact": lambda H, **kw: hmm.solve_averaged(H, fields.FIG54_M0, T=1.0, N=5, **kw),
    "averaged midpoint": lambda H, **kw: hmm.solve_averaged(
        H, fields.FIG54_M0, T=1.0, N=5, macro="midpoint", **kw
    ),
    "sam": lambda H, **kw: hmm.solve_sam(
        H, fields.FIG54_M0, T=1.0, N=4, eps=0.01, t_eval=[0.0, 0.123, 1.0], **kw
    ),
    "chain dns": lambda H, **kw: hmm.chain.solve_dns(H, CHAIN_M0, T=0.2, eps=0.05, J=1.0, **kw),
    "chain dns spatial": lambda H, **kw: hmm.chain.solve_dns(
        H, CHAIN_M0, T=0.2, eps=0.05, J=1.0, spatial_field=True, **kw
    ),
    "chain sam": lambda H, **kw: hmm.chain.solve_sam(
        H, CHAIN_M0, T=0.2, N=2, eps=0.02, J=1.0, t_eval=[0.0, 0.123, 0.2], **kw
    ),
    "chain hmm": lambda H, **kw: hmm.chain.solve_hmm(H, CHAIN_M0, **CHAIN_HMM, **kw),
    "chain hmm sample": lambda H, **kw: hmm.chain.solve_hmm(
        H, CHAIN_M0, **CHAIN_HMM, initial="sample", **kw
    ),
    "chain hmm difference": lambda H, **kw: hmm.chain.solve_hmm(
        H, CHAIN_M0, **CHAIN_HMM, initial="sample", jacobian="difference", macro="gauss4", **kw
    ),
    "dns_average": lambda H, **kw: hmm.chain.dns_average(
        H, CHAIN_M0, t=[0.0, 0.1], eps=0.05, tau=0.1, kernel=K54, J=1.0, r=2, ell=3, **kw
    ),
}
EXPLICIT = {"dns", "averaged exact", "sam", "chain dns", "chain dns spatial", "dns_average"}
EXPLICIT |= {"chain sam"}
EXACT_WORK = {"hmm midpoint", "hmm gauss4 parts", "dns", "averaged midpoint", "sam", "chain dns"}
EXACT_WORK |= {"chain sam"}
EXACT_WORK |= {"chain dns spatial", "dns_average", "hmm restriction second order"}


@pytest.fixture(scope="module")
def runs():
    """Every run once: its tally and its solution."""
    out = {}
    for name, run in RUNS.items():
        H = Tally(fields.fig55)
        out[name] = H, run(H)
    return out


@pytest.mark.parametrize("name", RUNS)
def test_every_counter_is_there_and_field_evaluations_are_what_the_field_saw(runs, name):
    H, sol = runs[name]
    assert tuple(sol.stats) == hmm.STAT_KEYS
    assert sol.stats["field_evaluations"] == H.points > 0
    assert sol.stats["steps"] > 0 and sol.stats["spin_steps"] > 0


@pytest.mark.parametrize("name", RUNS)
def test_newton_counters(runs, name):
    """newton_iterations >= jacobians (Newton matrices) >= 1 a step on implicit solvers; 0 on explicit ones."""
    stats = runs[name][1].stats
    if name in EXPLICIT:
        assert stats["newton_iterations"] == stats["jacobians"] == 0
    else:
        assert stats["newton_iterations"] >= stats["jacobians"] >= stats["steps"]


def test_steps_and_spin_steps_of_direct_runs(runs):
    """steps: the RK4 steps; spin_steps: RK4 steps x particles; the field three times a step."""
    h = min(0.05, 1 / (2 * 3.0)) / 64  # eps / k, or the field bound 3 of fig55 with beta + gamma 2
    steps = rk4_steps(np.linspace(0, 1.0, 1001), h)
    _, dns = runs["dns"]
    assert dns.stats["steps"] == dns.stats["spin_steps"] == steps
    assert dns.stats["field_evaluations"] == 3 * steps + BOUND_POINTS
    h = min(0.05, 1 / (2 * (3.0 + 2.0))) / 32  # + 2|J| in a chain
    steps = rk4_steps(np.linspace(0, 0.2, 1001), h)
    for name, per_step in (("chain dns", 3), ("chain dns spatial", 3 * 10)):
        stats = runs[name][1].stats
        assert stats["steps"] == steps and stats["spin_steps"] == 10 * steps
        assert stats["field_evaluations"] == per_step * steps + BOUND_POINTS * per_step // 3
        assert stats["micro_steps"] == 0
    averaged = runs["averaged midpoint"][1].stats
    assert averaged["steps"] == averaged["spin_steps"] == 5 and averaged["micro_steps"] == 0
    stats = runs["dns_average"][1].stats
    assert stats["spin_steps"] == 10 * stats["steps"] and stats["micro_steps"] == 0


def test_micro_steps_of_the_hmms(runs):
    """micro_steps: every micro problem's steps, forward and backward; one spin: spin_steps too."""
    for name, windows in (
        ("hmm midpoint", 3),
        ("hmm gauss4 parts", 6),
        ("hmm restriction second order", 3),
    ):
        stats = runs[name][1].stats
        assert stats["steps"] == 3
        assert stats["micro_steps"] == stats["spin_steps"] == windows * WINDOW_STEPS
    stats = runs["hmm micro damping"][1].stats  # seven windows per Jacobian, one per residual
    windows = 7 * stats["jacobians"] + (stats["newton_iterations"] - stats["jacobians"])
    assert stats["micro_steps"] == stats["spin_steps"] >= windows * WINDOW_STEPS
    assert stats["micro_steps"] % WINDOW_STEPS == 0
    sam = runs["sam"][1].stats  # 4 RK4 stages x 2 runs of 16 steps per macro step
    assert sam["micro_steps"] == 4 * 2 * 16 * sam["steps"]
    assert sam["spin_steps"] - sam["micro_steps"] == np.ceil(0.003 / 0.01 * 16)  # last runs
    sam = runs["chain sam"][1].stats  # the same, for each of the 10 particles
    assert sam["micro_steps"] == 4 * 2 * 16 * sam["steps"]
    assert sam["spin_steps"] - 10 * sam["micro_steps"] == 10 * np.ceil(0.003 / 0.02 * 16)


def test_chain_hmm_spin_steps_are_the_moving_particles_of_every_box(runs):
    """micro_steps: RK4 steps of every box; spin_steps: those times the 3 moving particles of a box
    (r = 2), plus the direct simulation of the initial average (initial="average")."""
    for name in ("chain hmm sample", "chain hmm difference"):
        stats = runs[name][1].stats
        assert stats["steps"] == 2
        assert stats["spin_steps"] == 3 * stats["micro_steps"] > 0
    average, sample = runs["chain hmm"][1].stats, runs["chain hmm sample"][1].stats
    assert average["micro_steps"] == sample["micro_steps"]
    assert (average["spin_steps"] - sample["spin_steps"]) % 10 == 0  # RK4 steps of 10 particles
    assert average["spin_steps"] > sample["spin_steps"]


@pytest.mark.parametrize("name", sorted(EXACT_WORK))
def test_max_work_refuses_exactly_in_spin_steps(runs, name):
    """A solver that knows its work up front runs at max_work = spin_steps and refuses one less."""
    spin_steps = runs[name][1].stats["spin_steps"]
    again = RUNS[name](Tally(fields.fig55), max_work=spin_steps)
    np.testing.assert_array_equal(again.m, runs[name][1].m)
    with pytest.raises(ValueError, match="spin steps, above max_work"):
        RUNS[name](Tally(fields.fig55), max_work=spin_steps - 1)


@pytest.mark.parametrize("name", ["hmm micro damping", "chain hmm sample"])
def test_max_work_refuses_what_newton_certainly_takes(runs, name):
    """Where Newton decides the work, the refusal is on the part known up front, in spin steps:
    the run fits in its own spin_steps, and a tenth of them is refused."""
    spin_steps = runs[name][1].stats["spin_steps"]
    RUNS[name](fields.fig55, max_work=spin_steps)
    with pytest.raises(ValueError, match="spin steps, above max_work"):
        RUNS[name](fields.fig55, max_work=spin_steps // 10)


SOLVERS = [
    hmm.solve_hmm,
    hmm.solve_dns,
    hmm.solve_averaged,
    hmm.solve_sam,
    hmm.choose_parameters,
    hmm.chain.solve_hmm,
    hmm.chain.solve_dns,
    hmm.chain.solve_sam,
    hmm.chain.dns_average,
]


@pytest.mark.parametrize("solver", SOLVERS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_one_call_shape(solver):
    """The field first, m0 second, positionally; every option keyword-only."""
    params = list(inspect.signature(solver).parameters.values())
    assert [p.name for p in params[:2]] == ["H", "m0"]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[:2])
    assert all(p.kind is p.KEYWORD_ONLY for p in params[2:])


def test_one_default_for_each_shared_option():
    """An option that several solvers take has one default, but for the steps per period of a
    direct simulation (64 for one spin, 32 for the chain), the macro scheme (each solver's) and
    the samples per period of the field (128 for the averaged field, 64 for G and c)."""
    defaults: dict = {}
    for solver in SOLVERS + [hmm.chain.upscaled_fluxes]:
        for p in list(inspect.signature(solver).parameters.values())[2:]:
            if p.default not in (p.empty, None):
                defaults.setdefault(p.name, set()).add(repr(p.default))
    differing = {name for name, values in defaults.items() if len(values) > 1}
    assert differing == {"dns_steps_per_eps", "macro", "n_quad"}
    assert defaults["max_work"] == {repr(hmm.MAX_WORK)}
