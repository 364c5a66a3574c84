"""Quick checks of the small pure functions of hmm.book.cost (the chapter itself runs under nbval)."""

import numpy as np
import pytest

import hmm
from hmm.book import cost


@pytest.mark.parametrize("eps", [0.1, 10**-1.5])
def test_work_formulas_match_counted_runs(eps):
    _, dns = cost.counted(hmm.solve_dns, T=cost.T, eps=eps, t_eval=cost.T_MACRO)
    assert dns == cost.dns_work(eps)
    for tau in (cost.RHO * eps, 0.1):
        _, pts = cost.counted(
            hmm.solve_hmm, T=cost.T, N=cost.N, eps=eps, tau=tau, kernel=cost.KERNEL
        )
        assert pts == cost.hmm_work(eps, tau)


def test_equal_crossover_interpolates_in_loglog():
    eps = np.array([1e-1, 1e-2, 1e-3])
    q = cost.EqualAccuracy(
        eps=eps,
        tau=cost.RHO * eps,
        micro_steps=(5,),
        hmm_error=np.ones((1, 3)),
        hmm_work=np.full((1, 3), 100),
        dns_steps=np.full(3, 2),
        dns_error=np.ones(3),
        dns_work=np.array([10, 1000, 10000]),
        mismatch=0,
    )
    assert q.ratio[0].tolist() == [0.1, 10.0, 100.0]
    assert cost.equal_crossover(q, 0) == pytest.approx(10**-1.5)
    q_never = cost.EqualAccuracy(**{**q.__dict__, "dns_work": np.array([200, 300, 400])})
    assert np.isnan(cost.equal_crossover(q_never, 0))


def test_math_text():
    assert cost._tex(0.02166) == r"$2.2\times10^{-2}$"
    assert cost._eps(10**-2.5) == r"$10^{-2.5}$"
    assert cost.tau_rule([t / cost.DT for t in cost.TAUS]) == pytest.approx(0.0)
