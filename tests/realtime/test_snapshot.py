"""The checkout's state snapshot: a store-day restored midway decides every output as if never
interrupted; a crafted, damaged or foreign file never runs anything and is refused in one line."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import os
import pickle
import random
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import msgpack
import pytest

from realtime.checkout.errors import CheckoutError
from realtime.checkout.fusion import StoreCheckout
from realtime.checkout.ordering import HELD_APART
from realtime.checkout.replay import EXPIRE_EVERY_S, replay_checkout
from realtime.checkout.service import CheckoutState, load_state, save_state
from realtime.checkout.snapshot import (
    FORMAT,
    MAX_SNAPSHOT_BYTES,
    SCHEMA_VERSION,
    read_snapshot,
    write_snapshot,
)
from twin.run import StoreDay
from walkout.catalog import Catalog, load_catalog
from walkout.contracts import Event, ShelfEvent
from walkout.settings import Settings

HELD = 400  # events waiting in the ordering buffer at each save


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def day_events(simulated_day: list[StoreDay]) -> list[Event]:
    """The day's edge events, each once, in event-time order: as :func:`replay_checkout` feeds them."""
    unique = {event.event_id: event for _, event in simulated_day[0].events}.values()
    return sorted(unique, key=lambda event: (event.ts, event.event_id))


@dataclass
class Restarts:
    """The store-day fed as :func:`replay_checkout` feeds it, through a service's state that is saved
    and loaded back (with the next events held in its ordering buffer) on the way."""

    catalog: Catalog
    store_id: str
    path: Path
    state: CheckoutState = field(default_factory=CheckoutState)
    outputs: list[Event] = field(default_factory=list)
    expired_at: float = 0.0
    open_visits_saved: list[int] = field(default_factory=list)

    def feed(self, events: list[Event]) -> None:
        fusion = self.state.fusion(self.catalog, self.store_id)
        for event in events:
            self.outputs += fusion.apply(event)
            if event.ts.timestamp() - self.expired_at > EXPIRE_EVERY_S:
                self.expired_at = event.ts.timestamp()
                self.outputs += fusion.expire(self.expired_at)

    def restart(self, held: list[Event]) -> list[Event]:
        """Save with ``held`` waiting in the buffer, load as a restarted service does; what it releases."""
        for event in held:
            assert self.state.repeat_of(event.TOPIC, event, event.to_bytes()) is None
            # a store's first events are held apart until two devices agree: parked ones are kept too
            assert self.state.buffer.add(event, event.TOPIC, 0.0, event.ts.timestamp()) in (None, HELD_APART)
            self.state.remember(event.TOPIC, event, event.to_bytes())
        self.state.positions[("camera.tracks", 0)] = len(self.outputs)  # a consumer position, as keyed
        self.open_visits_saved.append(len(self.state.stores[self.store_id].visits))
        save_state(self.state, self.path)
        before = self.state
        self.state = load_state(self.path, self.catalog)
        assert (self.state.seen, self.state.positions) == (before.seen, before.positions)
        assert self.state.buffer.streams == before.buffer.streams
        return self.state.buffer.release_all()


def replay_with_restarts(catalog: Catalog, events: list[Event], path: Path, restarts: int) -> Restarts:
    run = Restarts(catalog, events[0].store_id, path)
    start = 0
    for number in range(1, restarts + 1):
        end = number * len(events) // (restarts + 1)
        run.feed(events[start:end])
        held = events[end : end + HELD]
        released = run.restart(held)
        assert [event.to_bytes() for event in released] == [event.to_bytes() for event in held]
        run.feed(released)
        start = end + HELD
    run.feed(events[start:])
    run.outputs += run.state.stores[run.store_id].close_all()
    return run


@pytest.fixture(scope="module")
def snapshot_bytes(
    catalog: Catalog, day_events: list[Event], tmp_path_factory: pytest.TempPathFactory
) -> bytes:
    """A real snapshot: the day's state at midday, with events held in the ordering buffer."""
    path = tmp_path_factory.mktemp("midday") / "checkout-0.snapshot"
    run = Restarts(catalog, day_events[0].store_id, path)
    middle = len(day_events) // 2
    run.feed(day_events[:middle])
    run.restart(day_events[middle : middle + HELD])
    return path.read_bytes()


def seal(body: bytes, schema_version: int = SCHEMA_VERSION, format_name: str = FORMAT) -> bytes:
    """A snapshot file around a body, as anyone who read the format could write one (with its digest)."""
    sealed = msgpack.packb({"origin": {}, "body": body})
    return msgpack.packb(
        {
            "format": format_name,
            "schema_version": schema_version,
            "sha256": hashlib.sha256(sealed).hexdigest(),
            "sealed": sealed,
        }
    )


def body_of(snapshot: bytes) -> bytes:
    return msgpack.unpackb(msgpack.unpackb(snapshot)["sealed"])["body"]


