"""Disputes: a shopper contests one line of their own receipt from the member app.

The receipt is read from the published warehouse (``marts.fct_purchase_lines``): it must be the
shopper's, and a line disputed as not taken or of a wrong quantity must be on it. The dispute is then
filed as a :class:`~walkout.contracts.ReceiptDispute` on ``receipt.disputes``, and the API answers only
once Kafka acknowledged it: a dispute answered as filed is on the topic; one Kafka did not take is a
503 the app retries. Its id comes from the receipt, the product and the kind, so a retry (even of a
send that got through after all) is the same event, landed and counted once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

import duckdb
from kafka import KafkaProducer
from kafka.errors import KafkaError
from pydantic import ValidationError

from recsys import RecsysError
from recsys.api.schemas import DisputeIn
from walkout.catalog import Catalog
from walkout.contracts import DisputeKind, ReceiptDispute, dispute_id, first_error
from walkout.kafka import KafkaSetupError, PublishError, make_producer, publish
from walkout.settings import Settings

log = logging.getLogger(__name__)

DISPUTE_WAIT_MS = 5000  # how long a request waits for Kafka to connect, take and acknowledge a dispute


class UnknownReceiptError(RecsysError):
    """No receipt of this shopper has this id (the same answer whether it exists or is another's)."""


class DisputeRefusedError(RecsysError):
    """A dispute the receipt cannot take (a line it does not charge, more units than it charges)."""


class DisputeNotFiledError(RecsysError):
    """Kafka did not acknowledge the dispute: nothing was filed as far as the shopper knows; retry."""


class ReceiptsUnavailableError(RecsysError):
    """The published warehouse cannot be read for receipts."""


@dataclass(frozen=True)
class ChargedLine:
    product_id: str
    quantity: int
    unit_price_krw: int


@dataclass(frozen=True)
class Receipt:
    """A receipt as the published warehouse holds it."""

    purchase_id: str
    store_id: str
    visit_id: str
    shopper_id: str
    lines: dict[str, ChargedLine]  # by product


_RECEIPT_LINES = """
    select store_id, visit_id, shopper_id, product_id, quantity, unit_price_krw
    from marts.fct_purchase_lines
    where purchase_id = ?
"""


def read_receipt(published: Path, purchase_id: str) -> Receipt | None:
    """The receipt ``purchase_id`` from the published warehouse, or None if it holds no such receipt."""
    if not published.is_file():
        raise ReceiptsUnavailableError("not ready: no published warehouse to read receipts from yet")
    try:
        with duckdb.connect(str(published), read_only=True) as connection:
            rows = connection.execute(_RECEIPT_LINES, [purchase_id]).fetchall()
    except duckdb.Error as error:
        raise ReceiptsUnavailableError(
            f"cannot read receipts from the published warehouse {published}: {error}"
        ) from None
    if not rows:
        return None
    store_id, visit_id, shopper_id = rows[0][:3]
    lines = {
        product_id: ChargedLine(product_id, quantity, unit_price_krw)
        for *_, product_id, quantity, unit_price_krw in rows
    }
    return Receipt(purchase_id, store_id, visit_id, shopper_id, lines)


def dispute_of(
    claim: DisputeIn, shopper_id: str, receipt: Receipt | None, catalog: Catalog, at: datetime
) -> ReceiptDispute:
    """The dispute ``shopper_id`` files on ``receipt`` (None: the warehouse has no such receipt); raises
    :class:`UnknownReceiptError` unless the receipt is theirs, :class:`DisputeRefusedError` unless the
    receipt can take it. A quantity left out is every unit charged (not taken) or one (missing)."""
    if receipt is None or receipt.shopper_id != shopper_id:
        raise UnknownReceiptError(f"no receipt {claim.purchase_id} of shopper {shopper_id}")
    product_id, kind, quantity = claim.product_id, claim.kind, claim.quantity
    line = receipt.lines.get(product_id)
    if kind is DisputeKind.MISSING:
        if product_id not in catalog.products:
            raise DisputeRefusedError(f"unknown product {product_id!r}: name a product of the catalog")
        units = quantity or 1
    elif line is None:
        charged = ", ".join(sorted(receipt.lines))
        raise DisputeRefusedError(
            f"receipt {receipt.purchase_id} does not charge {product_id} (it charges: {charged}); "
            "something taken and not charged is disputed as missing"
        )
    elif kind is DisputeKind.NOT_TAKEN:
        units = quantity or line.quantity
        if units > line.quantity:
            raise DisputeRefusedError(
                f"receipt {receipt.purchase_id} charges {line.quantity} x {product_id}, not {units}"
            )
    elif quantity is None:
        raise DisputeRefusedError("a wrong quantity needs the quantity: the units taken in all")
    elif quantity == line.quantity:
        raise DisputeRefusedError(f"receipt {receipt.purchase_id} already charges {quantity} x {product_id}")
    else:
        units = quantity
    try:
        return ReceiptDispute(
            event_id=dispute_id(receipt.purchase_id, product_id, kind),
            store_id=receipt.store_id,
            ts=at,
            purchase_id=receipt.purchase_id,
            visit_id=receipt.visit_id,
            shopper_id=shopper_id,
            product_id=product_id,
            kind=kind,
            quantity=units,
            note=claim.note,
        )
    except ValidationError as error:
        field, reason = first_error(error)
        raise DisputeRefusedError(f"{field}: {reason}") from None


class DisputeSink(Protocol):
    def file(self, dispute: ReceiptDispute) -> None:
        """Return once the dispute is safely on its topic; :class:`DisputeNotFiledError` if it is not."""
        ...


class KafkaDisputes:
    """Files disputes on ``receipt.disputes``, waiting for Kafka's acknowledgement of each.

    The producer is made on the first dispute (the API serves ads without Kafka), and made again after
    Kafka could not be reached; no request waits longer than about twice :data:`DISPUTE_WAIT_MS`.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _connected(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                self._producer = make_producer(
                    self.settings, max_block_ms=DISPUTE_WAIT_MS, bootstrap_timeout_ms=DISPUTE_WAIT_MS
                )
            return self._producer

    def file(self, dispute: ReceiptDispute) -> None:
        try:
            publish(self._connected(), dispute).get(timeout=DISPUTE_WAIT_MS / 1000)
        except (KafkaSetupError, PublishError, KafkaError) as error:
            log.warning("dispute %s was not filed: %s", dispute.event_id, error)
            raise DisputeNotFiledError(
                "the dispute was not filed: Kafka is unavailable; try again shortly"
            ) from None

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close(timeout=10)
                self._producer = None
