"""The student handouts of `make handouts` (tools/make_handouts.py): each chapter's handout runs top
to bottom in a fresh kernel, holds every exercise statement of its chapter and no solution text.

The handouts are written to a temporary folder. Each chapter is one test, so that it is executed
once; `tests/conftest.py` lets pytest-xdist run these tests on different workers.
"""

import re
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import make_handouts  # noqa: E402

CHAPTERS = [p for p in make_handouts.toc_sources(ROOT / "_toc.yml") if p.suffix == ".ipynb"]
CELL_TIMEOUT = 600  # seconds, as the book's build allows


def test_directives_close_at_their_own_fence():
    text = "a\n````{solution} ex\n:class: dropdown\n\n```python\nx = 1\n```\n````\nb\n"
    (found,) = make_handouts.directives(text)
    assert (found.name, found.argument, found.options) == ("solution", "ex", {"class": "dropdown"})
    assert found.body == "```python\nx = 1\n```" and (found.start, found.end) == (1, 8)


def test_roles_become_plain_markdown():
    text = "see {numref}`fig-x` and {ref}`the scoreboard <scoreboard>`"
    assert make_handouts.plain_roles(text) == "see `fig-x` and the scoreboard"


def test_readme_and_zip(tmp_path):
    files = make_handouts.make_handouts(ROOT / "_toc.yml", tmp_path / "h", "Book", "https://x")
    make_handouts.write_zip(files, tmp_path / "h.zip")
    readme = files[0].read_text(encoding="utf-8")
    assert all(f"`{p.name}`" in readme for p in CHAPTERS)
    with zipfile.ZipFile(tmp_path / "h.zip") as zf:
        assert sorted(zf.namelist()) == sorted(f"handouts/{p.name}" for p in files)


def fragments(markdown: str) -> list[str]:
    """The pieces of a statement between its MyST roles, which the handout rewrites."""
    return [f.strip() for f in make_handouts.ROLE.split(markdown) if f.strip()]


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_handout(chapter, tmp_path):
    files = make_handouts.make_handouts(ROOT / "_toc.yml", tmp_path, "Book", "https://x")
    path = next(p for p in files if p.name == chapter.name)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    source = make_handouts.markdown_of(chapter)
    found = [d for md in source for d in make_handouts.directives(md)]
    statements = [d for d in found if d.name == "exercise"]
    assert statements, f"{chapter.name} has no exercises"
    for exercise in statements:
        for piece in fragments(exercise.body):
            assert piece in text, f"statement text missing: {piece[:80]!r}"
    # no line of a solution that is not also elsewhere in the chapter
    outside = "\n".join(source)
    for solution in (d for d in found if d.name == "solution"):
        outside = outside.replace(solution.body, "")
    for solution in (d for d in found if d.name == "solution"):
        for line in solution.body.splitlines():
            if len(line.strip()) > 15 and line not in outside:
                assert line not in text, f"solution text in the handout: {line[:80]!r}"
    assert not re.search(r"\{solution", text)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    colab = (ROOT / "tools" / "colab_cell.py").read_text(encoding="utf-8")
    assert code[0].source.strip() == colab.strip()
    # top to bottom in a fresh kernel, from a folder that is not book/; a cell that raises fails
    NotebookClient(
        nb, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
