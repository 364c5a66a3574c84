"""Print the whole book to one PDF with headless Chromium, and check the PDF.

Usage (`make pdf` builds the single-page HTML first and then runs this)::

    .venv/bin/python tools/make_pdf.py [--html _build/singlehtml] [--out _build/pdf/book.pdf]
        [--student-out _build/pdf/book-student.pdf] [--copy-to _build/html]
        [--min-pages 40] [--max-pages 400]

The input is Sphinx's ``singlehtml`` build of the book (``jupyter-book build . --builder
singlehtml``): every page of the table of contents in one HTML file. It is served on the loopback
interface and opened in the same headless Debian Chromium as ``tools/check_html.py`` (no network:
MathJax and every asset come from the build). Once MathJax has typeset every equation and every
image is decoded, the solutions of all exercises are opened, each chapter is set to start on a new
page, and the page is printed with the DevTools command ``Page.printToPDF`` (A4, the print
styles of ``book/_static/book.css``, page numbers in the footer, a PDF outline of the headings).
That is the teacher's copy. With ``--student-out`` the same page is then printed a second time
after every solution (sphinx-exercise's ``div.solution``) was removed from it: the students' copy,
with the exercises and without their solutions.

The PDF is then checked with pypdf, and the script fails when

* its page count is outside ``[--min-pages, --max-pages]``;
* the title of a chapter of ``_toc.yml`` is missing from its text;
* fewer exercise solutions ("Solution to ...") or images are in it than in the HTML;
* its text has TeX that MathJax did not typeset: a ``$`` or ``\\(``, ``\\)``, ``\\[``, ``\\]``
  outside program code (a PDF line with such a character passes only when it is part of a code
  block or inline code of the HTML, where ``$`` is Python, e.g. a Matplotlib label);
* the HTML had math that MathJax did not typeset, or a MathJax error.

The student PDF fails when its page count is out of range, a chapter title is missing, the
heading of an exercise ("Exercise 14 (Halving the macro step)") or the first words of its
statement are missing, or "Solution to" is anywhere in its text. ``--copy-to`` copies the PDFs into a folder (the built site, where the book
links ``book.pdf`` and ``book-student.pdf``) once they passed.
"""

from __future__ import annotations

import argparse
import base64
import re
import shutil
import sys
import time
import unicodedata
from pathlib import Path

from check_html import CHROMEDRIVER, CHROMIUM, SETTLE_JS, serve, start_browser
from make_handouts import first_heading, markdown_of, toc_sources
from pypdf import PdfReader

PRINT_TIMEOUT = 600  # seconds: printing some 150 pages with 2000 equations takes a while

# Runs in the page: open what is folded, start chapters on new pages, report what the PDF needs.
PREPARE_JS = r"""
const text = (el) => (el.textContent || "").replace(/\s+/g, " ").trim();
document.querySelectorAll(".toggle-hidden").forEach((el) => el.classList.remove("toggle-hidden"));
document.querySelectorAll("details").forEach((el) => { el.open = true; });
// the root document is the section with the h1; the other documents of the toc are inlined in
// its toctree (.toctree-wrapper) as the outermost sections there: each starts on a new page
const inlined = Array.from(document.querySelectorAll(".toctree-wrapper section")).filter((s) => {
  const up = s.parentElement.closest("section");
  return !up || !s.closest(".toctree-wrapper").contains(up);
});
inlined.forEach((s) => s.classList.add("book-chapter"));
const heads = [document.querySelector("article section > h1")].concat(
  inlined.map((s) => s.querySelector(":scope > h1, :scope > h2"))).filter((h) => h);
const code = Array.from(document.querySelectorAll("pre, code")).map((el) => el.textContent);
return {
  chapters: heads.map((h) => text(h).replace(/#$/, "")),
  solutions: document.querySelectorAll(".solution").length,
  // each exercise's heading and the first words of its statement (up to the first math or code)
  exercises: Array.from(document.querySelectorAll(".exercise"), (ex) => {
    const lead = ex.querySelector("section p");
    const words = lead && lead.firstChild && lead.firstChild.nodeType === Node.TEXT_NODE
      ? lead.firstChild.textContent : "";
    return [text(ex.querySelector(".admonition-title")), words.replace(/\s+/g, " ").trim()];
  }),
  images: Array.from(document.querySelectorAll("article img")).filter(
    (img) => img.naturalWidth > 0 && !/\.svg(\?|#|$)/i.test(img.currentSrc)).length,
  untypeset: Array.from(document.querySelectorAll(".math")).filter(
    (el) => !el.querySelector("mjx-container")).map((el) => text(el).slice(0, 80)),
  merrors: document.querySelectorAll("mjx-merror").length,
  equations: document.querySelectorAll("mjx-container").length,
  code,
};
"""

