"""Open every page of the built book in headless Chromium and fail on anything a reader would see
as broken.

Usage (after `make book`; `make check-html` does both)::

    .venv/bin/python tools/check_html.py [--html _build/html] [--shots _build/screenshots]

The book is served by a local HTTP server on the loopback interface (file:// URLs change how
scripts, fonts and links behave). The browser cannot resolve any host name except the loopback
address, so the check also proves that the book reads offline: a page that asks for a CDN, a web
font or any other outside URL fails.

A page fails when it has

* an image that did not load (``naturalWidth == 0`` or a failed ``decode()``);
* a cell output with a traceback or an error (``.output.traceback``, ``.output.error``, a stderr
  output naming an ``...Error`` or ``Traceback``), text ``Traceback (most recent call last)``, or a
  docutils error left in the page (``.system-message``, ``.problematic``);
* a link to a file of the book that does not exist, or to an anchor that does not exist;
* a request that the server answered with an error, or a request to any host but the server;
* a console message of level SEVERE (JavaScript errors, failed loads);
* MyST markup shown as text (a directive fence, ``{role}`...```) instead of being rendered;
* math that MathJax did not typeset: a ``.math`` element without ``mjx-container``, a MathJax
  error (``mjx-merror``, an undefined macro), or raw TeX delimiters (``$$``, ``\\(``, ``\\[``)
  left in the text; a display equation wider than the text column (cut off for the reader);
* a download link to a notebook whose code cells were not executed.

Every page is saved as a full-page screenshot to ``<shots>/<page>.png``. Pages are all ``*.html``
files of the build except the asset folders (``_static``, ``_sources``, ``_images``, ...): that is
every page from the table of contents plus Sphinx's own ``genindex`` and ``search`` pages, which
readers reach from the navigation too.
"""

from __future__ import annotations

import argparse
import base64
import functools
import http.server
import json
import os
import re
import shutil
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WIDTH, HEIGHT = 1280, 900
MAX_SHOT_HEIGHT = 32000  # px; taller pages are cut (checked to work up to 30000 px)
PAGE_TIMEOUT = 60.0  # seconds for a page to load and typeset

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
// display equations wider than the text column are cut off for the reader
const wide = Array.from(document.querySelectorAll('mjx-container[display="true"]')).filter(
  (el) => el.scrollWidth > el.clientWidth + 1).map(
  (el) => text(el.querySelector("mjx-assistive-mml") || el).slice(0, 80));
const body = document.body.cloneNode(true);
body.querySelectorAll("pre, code, script, style, textarea, mjx-container, .highlight").forEach(
  (el) => el.remove());
return {
  title: document.title, imgs, links, errors, stderr, untypeset, merrors, wide,
  nmath: maths.length, nmjx: document.querySelectorAll("mjx-container").length,
  mathjax: !!window.MathJax, text: body.textContent, ids: Array.from(
    document.querySelectorAll("[id], a[name]")).map((el) => el.id || el.getAttribute("name")),
};
"""

RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\$[^$\s][^$]*[\\^_][^$]*\$")
# MyST markup that reached the reader unparsed (a fence whose info line holds a backtick is not a
# fence in CommonMark, so a ```{prf:lemma} ... {cite}`key` ...``` block prints as text)
UNPARSED = re.compile(r"```|^:::|\{[\w:-]+\}`", re.MULTILINE)
ERROR_WORD = re.compile(r"Traceback|\b\w*(Error|Exception)\b")
ASSET_DIRS = ("_static", "_sources", "_images", "_sphinx_design_static", "_panels_static")


class _Ids(HTMLParser):
    """Collect the ids and anchor names of one HTML file."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if value and (key == "id" or (key == "name" and tag == "a")):
                self.ids.add(value)


@functools.cache
def static_ids(path: Path) -> frozenset[str]:
    parser = _Ids()
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    return frozenset(parser.ids)


