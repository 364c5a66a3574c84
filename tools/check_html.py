"""Open every page of the built book in headless Chromium and fail on anything a reader would see
as broken.

Usage (after `make book`; `make check-html` does both)::

    .venv/bin/python tools/check_html.py [--html _build/html] [--shots _build/screenshots]
        [--warn CHECK ...] [--skip CHECK ...] [--page GLOB ...] [--report FILE] [--list-checks]

The book is served by a local HTTP server on the loopback interface (file:// URLs change how
scripts, fonts and links behave). The browser cannot resolve any host name except the loopback
address, so the check also proves that the book reads offline: a page that asks for a CDN, a web
font or any other outside URL fails.

Each page is loaded in a 1280 px wide window, left to settle (document loaded, MathJax done, every
image decoded), measured once in the page (``INSPECT_JS``) and then judged by the checks of the
table ``CHECKS``, one named record per check (``--list-checks`` prints it). A page fails when it has

* ``images``: an image that did not load (``naturalWidth == 0`` or a failed ``decode()``);
* ``errors``: a cell output with a traceback or an error (``.output.traceback``, ``.output.error``,
  a stderr output naming an ``...Error`` or ``Traceback``), text ``Traceback (most recent call
  last)``, or a docutils error left in the page (``.system-message``, ``.problematic``);
* ``links``: a link to a file of the book that does not exist, or to an anchor that does not
  exist, or a download link to a notebook whose code cells were not executed;
* ``network``: a request that the server answered with an error, or a request to any host but the
  server;
* ``console``: a console message of level SEVERE (JavaScript errors, failed loads);
* ``myst``: MyST markup shown as text (a directive fence, ``{role}`...```) instead of rendered;
* ``math``: math that MathJax did not typeset: a ``.math`` element without ``mjx-container``, a
  MathJax error (``mjx-merror``, an undefined macro), or raw TeX delimiters (``$$``, ``\\(``,
  ``\\[``) left in the text;
* ``equation-width``: a display equation wider than the text column (cut off for the reader);
* ``code-width``: a code cell's input or output (``div.cell_input pre``, ``div.cell_output pre``),
  any highlighted code block (``div.highlight pre``) or a table in a cell output whose content is
  wider than its box (``scrollWidth > clientWidth + 1``) or that runs past the text column;
* ``figure-scale``: a figure image (in a ``figure`` or a cell output) shown at less than 70 % of
  its natural size (``img.width / img.naturalWidth < 0.7``; the ``width`` attribute, when a
  notebook sets one for a high-resolution image, counts as the natural size), so that its text is
  shrunk with it;
* ``figure-alt``: a figure image without alt text saying what it shows: no ``alt``, or one that
  is only a file name or path (what myst-nb writes for a cell output without ``"mystnb":
  {"image": {"alt": ...}}`` in the cell metadata). axe-core accepts such an alt, a reader of a
  screen reader hears the file name;
* ``axe``: a WCAG 2.0/2.1 level A or AA violation found by axe-core (tags ``wcag2a``, ``wcag2aa``,
  ``wcag21a``, ``wcag21aa``). axe-core is the ``axe.min.js`` shipped in the PyPI wheel
  ``selenium-axe-python`` (pinned in requirements.txt), injected into each page: no network.

``--warn CHECK`` runs a check and prints what it finds, but the page does not fail on it;
``--skip CHECK`` does not run it at all. ``--report FILE`` writes every finding (and the full axe
results) as JSON. Every page is saved as a full-page screenshot to ``<shots>/<page>.png``. Pages are
all ``*.html`` files of the build except the asset folders (``_static``, ``_sources``,
``_images``, ...): that is every page from the table of contents plus Sphinx's own ``genindex`` and
``search`` pages, which readers reach from the navigation too.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import functools
import html
import http.server
import importlib.resources
import json
import os
import re
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1280, 900
MAX_SHOT_HEIGHT = 32000  # px; taller pages are cut (checked to work up to 30000 px)
PAGE_TIMEOUT = 60.0  # seconds for a page to load and typeset
MIN_FIGURE_SCALE = 0.7  # a figure shown smaller than this fraction of its natural size fails
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")

# Runs in the page: wait until the document, MathJax and every image are done.
SETTLE_JS = """
const done = arguments[arguments.length - 1];
(async () => {
  if (document.readyState !== "complete") {
    await new Promise((r) => window.addEventListener("load", r, {once: true}));
  }
  for (let i = 0; i < 200 && window.MathJax && !(MathJax.startup && MathJax.startup.promise); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const imgs = Array.from(document.images);
  imgs.forEach((img) => { img.loading = "eager"; });
  const decoded = await Promise.all(imgs.map((img) => img.decode().then(() => true, () => false)));
  done(decoded);
})().catch((e) => done({error: String(e)}));
"""

# Runs in the page: collect what the checks need.
INSPECT_JS = r"""
const text = (el) => (el.textContent || "").trim();
const imgs = Array.from(document.images).map((img) => ({
  src: img.getAttribute("src"), complete: img.complete, width: img.naturalWidth,
  svg: /\.svg(\?|#|$)/i.test(img.currentSrc || img.src),
}));
const links = Array.from(document.querySelectorAll("a[href]")).map((a) => ({
  raw: a.getAttribute("href"), url: a.href,
}));
const errors = Array.from(document.querySelectorAll(
  ".output.traceback, .output.error, .system-message, .problematic")).map(
  (el) => el.className + ": " + text(el).slice(0, 300));
const stderr = Array.from(document.querySelectorAll(".output.stderr")).map(text);
const maths = Array.from(document.querySelectorAll(".math"));
const untypeset = maths.filter((el) => !el.querySelector("mjx-container")).map(
  (el) => text(el).slice(0, 120));
const merrors = Array.from(document.querySelectorAll("mjx-merror")).map(
  (el) => el.getAttribute("data-mjx-error") || text(el)).concat(
  // an undefined macro is typeset as its name in red (MathJax's noundefined package)
  Array.from(document.querySelectorAll('mjx-assistive-mml mtext[mathcolor="red"]')).map(
    text).filter((t) => t.startsWith("\\")).map((t) => "undefined control sequence " + t));
const column = document.querySelector("article.bd-article") || document.querySelector("main")
  || document.body;
const colStyle = getComputedStyle(column);
const colRight = column.getBoundingClientRect().right - parseFloat(colStyle.paddingRight || 0);
const colLeft = column.getBoundingClientRect().left + parseFloat(colStyle.paddingLeft || 0);
// display equations wider than the text column are cut off for the reader: the box scrolls, or
// a typeset character lies past either edge of the column (MathJax gives a tagged equation a
// min-width, so a centred one wider than the column sticks out to the left, under the sidebar,
// where scrollWidth does not see it; the blank room it keeps for the tag may stick out harmlessly)
const pastColumn = (el) => {
  const glyphs = Array.from(el.querySelectorAll("mjx-c"), (c) => c.getBoundingClientRect()).filter(
    (r) => r.width > 0);
  return glyphs.length > 0 && (Math.min(...glyphs.map((r) => r.left)) < colLeft - 1
    || Math.max(...glyphs.map((r) => r.right)) > colRight + 1);
};
const wide = Array.from(document.querySelectorAll('mjx-container[display="true"]')).filter(
  (el) => el.scrollWidth > el.clientWidth + 1 || pastColumn(el)).map(
  (el) => text(el.querySelector("mjx-assistive-mml") || el).slice(0, 80));
// code and outputs wider than their box, or running past the right edge of the text column
const blocks = new Set(document.querySelectorAll(
  "div.cell_input pre, div.cell_output pre, div.highlight pre, div.cell_output table"));
const heading = (sec) => sec && sec.querySelector(":scope > h1, :scope > h2, :scope > h3, :scope > h4");
const where = (el) => {
  const cell = el.closest("div.cell");
  const kind = el.closest("div.cell_output") ? "output" : el.closest("div.cell_input") ? "input"
    : "code block";
  const src = cell && cell.querySelector("div.cell_input pre");
  let section = el.closest("section");
  while (section && !heading(section)) { section = section.parentElement.closest("section"); }
  const box = el.closest(".solution, .exercise, .proof, .admonition");
  return {kind, section: section ? text(heading(section)).replace(/#$/, "").slice(0, 60) : "",
          container: box ? (box.id || box.className) : "",
          cell: src ? text(src).split("\n")[0].slice(0, 70) : "",
          tags: cell ? Array.from(cell.classList).filter((c) => c.startsWith("tag_")) : []};
};
const overflow = Array.from(blocks).map((el) => {
  const over = Math.max(el.scrollWidth - el.clientWidth,
                        el.getBoundingClientRect().right - colRight);
  const lines = (el.textContent || "").split("\n");
  const longest = lines.reduce((a, b) => (b.length > a.length ? b : a), "");
  return {over: Math.round(over), box: el.clientWidth, content: el.scrollWidth,
          chars: longest.length, line: longest.slice(0, 100), ...where(el)};
}).filter((b) => b.over > 1);
// figure images shown smaller than their natural size
const figures = Array.from(document.querySelectorAll(
  "figure img, div.figure img, div.cell_output img")).map((img) => {
  const attr = img.getAttribute("width");
  const natural = attr && /^\d+(\.\d+)?$/.test(attr) ? parseFloat(attr) : img.naturalWidth;
  return {src: (img.getAttribute("src") || "").split("/").pop(), shown: img.width, natural,
          alt: img.getAttribute("alt") || "", ...where(img)};
});
const body = document.body.cloneNode(true);
body.querySelectorAll("pre, code, script, style, textarea, mjx-container, .highlight").forEach(
  (el) => el.remove());
return {
  title: document.title, imgs, links, errors, stderr, untypeset, merrors, wide, overflow, figures,
  nmath: maths.length, nmjx: document.querySelectorAll("mjx-container").length,
  mathjax: !!window.MathJax, text: body.textContent, ids: Array.from(
    document.querySelectorAll("[id], a[name]")).map((el) => el.id || el.getAttribute("name")),
};
"""

# Runs in the page after axe.min.js was injected: the WCAG 2 A/AA violations.
AXE_JS = """
const done = arguments[arguments.length - 1];
// preload: false, or axe fetches the theme's @import "../basic.css" relative to the page (a 404);
// the one rule that needs it, css-orientation-lock, is then reported incomplete, not run
axe.run(document, {runOnly: {type: "tag", values: arguments[0]}, resultTypes: ["violations"],
                   preload: false})
  .then((r) => done({version: axe.version, violations: r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help, tags: v.tags,
    nodes: v.nodes.map((n) => ({target: n.target.join(" "), html: n.html.slice(0, 200),
                                summary: (n.failureSummary || "").slice(0, 300)}))}))}))
  .catch((e) => done({error: String(e)}));