# Runs in the page: the students' copy, without the solutions; returns how many were removed.
STUDENT_JS = """
const solutions = document.querySelectorAll(".solution");
solutions.forEach((el) => el.remove());
return solutions.length;
"""

FOOTER = (
    '<div style="font-size: 8px; width: 100%; text-align: center; color: #555;">'
    '<span class="pageNumber"></span> / <span class="totalPages"></span></div>'
)
TEX_CHAR = re.compile(r"\$|\\[()\[\]]")


def squash(text: str) -> str:
    """Text without whitespace, for comparisons that survive line breaks and justification."""
    return re.sub(r"\s+", "", text)


def key(text: str) -> str:
    """Lower-case letters and digits only: a title as it survives PDF text extraction (which
    gives ligatures as one character: NFKC splits "\ufb01" into "fi")."""
    return re.sub(r"[^0-9a-z]", "", unicodedata.normalize("NFKC", text).lower())


def toc_titles(toc: Path) -> dict[str, str]:
    """Title (first '# ' heading) of every file of the table of contents, by file name."""
    return {
        path.relative_to(toc.parent).with_suffix("").as_posix(): first_heading(markdown_of(path))
        for path in toc_sources(toc)
    }


def print_pdf(
    html_root: Path, out: Path, student: Path | None, chromium: str, chromedriver: str
) -> dict:
    """Open the single-page book, prepare it for paper, print it to `out` and, without its
    solutions, to `student`; return page facts."""
    redirect = (html_root / "index.html").read_text(encoding="utf-8")
    match = re.search(r"url=([^\"' >]+\.html)", redirect)
    page = html_root / (match.group(1) if match else "index.html")
    # The singlehtml builder writes every link relative to the build root, also in a root
    # document that sits in a folder (book/intro.html): serve a copy at the root.
    printable = html_root / "book-print.html"
    shutil.copyfile(page, printable)
    server, base = serve(html_root)
    driver = start_browser(chromium, chromedriver)
    driver.command_executor.client_config.timeout = PRINT_TIMEOUT
    try:
        driver.get(f"{base}/{printable.name}")
        settled = driver.execute_async_script(SETTLE_JS)
        if isinstance(settled, dict):
            raise SystemExit(f"make-pdf: page did not settle: {settled['error']}")
        facts = driver.execute_script(PREPARE_JS)
        time.sleep(0.5)  # let the layout settle after unfolding
        start = time.perf_counter()
        write_pdf(driver, out)
        facts["print_seconds"] = time.perf_counter() - start
        if student:
            facts["removed"] = driver.execute_script(STUDENT_JS)
            write_pdf(driver, student)
        # singlehtml pages load searchindex.js, which only the html builder writes (no search
        # on paper): that 404 is expected, any other SEVERE message is not
        facts["console"] = [
            e["message"]
            for e in driver.get_log("browser")
            if e["level"] == "SEVERE" and "searchindex.js" not in e["message"]
        ]
    finally:
        driver.quit()
        server.shutdown()
        printable.unlink(missing_ok=True)
    return facts


def write_pdf(driver, out: Path) -> None:
    """Print the page open in `driver` to `out`."""
    pdf = driver.execute_cdp_cmd(
        "Page.printToPDF",
        {
            "printBackground": True,
            "preferCSSPageSize": True,
            "displayHeaderFooter": True,
            "headerTemplate": "<span></span>",
            "footerTemplate": FOOTER,
            "generateDocumentOutline": True,
            "generateTaggedPDF": True,
        },
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(pdf["data"]))


def count_images(reader: PdfReader) -> int:
    """Image XObjects drawn on the pages (each figure once per page it is on)."""
    total = 0
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        xobjects = resources.get("/XObject") or {}
        for obj in xobjects.values():
            total += obj.get_object().get("/Subtype") == "/Image"
    return total


def read_pdf(
    out: Path, titles: dict[str, str], pages: range
) -> tuple[PdfReader, list[str], list[str]]:
    """The PDF, the text of each page, and the problems that the two copies share: the page
    count out of range, a chapter title missing."""
    reader = PdfReader(out)
    problems = []
    npages = len(reader.pages)
    if npages not in pages:
        problems.append(f"{npages} pages, outside the sane range {pages.start}-{pages.stop - 1}")
    texts = [page.extract_text() or "" for page in reader.pages]
    flat = key("\n".join(texts))
    for name, title in titles.items():
        if key(title) not in flat:
            problems.append(f"chapter title missing: {title!r} ({name})")
    return reader, texts, problems


