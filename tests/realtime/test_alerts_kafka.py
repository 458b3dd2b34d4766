"""Alerts through a real broker: the checkout service raises the simulated day's alerts on the ``alerts``
topic, the same ones a replay without Kafka raises, and the lander lands each once."""

from __future__ import annotations

from pathlib import Path

import pytest

from realtime.checkout.replay import replay_checkout
from realtime.checkout.service import run_checkout
from realtime.lander import run_lander
from twin.hostile.probe import read_topic
from twin.run import StoreDay, edge_to_kafka, forward_store_day
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.contracts import Alert, AlertKind, parse_event
from walkout.kafka import create_topics
from walkout.lake import read_lake
from walkout.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def test_the_services_alerts_are_on_the_topic_and_in_the_lake_once(
    tmp_path: Path, simulated_day: list[StoreDay]
) -> None:
    (day,) = simulated_day
    replayed = [
        event
        for event in replay_checkout(load_catalog(), day.store_id, [event for _, event in day.events])
        if isinstance(event, Alert)
    ]
    assert {alert.kind for alert in replayed} == {
        AlertKind.TAILGATING,
        AlertKind.UNPAID_EXIT,
        AlertKind.RESTRICTED_ITEM,
    }
    settings = Settings(data_dir=tmp_path)
    with kafka_available(settings):
        create_topics(settings)
        with edge_to_kafka(settings) as send:
            forward_store_day(day, send)
        run_checkout(settings, idle_exit_s=5.0)
        published = [parse_event(raw, Alert.TOPIC) for raw in read_topic(settings, Alert.TOPIC)]
        run_lander(settings, idle_exit_s=5.0, group="lander-alerts", topics=[Alert.TOPIC])
    assert {alert.event_id: alert for alert in published} == {alert.event_id: alert for alert in replayed}
    landed = read_lake(settings, Alert.TOPIC)
    assert sorted(landed["event_id"].to_list()) == sorted(alert.event_id for alert in replayed)
