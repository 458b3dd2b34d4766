"""The checkout's calibration of line confidence, loaded at start and reloaded when a newer one appears.

The review stage writes versions into the data directory's ``calibration_dir`` (see
:mod:`walkout.calibration`); the service asks :meth:`CalibrationWatch.current` once a poll, and the
folder is looked at no more often than every ``check_every_s``. A newer file that cannot be trusted is
logged and skipped: the checkout keeps scoring with the one it has (or, with none, by the fusion's own
``review_below``) until a good version appears.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from walkout.calibration import Calibration, CalibrationError, newest_calibration_file, read_calibration

CHECK_EVERY_S = 30.0
log = logging.getLogger(__name__)


class CalibrationWatch:
    """The newest calibration in a folder, looked for at most every ``check_every_s`` (monotonic clock)."""

    def __init__(self, folder: Path, check_every_s: float = CHECK_EVERY_S) -> None:
        self.folder = folder
        self.check_every_s = check_every_s
        self.calibration: Calibration | None = None
        self._checked_at = -math.inf
        self._seen: Path | None = None  # the newest file last looked at, loaded or refused

    def current(self, now: float) -> Calibration | None:
        """The calibration to score receipts with now."""
        if now - self._checked_at < self.check_every_s:
            return self.calibration
        self._checked_at = now
        newest = newest_calibration_file(self.folder)
        if newest is None or newest == self._seen:
            return self.calibration
        self._seen = newest
        try:
            self.calibration = read_calibration(newest)
        except CalibrationError as refused:
            log.warning("%s; the checkout keeps %s", refused, self._describe())
            return self.calibration
        log.info("checkout scores receipts with calibration %s", self.calibration.version)
        return self.calibration

    def _describe(self) -> str:
        if self.calibration is None:
            return "its own review_below (no calibration loaded)"
        return f"calibration {self.calibration.version}"
