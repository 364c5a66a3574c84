r"""The chapter "expansion and tail error" (``book/tail_expansion.ipynb``).

Section 4 of the paper: the expansion (4.4)-(4.6) of the rescaled micro
problem in :math:`\varepsilon`, its accuracy on :math:`0 \le t \le 1`
(Section 5.1, Figure 5.1 left), and the tail term of the upscaled flux
that Lemma 2 bounds by :math:`C\tau|\mathbf{M}|` (4.7).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp
from sympy.core.function import AppliedUndef

import hmm
from hmm import fields
from hmm.claims import Check, Claim, Part
from hmm.measure import fit_loglog, fixed, table

_t, _s = sp.symbols("t s", real=True)


def calH(field, v):
    r"""The skew matrix of the field applied to v: :math:`v \times H`."""
    return v.cross(field)


def shown(e):
    """For reading: m0_1(t) -> m_01, d/dt m0_1(t) -> m_01' (t implied)."""

    def name(f, prime=""):
        base, i = f.func.__name__.split("_")
        return sp.Symbol(f"{base[0]}_{{{base[1:]}{i}}}{prime}")

    dots = {d: name(d.expr, "'") for d in e.atoms(sp.Derivative)}
    return e.xreplace(dots).xreplace(
        {f: name(f) for f in e.atoms(AppliedUndef)}
    )


def integrate0(vec):
    """int_0^t of a vector expression in t, expanded (a canonical form)."""
    return vec.applyfunc(
        lambda e: sp.expand(
            sp.integrate(sp.expand(e.subs(_t, _s)), (_s, 0, _t))
        )
    )


def growing_part(vec):
    """The terms with a factor t outside the trigonometric functions."""
    trig = {
        sp.sin(2 * sp.pi * _t): sp.Symbol("S"),
        sp.cos(2 * sp.pi * _t): sp.Symbol("C"),
    }

    def growing(e):
        terms = sp.Add.make_args(sp.expand(e))
        return sp.Add(*[a for a in terms if a.subs(trig).has(_t)])

    return vec.applyfunc(growing)


def series_residual(field, M0, m1, m2, eps):
    r"""Whether the residual in (4.4) of the series is third order.

    For :math:`M_0 + \varepsilon m_1 + \tfrac{\varepsilon^2}{2} m_2`, one
    bool per power :math:`\varepsilon^0, \varepsilon^1, \varepsilon^2`:
    whether its coefficient in the residual vanishes.
    """
    mt = M0 + eps * m1 + eps**2 / 2 * m2
    res = (mt.diff(_t) + eps * calH(field, mt)).applyfunc(sp.expand)
    return [
        sp.simplify(res.applyfunc(lambda e, k=k: e.coeff(eps, k)))
        == sp.zeros(3, 1)
        for k in range(3)
    ]


def solve_rescaled(eps_value, M0, rtol=1e-12):
    """Solve (4.4) for the Section 5.1 field on 0 <= t <= 1.

    DOP853 with relative tolerance ``rtol``; the solution on 2001 points.
    """

    def rhs(tt, y):
        return -eps_value * np.cross(y, fields.fig51_left(tt, tt))

    t_out = np.linspace(0, 1, 2001)
    sol = solve_ivp(
        rhs,
        (0, 1),
        M0,
        method="DOP853",
        rtol=rtol,
        atol=1e-15,
        t_eval=t_out,
    )
    return t_out, sol.y.T


def vector_function(vec):
    """Numerical t -> array (len(t), 3) from a sympy column vector."""
    parts = [sp.lambdify(_t, e, "numpy") for e in vec]
    return lambda tt: np.stack(
        [
            np.broadcast_to(np.asarray(f(tt), float), tt.shape)
            for f in parts
        ],
        -1,
    )


@dataclass(frozen=True)
class ExpansionSweep:
    r"""Errors of the truncated expansions, one per :math:`\varepsilon`.

    ``errors[key]`` is :math:`\max_t |\mathbf{m} - \mathbf{u}|_2` for the
    truncation after ``key`` ("m0", "m1", "m2"); ``solver_change`` how much
    the solution moves when the solver tolerance is relaxed to 1e-10.
    """

    eps_values: np.ndarray
    errors: dict
    solver_change: np.ndarray


