# Two commands for a fresh machine with Python 3.11+ and the package registries:
#   make demo   set up .venv and run the main job on the sample tiles of Hmeimim
#   make test   set up .venv with the test tools and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
STAMP := $(VENV)/.installed

.PHONY: demo test lint format samples clean

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv $(VENV) || { echo "make: cannot create a virtualenv; on Debian: apt-get install python3-venv"; exit 2; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	@touch $@

demo: $(STAMP)
	$(BIN)/imagery-tool info sample_tiles/hmeimim_*.tif

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

samples: $(STAMP)
	$(BIN)/python sample_tiles/make_sample_tiles.py --outdir sample_tiles

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
