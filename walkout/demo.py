"""``walkout demo``: the main job on the embedded defaults, as a list of stages run in order.

Each area appends its stage to :data:`DEMO_STAGES` (simulate, checkout, warehouse, forecasts,
recommendations, dashboards); a stage gets the shared :class:`DemoContext` and prints what it did.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ingestion.simulator.report import summary_tables
from ingestion.simulator.run import SimulationSummary, ground_truth_dir, plan_for, simulate_to_kafka
from ingestion.simulator.speed import Speed
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.contracts import CameraTrack, ContractError, GateScan, ShelfEvent, dead_letter, parse_event
from walkout.kafka import create_topics, drain, make_consumer, make_producer, publish
from walkout.settings import Settings

EDGE_TOPICS = (GateScan.TOPIC, ShelfEvent.TOPIC, CameraTrack.TOPIC)
DEMO_STORES = 2
DEMO_DAYS = 1
DEMO_SEED = 7


@dataclass
class DemoContext:
    settings: Settings
    console: Console
    bootstrap: str
    notes: list[str] = field(default_factory=list)
    simulation: SimulationSummary | None = None


@dataclass(frozen=True)
class DemoStage:
    title: str
    run: Callable[[DemoContext], None]


def simulate_store_days(context: DemoContext) -> None:
    """A few store-days of the digital twin, published to the edge topics."""
    catalog = load_catalog()
    plan = plan_for(catalog, stores=DEMO_STORES, days=DEMO_DAYS, seed=DEMO_SEED, start=None)
    with Progress(console=context.console, transient=True) as progress:
        context.simulation = simulate_to_kafka(context.settings, plan, Speed.MAX, progress)
    for table in summary_tables(context.simulation):
        context.console.print(table)
    context.notes.append(f"ground truth of the simulated days: {ground_truth_dir(context.settings)}")


def validate_edge_topics(context: DemoContext) -> None:
    """Read every edge event back in a consumer group; a flaky device's garbage is dead-lettered."""
    settings = context.settings
    producer = make_producer(settings)
    producer.send(GateScan.TOPIC, key=b"S001", value=b'{"event_type": "gate.scan", "direction": "sideways"')
    producer.flush()
    expected = (context.simulation.events if context.simulation else 0) + 1
    consumer = make_consumer(settings, "demo-validate", EDGE_TOPICS)
    valid: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    for record in drain(consumer, expected=expected):
        try:
            parse_event(record.value, record.topic, settings.max_event_bytes)
            valid[record.topic] += 1
        except ContractError as error:
            rejected[record.topic] += 1
            publish(
                producer,
                dead_letter(
                    record.value, record.topic, error, "demo", "unknown", record.partition, record.offset
                ),
            )
            context.console.print(
                f"dead-lettered {record.topic}[{record.partition}]@{record.offset}: {error}"
            )
    producer.flush()
    consumer.commit()
    consumer.close()
    producer.close()
    table = Table("topic", "valid events", "dead-lettered", title="edge topics read back")
    for topic in EDGE_TOPICS:
        table.add_row(topic, str(valid[topic]), str(rejected[topic]))
    context.console.print(table)


DEMO_STAGES: list[DemoStage] = [
    DemoStage("Simulated store-days to Kafka", simulate_store_days),
    DemoStage("Edge events read back and validated", validate_edge_topics),
]


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
