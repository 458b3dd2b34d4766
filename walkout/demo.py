"""``walkout demo``: the main job on the embedded defaults, as a list of stages run in order.

Each area appends its stage to :data:`DEMO_STAGES` (simulate, checkout, warehouse, forecasts,
recommendations, dashboards); a stage gets the shared :class:`DemoContext` and prints what it did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from rich.console import Console
from rich.table import Table

from walkout.broker import kafka_available
from walkout.catalog import Store, load_catalog
from walkout.contracts import (
    CameraTrack,
    ContractError,
    Event,
    GateDirection,
    GateScan,
    ScanOutcome,
    ShelfAction,
    ShelfEvent,
    dead_letter,
    make_event_id,
    parse_event,
)
from walkout.kafka import create_topics, drain, make_consumer, make_producer, publish
from walkout.settings import Settings

EDGE_TOPICS = (GateScan.TOPIC, ShelfEvent.TOPIC, CameraTrack.TOPIC)


@dataclass
class DemoContext:
    settings: Settings
    console: Console
    bootstrap: str
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DemoStage:
    title: str
    run: Callable[[DemoContext], None]


def sample_visit(store: Store, shopper_id: str, entered_at: datetime) -> list[Event]:
    """One shopper's walk: entry scan, tracks from the gate to a shelf, a pick, the exit scan."""
    gate = store.gates[0]
    plate = store.plates[len(store.plates) // 2]
    product = load_catalog().products[plate.product_id]
    visit_key = (store.store_id, shopper_id, entered_at.isoformat())

    def scan(direction: GateDirection, at: datetime) -> GateScan:
        return GateScan(
            event_id=make_event_id("scan", *visit_key, direction),
            store_id=store.store_id,
            ts=at,
            gate_id=gate.gate_id,
            direction=direction,
            token_id=make_event_id("token", *visit_key),
            shopper_id=shopper_id,
            outcome=ScanOutcome.ACCEPTED,
        )

    steps = 8
    tracks: list[Event] = []
    for step in range(steps + 1):
        share = step / steps
        x = gate.x_m + (plate.reach_x_m - gate.x_m) * share
        y = gate.y_m + (plate.reach_y_m - gate.y_m) * share
        zone = store.zone_at(x, y)
        tracks.append(
            CameraTrack(
                event_id=make_event_id("track", *visit_key, step),
                store_id=store.store_id,
                ts=entered_at + timedelta(seconds=1 + step),
                camera_id=f"{store.store_id}-CAM1",
                track_id="T1",
                x_m=round(x, 2),
                y_m=round(y, 2),
                zone_id=zone.zone_id if zone else None,
            )
        )
    pick_at = entered_at + timedelta(seconds=steps + 4)
    pick = ShelfEvent(
        event_id=make_event_id("pick", *visit_key),
        store_id=store.store_id,
        ts=pick_at,
        shelf_id=plate.shelf_id,
        plate_id=plate.plate_id,
        action=ShelfAction.PICK,
        weight_delta_g=-product.unit_weight_g,
        product_id=product.product_id,
        quantity=1,
        confidence=0.97,
    )
    return [
        scan(GateDirection.ENTRY, entered_at),
        *tracks,
        pick,
        scan(GateDirection.EXIT, pick_at + timedelta(seconds=20)),
    ]


def kafka_round_trip(context: DemoContext) -> None:
    """Produce a sample visit plus one malformed message, consume them in a group, dead-letter the bad one."""
    settings = context.settings
    store = next(iter(load_catalog().stores.values()))
    events = sample_visit(store, "M000001", datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5))
    producer = make_producer(settings)
    for event in events:
        publish(producer, event)
    malformed = (
        b'{"event_type": "gate.scan", "store_id": "'
        + store.store_id.encode()
        + b'", "direction": "sideways"}'
    )
    producer.send(GateScan.TOPIC, key=store.store_id.encode(), value=malformed)
    producer.flush()

    consumer = make_consumer(settings, "demo", EDGE_TOPICS)
    valid: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for record in drain(consumer, expected=len(events) + 1):
        try:
            parse_event(record.value, record.topic, settings.max_event_bytes)
            valid[record.topic] += 1
        except ContractError as error:
            rejected[record.topic] += 1
            letter = dead_letter(
                record.value, record.topic, error, "demo", store.store_id, record.partition, record.offset
            )
            publish(producer, letter)
            context.console.print(f"dead-lettered {record.topic}@{record.offset}: {error}")
    producer.flush()
    consumer.commit()
    consumer.close()
    producer.close()

    table = Table(
        "topic", "valid events", "dead-lettered", title=f"edge events of one visit at {store.store_id}"
    )
    for topic in EDGE_TOPICS:
        table.add_row(topic, str(valid[topic]), str(rejected[topic]))
    context.console.print(table)


DEMO_STAGES: list[DemoStage] = [DemoStage("Edge events through Kafka", kafka_round_trip)]


def run_demo(settings: Settings, console: Console) -> None:
    """Start (or reuse) Kafka, create the topics, run every stage, stop what was started."""
    with kafka_available(settings) as bootstrap:
        console.print(f"Kafka at {bootstrap}; data directory {settings.data_dir.resolve()}")
        created = create_topics(settings)
        console.print(f"topics created: {', '.join(created) or 'none (all existed)'}")
        context = DemoContext(settings, console, bootstrap)
        for number, stage in enumerate(DEMO_STAGES, start=1):
            console.rule(f"{number}. {stage.title}")
            stage.run(context)
    console.rule("done")
    for note in context.notes:
        console.print(note)
