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

.PHONY: install run test lint lab bench clean assignments test-browser browser-deps

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
	$(VENV)/bin/ruff check hnlab bench tests browser_tests jupyter_server_config.py
	$(VENV)/bin/ruff format --check hnlab bench tests browser_tests jupyter_server_config.py

# Every lesson in JupyterLab in headless Chromium (browser_tests/; screenshots in runs/browser/).
# Needs Debian's chromium (`make browser-deps`, as root); HNLAB_CHROMIUM names another binary.
test-browser: $(STAMP)
	HNLAB_SMOKE=1 $(PY) -m pytest -p no:cacheprovider browser_tests

CHROMIUM ?= /usr/bin/chromium
browser-deps:
	@test -x $(CHROMIUM) || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The student versions of the nbgrader course (assignments/source -> assignments/release, git-ignored).
assignments: $(STAMP)
	$(PY) -m hnlab.cli assign

# jupyter_server_config.py: the lesson files are saved without outputs (see the file).
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --config=jupyter_server_config.py notebooks

bench: $(STAMP)
	$(PY) bench/toy1d.py --out runs/bench/toy1d.json

clean:
	rm -rf runs .pytest_cache
