"""The chapters stay stories: short code cells that call the package, more text than code."""

import ast
import json
import re
import statistics
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import nbshape  # noqa: E402

CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
MAX_CELL = 40  # non-blank lines of one code cell
MAX_MEDIAN = 12  # median code cell, over all chapters
MAX_CODE = 1800  # code lines of all chapters together


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_a_story(path):
    shape = nbshape.shape(path)
    assert shape["longest"] <= MAX_CELL, f"a code cell of {shape['longest']} lines"
    assert shape["text"] > shape["code"], f"{shape['code']} code lines, {shape['text']} of text"


def test_code_cells_are_short_in_all():
    lengths = [n for p in CHAPTERS for n in nbshape.shape(p)["lengths"]]
    assert statistics.median(lengths) <= MAX_MEDIAN
    assert sum(lengths) <= MAX_CODE


def test_each_chapter_has_its_module():
    """The experiments live in the package, one module per chapter (hmm/book/<chapter>.py)."""
    modules = {p.stem for p in (ROOT / "hmm" / "book").glob("*.py")} - {"__init__"}
    assert {p.stem for p in CHAPTERS} <= modules


def test_shown_code_exists():
    """Every ``literalinclude`` with ``:pyobject:`` names a function or class of its file (the
    book build fails on one that does not)."""
    include = re.compile(r"```\{literalinclude\} \.\./(\S+)\n:pyobject: (\S+)")
    for path in CHAPTERS:
        for cell in json.loads(path.read_text())["cells"]:
            for file, name in include.findall("".join(cell["source"])):
                tree = ast.parse((ROOT / file).read_text())
                defined = {
                    n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.ClassDef)
                }
                assert name.split(".")[0] in defined, f"{path.name}: {file} has no {name}"
