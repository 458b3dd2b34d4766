"""The calibration of line confidence: a versioned file the review stage writes and the checkout reads.

A calibration maps a receipt line's confidence (how sure the fusion was of a take) to how often such a
line was right, as learned from decided review cases and the twin's truth, and names the review
threshold over that calibrated confidence: a receipt with a line below it goes to an operator. It sits
on the ground floor because two sibling stages share it: ``review`` fits and writes it
(:mod:`review.calibration`), ``realtime`` loads the newest and scores receipts with it.

Each version is one JSON file, ``calibration-<version>.json`` under the data directory's
``calibration_dir``, written whole and renamed (:mod:`walkout.versions`); the newest name is the
current one. A file that is not exactly what :func:`write_calibration` writes (cut short, hand-edited,
breakpoints out of order) is refused in one line.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from walkout.errors import WalkoutError
from walkout.versions import write_version

FORMAT = "walkout.calibration/1"
PREFIX, SUFFIX = "calibration-", ".json"
KEEP_VERSIONS = 5


class CalibrationError(WalkoutError):
    """A calibration that cannot be fitted, or a calibration file that cannot be trusted."""


@dataclass(frozen=True)
class Calibration:
    """A monotone map of line confidence to the share of such lines that were right, and the review
    threshold chosen over the mapped confidence.

    ``confidences`` and ``right_shares`` are the map's breakpoints (both non-decreasing, within 0..1);
    between them it is linear, beyond them flat. ``target`` is the share of visits allowed to leave
    with a wrong receipt no one looks at; ``fitted_on`` counts what it learned from (lines, receipts,
    visits, and by source: decided cases, the twin's truth)."""

    version: str
    confidences: tuple[float, ...]
    right_shares: tuple[float, ...]
    threshold: float
    target: float
    fitted_on: dict[str, int]

    def __post_init__(self) -> None:
        _check(self)

    def calibrated(self, confidence: float) -> float:
        """How often a line this sure was right."""
        return float(np.interp(confidence, self.confidences, self.right_shares))

    def flags(self, confidence: float) -> bool:
        """Whether a line (or a receipt's least sure line) this sure goes to review."""
        return self.calibrated(confidence) < self.threshold

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "breakpoints": {"confidence": list(self.confidences), "right_share": list(self.right_shares)},
            "threshold": self.threshold,
            "target": self.target,
            "fitted_on": dict(self.fitted_on),
        }


def _check(calibration: Calibration) -> None:
    xs, ys = calibration.confidences, calibration.right_shares
    if not xs or len(xs) != len(ys):
        raise CalibrationError("a calibration needs as many right shares as confidences, at least one")
    for name, values in (("confidences", xs), ("right shares", ys)):
        if any(not 0.0 <= value <= 1.0 for value in values):
            raise CalibrationError(f"calibration {name} must lie within 0 and 1")
        if any(b < a for a, b in itertools.pairwise(values)):
            raise CalibrationError(f"calibration {name} must not decrease")
    if not 0.0 <= calibration.threshold <= 1.0 or not 0.0 <= calibration.target <= 1.0:
        raise CalibrationError("a calibration's threshold and target must lie within 0 and 1")
    if any(count < 0 for count in calibration.fitted_on.values()):
        raise CalibrationError("a calibration's fitted_on counts must not be negative")


def calibration_path(folder: Path, version: str) -> Path:
    return folder / f"{PREFIX}{version}{SUFFIX}"


def write_calibration(folder: Path, calibration: Calibration) -> Path:
    """Write the calibration as a new version (whole, then renamed), keeping the newest few."""
    text = json.dumps(calibration.as_json(), indent=2, sort_keys=True) + "\n"
    return write_version(
        folder, calibration.version, SUFFIX, lambda path: path.write_text(text), KEEP_VERSIONS, PREFIX
    )


def newest_calibration_file(folder: Path) -> Path | None:
    """The newest version's file (versions sort by time), None when there is none."""
    files = sorted(folder.glob(f"{PREFIX}*{SUFFIX}")) if folder.is_dir() else []
    return files[-1] if files else None


def read_calibration(path: Path) -> Calibration:
    """A calibration file read back and checked; anything else is refused with one line saying why."""
    where = f"calibration file {path}"
    try:
        raw = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CalibrationError(
            f"{where} is unreadable ({error}): refit it (walkout review calibrate)"
        ) from None
    try:
        if raw["format"] != FORMAT:
            raise CalibrationError(f"{where} is of format {raw['format']!r}, not {FORMAT!r}")
        if set(raw) != {"format", "version", "breakpoints", "threshold", "target", "fitted_on"}:
            raise CalibrationError(f"{where} has unexpected or missing fields: refit it")
        version, points, fitted_on = raw["version"], raw["breakpoints"], raw["fitted_on"]
        if not isinstance(version, str) or path.name != calibration_path(path.parent, version).name:
            raise CalibrationError(f"{where} names version {version!r}, not its own file name's")
        numbers = [*points["confidence"], *points["right_share"], raw["threshold"], raw["target"]]
        if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
            raise CalibrationError(f"{where} holds a breakpoint, threshold or target that is not a number")
        if not all(isinstance(k, str) and type(n) is int for k, n in fitted_on.items()):
            raise CalibrationError(f"{where} holds fitted_on counts that are not whole numbers")
        return Calibration(
            version=version,
            confidences=tuple(float(x) for x in points["confidence"]),
            right_shares=tuple(float(y) for y in points["right_share"]),
            threshold=float(raw["threshold"]),
            target=float(raw["target"]),
            fitted_on=dict(fitted_on),
        )
    except CalibrationError as error:
        if str(error).startswith(where):
            raise
        raise CalibrationError(f"{where} is refused: {error}") from None
    except (KeyError, TypeError, AttributeError) as error:
        raise CalibrationError(f"{where} is not a calibration ({error!r} missing or malformed)") from None
