# Two commands a new user needs (see README):  make compare   and   make test
# Both create the virtual environment .venv/ on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: compare test examples lint clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[keras,dev,tensorboard,plot]"
	touch $(STAMP)

## The main job: prove minired and Keras compute the same numbers, then train the examples.
compare: $(STAMP)
	$(PY) -m comparisons
	$(PY) examples/xor.py
	$(PY) examples/digits.py

## Every test: unit, property-based gradient checks, and the Keras comparisons.
test: $(STAMP)
	$(PY) -m ruff check minired tests comparisons examples
	$(PY) -m pytest -n 2 -q

examples: $(STAMP)
	$(PY) examples/xor.py
	$(PY) examples/digits.py

clean:
	rm -rf $(VENV) reports .pytest_cache .hypothesis
