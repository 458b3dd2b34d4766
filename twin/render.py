"""Synthetic ceiling-camera video of the twin's shoppers, with the truth behind every frame.

A :class:`CeilingCamera` looks down on a store's whole floor with a little perspective (the back
wall appears narrower), so its floor-to-image map is a real homography. Each frame draws the floor
(tiles, gondolas, the gate lanes), every person inside the store at that instant as seen from
above (a soft shadow, shoulders oriented across their walking direction in two tones: the shirt,
with the lower body showing around it, and a head), two ceiling light fixtures that hide whoever
walks under them, a slow flicker of the lights and sensor noise.
Positions come from a ``paths`` table, interpolated: the ground truth's (1 Hz) or everyone's exact
walk (:func:`walks`), so the same truth scores the camera pipeline: :class:`RenderedFrame` carries
the true floor position of everyone drawn.

Nothing here is a real person: these frames may be written to disk (:func:`write_clip`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import polars as pl

from ingestion.camera.config import CameraConfig, ForegroundDetectorConfig, ReferencePoint, dump_camera_config
from ingestion.camera.video import Frame
from twin.looks import HEAD_RADIUS_M, SHIRT_SHARE, SHOULDER_HALF_M, look_of
from twin.trips import PlannedVisit
from walkout.catalog import Store

MARGIN_PX = 16
KEYSTONE = 0.06  # the back wall is drawn this share of the width narrower than the front
FLOOR_BGR = (196, 204, 208)
GROUT_BGR = (176, 184, 188)
TILE_M = 0.6
GONDOLA_BGR = {
    "shelf": (112, 122, 134),
    "fridge": (168, 140, 104),
    "freezer": (190, 170, 150),
    "cabinet": (70, 80, 96),
}
FIXTURE_BGR = (236, 240, 242)
FIXTURE_M = (1.2, 0.2)  # across and along the store
FIXTURE_CLEAR_M = 0.6  # a fixture hangs at least this far from where shoppers stand to pick
NOISE_SD = 2.5
FLICKER = 0.02
NOISE_BANK = 6
CIRCLE = np.column_stack(
    [
        np.cos(np.linspace(0, 2 * np.pi, 20, endpoint=False)),
        np.sin(np.linspace(0, 2 * np.pi, 20, endpoint=False)),
    ]
)


@dataclass(frozen=True)
class CeilingCamera:
    """A camera over a store's whole floor: its id, frame size and floor (metres) → image (pixels) map."""

    store: Store
    camera_id: str
    size: tuple[int, int]
    floor_to_image: npt.NDArray[np.float64]

    def to_image(self, floor: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        moved = cv2.perspectiveTransform(floor.reshape(-1, 1, 2).astype(np.float64), self.floor_to_image)
        return np.asarray(moved, dtype=np.float64).reshape(-1, 2)


@dataclass(frozen=True)
class RenderedFrame:
    """One synthetic frame and the truth behind it: (person id, x, y in floor metres) of everyone drawn."""

    at: float
    image: Frame
    people: tuple[tuple[str, float, float], ...]


def ceiling_camera(store: Store, size: tuple[int, int] = (640, 480)) -> CeilingCamera:
    """The store's ceiling camera: the floor fills the frame, entrance at the bottom, back wall on top."""
    width, height = size
    scale = min((width - 2 * MARGIN_PX) / store.width_m, (height - 2 * MARGIN_PX) / store.depth_m)
    left = (width - store.width_m * scale) / 2
    right = left + store.width_m * scale
    bottom = (height + store.depth_m * scale) / 2
    top = bottom - store.depth_m * scale
    inset = KEYSTONE * store.width_m * scale / 2
    floor = np.array(
        [[0, 0], [store.width_m, 0], [store.width_m, store.depth_m], [0, store.depth_m]], np.float32
    )
    image = np.array([[left, bottom], [right, bottom], [right - inset, top], [left + inset, top]], np.float32)
    homography = cv2.getPerspectiveTransform(floor, image).astype(np.float64)
    return CeilingCamera(store, f"{store.store_id}-CAM1", size, homography)


def camera_config(camera: CeilingCamera, seed: int = 0) -> CameraConfig:
    """The camera's config as an installer would write it: reference points clicked on the floor corners
    and the gondolas' front corners (off by a fraction of a pixel), zones from the catalog."""
    store = camera.store
    spots = [(0.0, 0.0), (store.width_m, 0.0), (store.width_m, store.depth_m), (0.0, store.depth_m)]
    for gondola in store.gondolas[:6]:
        spots += [(gondola.x0, gondola.y0), (gondola.x1, gondola.y1)]
    floor = np.array(spots)
    clicked = camera.to_image(floor) + np.random.default_rng(seed).normal(0.0, 0.3, size=floor.shape)
    points = tuple(
        ReferencePoint(image=(round(u, 1), round(v, 1)), floor=(round(x, 3), round(y, 3)))
        for (u, v), (x, y) in zip(clicked.tolist(), floor.tolist(), strict=True)
    )
    return CameraConfig(
        camera_id=camera.camera_id,
        store_id=store.store_id,
        reference_points=points,
        detector=ForegroundDetectorConfig(),  # rendered frames show blobs from above, not real people
    )


def busy_spell(paths: pl.DataFrame, max_seconds: float) -> tuple[float, float]:
    """The spell of the day with the most shoppers, no longer than ``max_seconds``: from an empty
    store to the next empty store (epoch s, start and end), so every visit in it is whole."""
    per_second = (
        paths.select(pl.col("at").dt.epoch("s").alias("second"))
        .group_by("second")
        .len()
        .sort("second")
        .upsample("second", every="1i")
        .fill_null(0)
    )
    seconds = per_second["second"].to_numpy()
    counts = per_second["len"].to_numpy()
    edges = np.flatnonzero(np.diff(np.r_[0, counts > 0, 0]))
    spells = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True) if b - a <= max_seconds]
    if not spells:
        raise ValueError(f"no spell between two empty moments is shorter than {max_seconds} s")
    arrivals = paths.group_by("person_id").agg(pl.col("at").min().dt.epoch("s"))["at"].to_numpy()
    first, last = max(
        spells,
        key=lambda spell: int(((arrivals >= seconds[spell[0]]) & (arrivals < seconds[spell[1] - 1])).sum()),
    )
    return float(seconds[first] - 2), float(seconds[last - 1] + 2)


