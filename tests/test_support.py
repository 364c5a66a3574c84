"""The book's support modules: fields, the result type, the measuring helpers and the claims."""

import numpy as np
import pytest

import hmm
from hmm import claims, fields, measure
from hmm.claims import Check, Claim, Part
from hmm.dns import _rk4_step
from hmm.integrators import implicit_midpoint_step, rk4_step

PAPER_FIELDS = {
    fields.fig51_left: [0.0, 0.0, 1.0],
    fields.fig51_right: [0.0, 0.0, 1.0],
    fields.fig53_right: [0.5, 0.5, 1.0],
}


@pytest.mark.parametrize("H, mean", PAPER_FIELDS.items())
def test_paper_fields_shape_and_mean(H, mean):
    t = np.linspace(0, 3, 12).reshape(3, 4)
    assert H(t, t / 0.01).shape == (3, 4, 3)
    np.testing.assert_allclose(hmm.averaged_field(H, 0.7), mean, atol=1e-14)


def test_fig55_field_and_initial_chain():
    t = np.array([0.0, 1.0])
    np.testing.assert_allclose(hmm.averaged_field(fields.fig55, t)[:, 2], 1.5 + np.cos(0.43 * t))
    m0 = fields.fig55_initial(np.arange(100) * 0.01)
    assert m0.shape == (100, 3)
    np.testing.assert_allclose(np.linalg.norm(m0, axis=1), 1.0)
    np.testing.assert_allclose(m0[25], [1.0, 0.0, 0.0], atol=1e-15)


def test_counted_field_counts_points():
    H = fields.Counted(fields.fig51_left)
    fields.evaluate(H, np.zeros((4, 5)), 0.0)
    fields.oscillating(H, np.zeros(7), 0.1)
    assert H.points == 27


def test_make_stats_refuses_unknown_counters():
    assert hmm.solution.make_stats(steps=3)["steps"] == 3
    with pytest.raises(KeyError, match="particle_steps"):
        hmm.solution.make_stats(particle_steps=3)


def test_float_rk4_step_is_the_array_step():
    """The unrolled float step of the single-spin DNS is rk4_step on (1.2)."""
    m, h, H = (
        np.array([0.6, 0.0, 0.8]),
        0.01,
        np.array([[0.3, -1.0, 2.0], [0.1, 0.5, 1.0], [1.0, 0.0, 0.2]]),
    )

    def rhs(y, field):
        return hmm.landau_lifshitz(y, field, 1.3, 0.7)

    np.testing.assert_allclose(
        _rk4_step(tuple(m), h, *H.tolist(), 1.3, 0.7), rk4_step(rhs, m, h, tuple(H)), atol=1e-16
    )


@pytest.mark.parametrize("chord", [False, True])
def test_implicit_midpoint_step_solves_the_scheme(chord):
    """y1 = y0 + dt f((y0 + y1)/2) for a nonlinear f, with full or chord Newton."""
    A = np.array([[0.0, -1.0], [1.0, 0.0]])

    def f(y, jacobian):
        return A @ y - y**3, (A - np.diag(3 * y**2)) if jacobian else None

    y0, dt = np.array([0.3, 0.8]), 0.2
    y1, work = implicit_midpoint_step(f, y0, dt, chord=chord)
    ym = 0.5 * (y0 + y1)
    np.testing.assert_allclose(y1, y0 + dt * f(ym, False)[0], atol=1e-13)
    assert work.iterations >= work.jacobians >= 1
    if not chord:
        assert work.iterations == work.jacobians


def test_estimate_stop_rule_saves_an_iteration_within_tol():
    """Chord Newton converges linearly; stopping when theta/(1 - theta) |dY| (the error left,
    estimated from the contraction theta) is below tol saves an iteration, and the step moves by
    less than tol."""
    A = np.array([[0.0, -1.0], [1.0, 0.0]])

    def f(y, jacobian):
        return A @ y - y**3, (A - np.diag(3 * y**2)) if jacobian else None

    y0, dt = np.array([0.3, 0.8]), 0.2
    a, update = implicit_midpoint_step(f, y0, dt, chord=True, tol=1e-12)
    b, estimate = implicit_midpoint_step(f, y0, dt, chord=True, tol=1e-12, stop="estimate")
    assert estimate.iterations == update.iterations - 1
    assert np.abs(a - b).max() < 2e-12  # y1 = 2 Y - y0: twice the error in the midpoint


