"""What the API serves from: the current model and shelves, reloaded in the background as new ones are
published, and swapped in whole so a request in flight keeps the one it started with."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from recsys import RecsysError
from recsys.api.metrics import Metrics
from recsys.api.rules import Shelves, load_shelves
from recsys.artifact import ServedModel, current_version, load_model

log = logging.getLogger(__name__)

RELOAD_INTERVAL_S = 2.0


class Published:
    """The current model and shelves; a thread swaps in new versions as they are published."""

    def __init__(self, artifacts: Path, warehouse: Path, metrics: Metrics) -> None:
        self.artifacts = artifacts
        self.warehouse = warehouse
        self.metrics = metrics
        self.model: ServedModel | None = None
        self.shelves: Shelves | None = None
        self._warehouse_version: tuple[int, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="ad-api-reload", daemon=True)

    def refresh(self) -> None:
        """Load whatever changed since the last look (a no-op when nothing did)."""
        version = current_version(self.artifacts)
        if version is not None and (self.model is None or self.model.version != version):
            model = load_model(self.artifacts, version)
            if self.model is not None:
                self.metrics.model.remove(self.model.version)
            self.model = model
            self.metrics.model.labels(version=version).set(1)
            log.info("serving model %s", version)
        if self.warehouse.is_file():
            stat = self.warehouse.stat()
            if (stat.st_ino, stat.st_mtime_ns) != self._warehouse_version:
                self.shelves = load_shelves(self.warehouse)
                self._warehouse_version = (stat.st_ino, stat.st_mtime_ns)

    def _watch(self, interval_s: float = RELOAD_INTERVAL_S) -> None:
        while not self._stop.wait(interval_s):
            try:
                self.refresh()
            except (RecsysError, OSError) as error:  # keep serving the last good version
                log.warning("keeping the loaded model and shelves: %s", error)

    def start(self) -> None:
        try:
            self.refresh()
        except RecsysError as error:
            log.warning("%s", error)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
