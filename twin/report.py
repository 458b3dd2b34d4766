"""How a simulation run reads to a person: counts per topic, faults injected, shelf detector quality."""

from __future__ import annotations

from rich.table import Table

from twin.run import SimulationSummary


def summary_tables(summary: SimulationSummary) -> list[Table]:
    rate = summary.events / summary.seconds if summary.seconds else 0.0
    run = Table("measure", "value", title="simulation")
    run.add_row("store-days", str(summary.store_days))
    run.add_row("visits", str(summary.visits))
    run.add_row("events sent", f"{summary.events} ({rate:,.0f} events/s over {summary.seconds:.1f} s)")
    run.add_row("heartbeats", str(summary.heartbeats))  # the gateways' word on quiet topics
    score = summary.shelf_score
    run.add_row("shelf detector precision", f"{score.precision:.4f} ({score.n_matched}/{score.n_detected})")
    run.add_row("shelf detector recall", f"{score.recall:.4f} ({score.n_matched}/{score.n_true})")
    topics = Table("topic", "events", title="events per topic")
    for topic, count in sorted(summary.events_by_topic.items()):
        topics.add_row(topic, str(count))
    faults = Table("fault", "count", title="faults injected")
    for fault, count in sorted(summary.faults.items()):
        faults.add_row(fault, str(count))
    return [run, topics, faults]
