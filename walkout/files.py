"""Files that readers may open at any moment: each is there whole or not at all, and on disk (fsynced)
before the writer goes on, so a crash never leaves half a lake file, model or published warehouse."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def fsync(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_durably(partial: Path, target: Path) -> None:
    """Swap a finished ``partial`` file in as ``target`` with one rename, both on disk afterwards."""
    fsync(partial)
    partial.replace(target)
    fsync(target.parent)


def write_atomically(target: Path, write: Callable[[Path], object]) -> None:
    """Have ``write`` fill a temporary file beside ``target`` (``.<name>.<pid>.tmp``), then swap it in."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    partial.unlink(missing_ok=True)
    write(partial)
    replace_durably(partial, target)
