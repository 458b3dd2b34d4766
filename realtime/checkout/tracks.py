"""Camera tracks as the checkout service remembers them: recent positions of each track id."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Sample = tuple[float, float, float, str | None]  # epoch s, x, y, zone id


@dataclass
class Track:
    """One tracker id: its samples in time order and the visit it belongs to (if known)."""

    track_id: str
    samples: list[Sample] = field(default_factory=list)
    visit_id: str | None = None
    entry_link: bool = False  # linked at the gate (a person of the group), not stitched after a break

    @property
    def first_t(self) -> float:
        return self.samples[0][0]

    @property
    def last_t(self) -> float:
        return self.samples[-1][0]

    @property
    def last_position(self) -> tuple[float, float]:
        return self.samples[-1][1], self.samples[-1][2]

    def add(self, sample: Sample) -> None:
        self.samples.append(sample)

    def mean_distance(self, point: tuple[float, float], start: float, end: float) -> float | None:
        """Mean distance to ``point`` between two instants (averaging tames the tracker's jitter),
        or None if the track was not seen then."""
        distances = []
        for at, x, y, _ in reversed(self.samples):
            if at < start:
                break
            if at <= end:
                distances.append(math.hypot(x - point[0], y - point[1]))
        return sum(distances) / len(distances) if distances else None

    def forget_before(self, at: float) -> None:
        keep = next(
            (index for index, sample in enumerate(self.samples) if sample[0] >= at), len(self.samples)
        )
        if keep:
            del self.samples[:keep]
