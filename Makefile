# hnlab: `make run` executes every lesson, `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Real MNIST beside the project (this workplace's ../shared/data) unless HNLAB_DATA is set.
ifeq ($(HNLAB_DATA),)
ifneq ($(wildcard ../shared/data/MNIST/raw),)
export HNLAB_DATA := $(abspath ../shared/data)
endif
endif

.PHONY: install run test lint lab bench clean assignments

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -c constraints.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m hnlab.cli run

test: $(STAMP) lint
	HNLAB_SMOKE=1 $(PY) -m pytest tests
	HNLAB_SMOKE=1 $(PY) -m pytest --nbval-lax -p no:cacheprovider notebooks

lint: $(STAMP)
	$(VENV)/bin/ruff check hnlab bench tests
	$(VENV)/bin/ruff format --check hnlab bench tests

# The student versions of the nbgrader course (assignments/source -> assignments/release, git-ignored).
assignments: $(STAMP)
	$(PY) -m hnlab.cli assign

lab: $(STAMP)
	$(VENV)/bin/jupyter lab notebooks

bench: $(STAMP)
	$(PY) bench/toy1d.py --out runs/bench/toy1d.json

clean:
	rm -rf runs .pytest_cache
