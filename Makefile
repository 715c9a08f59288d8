# Two commands do everything on a fresh machine:
#   make demo   set up .venv, then hold out 20% -> train TabularAR -> save -> load -> sample -> report
#               (demo_output/report.html + .json) on bundled data
#   make test   set up .venv, then run the whole default test suite
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: setup demo test test-slow bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# CPU torch first, so nothing later pulls a CUDA build.
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/synthohive demo --output-dir demo_output --overwrite

test: $(STAMP)
	$(PY) -m pytest -q -m "not slow" -n 2 tests

test-slow: $(STAMP)
	$(PY) -m pytest -q -m slow tests

# Benchmarks run on demand in their own environment (the peers are never our dependencies).
bench:
	bash benchmarks/setup_bench_env.sh
	benchmarks/.venv-bench/bin/python benchmarks/bench_ctgan.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache build *.egg-info
