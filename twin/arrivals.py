"""When shoppers arrive: per store and local hour, with daily and weekly seasonality, trend and noise.

An office-district convenience store in Seoul: a morning-commute bump, the lunch peak, an evening
peak, quiet nights; weekdays busier than weekends. Counts are Poisson around that expectation, with
a day-level multiplicative noise so that some days are simply busier than others.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np

# Relative visit intensity per local hour (0..23); the mean over open hours is rescaled to 1.
HOURLY_PROFILE = np.array(
    [
        0.25,
        0.15,
        0.10,
        0.08,
        0.08,
        0.15,
        0.45,
        1.30,
        1.70,
        1.10,
        0.80,
        1.00,
        2.20,
        1.90,
        0.90,
        0.75,
        0.85,
        1.20,
        1.80,
        1.60,
        1.20,
        1.00,
        0.80,
        0.50,
    ]
)
# Monday..Sunday.
WEEKDAY_FACTOR = np.array([1.00, 1.02, 1.03, 1.05, 1.15, 0.85, 0.75])


def is_open(local_hour: int, open_hour: int, close_hour: int) -> bool:
    """Opening hours as [open, close) in local hours; open == close means 24 hours."""
    if open_hour == close_hour:
        return True
    if open_hour < close_hour:
        return open_hour <= local_hour < close_hour
    return local_hour >= open_hour or local_hour < close_hour


def hourly_expectation(
    day: date, visits_per_day: float, open_hour: int, close_hour: int, trend_per_year: float, epoch: date
) -> np.ndarray:
    """Expected visits for each local hour of ``day`` (zero when closed)."""
    open_mask = np.array([is_open(hour, open_hour, close_hour) for hour in range(24)])
    profile = np.where(open_mask, HOURLY_PROFILE, 0.0)
    profile = profile / profile.sum()
    years = (day - epoch).days / 365.25
    level = visits_per_day * WEEKDAY_FACTOR[day.weekday()] * (1.0 + trend_per_year) ** years
    expected: np.ndarray = profile * level
    return expected


def draw_arrivals(
    rng: np.random.Generator,
    day: date,
    timezone: str,
    visits_per_day: float,
    open_hour: int,
    close_hour: int,
    trend_per_year: float = 0.05,
    epoch: date = date(2026, 1, 1),
    day_noise_sigma: float = 0.10,
) -> list[datetime]:
    """Arrival instants (UTC, sorted) of one store's local calendar day."""
    expected = hourly_expectation(day, visits_per_day, open_hour, close_hour, trend_per_year, epoch)
    expected = expected * rng.lognormal(0.0, day_noise_sigma)
    counts = rng.poisson(expected)
    midnight = datetime.combine(day, time(0), tzinfo=ZoneInfo(timezone))
    arrivals: list[datetime] = []
    for hour, count in enumerate(counts):
        offsets = np.sort(rng.uniform(0.0, 3600.0, size=count))
        start = midnight + timedelta(hours=hour)
        arrivals.extend((start + timedelta(seconds=float(offset))).astimezone(UTC) for offset in offsets)
    return arrivals
