r"""The chapter "Averaging kernels and Lemma 1" (``book/kernels.ipynb``).

Section 2.2 of the paper: the kernels :math:`K \in \mathbb{K}^{p,q}`, their
exact conditions (moments, edge derivatives), the scaled kernels of
Figure 2.1, and the averaging error of Lemma 1 and of the plain window
average (2.1), measured as an envelope over window phases.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy as sp
from scipy.special import i0

import hmm
from hmm.claims import Check, Claim, Part
from hmm.kernels import T
from hmm.measure import fit_loglog, table

#: the (p, q) whose conditions the chapter checks in exact arithmetic
PAIRS = ((1, -1), (1, 1), (1, 3), (3, 2), (5, 4), (1, 7))
#: the edge smoothness indices of the Lemma 1 sweep, all with p = 1
Q_VALUES = (-1, 1, 3, 5, 7)
HALF = sp.Rational(1, 2)


def f_smooth(s):
    r"""The smooth test function :math:`e^{\sin 2\pi s}`."""
    return np.exp(np.sin(2 * np.pi * s))


def f_square(s):
    """The square wave: 1 on [0, 1/2), -1 on [1/2, 1), period 1."""
    return np.where(np.mod(s, 1.0) < 0.5, 1.0, -1.0)


#: name: (f, its mean over a period)
TESTS = {"smooth": (f_smooth, float(i0(1.0))), "square": (f_square, 0.0)}


@dataclass(frozen=True)
class Conditions:
    """The conditions of Section 2.2 for each (p, q), in exact arithmetic.

    ``moments[pq]`` are the moments r = 0..p+1, ``edges[pq]`` the
    derivatives of order 0..q+1 at t = 1/2; ``failures`` counts the kernels
    that miss a condition (unit mass, p vanishing moments, derivatives
    below q + 1 zero at the edge and the one of order q + 1 not).
    """

    moments: dict
    edges: dict
    failures: int


def kernel_conditions(pairs=PAIRS) -> Conditions:
    """Moments and edge derivatives of ``hmm.kernel(p, q)``, exactly."""
    moments, edges, failures = {}, {}, 0
    for p, q in pairs:
        K = hmm.kernel(p, q).expression()
        mom = [
            sp.integrate(T**r * K, (T, -HALF, HALF)) for r in range(p + 2)
        ]
        edge = [sp.diff(K, T, j).subs(T, HALF) for j in range(q + 2)]
        ok = mom[0] == 1 and not any(mom[1 : p + 1])
        failures += not (ok and not any(edge[:-1]) and edge[-1] != 0)
        moments[(p, q)], edges[(p, q)] = mom, edge
    return Conditions(moments, edges, failures)


def missed_conditions(K, p, q) -> list[str]:
    r"""The conditions of :math:`\mathbb{K}^{p,q}` that ``K`` misses.

    ``K`` is a sympy expression in ``hmm.kernels.T``, the kernel on its
    support [-1/2, 1/2] (zero outside), checked against the definition of
    Section 2.2 in exact arithmetic: even, unit mass, moments 1..p zero,
    derivatives 0..q zero at both edges (then :math:`K^{(q+1)}`, a
    polynomial on the support with jumps at the edges, is of bounded
    variation).
    """
    missed = []
    if sp.simplify(K - K.subs(T, -T)) != 0:
        missed.append("even")
    for r in range(p + 1):
        moment = sp.integrate(T**r * K, (T, -HALF, HALF))
        if moment != (1 if r == 0 else 0):
            missed.append("unit mass" if r == 0 else f"moment {r} = 0")
    for j in range(q + 1):
        dK = sp.diff(K, T, j)
        if dK.subs(T, HALF) != 0 or dK.subs(T, -HALF) != 0:
            missed.append(f"K^({j}) = 0 at the edges")
    return missed


def conditions_table(conditions: Conditions) -> str:
    """The moments and the edge behaviour of each kernel, as a table."""
    rows = []
    for (p, q), edge in conditions.edges.items():
        if q >= 0:
            text = f"0 for j <= {q}; j = {q + 1}: {edge[-1]}"
        else:
            text = f"K jumps: {edge[0]}"
        rows.append(((p, q), conditions.moments[(p, q)], text))
    header = ("(p,q)", "moments, r = 0..p+1", "K^(j)(1/2)")
    return table(rows, header, align="<<<")


def float_vs_exact(pairs=PAIRS) -> float:
    """Largest difference of the float kernel and its exact expression.

    On 241 points of [-0.6, 0.6], the exact expression cut to zero outside
    the support [-1/2, 1/2].
    """
    t_check = np.linspace(-0.6, 0.6, 241)
    worst = 0.0
    for p, q in pairs:
        K = hmm.kernel(p, q)
        exact = sp.lambdify(T, K.expression(), "numpy")(t_check)
        inside = np.abs(t_check) <= 0.5
        worst = max(worst, np.abs(K(t_check) - exact * inside).max())
    return worst


def fig21_scaled_kernels(pairs, tau):
    r"""Figure 2.1: the scaled kernels :math:`K_\tau` of ``pairs``."""
    import matplotlib.pyplot as plt

    t = np.linspace(-0.07, 0.07, 1401)
    fig, ax = plt.subplots(figsize=(6.5, 3.6), facecolor="white")
    styles = ["-", "--", "-.", ":"]
    for (p, q), ls in zip(pairs, styles, strict=True):
        label = f"$K^{{{p},{q}}}_\\tau$"
        K = hmm.kernel(p, q).scaled(tau)
        ax.plot(t, K(t), ls, lw=2, label=label)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.set(
        xlabel="$t$",
        ylabel=r"$K_\tau(t)$",
        title=rf"scaled kernels, $\tau = {tau}$",
    )
    ax.legend(frameon=False)
    return fig


def kernel_average(K, f, ratio, phase, n_gauss=16):
    r"""The kernel average :math:`\int K(x) f(x\tau/\varepsilon+\phi)dx`.

    Over [-1/2, 1/2], with ``ratio`` :math:`= \tau/\varepsilon` and
    ``phase`` :math:`= \phi`; Gauss-Legendre with ``n_gauss`` points on
    each piece between the points where the argument of ``f`` is a
    multiple of 1/4 (every jump of the square wave among them).
    """
    xg, wg = np.polynomial.legendre.leggauss(n_gauss)
    lo, hi = -0.5 * ratio + phase, 0.5 * ratio + phase
    # quarter periods
    k = np.arange(np.ceil(4 * lo), np.floor(4 * hi) + 1) / 4
    b = np.unique(np.concatenate([[-0.5, 0.5], (k - phase) / ratio]))
    b = b[(b >= -0.5) & (b <= 0.5)]
    left, right = b[:-1, None], b[1:, None]
    x = 0.5 * (left + right) + 0.5 * (right - left) * xg
    w = 0.5 * (right - left) * wg
    return np.sum(w * K(x) * f(ratio * x + phase))


def naive_average(f, ratio, phase):
    r"""The plain window average (2.1), written without a kernel.

    :math:`\frac1\tau\int f(s/\varepsilon + \phi)\,ds` over the window, in
    :math:`u = s/\varepsilon`, with the same quarter-period pieces.
    """
    xg, wg = np.polynomial.legendre.leggauss(16)
    lo, hi = -0.5 * ratio + phase, 0.5 * ratio + phase
    quarters = np.arange(np.ceil(4 * lo), np.floor(4 * hi) + 1) / 4
    b = np.unique(np.concatenate([[lo, hi], quarters]))
    b = b[(b >= lo) & (b <= hi)]
    left, right = b[:-1, None], b[1:, None]
    u = 0.5 * (left + right) + 0.5 * (right - left) * xg
    return np.sum(0.5 * (right - left) * wg * f(u)) / ratio


def envelope(average, fbar, ratios, phases, shifts):
    """Per ratio, the largest error over ``phases`` and ``ratio + shifts``.

    ``average(ratio, phase)`` is one window average; ``fbar`` its limit.
    """
    return np.array(
        [
            max(
                abs(average(r + d, ph) - fbar)
                for d in shifts
                for ph in phases
            )
            for r in ratios
        ]
    )


@dataclass(frozen=True)
class Lemma1Sweep:
    r"""The error envelopes of Lemma 1 and of (2.1).

    ``errors[(name, q)]`` is the envelope of :math:`K^{1,q}` for the test
    function ``name``, ``naive[name]`` that of the plain average (2.1),
    both at the nominal ``ratios`` :math:`\tau/\varepsilon`.
    """

    ratios: np.ndarray
    phases: np.ndarray
    shifts: np.ndarray
    errors: dict
    naive: dict


def kernel_envelope(K, name, sweep: Lemma1Sweep):
    """The envelope of kernel ``K`` for test ``name`` on a sweep's grid.

    At the sweep's ratios, phases and shifts (for the exercises: another
    kernel on the same grid).
    """
    f, fbar = TESTS[name]
    return envelope(
        lambda r, ph: kernel_average(K, f, r, ph),
        fbar,
        sweep.ratios,
        sweep.phases,
        sweep.shifts,
    )


def lemma1_sweep(q_values, ratios, phases, shifts) -> Lemma1Sweep:
    """Lemma 1: averaging envelopes of K^{1,q} and of (2.1).

    For both test functions of ``TESTS``, the maximum error over
    ``phases`` and over ``ratio + shifts`` for each nominal ratio.
    """
    sweep = Lemma1Sweep(ratios, phases, shifts, {}, {})
    for name, (f, fbar) in TESTS.items():
        for q in q_values:
            K = hmm.kernel(1, q)
            sweep.errors[(name, q)] = kernel_envelope(K, name, sweep)
        sweep.naive[name] = envelope(
            lambda r, ph, f=f: naive_average(f, r, ph),
            fbar,
            ratios,
            phases,
            shifts,
        )
    return sweep


def quadrature_change(q_values, ratios=(2.3, 40.7, 300.1), phase=0.37):
    """Largest change of a kernel average with 24 Gauss points, not 16."""
    return max(
        abs(
            kernel_average(hmm.kernel(1, q), f, r, phase, 24)
            - kernel_average(hmm.kernel(1, q), f, r, phase, 16)
        )
        for q in q_values
        for f, _ in TESTS.values()
        for r in ratios
    )


def naive_vs_constant_kernel(sweep: Lemma1Sweep) -> float:
    """Largest relative difference of the (2.1) and K^{1,-1} envelopes."""
    return max(
        np.max(np.abs(sweep.naive[name] / sweep.errors[(name, -1)] - 1))
        for name in TESTS
    )


@dataclass(frozen=True)
class Rates:
    r"""Fitted slopes of each envelope, keyed ``(name, q)``, q or "(2.1)".

    ``fits`` over the fitted range, whose :math:`\tau/\varepsilon` are
    ``ranges``; ``last3`` over its last three points (how far the slope
    moves along the range).
    """

    fits: dict
    ranges: dict
    last3: dict


def lemma1_rates(sweep: Lemma1Sweep, min_ratio, floor) -> Rates:
    r"""Slopes in :math:`\varepsilon/\tau` of every envelope.

    Fitted where :math:`\tau/\varepsilon \ge` ``min_ratio`` and the error
    is above ``floor`` (the round-off level is far below).
    """
    alpha = 1 / sweep.ratios  # eps / tau
    envelopes = {}
    for name in sweep.naive:
        for (n, q), err in sweep.errors.items():
            if n == name:
                envelopes[(name, q)] = err
        envelopes[(name, "(2.1)")] = sweep.naive[name]
    fits, ranges, last3 = {}, {}, {}
    for key, err in envelopes.items():
        use = (sweep.ratios >= min_ratio) & (err > floor)
        fits[key] = fit_loglog(alpha, err, where=use)
        ranges[key] = (sweep.ratios[use].min(), sweep.ratios[use].max())
        last = np.zeros_like(use)
        last[np.flatnonzero(use)[-3:]] = True
        last3[key] = fit_loglog(alpha, err, where=last)
    return Rates(fits, ranges, last3)


def rates_table(rates: Rates) -> str:
    """Claimed and fitted slope, fitted range and last-three slope."""
    rows = []
    for (name, q), fit in rates.fits.items():
        claimed = 1 if q == "(2.1)" else q + 2
        lo, hi = rates.ranges[(name, q)]
        rows.append(
            (
                name,
                q,
                claimed,
                f"{fit.slope:.2f}",
                f"[{lo:.1f}, {hi:.1f}]",
                f"{rates.last3[(name, q)].slope:.2f}",
            )
        )
    header = ("f", "q", "claim", "slope", "fitted tau/eps", "last 3")
    return table(rows, header)


def slope_glue(rates: Rates) -> dict[str, str]:
    """The fitted slopes as the chapter's text cites them (glue keys)."""
    out = {}
    for (name, q), fit in rates.fits.items():
        tag = "naive" if q == "(2.1)" else f"q{q}"
        out[f"kernels-slope-{name}-{tag}"] = f"{fit.slope:.2f}"
    return out


