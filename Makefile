# Two commands a new user needs (see README):  make compare   and   make test
# Both create the virtual environment .venv/ on first use. `make docs` serves the course.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Where `make docs` serves the course (host:port).
DOCS_ADDR ?= 127.0.0.1:8000

# Material for MkDocs prints a notice about its own end of life on every build: not ours.
export NO_MKDOCS_2_WARNING := 1

.PHONY: compare test examples lint docs site clean bench

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[keras,dev,tensorboard,plot,docs]"
	touch $(STAMP)

## The main job: prove minired and Keras compute the same numbers, then train the examples.
compare: $(STAMP)
	$(PY) -m comparisons
	$(PY) examples/xor.py
	$(PY) examples/digits.py

# OpenBLAS picks its matrix kernels by CPU (Haswell and Zen, SkylakeX...), and their float32
# roundings differ in the last bit; a lesson that trains for dozens of epochs then prints other
# digits. The tests run the AVX2 kernels every x86-64 CPU of the last decade has, so the
# course's printed outputs are the same on every machine (other CPUs keep their own).
BLAS_KERNEL := $(if $(filter x86_64,$(shell uname -m)),OPENBLAS_CORETYPE=Haswell)

## Every test: unit, property-based gradient checks, the Keras comparisons, every snippet
## of the course, and the course's website (tests/test_site.py: mkdocs build --strict).
test: $(STAMP)
	$(PY) -m ruff check minired tests comparisons examples benchmarks conftest.py docs/api
	$(BLAS_KERNEL) $(PY) -m pytest -n 2 -q

## Speed: minired against Keras (and PyTorch if installed), a tight hand-written NumPy loop of
## the same math and a loop of only its matrix products; a table and reports/benchmarks/latest.json.
## Options go in BENCH_ARGS, e.g.  make bench BENCH_ARGS="--quick"  (see python -m benchmarks -h).
bench: $(STAMP)
	$(PY) -m benchmarks $(BENCH_ARGS)

examples: $(STAMP)
	$(PY) examples/xor.py
	$(PY) examples/digits.py

## The course as a website, rebuilt on every edit: open the address it prints.
docs: $(STAMP)
	@echo "The course: http://$(DOCS_ADDR)/   (Ctrl+C stops the server)"
	$(PY) -m mkdocs serve --dev-addr $(DOCS_ADDR)

## The website as static files in site/, for any static web server.
site: $(STAMP)
	$(PY) -m mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) reports site .pytest_cache .hypothesis
