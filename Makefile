# Two commands do all set-up on a fresh machine:
#   make demo   - install into .venv and run the demo
#   make test   - install into .venv and run every test (the slow ones too)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/tunebook sample examples/specs/digits-depth.yaml -n 5
	@echo
	@echo "That is the quasi-random plan of examples/specs/digits-depth.yaml: one study per"
	@echo "scientific value, the same nuisance points in each. Running trials (tunebook run)"
	@echo "and the training demo arrive with the next milestone; see README.md."

# Fast tests first, then the long checks behind the 'slow' marker.
# pytest exits 5 when a selection holds no test; that is not a failure here.
test: $(STAMP)
	$(PY) -m pytest -q -m "not slow"
	$(PY) -m pytest -q -m slow; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow and not postgres"

bench: $(STAMP)
	$(PY) benchmarks/bookkeeping.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info
