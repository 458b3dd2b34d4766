"""The QR speed gate: every attack is a rejected scan with the right reason; groups, exits and replays."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from ingestion.gate import (
    CLOCK_SKEW,
    MAX_VISIT,
    REPLAY_MARGIN,
    TOKEN_VALIDITY,
    AdmissionLedger,
    GateError,
    SpeedGate,
    issue_token,
    store_secret,
)
from walkout.contracts import GateDirection, GateScan, ScanOutcome, ScanRejection, parse_event
from walkout.settings import DEMO_KEYS

NOW = datetime(2025, 3, 14, 8, 0, tzinfo=UTC)
ENTRY = GateDirection.ENTRY
EXIT = GateDirection.EXIT
SECRET = store_secret("S001", DEMO_KEYS["gate_key"])
OTHER_STORE_SECRET = store_secret("S002", DEMO_KEYS["gate_key"])
MEMBERS = frozenset({"M001", "M002", "M003"})


def make_gate(
    gate_id: str = "S001-G1",
    revoked: set[str] | None = None,
    ledger: AdmissionLedger | None = None,
    opening_hours: Callable[[datetime], bool] | None = None,
) -> SpeedGate:
    """A gate of S001; of a store of its own unless given the ledger it shares with other gates."""
    return SpeedGate(
        "S001",
        gate_id,
        SECRET,
        revoked if revoked is not None else {"M003"},
        MEMBERS,
        ledger=ledger if ledger is not None else AdmissionLedger(),
        opening_hours=opening_hours,
    )


def token(
    member_id: str = "M001",
    store_id: str = "S001",
    issued_at: datetime = NOW,
    group_size: int = 1,
    secret: bytes = SECRET,
    token_id: str = "tok1",
) -> str:
    return issue_token(member_id, store_id, issued_at, group_size, secret, token_id)


def claims_text(raw: str) -> str:
    signed, _, _ = raw.partition(".")
    return base64.urlsafe_b64decode(signed + "=" * (-len(signed) % 4)).decode()


def with_claims(raw: str, text: str) -> str:
    """The token with its claims replaced and its original signature kept."""
    _, _, signature = raw.partition(".")
    return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode() + "." + signature


def signed_claims(text: str) -> str:
    """Claims of any shape, correctly signed with the store's secret (as a leaked-secret attacker could)."""
    signed = base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()
    signature = hmac.new(SECRET, signed.encode(), hashlib.sha256).digest()
    return signed + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def flip_first_signature_char(raw: str) -> str:
    signed, _, signature = raw.partition(".")
    return f"{signed}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def assert_rejected(scan: GateScan, rejection: ScanRejection) -> None:
    assert scan.outcome is ScanOutcome.REJECTED
    assert scan.rejection is rejection
    assert scan.shopper_id is None


# --- tokens ----------------------------------------------------------------------------------


def test_token_is_compact_url_safe_and_carries_no_secret() -> None:
    raw = token(group_size=3)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", raw)
    assert len(raw) < 150
    assert claims_text(raw) == f"1~tok1~M001~S001~{int(NOW.timestamp())}~3"
    assert SECRET.hex() not in raw


def test_tokens_get_distinct_ids_unless_given() -> None:
    first = issue_token("M001", "S001", NOW, 1, SECRET)
    second = issue_token("M001", "S001", NOW, 1, SECRET)
    assert first != second
    assert token() == token()


def test_store_secrets_differ_by_store_and_master_key() -> None:
    assert store_secret("S001", DEMO_KEYS["gate_key"]) == store_secret("S001", DEMO_KEYS["gate_key"])
    assert len(SECRET) == 32
    assert SECRET != OTHER_STORE_SECRET
    assert store_secret("S001", b"another-master-key") != SECRET


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: token(group_size=0), "group_size 0"),
        (lambda: token(group_size=5), "group_size 5"),
        (lambda: token(issued_at=datetime(2025, 3, 14, 8, 0)), "no time zone"),
        (lambda: token(member_id="M 001"), "member_id"),
        (lambda: token(store_id=""), "store_id"),
        (lambda: token(token_id="tok~1"), "token_id"),
        (lambda: token(secret=b""), "secret is empty"),
        (lambda: store_secret("S001", b""), "master_key is empty"),
        (lambda: SpeedGate("S001", "gate 1", SECRET, set(), MEMBERS, ledger=AdmissionLedger()), "gate_id"),
        (
            lambda: SpeedGate(
                "S001", "G1", SECRET, set(), MEMBERS, ledger=AdmissionLedger(), validity=timedelta(0)
            ),
            "validity",
        ),
        (lambda: make_gate().scan(token(), ENTRY, datetime(2025, 3, 14, 8, 0), 1), "no time zone"),
        (lambda: make_gate().scan(token(), ENTRY, NOW, -1), "people_passed"),
        (lambda: make_gate().scan(token(), ENTRY, NOW, 11), "people_passed"),
    ],
    ids=[
        "group of 0",
        "group of 5",
        "naive issued_at",
        "member id with a space",
        "empty store id",
        "token id with separator",
        "empty secret",
        "empty master key",
        "gate id with a space",
        "zero validity",
        "naive scan time",
        "negative people",
        "too many people",
    ],
)
def test_caller_mistakes_raise_gate_error(call: Callable[[], object], message: str) -> None:
    with pytest.raises(GateError, match=message):
        call()


