# FinePOSE reproducibility kit: the two commands of the README, plus helpers for developers.
#   make reproduce   regenerate every result of profile smoke (embedded synthetic data, CPU) into results/smoke.check/
#                    and compare it with the committed results/smoke/ (finepose reproduce --check)
#   make test        the whole test suite (what CI runs); installs headless Chromium for the book's browser test
#                    when it is missing and apt-get may (tools/ensure_chromium.sh)
#   make docs        the HTML book of every notebook into _docs/ (offline, nothing re-executed; open _docs/index.html)
# Each creates or reuses the local virtual environment .venv and installs the pinned requirements of settings.ini.

PYTHON  ?= python3.11
VENV    ?= .venv
PY      := $(VENV)/bin/python
PROFILE ?= smoke
STAMP   := $(VENV)/.finepose-installed
# Keep Jupyter, IPython and Matplotlib state inside the checkout, never in $HOME.
export JUPYTER_CONFIG_DIR  := $(CURDIR)/.cache/jupyter/config
export JUPYTER_DATA_DIR    := $(CURDIR)/.cache/jupyter/data
export JUPYTER_RUNTIME_DIR := $(CURDIR)/.cache/jupyter/runtime
export IPYTHONDIR          := $(CURDIR)/.cache/ipython
export MPLCONFIGDIR        := $(CURDIR)/.cache/matplotlib
export MPLBACKEND          := Agg
export PYTHONHASHSEED      := 0

.PHONY: install reproduce test test-fast lint export nbs clean-nbs readme benchmark docs

install: $(STAMP)

$(STAMP): settings.ini setup.py pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run 'make PYTHON=/path/to/python3.11 ...'"; exit 2; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==23.2.1" "setuptools>=64" wheel packaging
	# torch on the same line as everything else keeps the pinned CPU build (see nbs/index.ipynb, "Installing").
	$(PY) -m pip install --quiet torch==2.13.0 -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (finepose)" >/dev/null
	@mkdir -p $(JUPYTER_CONFIG_DIR) $(JUPYTER_DATA_DIR) $(JUPYTER_RUNTIME_DIR) $(IPYTHONDIR) $(MPLCONFIGDIR)
	@touch $(STAMP)

# Regenerate every experiment into results/$(PROFILE).check/ and compare it with the committed results/$(PROFILE)/
# (exit 1 when a number is off by more than its tolerance). To refresh the reference itself after an intended change:
#   $(VENV)/bin/finepose reproduce --profile smoke --force
reproduce: $(STAMP)
	$(VENV)/bin/finepose reproduce --profile $(PROFILE) --check

test: $(STAMP)
	@tools/ensure_chromium.sh
	$(PY) -m pytest -p no:cacheprovider -m sync tests
	$(PY) -m pytest -p no:cacheprovider -m "not sync" -n 2 --dist loadgroup tests

lint: $(STAMP)
	$(VENV)/bin/ruff check nbs experiments tools tests

export: $(STAMP)
	$(VENV)/bin/nbdev_export
	$(VENV)/bin/nbdev_clean
	$(VENV)/bin/nbdev_clean --fname experiments
	$(PY) tools/make_readme.py

# Re-execute every library chapter and save its outputs (pictures, shapes, tables) into the notebook; the test
# suite fails when a chapter's committed outputs are stale in kind (tools/run_chapter.py --check).
nbs: $(STAMP)
	@# one fresh process per chapter (a chapter may change torch's global state), two at a time
	printf '%s\n' nbs/index.ipynb $(sort $(wildcard nbs/[0-9]*.ipynb)) | \
	  OMP_NUM_THREADS=1 xargs -P 2 -n 1 $(PY) tools/run_chapter.py --write
	$(VENV)/bin/nbdev_clean

readme: $(STAMP)
	$(PY) tools/make_readme.py

benchmark: $(STAMP)
	$(PY) benchmarks/run.py

# The HTML book: one page per notebook of nbs/ and experiments/ with their committed outputs, maths as MathML
# (no network at build or view time). tests/test_docs.py checks it in headless Chromium.
docs: $(STAMP)
	$(PY) tools/build_docs.py