def test_implicit_midpoint_step_raises_without_convergence():
    """y' = y^2 from y = 1 with dt = 5: Y - 1 - 2.5 Y^2 = 0 has no real root."""

    def f(y, jacobian):
        return y**2, np.diag(2 * y) if jacobian else None

    with pytest.raises(hmm.NonConvergenceError):
        implicit_midpoint_step(f, np.array([1.0]), 5.0)


def test_fit_loglog_recovers_a_power_law_on_its_range():
    x = np.geomspace(1e-4, 1e-1, 10)
    y = 3.0 * x**2 + np.where(x > 0.02, 1.0, 0.0)  # the power law holds only for x <= 0.02
    fit = measure.fit_loglog(x, y, where=x <= 0.02)
    assert fit.slope == pytest.approx(2.0, abs=1e-12)
    assert np.exp(fit.intercept) == pytest.approx(3.0)
    assert fit.points == int(np.sum(x <= 0.02)) and fit.x_max <= 0.02
    assert abs(measure.fit_loglog(x, y).slope - 2) > 0.5  # over all points the slope is wrong
    with pytest.raises(ValueError, match="at least 2 points"):
        measure.fit_loglog(x, y, where=x < 2e-4)


def test_max_error_and_phase_shifted_eps():
    a = np.zeros((4, 2, 3))
    b = a.copy()
    b[2, 1] = [3.0, 4.0, 0.0]
    assert measure.max_error(a, b) == 5.0
    eps = measure.phase_shifted_eps(1e-3, 0.1)
    np.testing.assert_allclose(np.mod(0.1 / eps, 1.0), [0.0, 0.25, 0.5, 0.75], atol=1e-9)
    assert np.all(np.abs(eps / 1e-3 - 1) < 0.01)


def test_fixed_has_no_negative_zero():
    assert measure.fixed(-3e-4) == "0.00" and measure.fixed(-0.004, 3) == "-0.004"
    assert measure.fixed(-1.234) == "-1.23"


def test_count_ratio_is_exact_on_halves():
    assert measure.count_ratio(780, 160) == "4.88"  # 4.875: a half, rounded up
    assert measure.count_ratio(780, 208, 1) == "3.8" and measure.count_ratio(13, 16, 3) == "0.813"
    assert measure.count_ratio(1, 3) == "0.33" and measure.count_ratio(7, 2, 0) == "4"
    with pytest.raises(ValueError, match="b > 0"):
        measure.count_ratio(1, 0)
    with pytest.raises(ValueError, match="integer counts"):
        measure.count_ratio(1.5, 2)


def test_bound_and_table():
    assert measure.bound(2.2e-16, 1e-14) == "< 1e-14"
    with pytest.raises(ValueError, match="not below"):
        measure.bound(3e-14, 1e-14)
    text = measure.table([("a", "1.0"), ("bbb", "22")], ("name", "x"))
    assert text.splitlines() == ["name |   x", "-----+----", "a    | 1.0", "bbb  |  22"]


def _check(value, rule=">", limit=1.0):
    return Check("slope", value, rule, limit, "theory")