# --- entry verdicts --------------------------------------------------------------------------


def test_member_token_admits_its_member() -> None:
    scan = make_gate().scan(token(), ENTRY, NOW + timedelta(seconds=20), 1)
    assert scan.outcome is ScanOutcome.ACCEPTED
    assert scan.rejection is None
    assert (scan.store_id, scan.gate_id, scan.direction) == ("S001", "S001-G1", ENTRY)
    assert (scan.token_id, scan.shopper_id, scan.group_size, scan.people_passed) == ("tok1", "M001", 1, 1)
    assert scan.ts == NOW + timedelta(seconds=20)
    assert not scan.tailgating


ATTACKS: dict[str, tuple[Callable[[], str], ScanRejection]] = {
    "claims swapped under a signature": (
        lambda: with_claims(token(group_size=1), claims_text(token(group_size=4))),
        ScanRejection.BAD_SIGNATURE,
    ),
    "member id edited": (
        lambda: with_claims(token(), claims_text(token()).replace("M001", "M002")),
        ScanRejection.BAD_SIGNATURE,
    ),
    "issue time edited": (
        lambda: with_claims(
            token(issued_at=NOW - timedelta(hours=1)),
            claims_text(token(issued_at=NOW - timedelta(hours=1))).replace(
                str(int((NOW - timedelta(hours=1)).timestamp())), str(int(NOW.timestamp()))
            ),
        ),
        ScanRejection.BAD_SIGNATURE,
    ),
    "signature char flipped": (lambda: flip_first_signature_char(token()), ScanRejection.BAD_SIGNATURE),
    "signature truncated": (lambda: token()[:-4], ScanRejection.BAD_SIGNATURE),
    "signed with another store's secret": (
        lambda: token(secret=OTHER_STORE_SECRET),
        ScanRejection.BAD_SIGNATURE,
    ),
    "signed under another master key": (
        lambda: token(secret=store_secret("S001", b"stolen-master-key")),
        ScanRejection.BAD_SIGNATURE,
    ),
    "valid token of another store": (
        lambda: token(store_id="S002", secret=OTHER_STORE_SECRET),
        ScanRejection.WRONG_STORE,
    ),
    "expired": (lambda: token(issued_at=NOW - TOKEN_VALIDITY - timedelta(seconds=1)), ScanRejection.EXPIRED),
    "issued in the future": (
        lambda: token(issued_at=NOW + CLOCK_SKEW + timedelta(seconds=1)),
        ScanRejection.EXPIRED,
    ),
    "revoked member": (lambda: token(member_id="M003"), ScanRejection.REVOKED),
    "unknown member": (lambda: token(member_id="M999"), ScanRejection.UNKNOWN_MEMBER),
}


@pytest.mark.parametrize(("make_token", "rejection"), ATTACKS.values(), ids=ATTACKS.keys())
def test_attack_is_rejected_with_its_reason(make_token: Callable[[], str], rejection: ScanRejection) -> None:
    gate = make_gate()
    scan = gate.scan(make_token(), ENTRY, NOW, 1)
    assert_rejected(scan, rejection)
    assert scan.tailgating  # the beam counted someone anyway
    assert len(gate.ledger) == 0


