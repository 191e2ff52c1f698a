# Two commands for a fresh machine with Python 3.11+ and the package registries:
#   make demo   set up .venv and run the main job on the sample tiles of Hmeimim
#   make test   set up .venv with the test tools and run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
CORE := $(VENV)/.installed-core
TEST := $(VENV)/.installed-test
SYNTHETIC := $(VENV)/.installed-synthetic
BEFORE := sample_tiles/hmeimim_2024-12-06.tif
AFTER := sample_tiles/hmeimim_2024-12-13.tif

.PHONY: demo test gui-deps lint format samples clean

$(VENV)/bin/python:
	@$(PYTHON) -m venv $(VENV) || { echo "make: cannot create a virtualenv; on Debian: apt-get install python3-venv"; exit 2; }
	$(BIN)/python -m pip install --quiet --upgrade pip

$(CORE): pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

# The scene generator of the tests, benchmarks and `make samples` is a distribution of its own
# (synthetic/), so that imagery-tool's wheel does not carry it.
$(SYNTHETIC): pyproject.toml synthetic/pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e . -e ./synthetic
	@touch $@ $(CORE)

# The napari extra runs PyQt6; a PyQt5 left by an older .venv would come first in qtpy's order
# and run everything on Qt 5 again, so it goes.
$(TEST): pyproject.toml synthetic/pyproject.toml | $(VENV)/bin/python
	$(BIN)/python -m pip install --quiet -e ".[test]" -e ./synthetic
	@$(BIN)/python -m pip uninstall --quiet --yes PyQt5 PyQt5-Qt5 PyQt5-sip 2>/dev/null || true
	@touch $@ $(CORE) $(SYNTHETIC)

# The main job on the sample tiles: describe them, detect what arrived and left between two
# dates, and draw the reviewer sheet with the analyst's An-124 boxes and the detections.
demo: $(CORE)
	$(BIN)/imagery-tool info sample_tiles/hmeimim_*.tif
	@mkdir -p $(OUT)
	$(BIN)/imagery-tool detect $(BEFORE) $(AFTER) -o $(OUT)/changes.geojson --png $(OUT)/quicklook.png
	$(BIN)/imagery-tool render $(AFTER) --before $(BEFORE) --changes $(OUT)/changes.geojson \
		--annotations sample_tiles/annotations/hmeimim_2024-12-13_an124.geojson --chips \
		-o $(OUT)/review.png
	@echo "demo: see $(OUT)/changes.geojson, $(OUT)/quicklook.png and $(OUT)/review.png"

# The napari tests need a display: Xvfb (and the X libraries Qt 6 loads: its xcb platform
# plugin refuses to start without libxcb-cursor0), installed here when missing and we are root
# (as in CI); without a display those tests are skipped, not failed.
GUI_PACKAGES := xvfb xauth libgl1 libegl1 libfontconfig1 libdbus-1-3 libglib2.0-0 \
	libxkbcommon-x11-0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0 \
	libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxcb-cursor0

gui-deps:
	@if ! command -v xvfb-run >/dev/null || ! ldconfig -p | grep -q libxcb-cursor.so.0; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(GUI_PACKAGES) >/dev/null; \
		else \
			echo "make: no Xvfb; the napari tests will be skipped (as root: apt-get install $(GUI_PACKAGES))"; \
		fi; \
	fi

test: $(TEST) gui-deps
	@if command -v xvfb-run >/dev/null; then \
		xvfb-run -a -s "-screen 0 1600x1000x24" $(BIN)/python -m pytest; \
	else \
		$(BIN)/python -m pytest; \
	fi

lint: $(TEST)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

samples: $(SYNTHETIC)
	$(BIN)/python tools/make_sample_tiles.py --outdir sample_tiles

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .ruff_cache