def fig51_left_sweep(eps_values, M0, m1, m2) -> ExpansionSweep:
    r"""Figure 5.1 (left): the truncations against an accurate solution.

    ``m1``, ``m2`` are the sympy terms of the expansion for ``M0``; the
    truncations are :math:`\mathbf{m}_0`, then
    :math:`+ \varepsilon\mathbf{m}_1`, then
    :math:`+ \tfrac{\varepsilon^2}{2}\mathbf{m}_2`.
    """
    m1_f, m2_f = vector_function(m1), vector_function(m2)
    errors = {"m0": [], "m1": [], "m2": []}
    solver_change = []
    for e in eps_values:
        tt, mm = solve_rescaled(e, M0)
        u = {"m0": M0, "m1": M0 + e * m1_f(tt)}
        u["m2"] = u["m1"] + e**2 / 2 * m2_f(tt)
        for key in errors:
            errors[key].append(np.max(np.linalg.norm(mm - u[key], axis=1)))
        relaxed = solve_rescaled(e, M0, rtol=1e-10)[1]
        solver_change.append(np.max(np.abs(relaxed - mm)))
    errors = {key: np.array(v) for key, v in errors.items()}
    return ExpansionSweep(eps_values, errors, np.array(solver_change))


def expansion_fits_report(fits) -> str:
    """One line per truncation: fitted slope, claimed slope, range."""
    lines = []
    for key, claim in [("m0", 1), ("m1", 2), ("m2", 3)]:
        fit = fits[key]
        lines.append(
            f"u = truncation after {key}: slope {fit.slope:.2f} (claimed "
            f"{claim}), fit on {fit.x_min:.0e} <= eps <= {fit.x_max:.2f}"
        )
    return "\n".join(lines)


def fig51_left_figure(sweep: ExpansionSweep, fits, ranges):
    """The truncation errors against eps with their fitted lines."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4.2), facecolor="white")
    labels = {
        "m0": r"$\mathbf{m}_0$",
        "m1": r"$\mathbf{m}_0 + \varepsilon\mathbf{m}_1$",
        "m2": r"$\mathbf{m}_0 + \varepsilon\mathbf{m}_1 + "
        r"\frac{\varepsilon^2}{2}\mathbf{m}_2$",
    }
    x = sweep.eps_values
    for (key, err), mk in zip(sweep.errors.items(), "os^", strict=True):
        fit, use = fits[key], ranges[key]
        label = f"{labels[key]}: slope {fit.slope:.2f}"
        ax.loglog(x, err, mk, ms=6, mfc="none", label=label)
        ax.loglog(x[use], fit.line(x[use]), "k-", lw=0.8)
    ax.set(
        xlabel=r"$\varepsilon$",
        ylabel=r"$\max_{0\leq t\leq 1}|\mathbf{m} - \mathbf{u}|_2$",
    )
    ax.legend(frameon=False, title=r"$\mathbf{u}$ =")
    return fig


def H_drift(tt, zz):
    """A field beyond the paper's, with a slow drift in t."""
    tt, zz = np.broadcast_arrays(tt, zz)
    x = np.sin(2 * np.pi * zz) + np.sin(tt)
    y = (1 + 0.5 * tt) * np.cos(2 * np.pi * zz)
    return np.stack([x, y, np.ones_like(zz)], axis=-1)


#: the three cases of the tail sweeps: name -> (field, t_a, M)
CASES = {
    "5.1 field, M = e_z": (
        fields.fig51_left,
        0.0,
        np.array([0.0, 0.0, 1.0]),
    ),
    "5.1 field, M = M0": (fields.fig51_left, 0.0, fields.FIG54_M0),
    "drifting field, M = M0": (H_drift, 0.5, fields.FIG54_M0),
}