class _Handler(http.server.SimpleHTTPRequestHandler):
    failed: list[str] = []  # requests answered with an error status

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

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        status = int(code) if str(code).isdigit() else 0
        if status >= 400:
            self.failed.append(f"HTTP {status} {self.path}")


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = functools.partial(_Handler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def start_browser(chromium: str, chromedriver: str):
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
        f"--window-size={WIDTH},{HEIGHT}",
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


def find_pages(root: Path) -> list[Path]:
    pages = []
    for path in sorted(root.rglob("*.html")):
        rel = path.relative_to(root)
        if rel.parts[0] not in ASSET_DIRS:
            pages.append(rel)
    return pages


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


def check_page(driver, root: Path, page: Path, base: str, shots: Path) -> tuple[list[str], dict]:
    problems: list[str] = []
    driver.get(f"{base}/{page.as_posix()}")
    settled = driver.execute_async_script(SETTLE_JS)
    if isinstance(settled, dict):
        problems.append(f"page did not settle: {settled['error']}")
        settled = []
    info = driver.execute_script(INSPECT_JS)
    screenshot(driver, shots / page.with_suffix(".png"))

    for img, ok in zip(info["imgs"], settled, strict=False):
        if not ok or not img["complete"] or (img["width"] == 0 and not img["svg"]):
            problems.append(f"broken image {img['src']!r}")
    problems += [f"error in page: {e}" for e in info["errors"]]
    for out in info["stderr"]:
        if ERROR_WORD.search(out):
            problems.append(f"error on stderr: {out[:300]}")
        else:
            print(f"  note: stderr output: {out[:120]!r}")
    if "Traceback (most recent call last)" in info["text"]:
        problems.append("a traceback is printed in the page")

    if info["nmath"] and not info["mathjax"]:
        problems.append("page has math but MathJax did not load")
    problems += [f"math not typeset: {m!r}" for m in info["untypeset"]]
    problems += [f"MathJax error: {m!r}" for m in info["merrors"]]
    problems += [f"display equation wider than the text column: {m!r}" for m in info["wide"]]
    raw = list(RAW_TEX.finditer(info["text"]))
    if raw:
        snippet = info["text"][max(0, raw[0].start() - 40) : raw[0].end() + 40]
        problems.append(f"raw TeX left in text ({len(raw)}x), first: {' '.join(snippet.split())!r}")

    unparsed = list(UNPARSED.finditer(info["text"]))
    if unparsed:
        snippet = info["text"][max(0, unparsed[0].start() - 40) : unparsed[0].end() + 60]
        problems.append(
            f"unparsed MyST markup ({len(unparsed)}x), first: {' '.join(snippet.split())!r}"
        )

    ids = set(info["ids"]) | static_ids(root / page)
    seen = set()
    for link in info["links"]:
        if link["url"] not in seen:
            seen.add(link["url"])
            problem = check_link(root, page, link, base, ids)
            if problem:
                problems.append(problem)

    for entry in driver.get_log("browser"):
        if entry["level"] == "SEVERE":
            problems.append(f"console: {entry['message'][:300]}")
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if urlsplit(url).scheme in ("http", "https", "ws", "wss") and not url.startswith(base):
                problems.append(f"request outside the book: {url}")
    problems += _Handler.failed
    _Handler.failed.clear()
    return problems, info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--html", type=Path, default=Path("_build/html"))
    parser.add_argument("--shots", type=Path, default=Path("_build/screenshots"))
    parser.add_argument("--chromium", default=CHROMIUM)
    parser.add_argument("--chromedriver", default=CHROMEDRIVER)
    args = parser.parse_args(argv)

    root = args.html.resolve()
    pages = find_pages(root)
    if not pages:
        print(f"check-html: no pages under {root}; run `make book` first", file=sys.stderr)
        return 2
    for exe in (args.chromium, args.chromedriver):
        if not shutil.which(exe):
            print(f"check-html: {exe} not found (apt-get install chromium chromium-driver)")
            return 2
    shutil.rmtree(args.shots, ignore_errors=True)

    start = time.perf_counter()
    server, base = serve(root)
    driver = start_browser(args.chromium, args.chromedriver)
    failed = 0
    nmath = 0
    try:
        for page in pages:
            problems, info = check_page(driver, root, page, base, args.shots)
            nmath += info["nmjx"]
            status = "FAIL" if problems else "ok"
            print(f"{status:4} {page}  ({info['nmjx']} equations typeset)")
            for problem in problems:
                print(f"     - {problem}")
            failed += bool(problems)
    finally:
        driver.quit()
        server.shutdown()
    elapsed = time.perf_counter() - start
    print(f"{len(pages)} pages, {nmath} equations, screenshots in {args.shots}, {elapsed:.1f} s")
    print(f"check-html: {len(pages) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
