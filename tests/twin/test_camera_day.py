"""The real pipeline as the twin's camera: spells of frames, shoppers followed from gate to gate, and
checkout on its tracks (receipts scored against the ground truth)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest

import twin.camera_day as camera_day
from realtime.checkout.replay import replay_checkout
from twin.camera_day import LEAD_S, TAIL_S, film_spell, occupied_spells
from twin.checkout_evaluate import score_receipts
from twin.render import CeilingRenderer, camera_config, ceiling_camera
from twin.run import SimulationPlan, simulate_store_days
from walkout.catalog import load_catalog
from walkout.contracts import CameraTrack, Purchase, parse_event
from walkout.vocabulary import CameraSource

T0 = datetime(2026, 11, 18, 9, 0, tzinfo=UTC).timestamp()
EVENING = (T0, T0 + 3600.0)  # 18:00-19:00 in Seoul


def walk(person_id: str, *waypoints: tuple[float, float, float]) -> pl.DataFrame:
    """A person's walk as a paths table: (seconds after T0, x, y) waypoints."""
    return pl.DataFrame(
        {
            "person_id": person_id,
            "visit_id": person_id,
            "at": [datetime.fromtimestamp(T0 + t, UTC) for t, _, _ in waypoints],
            "x_m": [x for _, x, _ in waypoints],
            "y_m": [y for _, _, y in waypoints],
        },
        schema_overrides={"at": pl.Datetime("ms", "UTC")},
    )


def test_spells_cover_everyone_open_on_an_empty_store_and_merge_when_close() -> None:
    paths = pl.concat(
        [
            walk("a", (10.2, 1.0, 1.0), (40.0, 1.0, 1.0)),
            walk("b", (42.0, 1.0, 1.0), (60.0, 1.0, 1.0)),  # comes in 2 s after a left: one spell
            walk("c", (200.0, 1.0, 1.0), (230.0, 1.0, 1.0)),
        ]
    )
    (first_start, first_end), (second_start, second_end) = occupied_spells(paths)
    assert first_start == int(T0 + 10.2 - LEAD_S)  # on a whole second, before anyone came in
    assert first_end == pytest.approx(T0 + 60.0 + TAIL_S)
    assert second_start == pytest.approx(T0 + 200.0 - LEAD_S, abs=1.0)
    assert second_end == pytest.approx(T0 + 230.0 + TAIL_S)


def test_a_shopper_is_followed_from_the_gate_they_came_in_by_to_the_gate_they_left_by() -> None:
    store = load_catalog().store("S002")
    gate = store.gates[0]
    shelf = (4.0, 4.0)
    paths = walk(
        "S002-20261118-0001-p0",
        (5.0, gate.x_m, gate.y_m + 0.3),  # through the gate, into the store
        (9.0, *shelf),
        (19.0, *shelf),  # ten seconds at a shelf
        (23.0, gate.x_m, gate.y_m + 0.3),
        (23.5, gate.x_m, gate.y_m - 0.3),  # out through the gate
    )
    camera = ceiling_camera(store)
    config = camera_config(camera)

    def film() -> list[CameraTrack]:
        start, end = occupied_spells(paths)[0]
        return film_spell(CeilingRenderer(camera, paths), config, start, end - start, 4.0)

    tracks = film()
    assert {track.track_id for track in tracks} == {tracks[0].track_id}  # one shopper, one id
    first, last = tracks[0], tracks[-1]
    assert first.ts.timestamp() - (T0 + 5.0) <= 0.5  # reported from where they came in
    assert abs(first.x_m - gate.x_m) < 0.3
    assert abs(first.y_m - (gate.y_m + 0.3)) < 0.3
    assert abs(last.ts.timestamp() - (T0 + 23.5)) <= 0.6
    assert abs(last.x_m - gate.x_m) < 0.3
    assert last.y_m < gate.y_m + 0.3
    standing = [t for t in tracks if T0 + 10.0 <= t.ts.timestamp() <= T0 + 18.0]
    assert all(abs(t.x_m - shelf[0]) < 0.1 and abs(t.y_m - shelf[1]) < 0.1 for t in standing)
    colours = np.array([t.colour_lab for t in tracks if t.colour_lab is not None])
    assert len(colours) >= 0.8 * len(tracks)  # how they looked, to tell them from others after a swap
    assert colours.std(axis=0).max() < 5.0  # ... the same look all along
    assert all(parse_event(track.to_bytes(), CameraTrack.TOPIC) == track for track in tracks)
    assert film() == tracks  # the same day films the same events, ids included


@pytest.mark.slow
def test_checkout_on_the_pipelines_tracks_charges_an_evening_hour_right(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """S002's evening rush hour (18:00-19:00 local) through the simulator's pipeline branch, then the
    checkout fusion offline, receipts scored against the ground truth. Measured: 23 visits, 23 exact
    receipts (the stand-in tracks of the same hour: 22); the floor leaves room for fusion changes."""
    filmed: list[tuple[float, float]] = []
    every_spell = camera_day.occupied_spells

    def spells_of_the_hour(paths: pl.DataFrame) -> list[tuple[float, float]]:
        filmed.extend(s for s in every_spell(paths) if EVENING[0] <= s[0] < EVENING[1])
        return filmed

    monkeypatch.setattr(camera_day, "occupied_spells", spells_of_the_hour)  # a whole day takes minutes
    catalog = load_catalog()
    plan = replace(SimulationPlan(("S002",), date(2026, 11, 18), 1, seed=7), cameras=CameraSource.PIPELINE)
    day = next(simulate_store_days(catalog, plan))
    tracks = [event for _, event in day.events if isinstance(event, CameraTrack)]
    assert tracks
    assert all(filmed[0][0] <= t.ts.timestamp() <= filmed[-1][1] for t in tracks)
    assert len({t.event_id for t in tracks}) == len({(t.track_id, t.ts) for t in tracks})

    edge = [event for _, event in day.events if filmed[0][0] <= event.ts.timestamp() <= filmed[-1][1]]
    receipts = [e for e in replay_checkout(catalog, "S002", edge) if isinstance(e, Purchase)]
    entered = day.truth.visits["entered_at"].dt.epoch("ms") / 1000
    visits = day.truth.visits.filter(
        pl.any_horizontal(entered.is_between(start, end) for start, end in filmed)
    )
    score = score_receipts(receipts, visits, day.truth.receipts)
    print(score)
    assert visits.height >= 20
    assert score.exact_receipt_rate >= 0.85
    assert score.line_precision >= 0.9
    assert score.line_recall >= 0.9
