"""The QR speed gate: signed, expiring member tokens, and the gate that turns scans into ``GateScan`` events.

The member app shows a QR token signed with its store's secret, derived from a master key so that a
leaked gate exposes one store, not the chain. A token is valid five minutes and admits its group (up
to four people, paid by the member who scanned) once; an exit scan with the same token closes what
the entry opened. A bad token is never an exception: it is a rejected scan, so the event stream
records every attempt, including people who walked through anyway (tailgating).

Token format (URL-safe, unpadded base64url segments)::

    base64url("1~<token_id>~<member_id>~<store_id>~<issued_at epoch s>~<group_size>")
    + "." + base64url(HMAC-SHA256 of the first segment, store secret)

The signature covers the first segment's text exactly, so any change to it breaks the signature.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import TypeAdapter, ValidationError

from walkout.contracts import (
    MAX_GROUP_SIZE,
    GateDirection,
    GateScan,
    Identifier,
    ScanOutcome,
    ScanRejection,
    format_ts,
    make_event_id,
)
from walkout.errors import WalkoutError
from walkout.keys import derive, matches, signature

TOKEN_VALIDITY = timedelta(minutes=5)
CLOCK_SKEW = timedelta(seconds=30)
"""How far in the future a token may be issued: the phone's clock may run ahead of the gate's."""
MAX_VISIT = timedelta(hours=3)
"""An entry never closed by an exit scan is forgotten after this long (the shopper walked out unscanned)."""
REPLAY_MARGIN = timedelta(minutes=1)
"""Memory of admitted tokens beyond their validity, for scan times that arrive slightly out of order."""
MAX_TOKEN_CHARS = 512
TOKEN_VERSION = "1"
SCANNER_PADDING = " \t\r\n"
"""What QR scanners add around the payload they read (a line ending, spaces): not part of the token."""


_FIELD_SEPARATOR = "~"
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)


class GateError(WalkoutError):
    """The gate or the token issuer was called wrongly (bad group size, naive datetime, bad id)."""


# --- tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Claims:
    """What a token says about itself; trusted only once its signature matches."""

    token_id: str
    member_id: str
    store_id: str
    issued_at: datetime
    group_size: int
    signed_text: str
    signature: str


def store_secret(store_id: str, master_key: bytes) -> bytes:
    """The store's signing secret, HMAC(master key, store id): each store's gates hold only their own.
    The master key is the ``gate_key`` setting."""
    _require_identifier(store_id, "store_id")
    _require_secret(master_key, "master_key")
    return derive(master_key, f"walkout-gate-store:{store_id}")


def issue_token(
    member_id: str,
    store_id: str,
    issued_at: datetime,
    group_size: int,
    secret: bytes,
    token_id: str | None = None,
) -> str:
    """The QR payload the member app shows: who, where, when and how many, signed with the store's secret."""
    _require_aware(issued_at, "issued_at")
    if not 1 <= group_size <= MAX_GROUP_SIZE:
        raise GateError(f"group_size {group_size} is outside 1..{MAX_GROUP_SIZE} (people one QR admits)")
    token_id = secrets.token_hex(8) if token_id is None else token_id
    for name, value in (("token_id", token_id), ("member_id", member_id), ("store_id", store_id)):
        _require_identifier(value, name)
    _require_secret(secret, "secret")
    fields = (TOKEN_VERSION, token_id, member_id, store_id, str(int(issued_at.timestamp())), str(group_size))
    signed_text = _encode(_FIELD_SEPARATOR.join(fields).encode("ascii"))
    return f"{signed_text}.{_sign(signed_text, secret)}"


def _read_claims(token: str) -> _Claims | None:
    """The token's claims, or None when it does not have a token's shape (the signature is not checked)."""
    if len(token) > MAX_TOKEN_CHARS:
        return None
    signed_text, _, signature = token.strip(SCANNER_PADDING).partition(".")
    if not (_SEGMENT.fullmatch(signed_text) and _SEGMENT.fullmatch(signature)):
        return None
    try:
        fields = _decode(signed_text).decode("ascii").split(_FIELD_SEPARATOR)
    except ValueError:
        return None
    if len(fields) != 6:
        return None
    version, token_id, member_id, store_id, issued, group = fields
    well_formed = (
        version == TOKEN_VERSION
        and all(_is_identifier(value) for value in (token_id, member_id, store_id))
        and issued.isdigit()
        and len(issued) <= 11
        and group in {str(size) for size in range(1, MAX_GROUP_SIZE + 1)}
    )
    if not well_formed:
        return None
    issued_at = datetime.fromtimestamp(int(issued), UTC)
    return _Claims(token_id, member_id, store_id, issued_at, int(group), signed_text, signature)