def envelope_near(K, ratio, sweep: Lemma1Sweep) -> float:
    r"""The smooth-f envelope of ``K`` at one :math:`\tau/\varepsilon`.

    Over the sweep's phases and a quarter of its shifts, so over
    [``ratio``, ``ratio`` + 0.5): the paper's ratio 5.3 of Figure 5.1.
    """
    f, fbar = TESTS["smooth"]
    return max(
        abs(kernel_average(K, f, ratio + d, ph) - fbar)
        for d in sweep.shifts / 4
        for ph in sweep.phases
    )


def fig_lemma1(sweep: Lemma1Sweep, rates: Rates, floor):
    """Envelopes against eps/tau with their fits, one panel per f."""
    import matplotlib.pyplot as plt

    alpha = 1 / sweep.ratios
    fig, axes = plt.subplots(
        2, 1, figsize=(6.5, 7.6), sharex=True, facecolor="white"
    )
    markers = ["o", "s", "^", "v", "D"]
    for ax, name in zip(axes, TESTS, strict=True):
        qs = [q for n, q in sweep.errors if n == name]
        for q, mk in zip(qs, markers, strict=True):
            fit = rates.fits[(name, q)]
            err = sweep.errors[(name, q)]
            (line,) = ax.loglog(
                alpha, err, mk, ms=5, mfc="none", label=f"$q={q}$"
            )
            x = alpha[(alpha >= fit.x_min) & (alpha <= fit.x_max)]
            ax.loglog(x, fit.line(x), "-", color=line.get_color(), lw=1)
        ax.loglog(
            alpha, sweep.naive[name], "x", color="k", ms=6, label="(2.1)"
        )
        ax.axhline(floor, color="0.6", ls=":", lw=0.8)
        ax.set(ylabel="error envelope", title=f"{name} $f$")
    axes[0].legend(
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.12),
        ncol=6,
    )
    axes[-1].set_xlabel(r"$\varepsilon/\tau$")
    return fig


