# The two commands of the README: `make demo` and `make test`. Both create .venv on first use
# and (re)build the native extension incrementally (CMake build tree in build/).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Builds from several shells at once share one CMake tree; serialize them.
LOCK := flock /tmp/larq-compute-build.lock

.PHONY: demo test test-all build venv lint bench clean

$(VENV)/.deps: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "scikit-build-core>=0.10,<2" "pybind11>=2.12,<4" cmake ninja
	$(LOCK) $(PY) -m pip install -q --no-build-isolation -e ".[test]"
	touch $@

venv: $(VENV)/.deps

build: venv
	$(LOCK) $(PY) -m pip install -q --no-build-isolation --no-deps -e .

demo: build
	$(VENV)/bin/larq-compute demo

test: build
	$(PY) -m pytest -q

test-all: build
	$(PY) -m pytest -q -m "slow or not slow"

lint: venv
	$(VENV)/bin/ruff check larq_compute tests bench

clean:
	rm -rf build $(VENV)