def _sign(signed_text: str, secret: bytes) -> str:
    return _encode(signature(secret, signed_text.encode("ascii")))


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- the gate --------------------------------------------------------------------------------


@dataclass
class Admission:
    """One token's admission: its entry scan, its exit scan once closed, and how long to remember it."""

    entry: GateScan
    issued_at: datetime
    replay_until: datetime
    visit_until: datetime
    exit: GateScan | None = None

    def is_stale(self, at: datetime) -> bool:
        """Nothing left to answer: the token has expired anyway and the visit is closed or abandoned."""
        return at > self.replay_until and (self.exit is not None or at > self.visit_until)


class AdmissionLedger:
    """A store's memory of admitted tokens, shared by all its gates so a token admits once per store.

    Memory stays bounded: an admission is forgotten once its token has expired and its visit has
    closed (or outlived :data:`MAX_VISIT`). Expired by the time admitted tokens prove, not by any one
    scan's clock: a gate clock that jumps ahead would otherwise forget every admission, and the
    tokens would replay once the clock came back. A token admitted after being issued at ``t`` shows
    that the time is at least ``t`` less :data:`CLOCK_SKEW` (the issuer's clock may run that far
    ahead); no scan, however dated, moves the ledger's time further.
    """

    def __init__(self) -> None:
        self._admissions: dict[str, Admission] = {}
        self._proven_time: datetime | None = None

    def __len__(self) -> int:
        return len(self._admissions)

    def find(self, token_id: str) -> Admission | None:
        return self._admissions.get(token_id)

    def admit(self, token_id: str, admission: Admission) -> None:
        self._admissions[token_id] = admission
        proven = admission.issued_at - CLOCK_SKEW
        self._proven_time = proven if self._proven_time is None else max(self._proven_time, proven)

    def forget_stale(self, at: datetime) -> None:
        """Forget what is stale at ``at``, or at the proven time if ``at`` lies beyond it."""
        if self._proven_time is None:
            return  # nothing admitted yet
        horizon = min(at, self._proven_time)
        stale = [token_id for token_id, admission in self._admissions.items() if admission.is_stale(horizon)]
        for token_id in stale:
            del self._admissions[token_id]


