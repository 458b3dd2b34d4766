"""Versioned artifacts (the forecasts, the served model): each version one whole file, the newest kept.

A version's name sorts by time and may name the run that made it. Its file is written under a
temporary name and renamed (:func:`walkout.files.write_atomically`), so a reader sees a whole old
file or a whole new one; then all but the newest few versions go (a reader still holding an older
one keeps reading it: an open file outlives its name). How readers find the newest is each
artifact's own: the forecasts keep hard links under ``latest/``, the model a ``CURRENT`` file.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from walkout.files import write_atomically


def new_version(run_id: str = "") -> str:
    """A version name that sorts by time, naming the run if given: ``20261118T070512123456Z-1a2b3c4d``."""
    stamp = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}"
    return f"{stamp}-{run_id[:8]}" if run_id else stamp


def write_version(
    folder: Path, version: str, suffix: str, write: Callable[[Path], object], keep: int, prefix: str = ""
) -> Path:
    """Write ``<folder>/<prefix><version><suffix>`` whole with ``write``, then delete all but the newest
    ``keep`` versions of that pattern in the folder; returns the new file."""
    target = folder / f"{prefix}{version}{suffix}"
    write_atomically(target, write)
    for old in sorted(folder.glob(f"{prefix}*{suffix}"))[:-keep]:
        old.unlink(missing_ok=True)
    return target
