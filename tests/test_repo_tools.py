"""The repository's own tools: the rounding audit of make test-portable and the notebook cleaner."""

import ast
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import nbaudit  # noqa: E402
import nbclean  # noqa: E402


def _run(source: str) -> dict:
    tree = nbaudit._WrapFormatted().visit(ast.parse(source))
    ns = {"np": np, nbaudit.NAME: nbaudit.checked}
    exec(compile(tree, "<cell>", "exec"), ns)
    return ns


@pytest.mark.parametrize(
    "source",
    [
        'x = f"{1 / 3:.3f}"',
        'x = f"{2.5e-3:.1e} {7} {np.float64(0.37):>8.2f}"',
        'x = f"{0.1} {0.0:.2f} {0.0:g}"',  # an input, an exact zero
        'w = 6\nx = f"{1 / 7:>{w}.2f}"',
        "x = f'{chr(65)} {[1.5]!r}'",
    ],
)
def test_audit_passes_stable_numbers(source):
    _run(source)


@pytest.mark.parametrize(
    "source, text",
    [
        ('x = f"{0.125:.2f}"', "rounding"),  # a tie: 0.12 or 0.13
        ('x = f"{1.1e-16:.1e}"', "round-off"),  # round-off level printed as digits
        ('x = f"{0.0:.1e}"', "exact zero in e-format"),  # 0.0e+00 or 1.1e-16 elsewhere
        ('x = f"{-1e-17:.2f}"', "-0.00"),
        ('x = f"{1 / 3}"', "full repr"),
    ],
)
def test_audit_refuses_fragile_numbers(source, text):
    with pytest.raises(nbaudit.FragileOutput):
        _run(source)


def test_audit_log_mode(tmp_path, monkeypatch):
    log = tmp_path / "fragile.txt"
    monkeypatch.setenv("NBAUDIT_LOG", str(log))
    ns = _run('x = f"{0.125:.2f}"')
    assert ns["x"] == "0.12" and "0.125" in log.read_text()


def test_audit_reaches_the_chapter_modules(tmp_path, monkeypatch):
    """A module under an audited prefix is compiled with the rewrite: its fragile f-string fails."""
    pkg = tmp_path / "hmm" / "book"
    pkg.mkdir(parents=True)
    (tmp_path / "hmm" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "probe.py").write_text('def text(x):\n    return f"{x:.2f}"\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m == "hmm" or m.startswith("hmm.")]:
        monkeypatch.delitem(sys.modules, name)
    finders = list(sys.meta_path)
    try:
        nbaudit.install_module_audit()
        from hmm.book import probe

        assert probe.text(0.5) == "0.50"
        with pytest.raises(nbaudit.FragileOutput):
            probe.text(0.125)
    finally:
        sys.meta_path[:] = finders


def test_nbclean_strips_volatile_metadata_and_merges_streams():
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {"execution": {"iopub.status.idle": "2026"}, "tags": ["x"]},
                "outputs": [
                    {"output_type": "stream", "name": "stdout", "text": ["a\n"]},
                    {"output_type": "stream", "name": "stdout", "text": ["b\n"]},
                ],
                "source": [],
            }
        ],
        "metadata": {"language_info": {"name": "python", "version": "3.11.7"}},
    }
    clean = nbclean.cleaned(nb)
    assert clean["cells"][0]["metadata"] == {"tags": ["x"]}
    assert clean["cells"][0]["outputs"] == [
        {"output_type": "stream", "name": "stdout", "text": ["a\n", "b\n"]}
    ]
    assert clean["metadata"]["language_info"] == {"name": "python"}
    assert nb["cells"][0]["metadata"]["execution"]  # the input is not changed
    assert nbclean.run_order_problems(clean) == []
    clean["cells"][0]["execution_count"] = 2
    assert nbclean.run_order_problems(clean)


CHAPTERS = sorted((Path(__file__).resolve().parent.parent / "book").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapter_starts_with_the_colab_cell(path):
    """The Colab button works only if the first code cell installs `hmm`; hidden in the book."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    first = next(c for c in cells if c["cell_type"] == "code")
    colab = (path.parent.parent / "tools" / "colab_cell.py").read_text(encoding="utf-8")
    assert "".join(first["source"]).strip() == colab.strip()
    assert "remove-cell" in first["metadata"].get("tags", [])


def test_no_string_of_the_package_holds_a_control_character():
    """TeX in a non-raw docstring turns ``\\tau`` into a tab and ``\\varepsilon`` into a vertical
    tab: the API page and the PDF then show broken math."""
    root = Path(__file__).resolve().parent.parent / "hmm"
    bad = [
        f"{path.relative_to(root.parent)}:{node.lineno}"
        for path in sorted(root.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and any(c in node.value for c in "\t\v\f\a\b")
    ]
    assert bad == [], f"write these strings raw (r'''...'''): {bad}"
