"""The benchmark set-ups (paper, Sec. 5.3 and 5.5) and one runner per solver and set-up."""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

import hmm
from hmm import fields

SPIN = {
    "T": 2 * np.pi,
    "N": 20,
    "p": 5,
    "q": 4,
    "tau_over_eps": 5.0,
    "beta": 1.0,
    "gamma": 1.0,
    "M0": fields.FIG54_M0.tolist(),
}
SPIN_EPS = (1e-2, 1e-3, 1e-4)
IVP_RTOL, IVP_ATOL = 1e-6, 1e-9

CHAIN = {
    "n": 100,
    "dx": 0.01,
    "T": 1.5,
    "N": 20,
    "r": 5,
    "ell": 5,
    "p": 5,
    "q": 4,
    "tau_over_eps": 5.0,
    "beta": 1.0,
    "gamma": 1.0,
    "J": 1.0,
}
CHAIN_EPS = (1e-2, 1e-3)
SPIN_KERNEL = hmm.kernel(SPIN["p"], SPIN["q"])
CHAIN_KERNEL = hmm.kernel(CHAIN["p"], CHAIN["q"])
SPIN_T_MACRO = np.linspace(0.0, SPIN["T"], SPIN["N"] + 1)
CHAIN_T_MACRO = np.linspace(0.0, CHAIN["T"], CHAIN["N"] + 1)
CHAIN_M0 = fields.fig55_initial(np.arange(CHAIN["n"]) * CHAIN["dx"])
CHAIN_MACRO = np.arange(0, CHAIN["n"], CHAIN["r"] + CHAIN["ell"])  # particle under each macro point
_SPIN_PHYS = {"beta": SPIN["beta"], "gamma": SPIN["gamma"]}
_CHAIN_PHYS = {"J": CHAIN["J"], "beta": CHAIN["beta"], "gamma": CHAIN["gamma"]}


def spin_hmm(eps: float) -> hmm.Solution:
    """``hmm.solve_hmm`` on the single-spin set-up (Figure 5.3, first field)."""
    return hmm.solve_hmm(
        fields.fig51_left,
        SPIN["M0"],
        T=SPIN["T"],
        N=SPIN["N"],
        eps=eps,
        tau=SPIN["tau_over_eps"] * eps,
        kernel=SPIN_KERNEL,
        **_SPIN_PHYS,
    )


def spin_dns(eps: float, T: float = SPIN["T"], t_out=SPIN_T_MACRO) -> hmm.Solution:
    """``hmm.solve_dns`` on the single-spin set-up, on ``[0, T]``."""
    return hmm.solve_dns(fields.fig51_left, SPIN["M0"], T=T, eps=eps, t_eval=t_out, **_SPIN_PHYS)


def spin_ivp(eps: float, T: float = SPIN["T"], t_out=SPIN_T_MACRO):
    """scipy's DOP853 on (1.2) with a plain numpy right-hand side (no vectorisation tricks)."""
    beta, gamma = SPIN["beta"], SPIN["gamma"]

    def rhs(t, m):
        phase = 2 * np.pi * t / eps
        mxh = np.cross(m, np.array([np.sin(phase), np.cos(phase), 1.0]))
        return -beta * mxh - gamma * np.cross(m, mxh)

    sol = solve_ivp(
        rhs, (0.0, T), SPIN["M0"], method="DOP853", rtol=IVP_RTOL, atol=IVP_ATOL, t_eval=t_out
    )
    if not sol.success:
        raise RuntimeError(f"solve_ivp failed at eps = {eps}: {sol.message}")
    return sol


def spin_reference(T: float = SPIN["T"], N: int = SPIN["N"]) -> np.ndarray:
    """The averaged solution of (4.3) on ``N`` macro steps of ``[0, T]``."""
    return hmm.solve_averaged(fields.fig51_left, SPIN["M0"], T=T, N=N, **_SPIN_PHYS).m


def chain_hmm(eps: float) -> hmm.Solution:
    """``hmm.chain.solve_hmm`` on the chain set-up (Figure 5.5)."""
    c = CHAIN
    return hmm.chain.solve_hmm(
        fields.fig55,
        CHAIN_M0,
        T=c["T"],
        N=c["N"],
        eps=eps,
        tau=c["tau_over_eps"] * eps,
        kernel=CHAIN_KERNEL,
        r=c["r"],
        ell=c["ell"],
        **_CHAIN_PHYS,
    )


def chain_dns(eps: float) -> hmm.Solution:
    """``hmm.chain.solve_dns`` on the chain set-up, at the macro times."""
    return hmm.chain.solve_dns(
        fields.fig55, CHAIN_M0, T=CHAIN["T"], eps=eps, t_eval=CHAIN_T_MACRO, **_CHAIN_PHYS
    )


def chain_reference(eps: float) -> np.ndarray:
    """The direct simulation at ``eps`` averaged by (3.9) at the macro points and times."""
    c = CHAIN
    return hmm.chain.dns_average(
        fields.fig55,
        CHAIN_M0,
        t=CHAIN_T_MACRO,
        eps=eps,
        tau=c["tau_over_eps"] * eps,
        kernel=CHAIN_KERNEL,
        r=c["r"],
        ell=c["ell"],
        **_CHAIN_PHYS,
    ).m