GARBAGE: dict[str, str] = {
    "empty": "",
    "blank": "   ",
    "plain text": "hello gate",
    "only a dot": ".",
    "empty signature": token().partition(".")[0] + ".",
    "three segments": token() + ".AAAA",
    "bytes as latin-1": bytes(range(256)).decode("latin-1"),
    "bytes with surrogates": b"\xff\xfe\x80QR\x00\x9c".decode("utf-8", "surrogateescape"),
    "very long": "A" * 100_000 + "." + "B" * 43,
    "valid token padded long": token() + "A" * 600,
    "not base64": "%%%." + token().partition(".")[2],
    "claims not text": base64.urlsafe_b64encode(b"\xff\xfe\xfd").decode() + ".AAAA",
    "signed, wrong version": signed_claims(f"2~tok1~M001~S001~{int(NOW.timestamp())}~1"),
    "signed, group of 5": signed_claims(f"1~tok1~M001~S001~{int(NOW.timestamp())}~5"),
    "signed, too few fields": signed_claims(f"1~tok1~M001~S001~{int(NOW.timestamp())}"),
    "signed, bad issue time": signed_claims("1~tok1~M001~S001~-5~1"),
    "signed, bad member id": signed_claims(f"1~tok1~M 001~S001~{int(NOW.timestamp())}~1"),
}


@pytest.mark.parametrize(
    "padded",
    [token() + "\n", token() + "\r\n", f"  {token()} ", f"\t{token()}\n"],
    ids=["newline", "crlf", "spaces", "tab and newline"],
)
def test_scanner_padding_around_a_token_is_not_part_of_it(padded: str) -> None:
    scan = make_gate().scan(padded, ENTRY, NOW, 1)
    assert scan.outcome is ScanOutcome.ACCEPTED
    assert (scan.token_id, scan.shopper_id) == ("tok1", "M001")


@pytest.mark.parametrize("raw", GARBAGE.values(), ids=GARBAGE.keys())
@pytest.mark.parametrize("direction", [ENTRY, EXIT])
def test_garbage_is_malformed(raw: str, direction: GateDirection) -> None:
    scan = make_gate().scan(raw, direction, NOW, 0)
    assert_rejected(scan, ScanRejection.MALFORMED)
    assert scan.token_id is None
    assert not scan.tailgating


def test_validity_and_skew_bounds_are_inclusive() -> None:
    gate = make_gate()
    oldest = gate.scan(token(issued_at=NOW - TOKEN_VALIDITY, token_id="old"), ENTRY, NOW, 1)
    newest = gate.scan(token(issued_at=NOW + CLOCK_SKEW, token_id="new"), ENTRY, NOW, 1)
    assert oldest.outcome is newest.outcome is ScanOutcome.ACCEPTED


def test_verified_rejection_names_token_but_not_shopper() -> None:
    scan = make_gate().scan(token(member_id="M003", group_size=2), ENTRY, NOW, 0)
    assert_rejected(scan, ScanRejection.REVOKED)
    assert (scan.token_id, scan.group_size, scan.tailgating) == ("tok1", 2, False)


def test_revocation_applies_to_a_live_gate() -> None:
    revoked: set[str] = set()
    gate = make_gate(revoked=revoked)
    revoked.add("M002")
    assert_rejected(gate.scan(token(member_id="M002"), ENTRY, NOW, 1), ScanRejection.REVOKED)


def test_closed_store_rejects_entry_but_lets_shoppers_out() -> None:
    gate = make_gate(opening_hours=lambda at: at < NOW + timedelta(minutes=1))
    assert gate.scan(token(), ENTRY, NOW, 1).outcome is ScanOutcome.ACCEPTED
    late = gate.scan(token(token_id="tok2"), ENTRY, NOW + timedelta(minutes=2), 1)
    assert_rejected(late, ScanRejection.STORE_CLOSED)
    assert gate.scan(token(), EXIT, NOW + timedelta(minutes=10), 1).outcome is ScanOutcome.ACCEPTED


# --- groups and replays ----------------------------------------------------------------------


@pytest.mark.parametrize(("people_passed", "tailgating"), [(0, False), (2, False), (3, False), (4, True)])
def test_group_token_admits_its_group(people_passed: int, tailgating: bool) -> None:
    scan = make_gate().scan(token(group_size=3), ENTRY, NOW, people_passed)
    assert scan.outcome is ScanOutcome.ACCEPTED
    assert (scan.shopper_id, scan.group_size, scan.people_passed) == ("M001", 3, people_passed)
    assert scan.tailgating is tailgating