"""

RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]*[\\^_][^$]*\$")
# MyST markup that reached the reader unparsed (a fence whose info line holds a backtick is not a
# fence in CommonMark, so a ```{prf:lemma} ... {cite}`key` ...``` block prints as text)
UNPARSED = re.compile(r"```|^:::|\{[\w:-]+\}`", re.MULTILINE)
ERROR_WORD = re.compile(r"Traceback|\b\w*(Error|Exception)\b")
ASSET_DIRS = ("_static", "_sources", "_images", "_sphinx_design_static", "_panels_static")
# an HTML start tag, and one attribute in it (Sphinx writes well-formed, quoted attributes)
START_TAG = re.compile(r"<([a-zA-Z][\w-]*)(\s[^>]*)?>")
ATTRIBUTE = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


class Note(str):
    """A finding that is printed but never fails a page (a str: checks return plain lists)."""


@dataclass(frozen=True)
class Page:
    """Everything measured on one page; the checks are pure functions of it."""

    root: Path  # the build folder
    rel: Path  # the page, relative to root
    base: str  # the server's origin, http://127.0.0.1:PORT
    decoded: list[bool]  # per image of document.images: did decode() succeed
    settle_error: str | None
    info: dict  # INSPECT_JS's result
    console: list[dict]  # the browser log (console messages)
    network: list[dict]  # the DevTools Network.* events of the page load
    axe: dict | None  # AXE_JS's result, None when the axe check is skipped


@dataclass(frozen=True)
class Check:
    name: str
    what: str  # one line for --list-checks
    run: Callable[[Page], list[str]]


def static_ids(path: Path) -> frozenset[str]:
    """The ids and anchor names (``<a name=...>``) of one HTML file."""
    return _static_ids(path, path.stat().st_mtime_ns)


@functools.cache
def _static_ids(path: Path, mtime: int) -> frozenset[str]:
    ids = set()
    for tag in START_TAG.finditer(path.read_text(encoding="utf-8", errors="replace")):
        for key, *values in ATTRIBUTE.findall(tag.group(2) or ""):
            value = html.unescape(next((v for v in values if v), ""))
            if value and (key == "id" or (key == "name" and tag.group(1).lower() == "a")):
                ids.add(value)
    return frozenset(ids)


def first(pattern: re.Pattern[str], text: str, before: int = 40, after: int = 40) -> str | None:
    """'(count x), first: snippet' for the matches of pattern in text, or None."""
    found = list(pattern.finditer(text))
    if not found:
        return None
    snippet = text[max(0, found[0].start() - before) : found[0].end() + after]
    return f"({len(found)}x), first: {' '.join(snippet.split())!r}"


def where(item: dict) -> str:
    parts = [item["kind"]]
    if item.get("section"):
        parts.append(f"in section {item['section']!r}")
    if item.get("container"):
        parts.append(f"in {item['container']!r}")
    if item.get("cell"):
        parts.append(f"of the cell starting {item['cell']!r}")
    if item.get("tags"):
        parts.append("[" + " ".join(t.removeprefix("tag_") for t in item["tags"]) + "]")
    return " ".join(parts)


# ---------------------------------------------------------------------------------- the checks


def check_images(p: Page) -> list[str]:
    out = []
    for img, ok in zip(p.info["imgs"], p.decoded, strict=False):
        if not ok or not img["complete"] or (img["width"] == 0 and not img["svg"]):
            out.append(f"broken image {img['src']!r}")
    return out


def check_errors(p: Page) -> list[str]:
    out = [f"error in page: {e}" for e in p.info["errors"]]
    for text in p.info["stderr"]:
        if ERROR_WORD.search(text):
            out.append(f"error on stderr: {text[:300]}")
        else:
            out.append(Note(f"stderr output: {text[:120]!r}"))
    if "Traceback (most recent call last)" in p.info["text"]:
        out.append("a traceback is printed in the page")
    return out


def check_math(p: Page) -> list[str]:
    info = p.info
    out = []
    if info["nmath"] and not info["mathjax"]:
        out.append("page has math but MathJax did not load")
    out += [f"math not typeset: {m!r}" for m in info["untypeset"]]
    out += [f"MathJax error: {m!r}" for m in info["merrors"]]
    raw = first(RAW_TEX, info["text"])
    if raw:
        out.append(f"raw TeX left in text {raw}")
    return out


# mathematics written as ASCII instead of typeset: <=, >=, ^(, and the names of symbols as words
ASCII_MATH = re.compile(r"<=|>=|\^\(|\b(?:eps|tau|sqrt|Dt|dt)\b")
# the pages whose text must not hold it (the scoreboard pastes the chapters' claims)
TYPESET_PAGES = ("scoreboard.html",)


def check_ascii_math(p: Page) -> list[str]:
    if p.rel.name not in TYPESET_PAGES:
        return []
    found = first(ASCII_MATH, p.info["text"], 60, 60)
    return [f"mathematics as ASCII text, not typeset {found}"] if found else []


def check_equation_width(p: Page) -> list[str]:
    return [f"display equation wider than the text column: {m!r}" for m in p.info["wide"]]


def check_myst(p: Page) -> list[str]:
    unparsed = first(UNPARSED, p.info["text"], after=60)
    return [f"unparsed MyST markup {unparsed}"] if unparsed else []


def check_link(root: Path, page: Path, link: dict, origin: str, ids: set[str]) -> str | None:
    """Return a problem description for a broken internal link, else None."""
    raw, url = link["raw"], link["url"]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or f"{parts.scheme}://{parts.netloc}" != origin:
        return None  # mailto:, javascript:, or outside the book (cannot be checked offline)
    target = root / unquote(parts.path).lstrip("/")
    if parts.path.endswith("/"):
        target = target / "index.html"
    if not target.is_file():
        return f"broken link {raw!r}: no file {target.relative_to(root)}"
    fragment = unquote(parts.fragment)
    if fragment and target.suffix == ".html":
        known = ids if target == root / page else static_ids(target)
        if fragment not in known:
            return f"broken link {raw!r}: no anchor #{fragment} in {target.relative_to(root)}"
    if target.suffix == ".ipynb":
        notebook = json.loads(target.read_text(encoding="utf-8"))
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        if any(c.get("execution_count") is None for c in code):
            return f"download {raw!r} is not an executed notebook"
    return None


def check_links(p: Page) -> list[str]:
    ids = set(p.info["ids"]) | static_ids(p.root / p.rel)
    urls = dict.fromkeys(link["url"] for link in p.info["links"])
    links = {link["url"]: link for link in reversed(p.info["links"])}  # first raw form per url
    found = (check_link(p.root, p.rel, links[url], p.base, ids) for url in urls)
    return [problem for problem in found if problem]


def check_console(p: Page) -> list[str]:
    return [f"console: {e['message'][:300]}" for e in p.console if e["level"] == "SEVERE"]


def check_network(p: Page) -> list[str]:
    out = []
    for event in p.network:
        params = event["params"]
        if event["method"] == "Network.requestWillBeSent":
            url = params["request"]["url"]
            if urlsplit(url).scheme in ("http", "https", "ws", "wss") and not url.startswith(
                p.base
            ):
                out.append(f"request outside the book: {url}")
        elif event["method"] == "Network.responseReceived":
            status, url = params["response"]["status"], params["response"]["url"]
            if status >= 400 and url.startswith(p.base):
                out.append(f"HTTP {status} {url.removeprefix(p.base)}")
    return out


def check_code_width(p: Page) -> list[str]:
    return [
        f"{where(b)} wider than its box by {b['over']} px ({b['content']} > {b['box']} px); "
        f"longest line ({b['chars']} chars): {b['line']!r}"
        for b in p.info["overflow"]
    ]


def check_figure_scale(p: Page) -> list[str]:
    out = []
    for fig in p.info["figures"]:
        if fig["natural"] and fig["shown"] / fig["natural"] < MIN_FIGURE_SCALE:
            out.append(
                f"figure {fig['src']} ({where(fig)}) shown at {fig['shown']} of "
                f"{fig['natural']:.0f} px ({fig['shown'] / fig['natural']:.0%} < "
                f"{MIN_FIGURE_SCALE:.0%}): its text shrinks with it"
            )
    return out


FILE_NAME_ALT = re.compile(r"^\S*\.(png|jpe?g|gif|svg|webp)$|^\S*/", re.IGNORECASE)


def check_figure_alt(p: Page) -> list[str]:
    return [
        f"figure {fig['src']} ({where(fig)}) has no alt text saying what it shows "
        f"(alt={fig['alt'][:60]!r})"
        for fig in p.info["figures"]
        if not fig["alt"].strip() or FILE_NAME_ALT.search(fig["alt"].strip())
    ]


def check_axe(p: Page) -> list[str]:
    if p.axe is None:
        return []
    if "error" in p.axe:
        return [f"axe-core did not run: {p.axe['error']}"]
    out = []
    for v in p.axe["violations"]:
        nodes = v["nodes"]
        example = nodes[0]["target"] + " " + " ".join(nodes[0]["html"].split())[:120]
        out.append(
            f"axe {v['id']} ({v['impact']}, {len(nodes)} element{'s' * (len(nodes) != 1)}): "
            f"{v['help']}; first: {example}"
        )
    return out


CHECKS: tuple[Check, ...] = (
    Check("images", "every image loads and decodes", check_images),
    Check("errors", "no traceback, error output or docutils error in the page", check_errors),
    Check("links", "internal links and anchors resolve; downloads are executed", check_links),
    Check("network", "no request outside the book, no HTTP error", check_network),
    Check("console", "no SEVERE console message", check_console),
    Check("myst", "no MyST markup shown as text", check_myst),
    Check("math", "all math typeset by MathJax, no raw TeX in the text", check_math),
    Check(
        "ascii-math",
        "no mathematics as ASCII (<=, ^(, eps, tau as words) in " + ", ".join(TYPESET_PAGES),
        check_ascii_math,
    ),
    Check("equation-width", "no display equation wider than the column", check_equation_width),
    Check(
        "code-width", "no code input/output or output table wider than its box", check_code_width
    ),
    Check(
        "figure-scale",
        f"figures shown at >= {MIN_FIGURE_SCALE:.0%} of natural size",
        check_figure_scale,
    ),
    Check("figure-alt", "every figure image has an alt text (not a file name)", check_figure_alt),
    Check("axe", "no axe-core WCAG 2 A/AA violation (" + ", ".join(AXE_TAGS) + ")", check_axe),
)
CHECK_NAMES = tuple(c.name for c in CHECKS)

# ------------------------------------------------------------------------------- the browser


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serve the build quietly (stateless: failed requests are read from the browser's log)."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib name)
        pass

    def do_GET(self) -> None:
        # Browsers ask for /favicon.ico on their own; the book has none, and a hosted book's
        # favicon probe goes to the site root anyway. Not a broken page, so answer "no content".
        if urlsplit(self.path).path == "/favicon.ico":
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def start_browser(chromium: str, chromedriver: str, width: int = WIDTH, height: int = HEIGHT):
    # Selenium must use the Debian driver and browser, never fetch one (no network here).
    os.environ.setdefault("SE_OFFLINE", "true")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--force-device-scale-factor=1",
        f"--window-size={width},{height}",
        # every host but the local server is unreachable, as on a machine with no network
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    driver.set_script_timeout(PAGE_TIMEOUT)
    return driver


def screenshot(driver, dest: Path) -> None:
    """Full-page PNG: grow the viewport to the page height (DevTools protocol), then capture."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    height = max(HEIGHT, min(int(size["height"]) + 1, MAX_SHOT_HEIGHT))
    if size["height"] + 1 > MAX_SHOT_HEIGHT:
        print(f"  note: screenshot cut at {MAX_SHOT_HEIGHT} of {int(size['height'])} px")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        time.sleep(0.2)  # let the layout settle at the new size
        shot = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png"})
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(base64.b64decode(shot["data"]))


