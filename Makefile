# Two commands do all set-up on a fresh machine:
#   make demo   - install into .venv and tune the digits demo, ending with its report
#   make test   - install into .venv and run every test (the slow ones too)
# Both install the `tunebook` command into .venv/bin; `source .venv/bin/activate`
# puts it on PATH (or call .venv/bin/tunebook).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test test-fast bench bench-search clean

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

# Search quality on the LCBench surrogate (benchmarks/search.py), in its own environment .venv-bench:
# yahpo-gym pins numpy<2, which must not reach .venv. torch first, as the CPU build (a local wheel
# where one lies in /opt/wheels; TORCH=... to choose), then everything that depends on it.
# SEARCH_ARGS passes options, e.g. make bench-search SEARCH_ARGS="--tasks 3945 7593 --seeds 0 1 --jobs 2"
BENCH_VENV  := .venv-bench
TORCH_WHEEL := $(firstword $(wildcard /opt/wheels/torch-2.13.0+cpu-*.whl))
TORCH       ?= $(if $(TORCH_WHEEL),$(TORCH_WHEEL),torch==2.13.0)
SEARCH_ARGS ?=

$(BENCH_VENV)/.installed: pyproject.toml benchmarks/requirements-search.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet '$(TORCH)'
	$(BENCH_VENV)/bin/python -m pip install --quiet -e '.[bo,bench]' -r benchmarks/requirements-search.txt
	touch $@

bench-search: $(BENCH_VENV)/.installed
	$(BENCH_VENV)/bin/python benchmarks/search.py $(SEARCH_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache build *.egg-info src/*.egg-info tunebook-demo