def test_token_admits_once() -> None:
    gate = make_gate()
    raw = token(group_size=2)
    assert gate.scan(raw, ENTRY, NOW, 2).outcome is ScanOutcome.ACCEPTED
    replay = gate.scan(raw, ENTRY, NOW + timedelta(seconds=30), 2)
    assert_rejected(replay, ScanRejection.REPLAYED)
    assert (replay.token_id, replay.tailgating) == ("tok1", True)


def test_replay_after_the_group_left_is_still_rejected() -> None:
    gate = make_gate()
    raw = token()
    gate.scan(raw, ENTRY, NOW, 1)
    gate.scan(raw, EXIT, NOW + timedelta(minutes=1), 1)
    assert_rejected(gate.scan(raw, ENTRY, NOW + timedelta(minutes=2), 1), ScanRejection.REPLAYED)
    assert_rejected(gate.scan(raw, ENTRY, NOW + timedelta(minutes=6), 1), ScanRejection.EXPIRED)


def test_a_gate_cannot_be_built_without_its_stores_ledger() -> None:
    with pytest.raises(TypeError, match="ledger"):
        SpeedGate("S001", "S001-G1", SECRET, set(), MEMBERS)  # type: ignore[call-arg]


def test_gates_of_a_store_share_their_ledger() -> None:
    ledger = AdmissionLedger()
    first, second = make_gate("S001-G1", ledger=ledger), make_gate("S001-G2", ledger=ledger)
    raw = token()
    first.scan(raw, ENTRY, NOW, 1)
    assert_rejected(second.scan(raw, ENTRY, NOW + timedelta(seconds=5), 1), ScanRejection.REPLAYED)
    assert second.scan(raw, EXIT, NOW + timedelta(minutes=9), 1).outcome is ScanOutcome.ACCEPTED


def test_retried_scan_keeps_its_verdict() -> None:
    gate = make_gate()
    raw = token()
    entry = gate.scan(raw, ENTRY, NOW, 1)
    assert gate.scan(raw, ENTRY, NOW, 1) == entry
    exit_scan = gate.scan(raw, EXIT, NOW + timedelta(minutes=3), 1)
    assert gate.scan(raw, EXIT, NOW + timedelta(minutes=3), 1) == exit_scan
    assert exit_scan.outcome is ScanOutcome.ACCEPTED


# --- exits -----------------------------------------------------------------------------------


def test_exit_closes_the_visit_once() -> None:
    gate = make_gate()
    raw = token(group_size=2)
    gate.scan(raw, ENTRY, NOW, 2)
    leaving = gate.scan(raw, EXIT, NOW + timedelta(minutes=40), 3)  # visits outlast the QR
    assert leaving.outcome is ScanOutcome.ACCEPTED
    assert (leaving.direction, leaving.shopper_id, leaving.group_size) == (EXIT, "M001", 2)
    assert not leaving.tailgating
    # Once a later token proves this one expired, its closed visit is forgotten: no entry to close.
    prove_time(gate, NOW + timedelta(minutes=41))
    assert_rejected(gate.scan(raw, EXIT, NOW + timedelta(minutes=41), 1), ScanRejection.NOT_ENTERED)


def test_second_exit_of_a_remembered_visit_is_a_replay() -> None:
    gate = make_gate()
    raw = token()
    gate.scan(raw, ENTRY, NOW, 1)
    assert gate.scan(raw, EXIT, NOW + timedelta(minutes=2), 1).outcome is ScanOutcome.ACCEPTED
    assert_rejected(gate.scan(raw, EXIT, NOW + timedelta(minutes=3), 1), ScanRejection.REPLAYED)


def test_exit_without_entry_is_rejected() -> None:
    scan = make_gate().scan(token(), EXIT, NOW, 1)
    assert_rejected(scan, ScanRejection.NOT_ENTERED)
    assert not scan.tailgating


@pytest.mark.parametrize(
    "attack",
    [
        "member id edited",
        "signature char flipped",
        "signed with another store's secret",
        "valid token of another store",
    ],
)
def test_forged_exit_does_not_close_a_visit(attack: str) -> None:
    gate = make_gate()
    gate.scan(token(), ENTRY, NOW, 1)
    make_token, rejection = ATTACKS[attack]
    assert_rejected(gate.scan(make_token(), EXIT, NOW + timedelta(minutes=1), 1), rejection)
    assert gate.scan(token(), EXIT, NOW + timedelta(minutes=2), 1).outcome is ScanOutcome.ACCEPTED


# --- memory ----------------------------------------------------------------------------------


