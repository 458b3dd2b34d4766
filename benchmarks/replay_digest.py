"""Digests of everything the checkout publishes for fixed simulated store-days: a restructuring's "before".

Each store-day of the twin goes through its store gateway (heartbeats included), every message signed
by its device as ``edge_to_kafka`` signs it, and is fed to the service's own per-poll logic
(:func:`realtime.checkout.service.take_records`: admission and signature check, de-duplication, the
ordering buffer, the fusion, dead letters) without Kafka: in send order, in polls of the service
consumer's size, each message at the partition and offset a fresh broker gives it, with fixed clocks.
A broker interleaves partitions as its fetches come back (two replays through it differed by a dwell
segment or two of ~20,000), so only a fixed feed gives the same bytes on every run. What the service
would publish is hashed per output topic, message by message in the order it publishes them; the
signed edge messages are hashed too, so a change of the twin is told from a change of the checkout.

Run from the repository root:
    .venv/bin/python benchmarks/replay_digest.py --write benchmarks/replay_digests.json
    .venv/bin/python benchmarks/replay_digest.py --check benchmarks/replay_digests.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kafka.partitioner.default import murmur2

from realtime.checkout.service import CheckoutState, CheckoutStats, take_records
from twin.hostile.kinds import hostile_messages
from twin.hostile.message import HostileMessage
from twin.hostile.probe import forward_hostile_day
from twin.run import SimulationPlan, StoreDay, simulate_store_days
from walkout.catalog import Catalog, load_catalog
from walkout.contracts import (
    DEFAULT_MAX_EVENT_BYTES,
    Attribution,
    Cart,
    DeadLetter,
    DwellSegment,
    Event,
    Purchase,
    Visit,
)
from walkout.edge import EdgeAdmission, EdgeSigner
from walkout.kafka import CONSUMER_DEFAULTS
from walkout.settings import DEMO_KEYS, Settings

COMMAND = ".venv/bin/python benchmarks/replay_digest.py --check benchmarks/replay_digests.json"
OUTPUT_TOPICS = (
    Purchase.TOPIC,
    Cart.TOPIC,
    Visit.TOPIC,
    DwellSegment.TOPIC,
    DeadLetter.TOPIC,
    Attribution.TOPIC,
)
EDGE = "edge (input)"  # the digest of the signed messages fed in
EDGE_KEY = DEMO_KEYS["edge_key"]  # fixed, not the environment's: the digests must not depend on it
PARTITIONS = Settings.model_fields["topic_partitions"].default
POLL_RECORDS: int = CONSUMER_DEFAULTS["max_poll_records"]


@dataclass(frozen=True)
class ReplayedDay:
    store_id: str
    day: date
    seed: int
    hostile: bool = False  # issue #25's hostile messages mixed in, as the reliability probe sends them

    @property
    def name(self) -> str:
        return f"{self.store_id} {self.day} seed {self.seed}" + (
            " + hostile messages" if self.hostile else ""
        )

    @property
    def replayed_at(self) -> float:
        """The wall clock of the replay (epoch s), whenever the script runs: a week after the day, so the
        day is decided from the data alone (not live) and frames dated a day ahead are not yet future."""
        return datetime.combine(self.day + timedelta(days=7), datetime.min.time(), UTC).timestamp()


STORE_DAYS = (
    ReplayedDay("S001", date(2026, 12, 6), 5),  # the reliability probe's day
    ReplayedDay("S002", date(2026, 11, 20), 11),
    ReplayedDay("S001", date(2026, 11, 18), 7),  # the throughput and snapshot benchmarks' day
    # the only day whose refusals on arrival (contract, signature, catalog, conflicts) make dead letters
    ReplayedDay("S002", date(2026, 11, 20), 11, hostile=True),
)
WALL_CLOCK_KIND = "dated +1 day after the wall clock, signed"  # made from the clock of the run: left out


@dataclass(frozen=True)
class Record:
    """An edge message as the service's consumer hands it over."""

    topic: str
    partition: int
    offset: int
    key: bytes
    value: bytes | None
    headers: list[tuple[str, bytes]]


@dataclass(frozen=True)
class Stream:
    messages: int
    sha256: str

    @classmethod
    def of(cls, messages: list[bytes]) -> Stream:
        digest = hashlib.sha256()
        for message in messages:
            digest.update(message + b"\n")  # JSON text never holds a raw newline: it ends each message
        return cls(len(messages), digest.hexdigest())


def sent_records(store_day: StoreDay, hostile: Sequence[HostileMessage] = ()) -> list[Record]:
    """The day's messages as its gateway sends them, signed, at a fresh broker's partitions and offsets;
    each hostile message just before the day's event it is due before."""
    signer = EdgeSigner(EDGE_KEY)
    offsets: Counter[tuple[str, int]] = Counter()
    records: list[Record] = []

    def append(topic: str, key: bytes, value: bytes | None, headers: list[tuple[str, bytes]]) -> None:
        partition = (murmur2(key) & 0x7FFFFFFF) % PARTITIONS  # kafka-python's default partitioner
        records.append(Record(topic, partition, offsets[(topic, partition)], key, value, headers))
        offsets[(topic, partition)] += 1

    def send(event: Event, topic: str) -> None:
        raw = event.to_bytes()
        append(topic, event.key, raw, signer.headers(event, raw))

    def send_hostile(message: HostileMessage) -> None:
        append(message.topic, message.key, message.value, message.headers)

    forward_hostile_day(store_day, hostile, send, send_hostile)
    return records


