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

.PHONY: book notebooks test test-portable lint bench check-html browser clean

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $(STAMP)

## book: build the HTML book into _build/html, executing every notebook fresh; warnings are errors
book: $(STAMP)
	rm -rf _build/html _build/.doctrees
	$(BIN)/jupyter-book build . -W --keep-going

## notebooks: re-execute the chapters in place (NB="a.ipynb b.ipynb" for some), outputs kept for
## nbval, then strip volatile metadata
NB ?= $(notdir $(wildcard book/*.ipynb))
notebooks: $(STAMP)
	cd book && for nb in $(NB); do ../$(BIN)/jupyter execute --inplace --timeout=600 $$nb || exit 1; done
	$(BIN)/python tools/nbclean.py $(addprefix book/,$(NB))

## test: unit/property tests of hmm and strict nbval on every notebook
test: $(STAMP)
	$(BIN)/python -m pytest

## test-portable: the same tests on a second numerical path (numpy's SIMD dispatch turned down to
## its baseline, one BLAS thread), with every number a notebook prints audited for round-off
test-portable: $(STAMP)
	$(BIN)/python tools/test_portable.py

## lint: ruff on the package, tests, benchmarks and tools; notebooks free of volatile metadata
lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python tools/nbclean.py --check book/*.ipynb

## bench: time HMM against direct simulation (never part of `make test`)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

## check-html: build the book, open every page in headless Chromium with no network, fail on
## broken images, links, error outputs, console errors or untypeset math; screenshots in
## _build/screenshots
check-html: book browser
	$(BIN)/python tools/check_html.py --html _build/html --shots _build/screenshots \
		--chromium $(CHROMIUM) --chromedriver $(CHROMEDRIVER)

## browser: install Debian's chromium and chromium-driver if they are missing
browser:
	@if [ ! -x $(CHROMIUM) ] || [ ! -x $(CHROMEDRIVER) ]; then \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver; \
	fi

clean:
	rm -rf _build .pytest_cache
