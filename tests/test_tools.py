"""Tests of the build tools in tools/: the page checks of check_html, the PDF checks of make_pdf,
the sympy display helper and the Colab cell. No browser is started: the checks are pure functions
of what a page measured."""

import contextlib
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import check_html  # noqa: E402
import make_pdf  # noqa: E402

INFO = {
    "imgs": [],
    "links": [],
    "errors": [],
    "stderr": [],
    "untypeset": [],
    "merrors": [],
    "wide": [],
    "overflow": [],
    "figures": [],
    "nmath": 0,
    "nmjx": 0,
    "mathjax": True,
    "text": "",
    "ids": [],
}


def page(tmp_path, **info):
    (tmp_path / "p.html").write_text('<a id="top"></a><div id=x>', encoding="utf-8")
    return check_html.Page(
        root=tmp_path,
        rel=Path("p.html"),
        base="http://127.0.0.1:1",
        decoded=[],
        settle_error=None,
        info=INFO | info,
        console=[],
        network=[],
        axe=None,
    )


def findings(p):
    return check_html.judge(p, check_html.CHECKS)


def test_checks_are_named_once():
    names = [c.name for c in check_html.CHECKS]
    assert len(names) == len(set(names))
    assert {"code-width", "figure-scale", "figure-alt", "axe"} <= set(names)


def test_clean_page_passes(tmp_path):
    assert findings(page(tmp_path)) == {}


def test_static_ids(tmp_path):
    f = tmp_path / "a.html"
    f.write_text(
        '<h1 id="t&amp;x">T</h1><a name="old"></a><meta name="viewport"><p id=bare>', "utf-8"
    )
    assert check_html.static_ids(f) == {"t&x", "old", "bare"}


def test_code_width_and_figures(tmp_path):
    wide = {"over": 40, "box": 684, "content": 724, "chars": 83, "line": "x = 1", "kind": "input"}
    figure = {"src": "a.png", "shown": 672, "natural": 1284, "alt": "a.png", "kind": "output"}
    found = findings(page(tmp_path, overflow=[wide], figures=[figure]))
    assert set(found) == {"code-width", "figure-scale", "figure-alt"}
    assert "by 40 px" in found["code-width"][0]
    assert "52%" in found["figure-scale"][0]
    good = figure | {"natural": 661, "alt": "Two curves: the error falls like eps squared."}
    assert findings(page(tmp_path, figures=[good])) == {}


def test_ascii_math_on_the_scoreboard(tmp_path):
    """ASCII mathematics fails on the scoreboard only; typeset math (removed from the text) passes."""
    ascii_text = "the error is <= C (eps/tau)^(q+2) for every kernel"
    p = page(tmp_path, text=ascii_text)
    assert findings(p) == {}  # another page may write tau in prose
    shutil.copy(tmp_path / "p.html", tmp_path / "scoreboard.html")
    board = check_html.Page(**(p.__dict__ | {"rel": Path("scoreboard.html")}))
    found = findings(board)
    assert set(found) == {"ascii-math"} and "(4x)" in found["ascii-math"][0]
    typeset = board.__dict__ | {"info": INFO | {"text": "the error is bounded by  for every q"}}
    assert findings(check_html.Page(**typeset)) == {}


def test_axe_and_network(tmp_path):
    axe = {
        "violations": [
            {
                "id": "color-contrast",
                "impact": "serious",
                "help": "Contrast",
                "nodes": [{"target": "a", "html": "<a>x</a>", "summary": ""}] * 3,
            }
        ]
    }
    network = [
        {"method": "Network.requestWillBeSent", "params": {"request": {"url": "https://cdn/x.js"}}},
        {
            "method": "Network.responseReceived",
            "params": {"response": {"status": 404, "url": "http://127.0.0.1:1/y.css"}},
        },
    ]
    p = page(tmp_path)
    p = check_html.Page(**(p.__dict__ | {"axe": axe, "network": network}))
    found = findings(p)
    assert found["axe"][0].startswith("axe color-contrast (serious, 3 elements)")
    assert found["network"] == ["request outside the book: https://cdn/x.js", "HTTP 404 /y.css"]
    assert check_html.axe_counts(p) == {"color-contrast": 3}


def test_notes_do_not_fail(tmp_path):
    found = findings(page(tmp_path, stderr=["a harmless warning"]))
    assert all(isinstance(f, check_html.Note) for f in found["errors"])


def test_axe_is_vendored():
    assert check_html.axe_version().startswith("4.")


def test_toc_titles_and_keys():
    titles = make_pdf.toc_titles(ROOT / "_toc.yml")
    assert "book/kernels" in titles and all(titles.values())
    assert make_pdf.key("Cost: HMM against\ndirect  simulation") == "costhmmagainstdirectsimulation"
    assert make_pdf.key("the \ufb01xed window") == "thefixedwindow"  # a ligature in the PDF


def test_colab_cell_is_silent_where_hmm_is_installed():
    source = (ROOT / "tools" / "colab_cell.py").read_text(encoding="utf-8")
    assert max(len(line) for line in source.splitlines()) <= 76  # fits the code column
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        exec(compile(source, "colab_cell", "exec"), {})
    assert out.getvalue() == ""
    json.dumps(source)  # pastes into a notebook as is


@pytest.mark.skipif(shutil.which("node") is None, reason="node checks the JavaScript syntax")
@pytest.mark.parametrize(
    "script",
    [
        check_html.SETTLE_JS,
        check_html.INSPECT_JS,
        check_html.AXE_JS,
        make_pdf.PREPARE_JS,
        make_pdf.STUDENT_JS,
    ],
)
def test_page_scripts_parse(tmp_path, script):
    # selenium runs each script as the body of a function
    path = tmp_path / "script.js"
    path.write_text(f"function f() {{\n{script}\n}}\n", encoding="utf-8")
    result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