def rush_hour(
    paths: pl.DataFrame, visits: int, seconds: float, seed: int = 0, min_gap_m: float = 0.5
) -> tuple[pl.DataFrame, float]:
    """A busy clip made of the day's visits: ``visits`` of them moved in time to enter within the
    opening of a ``seconds`` long window, their paths unchanged, never putting two shoppers of
    different visits closer than ``min_gap_m`` (people keep their distance). Returns the moved paths
    and the window's start (epoch s); the window opens on an empty store."""
    rng = np.random.default_rng(seed)
    timed = paths.with_columns(pl.col("at").dt.epoch("s").alias("second"))
    start = int(timed["second"].min())  # type: ignore[arg-type]
    occupied: dict[int, list[tuple[float, float]]] = {}
    shifts: dict[str, int] = {}
    for visit_id in rng.permutation(timed["visit_id"].unique().sort().to_numpy()):
        rows = timed.filter(pl.col("visit_id") == visit_id)
        first = int(rows["second"].to_numpy().min())
        offsets = rows["second"].to_numpy() - first
        xy = rows.select("x_m", "y_m").to_numpy()
        for _ in range(20):
            entry = start + 3 + int(rng.integers(0, max(1, int(seconds * 0.6))))
            if not _crowds(occupied, offsets + entry, xy, min_gap_m):
                shifts[str(visit_id)] = entry - first
                for second, (x, y) in zip((offsets + entry).tolist(), xy.tolist(), strict=True):
                    occupied.setdefault(second, []).append((x, y))
                break
        if len(shifts) == visits:
            break
    moved = timed.join(
        pl.DataFrame({"visit_id": list(shifts), "shift": list(shifts.values())}), on="visit_id"
    )
    moved = moved.with_columns(pl.col("at") + pl.duration(seconds=pl.col("shift"))).drop("second", "shift")
    return moved, float(start)