@functools.cache
def axe_source() -> str:
    """axe-core's axe.min.js from the selenium-axe-python wheel (no network, pinned version)."""
    return (importlib.resources.files("selenium_axe_python") / "axe-core" / "axe.min.js").read_text(
        encoding="utf-8"
    )


def find_pages(root: Path) -> list[Path]:
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0] not in ASSET_DIRS:
            pages.append(rel)
    return pages


def load_page(driver, root: Path, rel: Path, base: str, shots: Path, axe: bool) -> Page:
    """Open one page, let it settle, measure it, run axe-core, take its screenshot."""
    driver.get_log("performance")  # drop events left over from the previous page
    driver.get(f"{base}/{rel.as_posix()}")
    settled = driver.execute_async_script(SETTLE_JS)
    settle_error = settled.get("error") if isinstance(settled, dict) else None
    info = driver.execute_script(INSPECT_JS)
    axe_result = None
    if axe:
        driver.execute_script(axe_source())
        axe_result = driver.execute_async_script(AXE_JS, list(AXE_TAGS))
    screenshot(driver, shots / rel.with_suffix(".png"))
    network = [json.loads(e["message"])["message"] for e in driver.get_log("performance")]
    return Page(
        root=root,
        rel=rel,
        base=base,
        decoded=[] if settle_error else list(settled),
        settle_error=settle_error,
        info=info,
        console=driver.get_log("browser"),
        network=[e for e in network if e["method"].startswith("Network.")],
        axe=axe_result,
    )