def prove_time(gate: SpeedGate, at: datetime) -> None:
    """Admit a token issued as far ahead of ``at`` as a phone's clock may run: proof that it is ``at``."""
    proof = token(issued_at=at + CLOCK_SKEW, token_id=f"proof{int(at.timestamp())}")
    assert gate.scan(proof, ENTRY, at, 1).outcome is ScanOutcome.ACCEPTED


def test_ledger_forgets_closed_visits_once_their_tokens_expired() -> None:
    gate = make_gate()
    for number in range(50):
        raw = token(token_id=f"tok{number}")
        gate.scan(raw, ENTRY, NOW, 1)
        gate.scan(raw, EXIT, NOW + timedelta(minutes=1), 1)
    assert len(gate.ledger) == 50
    expired = NOW + TOKEN_VALIDITY + REPLAY_MARGIN + timedelta(seconds=1)
    prove_time(gate, expired)
    gate.ledger.forget_stale(expired)
    assert len(gate.ledger) == 1  # the proof alone


def test_ledger_keeps_open_visits_until_they_are_abandoned() -> None:
    gate = make_gate()
    gate.scan(token(), ENTRY, NOW, 1)
    prove_time(gate, NOW + MAX_VISIT)
    gate.ledger.forget_stale(NOW + MAX_VISIT)
    assert gate.ledger.find("tok1") is not None
    prove_time(gate, NOW + MAX_VISIT + timedelta(seconds=1))
    gate.ledger.forget_stale(NOW + MAX_VISIT + timedelta(seconds=1))
    assert gate.ledger.find("tok1") is None


@pytest.mark.parametrize("jumped_scans", [1, 500])
def test_a_clock_jump_forward_and_back_does_not_let_a_token_replay(jumped_scans: int) -> None:
    gate = make_gate()
    raw = token()
    gate.scan(raw, ENTRY, NOW, 1)
    gate.scan(raw, EXIT, NOW + timedelta(minutes=1), 1)
    ahead = NOW + timedelta(days=1)  # the gate's clock jumps a day ahead: current tokens look expired
    for number in range(jumped_scans):
        fresh = token(issued_at=NOW + timedelta(minutes=1), token_id=f"fresh{number}")
        assert_rejected(gate.scan(fresh, ENTRY, ahead + timedelta(seconds=number), 1), ScanRejection.EXPIRED)
    gate.ledger.forget_stale(ahead)
    replay = gate.scan(raw, ENTRY, NOW + timedelta(minutes=2), 1)  # the clock is back
    assert_rejected(replay, ScanRejection.REPLAYED)


# --- events ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [token(group_size=4), token(member_id="M999"), token(store_id="S002", secret=OTHER_STORE_SECRET), "junk"],
    ids=["accepted", "unknown member", "wrong store", "malformed"],
)
def test_scan_events_round_trip_through_the_contract(raw: str) -> None:
    scan = make_gate().scan(raw, ENTRY, NOW + timedelta(microseconds=123_456), 4)
    assert parse_event(scan.to_bytes(), GateScan.TOPIC) == scan


def test_event_carries_the_token_id_never_the_token() -> None:
    raw = token()
    text = make_gate().scan(raw, ENTRY, NOW, 1).to_bytes().decode()
    assert '"token_id":"tok1"' in text
    assert raw.partition(".")[2] not in text


def test_event_id_depends_only_on_the_scan() -> None:
    raw = token()
    seoul = timezone(timedelta(hours=9))
    first = make_gate().scan(raw, ENTRY, NOW, 1)
    assert make_gate().scan(raw, ENTRY, NOW.astimezone(seoul), 1).event_id == first.event_id
    others = {
        make_gate().scan(raw, ENTRY, NOW + timedelta(seconds=1), 1).event_id,
        make_gate("S001-G2").scan(raw, ENTRY, NOW, 1).event_id,
        make_gate().scan(raw, EXIT, NOW, 1).event_id,
        make_gate().scan(token(token_id="tok2"), ENTRY, NOW, 1).event_id,
    }
    assert first.event_id not in others
    assert len(others) == 4


def test_untrusted_tokens_get_stable_event_ids_from_their_bytes() -> None:
    first = make_gate().scan("junk", ENTRY, NOW, 1)
    assert make_gate().scan("junk", ENTRY, NOW, 1).event_id == first.event_id
    assert make_gate().scan("junk2", ENTRY, NOW, 1).event_id != first.event_id
