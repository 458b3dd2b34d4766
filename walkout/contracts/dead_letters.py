"""Dead letters: rejected messages kept whole enough to be found, published and landed."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import ClassVar, Literal

from pydantic import Field

from walkout.contracts.event import ContractError, Event, Identifier, UtcTimestamp, make_event_id

DEAD_LETTER_KEEP_BYTES = 16 * 1024  # a dead letter keeps this much of the rejected message, and its hash


class DeadLetter(Event):
    """A rejected message: the original bytes (base64, the first :data:`DEAD_LETTER_KEEP_BYTES` of
    them), where they came from, and why."""

    TOPIC: ClassVar[str] = "deadletter"
    event_type: Literal["deadletter"] = "deadletter"
    store_id: Identifier = Field(description="Store, or unknown.")
    ts: UtcTimestamp = Field(description="When the message was rejected (UTC).")
    source_topic: str = Field(min_length=1, max_length=249, description="Topic the message came from.")
    source_partition: int | None = Field(None, ge=0, description="Its Kafka partition, if known.")
    source_offset: int | None = Field(None, ge=0, description="Its Kafka offset, if known.")
    rejected_by: Identifier = Field(description="Component that rejected it.")
    error_field: str = Field(max_length=200, description="Offending field.")
    reason: str = Field(max_length=2000, description="Why it was rejected.")
    original_b64: str = Field(
        max_length=(DEAD_LETTER_KEEP_BYTES + 2) // 3 * 4,
        description=f"The original bytes, base64 (the first {DEAD_LETTER_KEEP_BYTES // 1024} KiB of them).",
    )
    original_bytes: int | None = Field(
        None, ge=0, description="Length of the whole original message (null before it was kept)."
    )
    original_sha256: str | None = Field(
        None, pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the whole original message (hex)."
    )

    def original(self) -> bytes:
        """What was kept of the original: all of it when ``original_bytes`` says so."""
        return base64.b64decode(self.original_b64)


def dead_letter(
    raw: bytes | None,
    source_topic: str,
    error: ContractError | str,
    rejected_by: str,
    store_id: str = "unknown",
    source_partition: int | None = None,
    source_offset: int | None = None,
    happened_at: datetime | None = None,
) -> DeadLetter:
    """Wrap a rejected message so nothing is lost: the original bytes (up to a bound, with the hash and
    length of all of them) and the reason travel on. It is dated ``happened_at`` when the message's own
    time is known (so it lands beside its day), else now."""
    raw = raw or b""
    field = error.field if isinstance(error, ContractError) else "(event)"
    reason = str(error)[:2000]
    digest = hashlib.sha256(raw).hexdigest()
    return DeadLetter(
        # one rejection of one message: a retry gets the same id, another consumer's rejection another
        event_id=make_event_id(
            "deadletter", rejected_by, source_topic, source_partition, source_offset, digest, reason
        ),
        store_id=store_id,
        ts=happened_at or datetime.now(UTC),
        source_topic=source_topic[:249] or "(none)",
        source_partition=source_partition,
        source_offset=source_offset,
        rejected_by=rejected_by,
        error_field=field[:200],
        reason=reason,
        original_b64=base64.b64encode(raw[:DEAD_LETTER_KEEP_BYTES]).decode(),
        original_bytes=len(raw),
        original_sha256=digest,
    )


def rejected_event(event: Event, reason: str, rejected_by: str) -> DeadLetter:
    """A valid event that could not be used (a store nobody knows, a pick nobody can be charged for)."""
    return dead_letter(
        event.to_bytes(), event.TOPIC, reason, rejected_by, event.store_id, happened_at=event.ts
    )