def test_claim_verdicts_follow_the_rule():
    bound, sharp = Part("bound", [_check(0.5, "<")]), Part("rate", [_check(2.0)], sharp=True)
    not_sharp = Part("rate", [_check(0.5)], sharp=True)
    assert Claim("Thm", "s", "m", [bound, sharp]).verdict == claims.REPRODUCED
    verdict = Claim("Thm", "s", "m", [bound, not_sharp]).verdict
    assert verdict.startswith(claims.NOT_SHARP) and verdict.endswith("(not attained: rate)")
    failing = Part("floor", [_check(0.5)])
    assert (
        Claim("Fig", "s", "m", [bound, failing]).verdict == "partly reproduced (bound; not: floor)"
    )
    assert Claim("Fig", "s", "m", [failing]).verdict == claims.NOT_REPRODUCED
    claim = Claim("Rem", "s", "m", not_checkable="no numbers given")
    assert claim.verdict == "not checkable: no numbers given"
    assert Claim("Fig", "s", "m", [bound, failing]).failed == ["slope 0.5 > 1"]
    for verdict in (claims.REPRODUCED, claims.NOT_SHARP, claims.NOT_REPRODUCED):
        assert verdict in claims.VERDICTS
    glued = {}
    claims.glue_claims(
        lambda k, v, display: glued.update({k: v}), {"x": Claim("Fig", "s", "m", [bound])}
    )
    assert {key: repr(value) for key, value in glued.items()} == {  # Markdown, plain text as is
        "x-verdict": "reproduced",
        "x-measured": "m",
        "x-setup": "-",
        "x-statement": "s",
    }
    text = Claim("Fig", "s" * 100, "m", [bound], setup="differs").report(width=40)
    assert text.splitlines()[0] == "Fig: reproduced" and max(map(len, text.splitlines())) <= 40


def test_claim_refuses_fragile_thresholds_and_bad_input():
    with pytest.raises(ValueError, match="sits on the threshold"):
        _check(1.0 + 1e-9)
    with pytest.raises(ValueError, match="rule"):
        _check(1.0, "<=")
    with pytest.raises(ValueError, match="not both"):
        Claim("x", "s", "m")
    assert _check(0.9, "in", (0.8, 1.2)).holds and not _check(1.3, "in", (0.8, 1.2)).holds
    assert not _check(float("inf"), "<").holds  # far from any threshold: not fragile


def test_formula_shows_latex_and_stable_text():
    import sympy

    from hmm.display import Formula

    t = sympy.Symbol("t")
    f = Formula(
        [(r"K^{1,1}(t)", "K^(1,1)(t)", 15 * (1 - 4 * t**2) ** 2 / 8), ("m_1", "m1", [t, 2 * t])]
    )
    assert repr(f) == "K^(1,1)(t) = 15*(1 - 4*t**2)**2/8\nm1 = [t, 2*t]"
    latex = f._repr_latex_()
    assert (
        latex.startswith("$$")
        and r"{K^{1,1}(t)} &= \frac{15 \left(1 - 4 t^{2}\right)^{2}}{8}" in latex
    )
    # a left side that starts with "[" is not eaten as an optional argument of aligned or \\
    rows = Formula([(r"[\varepsilon^0]", "e0", t), (r"[\varepsilon^1]", "e1", t)])._repr_latex_()
    assert "\\begin{aligned}\n{[\\varepsilon^0]}" in rows and "\\\\\n{[\\varepsilon^1]}" in rows


def test_claim_html_breaks_long_formulas_for_narrow_cells():
    """Glued claim texts: math as Sphinx math spans, cut before relations and at thin spaces
    outside brackets (each piece typeset alone, so a table cell can wrap); the rest escaped."""
    from hmm.claims import markdown_html, math_pieces

    tex = (
        r"|\int K_\tau(s) f(s/\varepsilon)\,ds - \bar f| \le C\,|f|_\infty (\varepsilon/\tau)^{q+2}"
    )
    assert math_pieces(tex) == [
        r"|\int K_\tau(s) f(s/\varepsilon)",
        r"ds - \bar f|",
        r"\le C",
        r"|f|_\infty (\varepsilon/\tau)^{q+2}",
    ]
    assert math_pieces(r"\exp(a \le b\,c) = 1") == [r"\exp(a \le b\,c)", "= 1"]  # in brackets
    assert math_pieces(r"\{x\} = 0") == [r"\{x\}", "= 0"]
    text = markdown_html(r"the paper's $a < b$ and `x<y`")
    assert text == (
        "the paper&#x27;s "
        r'<span class="math notranslate nohighlight">\(a &lt; b\)</span>'
        " and <code>x&lt;y</code>"
    )