def single_mode_table(ratios, phase=0.25) -> str:
    r"""The plain average of one mode against the kernel's transform.

    For :math:`f = \sin 2\pi s` at ``phase``, the error of the average
    with :math:`K^{1,-1}` and :math:`|\hat K(\tau/\varepsilon)|` (its
    Fourier transform): both vanish at integer ratios.
    """
    K = hmm.kernel(1, -1)
    rows = []
    for r in ratios:
        measured = abs(
            kernel_average(K, lambda s: np.sin(2 * np.pi * s), r, phase)
        )
        predicted = abs(float(K.fourier(r)))
        rows.append(
            (
                r,
                *(
                    f"{v:.1e}" if v > 1e-12 else "0 (< 1e-12)"
                    for v in (measured, predicted)
                ),
            )
        )
    header = ("tau/eps", "error at phase 1/4", "|K^(tau/eps)|")
    return table(rows, header)


#: the threshold of every fitted slope, and why it is that wide
_WHY = (
    r"fitted on $\tau/\varepsilon \ge 6$ above $10^{-13}$; the slope "
    "of the last three fitted points moves by up to about 0.2, so 0.3 "
    "is what this measurement resolves"
)


def claims(constant_missed, rates: Rates) -> dict[str, Claim]:
    """The chapter's claims: Figure 2.1, Lemma 1 and (2.1).

    ``constant_missed`` are the conditions of the class K^{1,-1} that the
    constant kernel misses (:func:`missed_conditions`).
    """
    return {
        "kernels-fig21": _fig21_claim(constant_missed),
        "kernels-lemma1": _lemma1_claim(rates),
        "kernels-eq21": _eq21_claim(rates),
    }


