"""Student handouts: every chapter as a notebook with its exercises and without their solutions.

Usage (`make handouts`)::

    .venv/bin/python tools/make_handouts.py [--toc _toc.yml] [--out _build/handouts]
        [--zip _build/handouts.zip]

For each notebook of the table of contents, the handout ``<out>/<chapter>.ipynb`` is the chapter
with

* every ``{solution}`` directive removed from its Markdown;
* every ``{exercise}`` directive turned into Markdown that Jupyter and Colab render: a heading
  "Exercise N (title)" numbered as in the book (sphinx-exercise numbers the exercises of the
  whole book in the order of the table of contents), then the statement, its MyST roles
  (``{numref}`fig-x```) written as their text or target; each exercise in a cell of its own,
  followed by an empty code cell for the student's work;
* every output and execution count cleared, and the cells' execution timestamps dropped;
* a first Markdown cell saying what the notebook is.

Everything else is kept as the book has it: the Colab cell (``tools/colab_cell.py``, the first
code cell, which installs ``hmm`` and ``myst-nb`` where ``hmm`` is missing) and the ``glue``
calls of ``myst_nb``, which in a plain kernel only display their value (or nothing, with
``display=False``). The handouts only read the chapters' Markdown: whatever the code cells hold
is copied as it is. ``<out>/README.md`` says what the handouts are; ``--zip`` writes them all,
README included, into one archive (entries under ``handouts/``, fixed timestamps).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import yaml

# the opening line of a fenced MyST directive (``` or :::, at least three), and its name
OPENING = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<argument>.*?)\s*$")
OPTION = re.compile(r"^:([\w-]+):[ \t]*(.*?)\s*$")
ROLE = re.compile(r"\{[\w:-]+\}`([^`]*)`")
EXPLICIT_TARGET = re.compile(r"^(.+?)\s*<[^<>]+>$")
ZIP_TIME = (
    1980,
    1,
    1,
    0,
    0,
    0,
)  # the earliest a zip can store: the archive depends on content only

HEADER = """\
**Student handout** of the chapter "{title}" of the book *{book}*: the chapter's text and code,
with its exercises and without their solutions. Run the cells from the top (on Colab the first
code cell installs the book's package, which takes about a minute). The exercises are at the end,
each followed by an empty cell for your work. The text is the book's MyST source: cross-references
and the numbers that the book writes into its text (`{{numref}}`, `{{glue:text}}`, ...) are filled
in only in the book."""

README = """\
# Student handouts: {book}

One Jupyter notebook per chapter of the book, to give to students: each holds the chapter's text
and code and its exercises, **without the solutions**, with every output cleared. Made by
`make handouts` (`tools/make_handouts.py`) from the book's chapters; make them again rather than
edit them.

| Notebook | Chapter | Exercises (numbered as in the book) |
|---|---|---|
{rows}

**Running them.** On Google Colab: upload a notebook (File, Upload notebook) and run it from the
top; its first code cell installs the book's package `hmm` and `myst-nb` from the repository
({repository}). Locally: in a Python environment with the book's `requirements.txt` installed
(`make test` in a clone of the repository creates `.venv`), open them in Jupyter. Each chapter runs
in about a minute.

**The text** is the book's Markdown source: cross-references such as `{{numref}}` and numbers
written into the text with `{{glue:text}}` are filled in only in the book (its HTML pages or the
student PDF `book-student.pdf`), which students can read beside the notebook.

**The solutions** are in the book's HTML pages and in `book.pdf`, the teacher's copy; the student
PDF has none. The course guide of the book explains how to use the handouts in a course.
"""


@dataclass(frozen=True)
class Directive:
    """A fenced ``{exercise}`` or ``{solution}`` directive: lines [start, end) of its text."""

    name: str
    argument: str
    options: dict[str, str]
    body: str  # the content, without the options
    start: int
    end: int


def toc_sources(toc: Path) -> list[Path]:
    """The source file (.md or .ipynb) of every entry of the table of contents, in order."""
    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    names = [data["root"]]
    names += [entry["file"] for part in data.get("parts", []) for entry in part["chapters"]]
    names += [entry["file"] for entry in data.get("chapters", [])]
    sources = []
    for name in names:
        found = [
            p for p in (toc.parent / f"{name}.md", toc.parent / f"{name}.ipynb") if p.is_file()
        ]
        if not found:
            raise SystemExit(f"make-handouts: no source for {name!r} of {toc}")
        sources.append(found[0])
    return sources


def markdown_of(path: Path) -> list[str]:
    """The Markdown of a source: the file, or the Markdown cells of a notebook."""
    if path.suffix != ".ipynb":
        return [path.read_text(encoding="utf-8")]
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]


def directives(text: str) -> list[Directive]:
    """The exercise and solution directives of a Markdown text, in order.

    A directive closes at the first line that is only its fence character, at least as many times
    as it opened (CommonMark's rule; code blocks inside use shorter fences)."""
    lines = text.splitlines(keepends=True)
    found, i = [], 0
    while i < len(lines):
        opening = OPENING.match(lines[i])
        name = opening and opening["name"]
        if name in ("exercise-start", "solution-start"):
            raise SystemExit(f"make-handouts: gated {{{name}}} directives are not supported")
        if name not in ("exercise", "solution"):
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise SystemExit(f"make-handouts: unclosed {{{name}}} at {lines[i].strip()!r}")
        content = lines[i + 1 : end]
        options = {}
        while content and (option := OPTION.match(content[0])):
            options[option[1]] = option[2]
            content = content[1:]
        body = "".join(content).strip("\n")
        found.append(Directive(name, opening["argument"], options, body, i, end + 1))
        i = end + 1
    return found


def exercises(path: Path) -> list[Directive]:
    return [d for text in markdown_of(path) for d in directives(text) if d.name == "exercise"]


def plain_roles(text: str) -> str:
    """MyST roles as plain Markdown: ``{numref}`fig-x``` as `fig-x`, an explicit title as itself."""

    def plain(role: re.Match) -> str:
        titled = EXPLICIT_TARGET.match(role[1])
        return titled[1] if titled else f"`{role[1]}`"

    return ROLE.sub(plain, text)


def exercise_markdown(exercise: Directive, number: int | None) -> str:
    heading = "Exercise" if number is None else f"Exercise {number}"
    if exercise.argument:
        heading += f" ({exercise.argument})"
    return f"### {heading}\n\n{plain_roles(exercise.body)}\n"


def cell(kind: str, source: str, cell_id: str) -> dict:
    new = {"cell_type": kind, "id": cell_id, "metadata": {}, "source": source}
    if kind == "code":
        new.update(execution_count=None, outputs=[])
    return new


def handout(chapter: dict, title: str, book: str, first_number: int) -> tuple[dict, list[int]]:
    """The student notebook of a chapter (a new dict), and the numbers of its exercises."""
    nb = json.loads(json.dumps(chapter))
    cells = [cell("markdown", HEADER.format(title=title, book=book), "handout-header")]
    numbers, number = [], first_number
    for source in nb["cells"]:
        if source["cell_type"] == "code":
            source.update(execution_count=None, outputs=[])
            source.get("metadata", {}).pop("execution", None)
        text = "".join(source["source"])
        found = directives(text) if source["cell_type"] == "markdown" else []
        if not found:
            cells.append(source)
            continue
        lines = text.splitlines(keepends=True)
        done = 0
        for part, directive in enumerate(found):
            prose = "".join(lines[done : directive.start]).strip("\n")
            if prose.strip():
                cells.append(cell("markdown", prose, f"{source['id']}-{part}"))
            if directive.name == "exercise":
                numbered = "nonumber" not in directive.options
                markdown = exercise_markdown(directive, number if numbered else None)
                numbers += [number] if numbered else []
                cells.append(cell("markdown", markdown, f"{source['id']}-ex{part}"))
                cells.append(cell("code", "", f"{source['id']}-work{part}"))
                number += numbered
            done = directive.end
        rest = "".join(lines[done:]).strip("\n")
        if rest.strip():
            cells.append(cell("markdown", rest, f"{source['id']}-end"))
    nb["cells"] = cells
    left = [c for c in cells if c["cell_type"] == "markdown" and "{solution" in c["source"]]
    if left:
        raise SystemExit(f"make-handouts: a solution is left in {title!r}: {left[0]['source']!r}")
    return nb, numbers


def first_heading(markdown: list[str]) -> str:
    for text in markdown:
        if match := re.search(r"^# (.+)$", text, re.MULTILINE):
            return re.sub(r"[`*$]", "", match[1]).strip()
    raise SystemExit("make-handouts: a chapter has no '# ' title")


def make_handouts(toc: Path, out: Path, book: str, repository: str) -> list[Path]:
    """Write a handout for every notebook of the table of contents, and the README, into `out`."""
    out.mkdir(parents=True, exist_ok=True)
    written, rows, number = [], [], 1
    for source in toc_sources(toc):
        if source.suffix == ".ipynb":
            chapter = json.loads(source.read_text(encoding="utf-8"))
            title = first_heading(markdown_of(source))
            nb, numbers = handout(chapter, title, book, number)
            path = out / source.name
            path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
            written.append(path)
            listed = ", ".join(map(str, numbers)) or "none"
            rows.append(f"| `{source.name}` | {title} | {listed} |")
        number += sum("nonumber" not in e.options for e in exercises(source))
    readme = out / "README.md"
    readme.write_text(
        README.format(book=book, repository=repository, rows="\n".join(rows)), encoding="utf-8"
    )
    return [readme, *written]


def write_zip(files: list[Path], archive: Path) -> None:
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in files:
            info = zipfile.ZipInfo(f"handouts/{path.name}", ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--toc", type=Path, default=Path("_toc.yml"))
    parser.add_argument("--config", type=Path, default=Path("_config.yml"))
    parser.add_argument("--out", type=Path, default=Path("_build/handouts"))
    parser.add_argument("--zip", type=Path, help="also write every handout into this zip")
    args = parser.parse_args(argv)
    config = yaml.safe_load(args.config.read_text(encoding="utf-8"))
    files = make_handouts(args.toc, args.out, config["title"], config["repository"]["url"])
    for path in files:
        print(f"make-handouts: {path} ({path.stat().st_size / 1e3:.0f} kB)")
    if args.zip:
        write_zip(files, args.zip)
        print(f"make-handouts: {args.zip} ({args.zip.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
