"""How fast a simulation sends its events (kept apart so the CLI can parse it without loading the twin)."""

from enum import StrEnum


class Speed(StrEnum):
    REALTIME = "realtime"  # events leave at the pace of the simulated clock
    MAX = "max"  # as fast as the machine allows