def _crowds(
    occupied: dict[int, list[tuple[float, float]]],
    seconds: npt.NDArray[np.int64],
    xy: npt.NDArray[np.float64],
    gap: float,
) -> bool:
    """Whether a walk would come closer than ``gap`` to anyone already placed, at the same second."""
    for second, here in zip(seconds.tolist(), xy, strict=True):
        others = occupied.get(second)
        if others and float(np.min(np.hypot(*(np.asarray(others) - here).T))) < gap:
            return True
    return False


class _Walker:
    """One person's true path (interpolated between 1 Hz samples) and look from above."""

    def __init__(self, person_id: str, times: npt.NDArray[np.float64], xy: npt.NDArray[np.float64]) -> None:
        self.person_id = person_id
        self.times = times
        self.xy = xy
        self.look = look_of(person_id)

    def present(self, at: float) -> bool:
        return bool(self.times[0] <= at <= self.times[-1])

    def where(self, at: float) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Position and unit heading (the way they walk; last heading when standing)."""
        here = self._at(at)
        ahead = self._at(min(at + 0.5, self.times[-1])) - self._at(max(at - 0.5, self.times[0]))
        norm = float(np.hypot(*ahead))
        return here, (ahead / norm if norm > 0.05 else np.array([0.0, 1.0]))

    def _at(self, at: float) -> npt.NDArray[np.float64]:
        return np.array([np.interp(at, self.times, self.xy[:, 0]), np.interp(at, self.times, self.xy[:, 1])])


class CeilingRenderer:
    """Draws the people of ``paths`` as one ceiling camera sees them, stretch by stretch.

    The empty view, the light fixtures and a bank of sensor noise are made once, so many short
    stretches of one day (e.g. only while someone is in the store) cost no more than one long one.
    """

    def __init__(self, camera: CeilingCamera, paths: pl.DataFrame, seed: int = 0) -> None:
        self.camera = camera
        self.rng = np.random.default_rng(seed)
        self.walkers = _walkers(paths)
        self.background = _background(camera)
        self.fixtures = _fixtures(camera)
        self.noise = [
            self.rng.normal(0.0, NOISE_SD, self.background.shape).astype(np.int16) for _ in range(NOISE_BANK)
        ]

    def frames(self, start: float, seconds: float, fps: float) -> Iterator[RenderedFrame]:
        """Frames from ``start`` (epoch s) for ``seconds`` at ``fps``, with their truth, one at a time."""
        end = start + seconds
        walkers = [w for w in self.walkers if w.times[0] <= end and w.times[-1] >= start]
        for index in range(round(seconds * fps)):
            at = start + index / fps
            image = self.background.copy()
            people = []
            for walker in walkers:
                if walker.present(at):
                    here, heading = walker.where(at)
                    _draw_person(self.camera, image, walker, here, heading)
                    people.append((walker.person_id, float(here[0]), float(here[1])))
            for fixture in self.fixtures:
                cv2.fillConvexPoly(image, fixture, FIXTURE_BGR, lineType=cv2.LINE_AA)
            lit = cv2.convertScaleAbs(image, alpha=1.0 + FLICKER * np.sin(2 * np.pi * at / 7.0))
            noise = self.noise[int(self.rng.integers(NOISE_BANK))]
            noisy = cv2.add(lit, noise, dtype=cv2.CV_8U)
            yield RenderedFrame(at, np.asarray(noisy, dtype=np.uint8), tuple(people))


def render_frames(
    camera: CeilingCamera, paths: pl.DataFrame, start: float, seconds: float, fps: float, seed: int = 0
) -> Iterator[RenderedFrame]:
    """Frames from ``start`` (epoch s) for ``seconds`` at ``fps``, with their truth, one at a time."""
    return CeilingRenderer(camera, paths, seed).frames(start, seconds, fps)


def walks(visits: Iterable[PlannedVisit]) -> pl.DataFrame:
    """Everyone's exact walk, as a ``paths`` table: their waypoints (between them people walk straight),
    so frames show people from the instant they pass the gate to the instant they leave."""
    rows = [
        (trip.person.person_id, visit.visit_id, round(at * 1000), x, y)
        for visit in visits
        for trip in visit.trips
        for at, x, y in trip.waypoints
    ]
    table = pl.DataFrame(
        rows,
        schema=["person_id", "visit_id", "ms", "x_m", "y_m"],
        orient="row",
        schema_overrides={"ms": pl.Int64},
    )
    return table.with_columns(
        pl.from_epoch("ms", time_unit="ms").dt.replace_time_zone("UTC").alias("at")
    ).select("person_id", "visit_id", "at", "x_m", "y_m")


def _walkers(paths: pl.DataFrame) -> list[_Walker]:
    timed = paths.with_columns(pl.col("at").dt.epoch("ms").alias("t")).sort("person_id", "t")
    walkers = []
    for (person_id,), rows in timed.group_by("person_id", maintain_order=True):
        times = rows["t"].to_numpy() / 1000.0
        walkers.append(_Walker(str(person_id), times, rows.select("x_m", "y_m").to_numpy()))
    return walkers


def _background(camera: CeilingCamera) -> Frame:
    width, height = camera.size
    store = camera.store
    image = np.full((height, width, 3), 64, dtype=np.uint8)
    _fill_floor_rect(camera, image, (0.0, 0.0, store.width_m, store.depth_m), FLOOR_BGR)
    for x in np.arange(TILE_M, store.width_m, TILE_M):
        _line(camera, image, (x, 0.0), (x, store.depth_m), GROUT_BGR)
    for y in np.arange(TILE_M, store.depth_m, TILE_M):
        _line(camera, image, (0.0, y), (store.width_m, y), GROUT_BGR)
    for gondola in store.gondolas:
        _fill_floor_rect(
            camera, image, (gondola.x0, gondola.y0, gondola.x1, gondola.y1), GONDOLA_BGR[gondola.kind]
        )
    for gate in store.gates:
        half = gate.width_m / 2
        _line(camera, image, (gate.x_m - half, gate.y_m), (gate.x_m + half, gate.y_m), (40, 190, 230))
    return image


def _fixtures(camera: CeilingCamera) -> list[npt.NDArray[np.int32]]:
    """Two ceiling light fixtures over the aisles, drawn on top of everyone: they hide whoever walks
    under them, but nobody standing at a shelf (a ceiling camera is mounted to see every reach point)."""
    return [_polygon(camera, _fixture_over_aisle(camera.store, share)) for share in (0.3, 0.7)]


def _fixture_over_aisle(store: Store, share: float) -> tuple[float, float, float, float]:
    """A fixture ``share`` of the way across the store, at 0.3 of its depth or as near as it is clear of
    the gondolas and of every reach point."""
    x = store.width_m * share
    half_x, depth = FIXTURE_M[0] / 2, FIXTURE_M[1]
    shifts = sorted(np.arange(-0.25, 0.6, 0.05) * store.depth_m, key=abs)
    spots = [
        (x - half_x, y, x + half_x, y + depth) for y in (store.depth_m * 0.3 + np.array(shifts)).tolist()
    ]
    return next((spot for spot in spots if _clear(store, spot)), spots[0])


def _clear(store: Store, rect: tuple[float, float, float, float]) -> bool:
    """Whether a fixture there hangs over the floor, off every gondola and clear of every reach point."""
    x0, y0, x1, y1 = rect
    reach = np.array([plate.reach_point for plate in store.plates]).reshape(-1, 2)
    away = np.hypot(
        np.maximum(np.maximum(x0 - reach[:, 0], reach[:, 0] - x1), 0.0),
        np.maximum(np.maximum(y0 - reach[:, 1], reach[:, 1] - y1), 0.0),
    )
    on_floor = y0 >= 0.0 and y1 <= store.depth_m
    over_gondola = any(g.x0 < x1 and x0 < g.x1 and g.y0 < y1 and y0 < g.y1 for g in store.gondolas)
    return on_floor and not over_gondola and bool(np.all(away >= FIXTURE_CLEAR_M))


def _polygon(camera: CeilingCamera, rect: tuple[float, float, float, float]) -> npt.NDArray[np.int32]:
    x0, y0, x1, y1 = rect
    corners = camera.to_image(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]]))
    return np.round(corners).astype(np.int32)


def _fill_floor_rect(
    camera: CeilingCamera, image: Frame, rect: tuple[float, float, float, float], bgr: tuple[int, int, int]
) -> None:
    cv2.fillConvexPoly(image, _polygon(camera, rect), bgr, lineType=cv2.LINE_AA)


def _line(
    camera: CeilingCamera,
    image: Frame,
    a: tuple[float, float],
    b: tuple[float, float],
    bgr: tuple[int, int, int],
) -> None:
    (u0, v0), (u1, v1) = camera.to_image(np.array([a, b])).round().astype(int).tolist()
    cv2.line(image, (u0, v0), (u1, v1), bgr, 1, cv2.LINE_AA)


def _draw_person(
    camera: CeilingCamera,
    image: Frame,
    walker: _Walker,
    here: npt.NDArray[np.float64],
    heading: npt.NDArray[np.float64],
) -> None:
    across = np.array([heading[1], -heading[0]])
    half_across, half_along = (size * walker.look.build for size in SHOULDER_HALF_M)
    shoulders = here + CIRCLE[:, :1] * across * half_across + CIRCLE[:, 1:] * heading * half_along
    shadow = here + np.array([0.07, -0.05]) + CIRCLE * np.array([half_across, half_along]) * 1.1
    shirt = here + (shoulders - here) * SHIRT_SHARE
    head = here + heading * 0.03 + CIRCLE * HEAD_RADIUS_M * walker.look.build
    shade = tuple(int(c * 0.8) for c in FLOOR_BGR)
    look = walker.look
    parts = ((shadow, shade), (shoulders, look.trousers), (shirt, look.shirt), (head, look.hair))
    for outline, colour in parts:
        polygon = np.round(camera.to_image(outline)).astype(np.int32)
        cv2.fillConvexPoly(image, polygon, colour, lineType=cv2.LINE_AA)


def write_clip(
    camera: CeilingCamera,
    paths: pl.DataFrame,
    start: float,
    seconds: float,
    fps: float,
    directory: Path,
    seed: int = 0,
) -> tuple[Path, Path, pl.DataFrame]:
    """Write the clip (MJPG AVI), its camera config (YAML) and its truth (Parquet) into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    video = directory / f"{camera.camera_id}.avi"
    config = directory / f"{camera.camera_id}.yaml"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter.fourcc(*"MJPG"), fps, camera.size)
    truth: list[tuple[int, float, str, float, float]] = []
    try:
        for index, frame in enumerate(render_frames(camera, paths, start, seconds, fps, seed)):
            writer.write(frame.image)
            truth += [(index, frame.at, person, x, y) for person, x, y in frame.people]
    finally:
        writer.release()
    dump_camera_config(camera_config(camera, seed), config)
    table = pl.DataFrame(truth, schema=["frame", "at", "person_id", "x_m", "y_m"], orient="row")
    table.write_parquet(directory / f"{camera.camera_id}-truth.parquet")
    return video, config, table
