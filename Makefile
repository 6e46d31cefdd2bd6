# Two commands do all set-up on a fresh machine:
#   make demo   - install into .venv and tune the digits demo, ending with its report
#   make test   - install into .venv and run every test (the slow ones too)
# Both install the `tunebook` command into .venv/bin; `source .venv/bin/activate`
# puts it on PATH (or call .venv/bin/tunebook).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test test-fast bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# one stamp per set of extras, so `make test` does not pull the benchmark tools
$(VENV)/.installed-%: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[$*]'
	touch $@

ON_PATH := echo; echo "tunebook is installed in $(VENV)/bin: run 'source $(VENV)/bin/activate' to have it on PATH"

demo: $(VENV)/.installed-demo
	$(VENV)/bin/tunebook demo
	@$(ON_PATH)

# Fast tests first, then the long checks behind the 'slow' marker.
# pytest exits 5 when a selection holds no test; that is not a failure here.
test: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m "not slow"
	$(PY) -m pytest -q -m slow; rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 5 ]
	@$(ON_PATH)

test-fast: $(VENV)/.installed-dev
	$(PY) -m pytest -q -m "not slow and not postgres"

bench: $(VENV)/.installed-bench $(VENV)/.installed-dev
	$(PY) benchmarks/bookkeeping.py
	$(PY) benchmarks/trial_logging.py
	$(PY) benchmarks/report.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info src/*.egg-info tunebook-demo