def frozen_average(H, t_a, M0, eps_value, tau, window, kernel):
    r"""The frozen-field average :math:`\int K_\tau(s - c)\,
    \mathbf{M}\times\mathbf{H}(t_a, (t_a + s)/\varepsilon)\,ds`.

    :math:`c = 0` (centred window) or :math:`\tau/2` (forward window);
    20-point Gauss-Legendre on quarter periods.
    """
    xg, wg = np.polynomial.legendre.leggauss(20)
    a, c = (-tau / 2, 0.0) if window == "centred" else (0.0, tau / 2)
    b = np.linspace(a, a + tau, int(np.ceil(4 * tau / eps_value)) + 1)
    left, right = b[:-1, None], b[1:, None]
    sn = (0.5 * (left + right) + 0.5 * (right - left) * xg).ravel()
    w = (0.5 * (right - left) * wg).ravel() * kernel.scaled(tau)(sn - c)
    return w @ np.cross(
        M0, H(np.full_like(sn, t_a), (t_a + sn) / eps_value)
    )


def tail_error(
    H,
    t_a,
    M0,
    eps_value,
    tau,
    kernel,
    window="centred",
    micro_steps_per_eps=32,
):
    r"""The tail term: envelope over eight window phases of
    :math:`|\mathbf{F} + \text{frozen-field average}|`.

    :math:`\mathbf{F}` is ``hmm.upscaled_flux`` at the window centres
    :math:`t_a + j\varepsilon/8`, :math:`j = 0, \dots, 7`.
    """
    worst = 0.0
    for j in range(8):
        ta = t_a + j * eps_value / 8
        F = hmm.upscaled_flux(
            H,
            ta,
            M0,
            eps=eps_value,
            tau=tau,
            kernel=kernel,
            window=window,
            micro_steps_per_eps=micro_steps_per_eps,
        )
        frozen = frozen_average(H, ta, M0, eps_value, tau, window, kernel)
        worst = max(worst, np.linalg.norm(F + frozen))
    return worst


@dataclass(frozen=True)
class TailSweeps:
    r"""The tail term of each case of ``CASES`` in two sweeps.

    ``at_ratio[name]``: :math:`\tau = ` ``ratio`` :math:`\varepsilon` for
    :math:`\varepsilon` in ``eps_sweep``; ``centred[name]`` and
    ``forward[name]``: :math:`\varepsilon =` ``eps_fixed`` for
    :math:`\tau` in ``tau_sweep``, with either window.
    """

    eps_sweep: np.ndarray
    ratio: float
    tau_sweep: np.ndarray
    eps_fixed: float
    at_ratio: dict
    centred: dict
    forward: dict


def lemma2_sweep(eps_sweep, ratio, tau_sweep, eps_fixed, kernel):
    """Lemma 2: the tail term as eps -> 0 at tau = ratio eps, and as tau
    grows at fixed eps (centred and forward windows), for every case."""
    at_ratio, centred, forward = {}, {}, {}
    for name, (H, ta, M0) in CASES.items():
        at_ratio[name] = np.array(
            [
                tail_error(H, ta, M0, e, ratio * e, kernel)
                for e in eps_sweep
            ]
        )
        centred[name] = np.array(
            [
                tail_error(H, ta, M0, eps_fixed, tau, kernel)
                for tau in tau_sweep
            ]
        )
        forward[name] = np.array(
            [
                tail_error(H, ta, M0, eps_fixed, tau, kernel, "forward")
                for tau in tau_sweep
            ]
        )
    return TailSweeps(
        eps_sweep, ratio, tau_sweep, eps_fixed, at_ratio, centred, forward
    )


def micro_change(eps_value, tau, kernel, finer=128):
    """Largest change of a tail term with ``finer`` micro steps per eps
    instead of 32, over the cases."""
    return max(
        abs(
            tail_error(H, ta, M0, eps_value, tau, kernel)
            - tail_error(
                H,
                ta,
                M0,
                eps_value,
                tau,
                kernel,
                micro_steps_per_eps=finer,
            )
        )
        for H, ta, M0 in CASES.values()
    )


