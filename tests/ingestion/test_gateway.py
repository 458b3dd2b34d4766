"""The store gateway's heartbeats, and the twin's clock that lets them leave on time."""

from __future__ import annotations

from datetime import UTC, datetime

from ingestion.gateway import DECISION_WINDOW_S, HEARTBEAT_S, KEEPALIVE_S, StoreGateway
from ingestion.simulator.run import pacer
from walkout.contracts import EDGE_TOPICS, EdgeHeartbeat, Event, GateDirection, GateScan, ScanOutcome

START = datetime(2026, 12, 6, 18, tzinfo=UTC).timestamp()


def exit_scan(at: float) -> GateScan:
    return GateScan(
        event_id=f"exit-{at:.0f}",
        store_id="S001",
        ts=datetime.fromtimestamp(at, UTC),
        gate_id="S001-G1",
        direction=GateDirection.EXIT,
        token_id="t1",
        shopper_id="M000001",
        outcome=ScanOutcome.ACCEPTED,
    )


class FakeClock:
    """Wall time that passes only when slept, so the test sees when each message would leave."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_gateway_says_when_its_next_heartbeat_falls_due() -> None:
    gateway = StoreGateway("S001", lambda event, topic: None)
    assert gateway.next_beat() == float("inf")  # nothing sent yet: nothing to vouch for
    gateway.forward(START, exit_scan(START))
    assert gateway.next_beat() == START + HEARTBEAT_S  # a decision waits: beat fast
    gateway.advance(START + DECISION_WINDOW_S + 0.5)
    assert gateway.next_beat() == START + DECISION_WINDOW_S + KEEPALIVE_S  # decided: keep alive only


def test_the_twins_clock_sends_each_heartbeat_at_its_instant_not_with_the_next_shopper() -> None:
    clock = FakeClock()
    sent: list[tuple[float, Event, str]] = []
    gateway = StoreGateway("S001", lambda event, topic: sent.append((clock.now, event, topic)))
    wait_until = pacer(gateway, START, speed=10.0, clock=clock, sleep=clock.sleep)
    night = [(START, exit_scan(START)), (START + 2400.0, exit_scan(START + 2400.0))]  # 40 min apart
    for at, event in night:
        wait_until(at)
        gateway.forward(at, event)
    beats = [(wall, event, topic) for wall, event, topic in sent if isinstance(event, EdgeHeartbeat)]
    assert {topic for _, _, topic in beats} == set(EDGE_TOPICS)
    for wall, event, _ in beats:  # each left when the simulated clock (10x the wall's) reached it
        assert abs(START + wall * 10.0 - event.ts.timestamp()) < 1e-3
    window = [event for _, event, topic in beats if topic == GateScan.TOPIC][: int(DECISION_WINDOW_S)]
    assert [event.ts.timestamp() - START for event in window] == [
        HEARTBEAT_S * (n + 1) for n in range(int(DECISION_WINDOW_S))
    ]
    assert [type(event) for _, event, _ in sent][-1] is GateScan  # the next shopper's scan came last