def refusal(path: Path, catalog: Catalog) -> str:
    """The error that loading the state at ``path`` gives, checked to be one line naming the file."""
    with pytest.raises(CheckoutError) as refused:
        load_state(path, catalog)
    assert_one_line(refused.value, path)
    return str(refused.value)


def assert_one_line(error: CheckoutError, path: Path) -> None:
    message = str(error)
    assert "\n" not in message
    assert str(path) in message
    assert "move it away" in message


class Intrusion:
    """What a crafted pickle does when loaded: here, make a directory (it could run any command)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Callable[[str], None], tuple[str]]:
        return os.mkdir, (str(self.marker),)


@pytest.mark.slow
def test_a_store_day_restored_midway_decides_every_output_as_if_never_interrupted(
    catalog: Catalog, day_events: list[Event], tmp_path: Path
) -> None:
    uninterrupted = replay_checkout(catalog, day_events[0].store_id, day_events)
    run = replay_with_restarts(catalog, day_events, tmp_path / "checkout-0.snapshot", restarts=4)
    assert min(run.open_visits_saved) >= 1  # each save caught shoppers mid-visit
    assert [event.to_bytes() for event in run.outputs] == [event.to_bytes() for event in uninterrupted]


def test_the_origin_travels_with_the_snapshot(catalog: Catalog, tmp_path: Path) -> None:
    origin = {"cluster": "k-1", "topics": "gate.scans,shelf.events,camera.tracks"}
    write_snapshot(tmp_path / "checkout-0.snapshot", CheckoutState(), origin)
    assert read_snapshot(tmp_path / "checkout-0.snapshot", CheckoutState, catalog).origin == origin


def test_a_crafted_pickle_never_runs_and_stops_the_service_in_one_line(tmp_path: Path) -> None:
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(Intrusion(proof)))
    assert proof.is_dir()  # the payload is a real attack on whatever unpickles it
    marker = tmp_path / "intruded"
    path = Settings(data_dir=tmp_path).paths.checkout_snapshot_file("checkout-0")
    path.parent.mkdir(parents=True)
    path.write_bytes(pickle.dumps(Intrusion(marker)))
    service = subprocess.run(
        [sys.executable, "-m", "walkout", "checkout", "run", "--idle-exit", "1"],
        env={**os.environ, "WALKOUT_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert service.returncode == 1
    (line,) = service.stderr.splitlines()
    assert line.startswith(f"walkout: error: checkout state {path} is unusable: not a {FORMAT} snapshot")
    assert not marker.exists()


def test_an_old_pickled_state_is_never_loaded_and_noticed_in_one_line(
    catalog: Catalog, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "intruded"
    path = Settings(data_dir=tmp_path).paths.checkout_snapshot_file("checkout-0")
    path.parent.mkdir(parents=True)
    pickled = path.with_suffix(".pickle")
    pickled.write_bytes(pickle.dumps(Intrusion(marker)))
    with caplog.at_level(logging.WARNING):
        assert load_state(path, catalog) == CheckoutState()
    assert not marker.exists()
    (notice,) = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert str(pickled) in notice
    assert "\n" not in notice


@pytest.mark.slow
def test_a_file_naming_code_to_run_is_refused_whatever_its_extension_codes(
    catalog: Catalog, tmp_path: Path
) -> None:
    """With a valid digest (anyone can compute one), every msgpack extension code, carrying names of
    code with arguments or a pickle, is refused: the loader never looks anything up by name."""
    marker = tmp_path / "intruded"
    payloads = [
        msgpack.packb(["os.system", [f"mkdir {marker}"]]),
        msgpack.packb(["posix.mkdir", {"path": str(marker)}]),
        msgpack.packb(["StoreCheckout", {"__reduce__": [str(marker)]}]),
        pickle.dumps(Intrusion(marker)),
    ]
    path = tmp_path / "checkout-0.snapshot"
    for code in range(-128, 128):  # written by hand: msgpack's own ExtType refuses the reserved codes
        for payload in payloads:
            extension = b"\xc9" + len(payload).to_bytes(4, "big") + code.to_bytes(1, "big", signed=True)
            path.write_bytes(seal(extension + payload))
            refusal(path, catalog)
    assert not marker.exists()


def test_a_class_outside_the_state_is_refused(
    catalog: Catalog, snapshot_bytes: bytes, tmp_path: Path
) -> None:
    body = body_of(snapshot_bytes)
    assert b"\xa5Track" in body
    path = tmp_path / "checkout-0.snapshot"
    path.write_bytes(seal(body.replace(b"\xa5Track", b"\xa5Popen")))
    assert "holds a 'Popen', which is not checkout state" in refusal(path, catalog)


def test_state_of_the_wrong_shape_is_refused_naming_what(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "checkout-0.snapshot"
    save_state(CheckoutState(seen={"S002": {("gate.scans", "e1"): ("yesterday", 7)}}), path)
    assert "CheckoutState.seen.S002.('gate.scans', 'e1').0: Input should be a valid number" in refusal(
        path, catalog
    )
    fusion = StoreCheckout(catalog.store("S002"), catalog)
    fusion.tracks = []
    save_state(CheckoutState(stores={"S002": fusion}), path)
    assert "fusion.tracks: a list, not a dict" in refusal(path, catalog)
    fusion = StoreCheckout(dataclasses.replace(catalog.store("S002"), store_id="S999"), catalog)
    save_state(CheckoutState(stores={"S999": fusion}), path)
    assert "S999" in refusal(path, catalog)  # a store the catalog does not know


def test_a_held_event_is_checked_by_its_contract_again(
    catalog: Catalog, day_events: list[Event], tmp_path: Path
) -> None:
    pick = next(event for event in day_events if isinstance(event, ShelfEvent))
    forged = ShelfEvent.model_construct(**{**dict(pick), "quantity": 1000})  # no validation on the way in
    state = CheckoutState()
    state.buffer.add(forged, forged.TOPIC, 0.0, forged.ts.timestamp())
    path = tmp_path / "checkout-0.snapshot"
    save_state(state, path)
    assert "quantity" in refusal(path, catalog)


def test_another_schema_version_or_format_is_refused_in_one_line(
    catalog: Catalog, snapshot_bytes: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "checkout-0.snapshot"
    path.write_bytes(seal(body_of(snapshot_bytes), schema_version=SCHEMA_VERSION + 1))
    refused = refusal(path, catalog)
    assert f"schema {SCHEMA_VERSION + 1}; this walkout reads schema {SCHEMA_VERSION}" in refused
    path.write_bytes(seal(body_of(snapshot_bytes), format_name="walkout.lander-state"))
    assert "not a walkout.checkout-state snapshot" in refusal(path, catalog)


def corruptions(snapshot: bytes, rng: random.Random) -> list[bytes]:
    """300 damaged copies: bit flips, truncations, random bytes, huge lengths, deep nesting."""
    damaged: list[bytes] = []
    for _ in range(80):
        flipped = bytearray(snapshot)
        for _ in range(rng.randint(1, 8)):
            flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        damaged.append(bytes(flipped))
    damaged += [snapshot[: rng.randrange(len(snapshot))] for _ in range(60)]
    damaged += [rng.randbytes(rng.randrange(0, 4096)) for _ in range(60)]
    huge = [bytes([header]) + b"\xff" * 4 for header in b"\xdd\xdf\xc6\xdb"]  # array, map, bytes, text
    huge += [b"\xc9\xff\xff\xff\xff\x03", b"\xcf" + b"\xff" * 8]  # extension; an unsigned 2**64 - 1
    for _ in range(60):
        at, header = rng.randrange(len(snapshot)), rng.choice(huge)
        damaged.append(snapshot[:at] + header + snapshot[at + len(header) :])
    for _ in range(40):
        at = rng.randrange(len(snapshot))
        nesting = rng.choice([b"\x91", b"\x81\xa1k", b"\xc7\x01\x01"])  # arrays, maps, extensions
        damaged.append(snapshot[:at] + nesting * rng.randint(500, 50_000) + snapshot[at:])
    return damaged


def test_every_corruption_of_a_real_snapshot_is_refused_in_one_line(
    catalog: Catalog, snapshot_bytes: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "checkout-0.snapshot"
    damaged = corruptions(snapshot_bytes, random.Random(25))
    damaged += [b"", b"\x91" * 200_000, b'{"format": "walkout.checkout-state"}']
    for data in damaged:
        path.write_bytes(data)
        refusal(path, catalog)


@pytest.mark.slow
def test_hostile_bodies_behind_a_valid_digest_load_or_are_refused_in_one_line(
    catalog: Catalog, snapshot_bytes: bytes, tmp_path: Path
) -> None:
    """The same damage inside the body, sealed with a digest that matches: whatever still decodes is
    state of the right shape; anything else is refused in one line, never another exception."""
    path = tmp_path / "checkout-0.snapshot"
    deep_extensions = msgpack.packb(None)
    for _ in range(5_000):
        deep_extensions = msgpack.packb(msgpack.ExtType(1, deep_extensions))
    bodies = corruptions(body_of(snapshot_bytes), random.Random(7))
    bodies += [deep_extensions, b"\x91" * 200_000 + b"\xc0", b"\xdd\xff\xff\xff\xff"]
    refused = 0
    for body in bodies:
        path.write_bytes(seal(body))
        try:
            load_state(path, catalog)  # e.g. a flipped bit in a number: still state of the right shape
        except CheckoutError as error:
            assert_one_line(error, path)
            refused += 1
    assert refused >= len(bodies) * 0.8


def test_a_file_over_the_size_limit_is_refused_unread(catalog: Catalog, tmp_path: Path) -> None:
    path = tmp_path / "checkout-0.snapshot"
    with path.open("wb") as sparse:
        sparse.truncate(MAX_SNAPSHOT_BYTES + 1)
    assert "over the" in refusal(path, catalog)