def check_pdf(out: Path, facts: dict, titles: dict[str, str], pages: range) -> list[str]:
    reader, texts, problems = read_pdf(out, titles, pages)
    full = "\n".join(texts)
    npages = len(reader.pages)
    shown = full.count("Solution to")
    if shown < facts["solutions"]:
        problems.append(f"{shown} solutions in the PDF, {facts['solutions']} in the book")
    images = count_images(reader)
    if images < facts["images"]:
        problems.append(f"{images} images in the PDF, {facts['images']} in the book")
    code = squash("\n".join(facts["code"]))
    for number, text in enumerate(texts, 1):
        for line in text.splitlines():
            if TEX_CHAR.search(line) and squash(line) not in code:
                problems.append(f"untypeset TeX on page {number}: {line.strip()[:100]!r}")
    problems += [f"math not typeset in the HTML: {m!r}" for m in facts["untypeset"]]
    if facts["merrors"]:
        problems.append(f"{facts['merrors']} MathJax errors in the HTML")
    problems += [f"console: {m[:200]}" for m in facts["console"]]
    facts.update(pages=npages, pdf_images=images, pdf_solutions=shown)
    return problems


def check_student(out: Path, facts: dict, titles: dict[str, str], pages: range) -> list[str]:
    """The students' copy: every chapter and the heading of every exercise, no solution."""
    reader, texts, problems = read_pdf(out, titles, pages)
    full = "\n".join(texts)
    flat = key(full)
    for heading, words in facts["exercises"]:
        if key(heading) not in flat or key(words) not in flat:
            problems.append(f"exercise missing: {heading!r}, {words!r}")
    if not facts["exercises"]:
        problems.append("no exercise in the book")
    if facts["removed"] != facts["solutions"]:
        problems.append(f"{facts['removed']} of {facts['solutions']} solutions removed")
    if "Solution to" in full:
        problems.append(f"{full.count('Solution to')} solutions in the student PDF")
    facts.update(student_pages=len(reader.pages))
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=Path("_build/singlehtml"))
    parser.add_argument("--out", type=Path, default=Path("_build/pdf/book.pdf"))
    parser.add_argument(
        "--student-out", type=Path, help="also print the book without its solutions, here"
    )
    parser.add_argument(
        "--copy-to",
        type=Path,
        help="also copy the PDFs into this folder (the HTML book links them)",
    )
    parser.add_argument("--toc", type=Path, default=Path("_toc.yml"))
    parser.add_argument("--min-pages", type=int, default=40)
    parser.add_argument("--max-pages", type=int, default=400)
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--chromedriver", default=CHROMEDRIVER)
    args = parser.parse_args(argv)

    if not (args.html / "index.html").is_file():
        print(f"make-pdf: no {args.html}/index.html; build it with --builder singlehtml")
        return 2
    titles = toc_titles(args.toc)
    pages = range(args.min_pages, args.max_pages + 1)
    start = time.perf_counter()
    facts = print_pdf(
        args.html.resolve(), args.out, args.student_out, args.chromium, args.chromedriver
    )
    problems = check_pdf(args.out, facts, titles, pages)
    size = args.out.stat().st_size / 1e6
    print(
        f"make-pdf: {args.out}: {facts['pages']} pages, {size:.1f} MB, "
        f"{len(facts['chapters'])} chapters, {facts['equations']} equations, "
        f"{facts['pdf_images']} images, {facts['pdf_solutions']} solutions shown; "
        f"printed in {facts['print_seconds']:.0f} s, {time.perf_counter() - start:.0f} s in all"
    )
    made = [args.out]
    if args.student_out:
        student = check_student(args.student_out, facts, titles, pages)
        print(
            f"make-pdf: {args.student_out}: {facts['student_pages']} pages, "
            f"{args.student_out.stat().st_size / 1e6:.1f} MB, {len(facts['exercises'])} "
            f"exercises, {facts['removed']} solutions removed"
        )
        problems += [f"student PDF: {p}" for p in student]
        made.append(args.student_out)
    for problem in problems:
        print(f"  - {problem}")
    if problems:
        print(f"make-pdf: FAILED ({len(problems)} problems)")
        return 1
    if args.copy_to:
        args.copy_to.mkdir(parents=True, exist_ok=True)
        for path in made:
            shutil.copyfile(path, args.copy_to / path.name)
            print(f"make-pdf: copied to {args.copy_to / path.name}")
    print("make-pdf: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