class SpeedGate:
    """One speed gate of a store: verifies each QR scan and reports it as a ``GateScan`` event.

    ``revoked`` and ``known_members`` are member ids, read at every scan (a live set sees new
    revocations); ``opening_hours(at)`` says whether the store admits shoppers then. ``ledger`` is
    the store's, shared by all its gates: a gate with a ledger of its own would admit a token that
    another gate already admitted. Exits are never held up: an exit verdict only says whether the
    scan closes a visit.
    """

    def __init__(
        self,
        store_id: str,
        gate_id: str,
        secret: bytes,
        revoked: Container[str],
        known_members: Container[str],
        *,
        ledger: AdmissionLedger,
        validity: timedelta = TOKEN_VALIDITY,
        opening_hours: Callable[[datetime], bool] | None = None,
    ) -> None:
        _require_identifier(store_id, "store_id")
        _require_identifier(gate_id, "gate_id")
        _require_secret(secret, "secret")
        if validity <= timedelta(0):
            raise GateError(f"validity {validity} must be positive")
        self.store_id = store_id
        self.gate_id = gate_id
        self.revoked = revoked
        self.known_members = known_members
        self.validity = validity
        self.opening_hours = opening_hours
        self.ledger = ledger
        self._secret = secret

    def scan(self, token: str, direction: GateDirection, at: datetime, people_passed: int) -> GateScan:
        """The verdict on one scan of ``token`` at ``at``, with the people the beam counted through."""
        _require_aware(at, "at")
        self.ledger.forget_stale(at)
        verified = self._authenticate(token)
        if isinstance(verified, ScanRejection):
            event_id = self._event_id(_fingerprint(token), direction, at)
            return self._record(event_id, direction, at, people_passed, verified, None)
        if direction is GateDirection.ENTRY:
            return self._admit(verified, at, people_passed)
        return self._close(verified, at, people_passed)

    def _authenticate(self, token: str) -> _Claims | ScanRejection:
        """The token's verified claims, or why it cannot be trusted at this store."""
        claims = _read_claims(token)
        if claims is None:
            return ScanRejection.MALFORMED
        # Another store's token cannot be checked here (its secret stays in its store): trust the claim.
        if claims.store_id != self.store_id:
            return ScanRejection.WRONG_STORE
        expected = _sign(claims.signed_text, self._secret)
        if not matches(expected, claims.signature):
            return ScanRejection.BAD_SIGNATURE
        return claims

    def _admit(self, claims: _Claims, at: datetime, people_passed: int) -> GateScan:
        event_id = self._event_id(claims.token_id, GateDirection.ENTRY, at)
        admission = self.ledger.find(claims.token_id)
        if admission is not None and admission.entry.event_id == event_id:
            return admission.entry  # a retried scan keeps its verdict
        rejection = self._entry_rejection(claims, at, admitted=admission is not None)
        scan = self._record(event_id, GateDirection.ENTRY, at, people_passed, rejection, claims)
        if rejection is None:
            replay_until = claims.issued_at + self.validity + REPLAY_MARGIN
            self.ledger.admit(
                claims.token_id, Admission(scan, claims.issued_at, replay_until, at + MAX_VISIT)
            )
        return scan

    def _entry_rejection(self, claims: _Claims, at: datetime, admitted: bool) -> ScanRejection | None:
        if not -CLOCK_SKEW <= at - claims.issued_at <= self.validity:
            return ScanRejection.EXPIRED
        if admitted:
            return ScanRejection.REPLAYED
        if claims.member_id in self.revoked:
            return ScanRejection.REVOKED
        if claims.member_id not in self.known_members:
            return ScanRejection.UNKNOWN_MEMBER
        if self.opening_hours is not None and not self.opening_hours(at):
            return ScanRejection.STORE_CLOSED
        return None

    def _close(self, claims: _Claims, at: datetime, people_passed: int) -> GateScan:
        """An exit closes the token's admission; validity is not checked, visits outlast the QR."""
        event_id = self._event_id(claims.token_id, GateDirection.EXIT, at)
        admission = self.ledger.find(claims.token_id)
        if admission is None:
            return self._record(
                event_id, GateDirection.EXIT, at, people_passed, ScanRejection.NOT_ENTERED, claims
            )
        if admission.exit is not None:
            if admission.exit.event_id == event_id:
                return admission.exit  # a retried scan keeps its verdict
            return self._record(
                event_id, GateDirection.EXIT, at, people_passed, ScanRejection.REPLAYED, claims
            )
        admission.exit = self._record(event_id, GateDirection.EXIT, at, people_passed, None, claims)
        return admission.exit

    def _event_id(self, token_key: str, direction: GateDirection, at: datetime) -> str:
        return make_event_id("gate", self.store_id, self.gate_id, token_key, direction, format_ts(at))

    def _record(
        self,
        event_id: str,
        direction: GateDirection,
        at: datetime,
        people_passed: int,
        rejection: ScanRejection | None,
        claims: _Claims | None,
    ) -> GateScan:
        """The scan event; ``claims`` only when the signature was verified."""
        accepted = rejection is None
        group_size = 1 if claims is None else claims.group_size
        try:
            return GateScan(
                event_id=event_id,
                store_id=self.store_id,
                ts=at,
                gate_id=self.gate_id,
                direction=direction,
                token_id=None if claims is None else claims.token_id,
                shopper_id=claims.member_id if accepted and claims is not None else None,
                outcome=ScanOutcome.ACCEPTED if accepted else ScanOutcome.REJECTED,
                rejection=rejection,
                group_size=group_size,
                people_passed=people_passed,
                tailgating=_is_tailgating(direction, accepted, group_size, people_passed),
            )
        except ValidationError as error:
            detail = error.errors(include_url=False)[0]
            field = ".".join(str(part) for part in detail["loc"])
            raise GateError(f"gate {self.gate_id} cannot record a scan: {field}: {detail['msg']}") from None


def _fingerprint(token: str) -> str:
    """Stands in for the token id of a token that cannot be trusted; any text hashes, even lone surrogates."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _is_tailgating(direction: GateDirection, accepted: bool, group_size: int, people_passed: int) -> bool:
    """More people came in than the scan admitted: its group when accepted, nobody when rejected."""
    if direction is GateDirection.EXIT:
        return False
    return people_passed > (group_size if accepted else 0)


# --- caller checks ---------------------------------------------------------------------------


def _is_identifier(value: str) -> bool:
    try:
        _IDENTIFIER.validate_python(value)
    except ValidationError:
        return False
    return True


def _require_identifier(value: str, name: str) -> None:
    if not _is_identifier(value):
        raise GateError(f"{name} {value!r} is not an id: use letters, digits and _ . : - (at most 64)")


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise GateError(f"{name} {value.isoformat()} has no time zone: pass an aware datetime (e.g. UTC)")


def _require_secret(value: bytes, name: str) -> None:
    if not value:
        raise GateError(f"{name} is empty: derive store secrets with store_secret()")