def lemma2_slopes(sweeps: TailSweeps) -> dict:
    r"""Fitted slopes in :math:`\tau` of each case and sweep.

    ``"ratio"``: at :math:`\tau = 5.3\varepsilon`; ``"fixed"`` and
    ``"forward"``: at fixed :math:`\varepsilon`, centred and forward.
    """
    taus = sweeps.ratio * sweeps.eps_sweep
    return {
        name: dict(
            ratio=fit_loglog(taus, sweeps.at_ratio[name]).slope,
            fixed=fit_loglog(sweeps.tau_sweep, sweeps.centred[name]).slope,
            forward=fit_loglog(
                sweeps.tau_sweep, sweeps.forward[name]
            ).slope,
        )
        for name in sweeps.at_ratio
    }


def lemma2_table(slopes, c_tail, sweeps: TailSweeps) -> str:
    """The slopes of each case and its largest E_tail/tau, with ranges."""
    rows = [
        (
            name,
            fixed(v["ratio"]),
            f"{c_tail[name]:.3f}",
            fixed(v["fixed"]),
            fixed(v["forward"]),
        )
        for name, v in slopes.items()
    ]
    r = f"{sweeps.ratio:g}"
    header = ("case", f"tau={r}eps", "max E/tau", "centred", "forward")
    e, tau = sweeps.eps_sweep, sweeps.tau_sweep
    e_fixed = f"{sweeps.eps_fixed:.0e}".replace("e-0", "e-")
    return (
        table(rows, header)
        + f"\nslopes in tau; tau = {r} eps for {e[0]:.0e} <= eps <= "
        f"{e[-1]:.0e};\n  eps = {e_fixed} fixed for {tau[0]:.1e} <= tau "
        f"<= {tau[-1]:.1f}"
    )


def fig_lemma2(sweeps: TailSweeps):
    """The tail terms: tau = 5.3 eps (top), fixed eps (bottom)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(6.5, 7.4), facecolor="white")
    taus = sweeps.ratio * sweeps.eps_sweep
    styles = zip(sweeps.at_ratio, "osd", ("C0", "C1", "C2"), strict=True)
    for name, mk, color in styles:
        axes[0].loglog(
            taus,
            sweeps.at_ratio[name],
            mk + "-",
            color=color,
            ms=6,
            label=name,
        )
        x = sweeps.tau_sweep
        axes[1].loglog(
            x, sweeps.centred[name], mk + "-", color=color, ms=6
        )
        axes[1].loglog(
            x,
            sweeps.forward[name],
            mk + ":",
            color=color,
            ms=7,
            mfc="none",
        )
    for ax, x in zip(axes, (taus, sweeps.tau_sweep), strict=True):
        ax.loglog(x, x, "k--", lw=0.8, label=r"$\tau$")
        ax.set(xlabel=r"$\tau$", ylabel=r"$E_{\mathrm{tail}}$ (envelope)")
    axes[0].set_title(r"$\tau = 5.3\,\varepsilon$, $\varepsilon \to 0$")
    axes[1].set_title(
        r"$\varepsilon = 10^{-3}$: centred (solid), forward (dotted)"
    )
    axes[0].legend(frameon=False)
    fig.tight_layout()
    return fig


def claims(fits, slopes, c_tail) -> dict[str, Claim]:
    """The chapter's claims: Figure 5.1 (left) and Lemma 2."""
    fit_why = (
        "least-squares slope over the sweep; the sweeps are smooth, so "
        "0.1 resolves it"
    )
    return {
        "tail-fig51left": Claim(
            source="Figure 5.1 (left), Section 5.1",
            statement=r"On $0 \le t \le 1$, $\mathbf{m} - \mathbf{m}_0 = "
            r"O(\varepsilon)$ and $\mathbf{m} - \mathbf{m}_0 - "
            r"\varepsilon\mathbf{m}_1 = O(\varepsilon^2)$: one order is "
            r"gained by adding $\mathbf{m}_1$.",
            measured=f"slopes {fits['m0'].slope:.2f} and "
            f"{fits['m1'].slope:.2f} for "
            f"${_power(fits['m0'].x_min)} \\le \\varepsilon \\le "
            f"{fits['m0'].x_max:.2f}$; with the $\\mathbf{{m}}_2$ term "
            f"{fits['m2'].slope:.2f}",
            parts=[
                Part(
                    f"order {k}",
                    [
                        Check(
                            f"slope, $\\mathbf{{u}} = {u}$",
                            fits[key].slope,
                            "in",
                            (k - 0.1, k + 0.1),
                            fit_why,
                        )
                    ],
                )
                for k, key, u in (
                    (1, "m0", r"\mathbf{m}_0"),
                    (2, "m1", r"\mathbf{m}_0 + \varepsilon\mathbf{m}_1"),
                )
            ],
            setup=r"$\varepsilon$ from $10^{-4}$ to 0.3 (not given in the "
            "paper)",
        ),
        "tail-lemma2": _lemma2_claim(slopes, c_tail, fit_why),
    }


