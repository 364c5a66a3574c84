# Two commands on a fresh machine: `make book` and `make test`.
# Both create .venv from the pinned requirements.txt on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LINTED := $(wildcard hmm tests benchmarks tools)
# Debian's headless browser and its WebDriver, for `make check-html`
CHROMIUM := /usr/bin/chromium
CHROMEDRIVER := /usr/bin/chromedriver
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
# pytest-xdist workers for `make test` (auto: one per CPU core; 0: no parallel run)
TEST_JOBS ?= auto
# check-html checks that only report, without failing (none by default: every check is fatal;
# `make check-html CHECK_HTML_WARN=code-width` lets a draft through while it is reshaped)
CHECK_HTML_WARN ?=
CHECK_HTML_FLAGS ?= $(foreach c,$(CHECK_HTML_WARN),--warn $(c))

.PHONY: book handouts notebooks test test-portable lint lint-notebooks bench check-html pdf browser clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## book: build the HTML book into _build/html, executing every notebook fresh; warnings are errors;
## the handouts' zip is copied into it, where the course guide links it
book: handouts
	rm -rf _build/html _build/.doctrees
	$(BIN)/jupyter-book build . -W --keep-going
	cp _build/handouts.zip _build/html/handouts.zip

## handouts: the students' notebooks, _build/handouts/<chapter>.ipynb (each chapter with its
## exercises and without their solutions, outputs cleared) and a README, all in _build/handouts.zip
handouts: $(STAMP)
	rm -rf _build/handouts
	$(BIN)/python tools/make_handouts.py --out _build/handouts --zip _build/handouts.zip

## notebooks: re-execute the chapters in place (NB="a.ipynb b.ipynb" for some), outputs kept for
## nbval, then strip volatile metadata
NB ?= $(notdir $(wildcard book/*.ipynb))
notebooks: $(STAMP)
	cd book && for nb in $(NB); do ../$(BIN)/jupyter execute --inplace --timeout=600 $$nb || exit 1; done
	$(BIN)/python tools/nbclean.py $(addprefix book/,$(NB))

## test: unit/property tests of hmm and strict nbval on every notebook, in parallel
## (--dist loadfile: each test file and each notebook runs whole in one worker, as nbval needs)
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_JOBS) --dist loadfile

## test-portable: the same tests on a second numerical path (numpy's SIMD dispatch turned down to
## its baseline, one BLAS thread), with every number a notebook prints audited for round-off
test-portable: $(STAMP)
	$(BIN)/python tools/test_portable.py -n $(TEST_JOBS) --dist loadfile

## lint: ruff on the package, tests, benchmarks and tools; notebooks free of volatile metadata
lint: lint-notebooks
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python tools/nbclean.py --check book/*.ipynb

## lint-notebooks: ruff on the notebooks' code at the width of the book's code column (75
## characters fit in a collapsed "show code" cell at 1280 px, 77 in an open one); part of `make lint`
NB_LINE_LENGTH := 75
lint-notebooks: $(STAMP)
	$(BIN)/ruff check --line-length $(NB_LINE_LENGTH) --extend-select E501 book/*.ipynb
	$(BIN)/ruff format --check --line-length $(NB_LINE_LENGTH) book/*.ipynb

## bench: time HMM against direct simulation (never part of `make test`)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## check-html: build the book, its handouts and its PDFs, open every page in headless Chromium
## with no network, fail on broken images, links, error outputs, console errors, untypeset math, code wider than
## its box, shrunk figures or WCAG 2 A/AA violations (axe-core); screenshots in _build/screenshots
check-html: pdf
	$(BIN)/python tools/check_html.py --html _build/html --shots _build/screenshots \
		--chromium $(CHROMIUM) --chromedriver $(CHROMEDRIVER) --report _build/check-html.json \
		$(CHECK_HTML_FLAGS)

## pdf: the whole book as one PDF, _build/pdf/book.pdf (the teacher's copy, every solution shown),
## and without the solutions, _build/pdf/book-student.pdf, printed by headless Chromium from the
## single-page build (which reuses the notebooks just executed by `make book`), then checked;
## copies go to _build/html, where the HTML book links them
pdf: book browser
	rm -rf _build/singlehtml _build/pdf
	$(BIN)/jupyter-book build . --builder singlehtml -W --keep-going
	$(BIN)/python tools/make_pdf.py --html _build/singlehtml --out _build/pdf/book.pdf \
		--student-out _build/pdf/book-student.pdf --copy-to _build/html \
		--chromium $(CHROMIUM) --chromedriver $(CHROMEDRIVER)

## browser: install Debian's chromium and chromium-driver if they are missing
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi

clean:
	rm -rf _build .pytest_cache
