"""Quick tests of the small pure functions of hmm.book.full_solution."""

import numpy as np

from hmm.book import full_solution as fs


def _errors(e_hmm):
    keys = [(m, lab) for m in ("M0", "M0_alt") for lab, _, _ in fs.PANELS]
    return {k: dict(total=3e-2, e_hmm=e_hmm, e_macro=1e-2, dns_avg=4e-3) for k in keys}


def test_steps_needed():
    steps, errors = [4, 8, 16], [1e-3, 1e-5, 1e-7]
    assert fs.steps_needed(steps, errors, 1e-4) == 8
    assert fs.steps_needed(steps, errors, 1e-9) is None


def test_fig53_numbers_and_table():
    errors = _errors(5e-3)
    out = fs.fig53_numbers(errors)
    assert out["full-fig53-share"] == "0.50"
    assert out["full-fig53-left"] == "3.0e-02"
    assert "last column" in fs.fig53_table(errors)


def test_fig53_phase_table_worst_ratio():
    errors = _errors(5e-3)
    phases = {k: np.array([2e-2, 5e-3, 4e-3, 6e-3]) for k in errors}
    text = fs.fig53_phase_table(phases, errors)
    assert "2.00" in text.splitlines()[2]


def test_run_tex_names_the_run():
    text = fs._run_tex("M0_alt", "circular, gamma = 0.1")
    assert r"$\gamma = 0.1$" in text and "[1,0,0]^T" in text
