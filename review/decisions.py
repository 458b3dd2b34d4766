"""An operator's decision on a visit's charge, as :class:`~walkout.contracts.ReceiptAdjustment` events.

Plain functions over a :class:`Charge` (a visit's receipt with the adjustments decided so far), so the
console, the twin playing the operator and the tests decide alike without Kafka; :func:`publish_adjustments`
sends what they return. A decision the charge cannot take (more units off than it charges, a product
the catalog does not know, a quantity out of bounds) raises :class:`DecisionError` and makes no event.

Each adjustment's ``event_id`` comes from its case, the decision's number and its kind, so a decision
built and sent again is the same events, which the lake and the warehouse count once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType

from pydantic import ValidationError

from walkout.catalog import Catalog, CatalogError, load_catalog
from walkout.contracts import (
    MAX_QUANTITY,
    AdjustmentKind,
    AdjustmentLine,
    Purchase,
    ReceiptAdjustment,
    Visit,
    first_error,
    make_event_id,
)
from walkout.errors import WalkoutError
from walkout.kafka import Outbox


class DecisionError(WalkoutError):
    """A decision the charge cannot take; the message says what and what would be possible."""


@dataclass(frozen=True)
class Decision:
    """What every adjustment of one decision shares: the case, the decision's number in it, who
    decided, when and why."""

    case_id: str
    number: int
    decided_by: str
    decided_at: datetime
    reason: str


@dataclass(frozen=True)
class Charge:
    """A visit's charge as it stands: its receipt's lines with the adjustments decided so far (each
    counted once by ``event_id``), product by product."""

    store_id: str
    visit_id: str
    shopper_id: str
    purchase_id: str | None  # None: the visit was charged nothing
    units: Mapping[str, int]
    unit_prices: Mapping[str, int]

    @classmethod
    def of_receipt(cls, receipt: Purchase, adjustments: Iterable[ReceiptAdjustment] = ()) -> Charge:
        units = {line.product_id: line.quantity for line in receipt.lines}
        prices = {line.product_id: line.unit_price_krw for line in receipt.lines}
        return cls._adjusted(
            receipt.store_id,
            receipt.visit_id,
            receipt.shopper_id,
            receipt.event_id,
            units,
            prices,
            adjustments,
        )

    @classmethod
    def of_visit(cls, visit: Visit, adjustments: Iterable[ReceiptAdjustment] = ()) -> Charge:
        """A visit without a receipt (it took nothing, as the sensors saw it)."""
        return cls._adjusted(visit.store_id, visit.visit_id, visit.shopper_id, None, {}, {}, adjustments)

    @classmethod
    def _adjusted(
        cls,
        store_id: str,
        visit_id: str,
        shopper_id: str,
        purchase_id: str | None,
        units: dict[str, int],
        prices: dict[str, int],
        adjustments: Iterable[ReceiptAdjustment],
    ) -> Charge:
        decided = {
            adjustment.event_id: adjustment for adjustment in adjustments if adjustment.visit_id == visit_id
        }
        for adjustment in decided.values():
            for line in adjustment.lines:
                units[line.product_id] = units.get(line.product_id, 0) + line.quantity_delta
                prices.setdefault(line.product_id, line.unit_price_krw)
        charged = {product_id: count for product_id, count in units.items() if count}
        return cls(
            store_id,
            visit_id,
            shopper_id,
            purchase_id,
            MappingProxyType(charged),
            MappingProxyType({product_id: prices[product_id] for product_id in charged}),
        )

    def after(self, adjustments: Iterable[ReceiptAdjustment]) -> Charge:
        """The charge once ``adjustments`` are decided too (those of other visits change nothing)."""
        return self._adjusted(
            self.store_id,
            self.visit_id,
            self.shopper_id,
            self.purchase_id,
            dict(self.units),
            dict(self.unit_prices),
            adjustments,
        )

    def charged_units(self, product_id: str) -> int:
        """Units of ``product_id`` the charge holds; :class:`DecisionError` if none."""
        units = self.units.get(product_id, 0)
        if not units:
            charged = ", ".join(sorted(self.units)) or "nothing"
            raise DecisionError(
                f"visit {self.visit_id} is not charged for {product_id} (it is for: {charged})"
            )
        return units


def _check_units(units: int, what: str) -> int:
    if not 1 <= units <= MAX_QUANTITY:
        raise DecisionError(f"{what} must be 1..{MAX_QUANTITY} units, not {units}")
    return units


def _adjustment(
    store_id: str,
    charge: Charge | None,
    decision: Decision,
    kind: AdjustmentKind,
    changes: Mapping[str, tuple[int, int]],
) -> ReceiptAdjustment:
    """The event of one decision on one charge (None: on no visit's, a write-off); ``changes`` maps a
    product to (unit change, unit price)."""
    try:
        lines = tuple(
            AdjustmentLine(
                product_id=product_id,
                quantity_delta=delta,
                unit_price_krw=price,
                amount_delta_krw=delta * price,
            )
            for product_id, (delta, price) in changes.items()
        )
        return ReceiptAdjustment(
            event_id=make_event_id("adjustment", decision.case_id, decision.number, kind),
            store_id=store_id,
            ts=decision.decided_at,
            case_id=decision.case_id,
            decision=decision.number,
            kind=kind,
            visit_id=None if charge is None else charge.visit_id,
            purchase_id=None if charge is None else charge.purchase_id,
            shopper_id=None if charge is None else charge.shopper_id,
            lines=lines,
            amount_delta_krw=sum(line.amount_delta_krw for line in lines),
            reason=decision.reason,
            decided_by=decision.decided_by,
        )
    except ValidationError as error:
        field, why = first_error(error, whole="(decision)")
        raise DecisionError(f"case {decision.case_id}: {field}: {why}") from None


def confirm_receipt(charge: Charge, decision: Decision) -> list[ReceiptAdjustment]:
    """The receipt stands as charged."""
    if charge.purchase_id is None:
        raise DecisionError(f"visit {charge.visit_id} has no receipt to confirm")
    return [_adjustment(charge.store_id, charge, decision, AdjustmentKind.CONFIRM, {})]


def _take_off(
    charge: Charge, product_id: str, units: int, decision: Decision, kind: AdjustmentKind
) -> ReceiptAdjustment:
    charged = charge.charged_units(product_id)
    if units > charged:
        raise DecisionError(
            f"visit {charge.visit_id} is charged {charged} of {product_id}: {units} cannot be taken off"
        )
    return _adjustment(
        charge.store_id, charge, decision, kind, {product_id: (-units, charge.unit_prices[product_id])}
    )


def remove_line(
    charge: Charge, product_id: str, decision: Decision, units: int | None = None
) -> list[ReceiptAdjustment]:
    """Take ``units`` of a product off the charge (all of them by default)."""
    removed = charge.charged_units(product_id) if units is None else _check_units(units, "a removal")
    return [_take_off(charge, product_id, removed, decision, AdjustmentKind.REMOVE_LINE)]


def change_quantity(
    charge: Charge, product_id: str, quantity: int, decision: Decision
) -> list[ReceiptAdjustment]:
    """Charge ``quantity`` units of a product the receipt has, at the price it charged them."""
    charged = charge.charged_units(product_id)
    _check_units(quantity, "a line")
    if quantity == charged:
        raise DecisionError(f"visit {charge.visit_id} is already charged {charged} of {product_id}: confirm")
    price = charge.unit_prices[product_id]
    return [
        _adjustment(
            charge.store_id,
            charge,
            decision,
            AdjustmentKind.CHANGE_QUANTITY,
            {product_id: (quantity - charged, price)},
        )
    ]


def add_line(
    charge: Charge, product_id: str, units: int, decision: Decision, catalog: Catalog | None = None
) -> list[ReceiptAdjustment]:
    """Charge ``units`` of a product the sensors missed (a dispute): at the price the charge has for it,
    else the catalog's."""
    _check_units(units, "an addition")
    price = charge.unit_prices.get(product_id)
    if price is None:
        try:
            price = (catalog or load_catalog()).product(product_id).price_krw
        except CatalogError as error:
            raise DecisionError(f"cannot add {product_id} to visit {charge.visit_id}: {error}") from None
    if charge.units.get(product_id, 0) + units > MAX_QUANTITY:
        raise DecisionError(f"a line holds at most {MAX_QUANTITY} units: add fewer {product_id}")
    return [
        _adjustment(charge.store_id, charge, decision, AdjustmentKind.ADD_LINE, {product_id: (units, price)})
    ]


def move_line(
    charge: Charge, product_id: str, units: int, to: Charge, decision: Decision
) -> list[ReceiptAdjustment]:
    """Move ``units`` of a product from one visit's charge to another's, at the price charged: out of
    one, into the other (two adjustments of one decision)."""
    if (to.store_id, to.visit_id) == (charge.store_id, charge.visit_id):
        raise DecisionError(f"a line moves to another visit, not back to {charge.visit_id}")
    if to.store_id != charge.store_id:
        raise DecisionError(f"visit {to.visit_id} is in store {to.store_id}, not {charge.store_id}")
    if to.units.get(product_id, 0) + _check_units(units, "a move") > MAX_QUANTITY:
        raise DecisionError(f"visit {to.visit_id} would hold more than {MAX_QUANTITY} of {product_id}")
    out = _take_off(charge, product_id, units, decision, AdjustmentKind.MOVE_LINE_OUT)
    into = {product_id: (units, charge.unit_prices[product_id])}
    return [out, _adjustment(to.store_id, to, decision, AdjustmentKind.MOVE_LINE_IN, into)]


def write_off(store_id: str, decision: Decision) -> list[ReceiptAdjustment]:
    """Leave a take charged to nobody so (no visit took it: someone not admitted, a plate's false
    alarm): it closes the case as a loss and changes no visit's charge."""
    return [_adjustment(store_id, None, decision, AdjustmentKind.WRITE_OFF, {})]


def publish_adjustments(outbox: Outbox, adjustments: Iterable[ReceiptAdjustment]) -> int:
    """Send a decision's adjustments and wait until Kafka acknowledged every one
    (:class:`~walkout.kafka.PublishError` if not: send the same decision again, it lands once).
    Returns how many were sent."""
    sent = 0
    for adjustment in adjustments:
        outbox.send(adjustment)
        sent += 1
    outbox.confirm()
    return sent
