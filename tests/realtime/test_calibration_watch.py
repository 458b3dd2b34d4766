"""The checkout's calibration: the newest version loaded, looked for at most every few seconds, and a
newer file that cannot be trusted skipped (the one loaded is kept)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from realtime.checkout.calibration import CalibrationWatch
from walkout.calibration import Calibration, calibration_path, write_calibration


def calibration(version: str, threshold: float = 0.6) -> Calibration:
    return Calibration(version, (0.5, 0.99), (0.3, 0.98), threshold, 0.001, {"lines": 100})


def test_the_newest_version_is_loaded_and_reloaded_when_a_newer_appears(tmp_path: Path) -> None:
    watch = CalibrationWatch(tmp_path / "calibration", check_every_s=30.0)
    assert watch.current(0.0) is None  # no folder yet: the fusion's own review_below
    write_calibration(tmp_path / "calibration", calibration("20261208T010000000000Z"))
    assert watch.current(10.0) is None  # not looked at again yet
    assert watch.current(30.0) == calibration("20261208T010000000000Z")
    write_calibration(tmp_path / "calibration", calibration("20261208T020000000000Z", 0.7))
    assert watch.current(59.0) == calibration("20261208T010000000000Z")
    loaded = watch.current(60.0)
    assert loaded is not None
    assert loaded.version == "20261208T020000000000Z"
    assert loaded.threshold == 0.7


def test_a_newer_file_that_cannot_be_trusted_is_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "calibration"
    write_calibration(folder, calibration("20261208T010000000000Z"))
    watch = CalibrationWatch(folder, check_every_s=1.0)
    assert watch.current(0.0) == calibration("20261208T010000000000Z")
    calibration_path(folder, "20261208T020000000000Z").write_text('{"format": "walkout.calibration/1"')
    with caplog.at_level(logging.WARNING):
        assert watch.current(5.0) == calibration("20261208T010000000000Z")
    assert "unreadable" in caplog.text
    assert "keeps calibration 20261208T010000000000Z" in caplog.text
    write_calibration(folder, calibration("20261208T030000000000Z"))
    newest = watch.current(10.0)
    assert newest is not None
    assert newest.version == "20261208T030000000000Z"