def edge_stream(records: list[Record]) -> Stream:
    return Stream.of(
        [
            json.dumps(
                [r.topic, r.partition, r.offset, r.key, r.value, r.headers], default=bytes.hex
            ).encode()
            for r in records
        ]
    )


def replay(catalog: Catalog, records: list[Record], replayed_at: float) -> dict[str, list[bytes]]:
    """What the service publishes for these records, per topic in the order it publishes them."""
    state, stats = CheckoutState(), CheckoutStats()
    admission = EdgeAdmission(catalog, EDGE_KEY, DEFAULT_MAX_EVENT_BYTES, clock=lambda: replayed_at)
    published: dict[str, list[bytes]] = {topic: [] for topic in OUTPUT_TOPICS}
    polls = [records[start : start + POLL_RECORDS] for start in range(0, len(records), POLL_RECORDS)]
    # the poll's number stands in for the monotonic clock: it matters only to a live store
    for number, poll in enumerate(polls):
        for event in take_records(state, admission, poll, stats, float(number), replayed_at):
            published.setdefault(event.TOPIC, []).append(published_bytes(event, replayed_at))
    for event in take_records(state, admission, [], stats, float(len(polls)), replayed_at, last=True):
        published.setdefault(event.TOPIC, []).append(published_bytes(event, replayed_at))
    return published


def published_bytes(event: Event, replayed_at: float) -> bytes:
    """The message the service sends. A message refused on arrival is dead-lettered dated by the wall
    clock (its own time is unknown): taken as the replay's fixed instant, so the bytes repeat."""
    if isinstance(event, DeadLetter) and event.source_offset is not None:
        event = event.model_copy(update={"ts": datetime.fromtimestamp(replayed_at, UTC)})
    return event.to_bytes()


def digest_day(catalog: Catalog, replayed: ReplayedDay) -> tuple[dict[str, Stream], float, float]:
    """The day's streams (the edge input first), and the seconds it took to simulate and to replay."""
    started = time.perf_counter()
    plan = SimulationPlan((replayed.store_id,), replayed.day, 1, seed=replayed.seed)
    (store_day,) = simulate_store_days(catalog, plan)
    hostile = [
        message
        for message in (hostile_messages(store_day, catalog, EDGE_KEY) if replayed.hostile else [])
        if message.kind != WALL_CLOCK_KIND
    ]
    records = sent_records(store_day, hostile)
    simulated = time.perf_counter()
    published = replay(catalog, records, replayed.replayed_at)
    replayed_s = time.perf_counter() - simulated
    streams = {EDGE: edge_stream(records), **{topic: Stream.of(published[topic]) for topic in published}}
    return streams, simulated - started, replayed_s


def as_json(digests: dict[str, dict[str, Stream]]) -> str:
    document = {
        "made_by": COMMAND.replace("--check", "--write"),
        "poll_records": POLL_RECORDS,
        "store_days": {
            day: {topic: {"messages": s.messages, "sha256": s.sha256} for topic, s in streams.items()}
            for day, streams in digests.items()
        },
    }
    return json.dumps(document, indent=2) + "\n"


def first_difference(expected: dict[str, object], found: dict[str, dict[str, Stream]]) -> str | None:
    """One line naming the first store-day and stream that differ from the file, or None."""
    days = expected.get("store_days")
    if not isinstance(days, dict) or list(days) != list(found):
        return f"the file holds other store-days than {', '.join(found)}: write it again with --write"
    for day, streams in found.items():
        before = days[day]
        for topic in dict.fromkeys([*streams, *before]):  # the edge input first
            was, now = before.get(topic), streams.get(topic)
            if was is None or now is None or (was["messages"], was["sha256"]) != (now.messages, now.sha256):
                what = "the twin's messages changed, not the checkout" if topic == EDGE else "differs"
                had = f"{was['messages']:,} messages {was['sha256'][:12]}" if was else "nothing"
                has = f"{now.messages:,} messages {now.sha256[:12]}" if now else "nothing"
                return f"{day}: {topic} {what} (expected {had}, got {has})"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", type=Path, metavar="FILE", help="write the digests as JSON")
    mode.add_argument("--check", type=Path, metavar="FILE", help="compare with digests written before")
    args = parser.parse_args()
    expected = json.loads(args.check.read_text()) if args.check else None

    catalog = load_catalog()
    digests: dict[str, dict[str, Stream]] = {}
    for replayed in STORE_DAYS:
        streams, simulate_s, replay_s = digest_day(catalog, replayed)
        digests[replayed.name] = streams
        print(f"{replayed.name}: simulated in {simulate_s:.1f} s, replayed in {replay_s:.1f} s")
        for topic, stream in streams.items():
            print(f"  {topic:14}{stream.messages:>10,}  {stream.sha256}")

    if args.write:
        args.write.write_text(as_json(digests))
        print(f"wrote {args.write}")
    if expected is not None:
        difference = first_difference(expected, digests)
        if difference is not None:
            sys.exit(difference)
        print(f"every stream of {len(digests)} store-days matches {args.check}")
    print(f"reproduce: {COMMAND}")


if __name__ == "__main__":
    main()
