"""The Dagster instance of a data directory (its ``dagster_dir``) and the command that opens its UI.

Kept free of Dagster imports, so ``walkout ui`` starts without loading the definitions twice.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from walkout.settings import Settings

UI_HOST = "127.0.0.1"
UI_PORT = 3000
WRITER_TAG = {"walkout/writer": "warehouse"}
"""Every run that writes the warehouse carries this tag; the instance runs one such run at a time."""
INSTANCE_CONFIG = {
    "telemetry": {"enabled": False},
    "concurrency": {
        "runs": {
            "tag_concurrency_limits": [
                {"key": key, "value": value, "limit": 1} for key, value in WRITER_TAG.items()
            ]
        }
    },
}


@dataclass(frozen=True)
class UiCommand:
    """``walkout ui``: run ``argv`` with ``env`` added to the current environment, then open ``url``."""

    argv: list[str]
    env: dict[str, str]
    url: str


def dagster_home(settings: Settings) -> Path:
    """The data directory's ``dagster_dir`` with its ``dagster.yaml``: telemetry off, one warehouse writer
    at a time."""
    home = settings.paths.resolved().dagster_dir  # Dagster wants DAGSTER_HOME absolute
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    text = yaml.safe_dump(INSTANCE_CONFIG, sort_keys=False)
    if not config.exists() or config.read_text() != text:
        config.write_text(text)
    return home


def dagster_ui_command(settings: Settings, port: int = UI_PORT) -> UiCommand:
    """``dagster dev`` on the data directory's instance, loading :mod:`orchestration.definitions`."""
    dagster_dev = [sys.executable, "-m", "dagster", "dev", "-m", "orchestration.definitions"]
    return UiCommand(
        argv=[*dagster_dev, "--host", UI_HOST, "--port", str(port)],
        env={
            "DAGSTER_HOME": str(dagster_home(settings)),
            "WALKOUT_DATA_DIR": str(settings.paths.resolved().root),
        },
        url=f"http://{UI_HOST}:{port}",
    )