def _lemma1_claim(rates: Rates) -> Claim:
    q_values = [q for n, q in rates.fits if n == "smooth" and q != "(2.1)"]
    rate = {
        name: Part(
            f"rate, {name} $f$",
            [
                Check(
                    f"slope, $q = {q}$",
                    rates.fits[(name, q)].slope,
                    "in",
                    (q + 1.7, q + 2.3),
                    _WHY,
                )
                for q in q_values
            ],
        )
        for name in TESTS
    }
    slopes = {
        name: ", ".join(f"{c.value:.2f}" for c in part.checks)
        for name, part in rate.items()
    }
    return Claim(
        source="Lemma 1",
        statement=r"$|\int K_\tau(s) f(s/\varepsilon)\,ds - \bar f| "
        r"\le C\,|f|_\infty (\varepsilon/\tau)^{q+2}$ for 1-periodic "
        r"bounded $f$ and $K \in \mathbb{K}^{p,q}$.",
        measured=r"envelope slopes in $\varepsilon/\tau$ for "
        f"$q = {', '.join(map(str, q_values))}$: {slopes['smooth']} "
        f"(smooth $f$), {slopes['square']} (square wave)",
        parts=list(rate.values()),
        setup=r"test functions $e^{\sin 2\pi s}$ and a square wave "
        "(the paper runs none)",
    )