def _power(x: float) -> str:
    """A power of ten, ``1e-04``, as LaTeX: ``10^{-4}``."""
    mantissa, exponent = f"{x:.0e}".split("e")
    if mantissa != "1":
        raise ValueError(f"{x:.0e} is not a power of ten")
    return f"10^{{{int(exponent)}}}"


#: the names of ``CASES`` in the claims' Markdown
_M0_TEX = r"$\mathbf{M} = [1,1,1]^T/\sqrt{3}$"
_CASES_TEX = {
    "5.1 field, M = e_z": r"Sec. 5.1 field, $\mathbf{M} = \mathbf{e}_z$",
    "5.1 field, M = M0": "Sec. 5.1 field, " + _M0_TEX,
    "drifting field, M = M0": "drifting field, " + _M0_TEX,
}


_AT_RATIO = r"at $\tau = 5.3\varepsilon$"
_AT_FIXED = r"at fixed $\varepsilon$, centred"


def _lemma2_parts(slopes, fit_why) -> list[Part]:
    """The bound (4.7) and its claimed sharpness, from tau-slopes."""
    slopes = {_CASES_TEX.get(n, n): v for n, v in slopes.items()}
    bound_form = Part(
        r"bound $C\tau|\mathbf{M}|$ holds",
        [
            Check(
                f"slope in $\\tau$ {_AT_RATIO}, {n}",
                v["ratio"],
                ">",
                0.9,
                r"$E_{\mathrm{tail}}/\tau$ must not grow as "
                r"$\tau \to 0$: " + fit_why,
            )
            for n, v in slopes.items()
        ]
        + [
            Check(
                f"slope in $\\tau$ {_AT_FIXED}, {n}",
                v["fixed"],
                "<",
                1.1,
                r"$E_{\mathrm{tail}}/\tau$ must not grow with $\tau$: "
                + fit_why,
            )
            for n, v in slopes.items()
        ],
    )
    return [bound_form, _sharp_part(slopes, fit_why)]


def _sharp_part(slopes, fit_why) -> Part:
    """The caption's sharpness: growth like tau at fixed eps."""
    return Part(
        r"growth like $\tau$ at fixed $\varepsilon$ (centred window)",
        [
            Check(
                f"slope in $\\tau$ {_AT_FIXED}, {n}",
                v["fixed"],
                "in",
                (0.8, 1.2),
                r"a sharp $O(\tau)$ term grows like $\tau$: " + fit_why,
            )
            for n, v in slopes.items()
        ],
        sharp=True,
    )


def _lemma2_claim(slopes, c_tail, fit_why) -> Claim:
    return Claim(
        source="Lemma 2, (4.7)",
        statement=r"The tail term of the upscaled flux is at most "
        r"$C\tau|\mathbf{M}|$; the caption of Figure 5.1 calls the "
        "estimate sharp.",
        measured=f"slopes in $\\tau$ {_AT_RATIO}: "
        + ", ".join(f"{v['ratio']:.2f}" for v in slopes.values())
        + f"; {_AT_FIXED}: "
        + ", ".join(fixed(v["fixed"]) for v in slopes.values())
        + ", forward: "
        + ", ".join(fixed(v["forward"]) for v in slopes.values())
        + r"; largest $E_{\mathrm{tail}}/(\tau|\mathbf{M}|)$ "
        + f"{max(c_tail.values()):.3f}",
        parts=_lemma2_parts(slopes, fit_why),
        setup=r"$K \in \mathbb{K}^{5,4}$; the paper's field of Sec. 5.1 "
        "and a drifting field; envelope over 8 phases",
    )