def judge(page: Page, checks: tuple[Check, ...]) -> dict[str, list[str]]:
    """Findings per check name (only checks that found something)."""
    found = {"settle": [f"page did not settle: {page.settle_error}"]} if page.settle_error else {}
    for check in checks:
        result = check.run(page)
        if result:
            found[check.name] = result
    return found


def axe_counts(page: Page) -> Counter:
    """Violating elements per axe rule id on one page."""
    if not page.axe or "violations" not in page.axe:
        return Counter()
    return Counter({v["id"]: len(v["nodes"]) for v in page.axe["violations"]})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=Path("_build/html"))
    parser.add_argument("--shots", type=Path, default=Path("_build/screenshots"))
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--chromedriver", default=CHROMEDRIVER)
    for flag, what in (
        ("--warn", "run CHECK and print its findings, but do not fail on them"),
        ("--skip", "do not run CHECK"),
    ):
        parser.add_argument(
            flag, action="append", default=[], choices=CHECK_NAMES, metavar="CHECK",
            help=f"{what} (repeatable)",
        )  # fmt: skip
    parser.add_argument(
        "--page", action="append", default=[], metavar="GLOB", help="only pages matching GLOB"
    )
    parser.add_argument("--report", type=Path, help="write every finding as JSON to this file")
    parser.add_argument("--list-checks", action="store_true", help="print the checks and exit")
    args = parser.parse_args(argv)

    if args.list_checks:
        for check in CHECKS:
            print(f"{check.name:15} {check.what}")
        return 0
    checks = tuple(c for c in CHECKS if c.name not in args.skip)
    root = args.html.resolve()
    pages = [
        p
        for p in find_pages(root)
        if not args.page or any(fnmatch.fnmatch(str(p), g) for g in args.page)
    ]
    if not pages:
        print(f"check-html: no pages under {root}; run `make book` first", file=sys.stderr)
        return 2
    for exe in (args.chromium, args.chromedriver):
        if not shutil.which(exe):
            print(f"check-html: {exe} not found (apt-get install chromium chromium-driver)")
            return 2
    shutil.rmtree(args.shots, ignore_errors=True)
    run_axe = "axe" not in args.skip
    print(
        "check-html: checks "
        + ", ".join(c.name + (" (warn only)" if c.name in args.warn else "") for c in checks)
        + (f"; axe-core {axe_version()}" if run_axe else "")
    )

    start = time.perf_counter()
    server, base = serve(root)
    driver = start_browser(args.chromium, args.chromedriver)
    failed = warned = nmath = 0
    axe_total: Counter = Counter()
    report = {}
    try:
        for rel in pages:
            page = load_page(driver, root, rel, base, args.shots, run_axe)
            found = judge(page, checks)
            fatal = any(
                not isinstance(f, Note)
                for name, fs in found.items()
                if name not in args.warn
                for f in fs
            )
            warn = any(not isinstance(f, Note) for name in args.warn for f in found.get(name, []))
            nmath += page.info["nmjx"]
            status = "FAIL" if fatal else "warn" if warn else "ok"
            counts = axe_counts(page)
            axe_total += counts
            axe_note = (
                "; axe: " + ", ".join(f"{k} x{n}" for k, n in sorted(counts.items()))
                if counts
                else ("; axe: clean" if run_axe else "")
            )
            print(f"{status:4} {rel}  ({page.info['nmjx']} equations typeset{axe_note})")
            for name, findings in found.items():
                for finding in findings:
                    kind = "note" if isinstance(finding, Note) else name
                    mark = "~" if name in args.warn and kind != "note" else "-"
                    print(f"     {mark} [{kind}] {finding}")
            failed += fatal
            warned += warn and not fatal
            report[str(rel)] = {"status": status, "findings": found, "axe": page.axe}
    finally:
        driver.quit()
        server.shutdown()
    elapsed = time.perf_counter() - start
    if args.report:
        args.report.parent.mkdir(parents=True, exist_ok=True)
        args.report.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"{len(pages)} pages, {nmath} equations, screenshots in {args.shots}, {elapsed:.1f} s")
    if run_axe:
        total = sum(axe_total.values())
        detail = ", ".join(f"{k} x{n}" for k, n in axe_total.most_common())
        print(
            f"axe-core: {total} violating elements in all pages"
            + (f" ({detail})" if detail else "")
        )
    if warned:
        print(
            f"check-html: {warned} pages have findings of warn-only checks ({', '.join(args.warn)})"
        )
    print(f"check-html: {len(pages) - failed} passed, {failed} failed")
    return 1 if failed else 0


def axe_version() -> str:
    match = re.search(r"axe v([\d.]+)", axe_source()[:500])
    return match.group(1) if match else "?"


if __name__ == "__main__":
    sys.exit(main())
