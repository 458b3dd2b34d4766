"""Hostile and odd input mixed into a valid simulated store-day (issue #25), through a real broker.

The twin's day (S002, seed 11) is published twice, each time on a fresh embedded broker: once as its
gateway sends it, and once with every class of hostile message of the issue sent before the day's
first events, mid-day and at the end, on each edge topic it applies to
(:mod:`twin.hostile`). The checkout and the lander run over each. Neither may stop;
every hostile message is dead-lettered with a reason naming what is wrong, or (a genuine camera's
frames dated a day ahead) held apart; the day's receipts, visits and carts are byte for byte those of
the clean run; the lake's edge tables gain no hostile row, and every dead letter lands, the 1 MB
ones too.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest

from realtime.checkout.service import CheckoutStats, run_checkout
from realtime.lander import LanderStats, run_lander
from twin.hostile.kinds import hostile_messages
from twin.hostile.message import Fate, Place, SentHostile
from twin.hostile.probe import dead_letters_of, publish_hostile_day, read_dead_letters, read_topic
from twin.run import StoreDay, edge_to_kafka, forward_store_day
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.contracts import (
    DEAD_LETTER_KEEP_BYTES,
    EDGE_TOPICS,
    Cart,
    DeadLetter,
    Purchase,
    ShelfEvent,
    Visit,
)
from walkout.edge import UNSURE_READING
from walkout.kafka import create_topics
from walkout.lake import LANDING_COLUMNS, read_lake
from walkout.settings import Settings

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

OUTPUTS = (Purchase.TOPIC, Visit.TOPIC, Cart.TOPIC)


@dataclass(frozen=True)
class DayRun:
    """What the checkout and the lander made of one publication of the day."""

    checkout: CheckoutStats
    lander: LanderStats
    outputs: dict[str, list[bytes]]  # every message of the checkout's output topics, as bytes
    dead_letters: list[DeadLetter]
    lake: dict[str, pl.DataFrame]  # the edge tables and the dead letters
    sent: list[SentHostile]


def run_day(data_dir: Path, publish: Callable[[Settings], list[SentHostile]]) -> DayRun:
    """Publish on a fresh embedded broker, then run the checkout and the lander until idle."""
    settings = Settings(data_dir=data_dir)
    with kafka_available(settings):
        create_topics(settings)
        sent = publish(settings)
        checkout = run_checkout(settings, idle_exit_s=5.0)
        lander = run_lander(settings, idle_exit_s=5.0)
        return DayRun(
            checkout,
            lander,
            {topic: read_topic(settings, topic) for topic in OUTPUTS},
            read_dead_letters(settings),
            {topic: read_lake(settings, topic) for topic in (*EDGE_TOPICS, DeadLetter.TOPIC)},
            sent,
        )


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory, simulated_day: list[StoreDay]) -> DayRun:
    def publish(settings: Settings) -> list[SentHostile]:
        with edge_to_kafka(settings) as send:
            forward_store_day(simulated_day[0], send)
        return []

    return run_day(tmp_path_factory.mktemp("clean-day"), publish)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, simulated_day: list[StoreDay]) -> DayRun:
    settings = Settings(data_dir=tmp_path_factory.mktemp("hostile-day"))
    messages = hostile_messages(simulated_day[0], load_catalog(), settings.secret("edge_key"))
    return run_day(settings.data_dir, lambda s: publish_hostile_day(s, simulated_day[0], messages))


def test_the_hostile_day_holds_every_class_of_the_issue_in_every_place(hostile: DayRun) -> None:
    assert {sent.message.kind for sent in hostile.sent} == {
        "4 KB nested arrays",
        "5,000-digit integers",
        "1 MB payloads",
        "tombstones",
        "NaN / Infinity",
        "timestamps in 1970",
        "timestamps in 9999",
        "dated +1 day, signed",
        "dated +1 day after the wall clock, signed",
        "unknown stores",
        "unknown plates, gates, zones",
        "forged accepted scans",
        "conflicting duplicates",
        "wrong-product picks",
        "100-unit picks",
        "unknown-product picks",
    }
    everywhere = set(itertools.product(EDGE_TOPICS, Place))
    for kind in ("4 KB nested arrays", "1 MB payloads", "tombstones", "timestamps in 1970", "unknown stores"):
        assert {(s.message.topic, s.place) for s in hostile.sent if s.message.kind == kind} == everywhere
    assert max(len(s.message.value or b"") for s in hostile.sent) >= 1024 * 1024  # and the broker took it


def test_the_checkout_reads_every_message_and_goes_on(clean: DayRun, hostile: DayRun) -> None:
    assert hostile.checkout.records == clean.checkout.records + len(hostile.sent)
    assert hostile.checkout.published[Purchase.TOPIC] == clean.checkout.published[Purchase.TOPIC] > 200


def test_every_hostile_message_is_dead_lettered_naming_what_is_wrong(hostile: DayRun) -> None:
    wrong = []
    for sent in hostile.sent:
        message = sent.message
        letters = dead_letters_of(sent, hostile.dead_letters)
        by = {who: [x for x in letters if x.rejected_by == who] for who in ("checkout", "lander")}
        expected = {
            Fate.REFUSED: {"checkout": 1, "lander": 1},
            Fate.DUPLICATE: {"checkout": 1, "lander": 0},  # the lander keeps the first copy
            Fate.CORRECTED: {"checkout": 1, "lander": 0},  # the lander lands the corrected reading
            Fate.HELD_APART: {"checkout": 0, "lander": 0},
        }[message.fate]
        found = {who: len(by[who]) for who in by}
        if found != expected:
            wrong.append(
                f"{message.kind} / {message.variant} {sent.place}: {found} dead letters, not {expected}"
            )
        for letter in letters:
            if letter.error_field != message.field or message.reason not in letter.reason:
                wrong.append(
                    f"{message.kind} / {message.variant} {sent.place}: {letter.rejected_by} says "
                    f"{letter.error_field}: {letter.reason[:150]!r}, not {message.field}: {message.reason!r}"
                )
            if letter.source_offset is not None:  # the message itself, not an event the checkout re-made
                value = message.value or b""
                kept = letter.original()
                if (letter.original_bytes, letter.original_sha256) != (
                    len(value),
                    hashlib.sha256(value).hexdigest(),
                ):
                    wrong.append(
                        f"{message.kind} / {message.variant}: the dead letter's length or hash is wrong"
                    )
                if kept != value[:DEAD_LETTER_KEEP_BYTES]:
                    wrong.append(f"{message.kind} / {message.variant}: the dead letter keeps other bytes")
    assert not wrong, "\n".join(wrong)


def test_a_genuine_cameras_frames_dated_a_day_ahead_are_held_apart(clean: DayRun, hostile: DayRun) -> None:
    held = [sent for sent in hostile.sent if sent.message.fate is Fate.HELD_APART]
    assert {sent.place.value for sent in held} >= {"before the day", "mid-day"}
    assert hostile.checkout.held_apart - clean.checkout.held_apart == len(held)


@pytest.mark.parametrize("topic", OUTPUTS)
def test_the_days_receipts_visits_and_carts_are_those_of_a_clean_run(
    clean: DayRun, hostile: DayRun, topic: str
) -> None:
    assert clean.outputs[topic]
    assert sorted(hostile.outputs[topic]) == sorted(clean.outputs[topic])


def _rows(frame: pl.DataFrame) -> dict[str, str]:
    """Each landed event by id, as its fields say (where and when it landed left out)."""
    return {
        row["event_id"]: json.dumps(row, default=str, sort_keys=True)
        for row in frame.drop(list(LANDING_COLUMNS)).to_dicts()
    }


@pytest.mark.parametrize("topic", EDGE_TOPICS)
def test_the_lake_keeps_no_hostile_row(clean: DayRun, hostile: DayRun, topic: str) -> None:
    lake = hostile.lake[topic]
    positions = set(zip(lake["kafka_partition"].to_list(), lake["kafka_offset"].to_list(), strict=True))
    for sent in hostile.sent:
        if sent.message.topic == topic and sent.message.fate in (Fate.REFUSED, Fate.DUPLICATE):
            assert (sent.partition, sent.offset) not in positions, (
                f"{sent.message.kind} / {sent.message.variant}"
            )
    # what genuine devices said of the valid day, and of the hostile messages only what a genuine device
    # signed and may be used: plate readings the catalog corrected, frames dated ahead (on their date)
    valid, landed = _rows(clean.lake[topic]), _rows(lake)
    kept = {
        sent.message.event_id
        for sent in hostile.sent
        if sent.message.topic == topic
        and sent.message.fate in (Fate.CORRECTED, Fate.HELD_APART)
        and sent.message.variant != "gateway heartbeat"  # heartbeats never land
    }
    assert set(landed) == set(valid) | kept
    assert {event_id: row for event_id, row in landed.items() if event_id in valid} == valid
    if topic == ShelfEvent.TOPIC:
        store = load_catalog().store("S002")
        corrected = lake.filter(pl.col("event_id").is_in(list(kept)))
        assert corrected.height == sum(
            1 for s in hostile.sent if s.message.fate is Fate.CORRECTED and s.message.topic == topic
        )
        for row in corrected.to_dicts():
            assert row["product_id"] == store.plate(row["plate_id"]).product_id
            assert row["quantity"] == 1  # what its weight makes, not the 100 it claimed
            assert row["confidence"] <= UNSURE_READING


def test_every_dead_letter_lands_the_one_megabyte_ones_too(hostile: DayRun) -> None:
    landed = hostile.lake[DeadLetter.TOPIC]
    assert set(landed["event_id"].to_list()) == {letter.event_id for letter in hostile.dead_letters}
    assert landed.height == len(hostile.dead_letters)  # the checkout's and the lander's of one message too
    big = [letter for letter in hostile.dead_letters if (letter.original_bytes or 0) >= 1024 * 1024]
    assert len(big) == 2 * 9  # the checkout's and the lander's, of the 1 MB payloads on 3 topics x 3 places