def _fig21_claim(constant_missed) -> Claim:
    return Claim(
        source="Figure 2.1 (Section 2.2)",
        statement=r"Scaled kernels $K_\tau$, $\tau = 0.1$, for a few "
        r"$(p, q)$; a constant kernel belongs to $\mathbb{K}^{1,-1}$.",
        measured=r"$K = 1$ on $[-1/2, 1/2]$ against the definition, in "
        r"exact arithmetic: even, $\int K\,dt = 1$, $\int tK\,dt = 0$, "
        r"and $K$ itself may jump ($q = -1$); "
        f"conditions missed: {', '.join(constant_missed) or 'none'}",
        parts=[
            Part(
                r"constant kernel in $\mathbb{K}^{1,-1}$",
                [
                    Check(
                        r"conditions of $\mathbb{K}^{1,-1}$ that $K = 1$ "
                        "misses",
                        len(constant_missed),
                        "<",
                        0.5,
                        "exact arithmetic on the constant itself, not on "
                        "the book's construction; a wrong class fails, "
                        r"e.g. $\mathbb{K}^{2,-1}$ (second moment $1/12$)",
                    )
                ],
            ),
        ],
        setup="the paper's $(p, q)$ are lost with the figure; the book "
        "draws $(1,-1)$, $(1,3)$, $(1,7)$, $(5,4)$ and builds $K$ as "
        r"$P(t^2)(1-4t^2)^{q+1}$ (the paper gives no formula); that "
        "these meet the definition is a printed check of the book's code, "
        "not part of the verdict",
    )


def _eq21_claim(rates: Rates) -> Claim:
    fits = {name: rates.fits[(name, "(2.1)")] for name in TESTS}
    return Claim(
        source="(2.1)",
        statement="The plain window average misses the mean by at most "
        r"$C\,\varepsilon/\tau$.",
        measured=f"slopes {fits['smooth'].slope:.2f} (smooth), "
        f"{fits['square'].slope:.2f} (square)",
        parts=[
            Part(
                "first order",
                [
                    Check(
                        f"slope, {n} $f$",
                        fit.slope,
                        "in",
                        (0.7, 1.3),
                        _WHY,
                    )
                    for n, fit in fits.items()
                ],
            ),
        ],
    )
