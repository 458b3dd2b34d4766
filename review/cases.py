"""One review case as an operator reads it: the contested takes with what the plate measured and whom the
checkout weighed, the walks of the people shown, and the charges a decision may change, from the
published review file (``review_evidence``, ``review_tracks``, ``review_charges``). No frame is stored:
the evidence is numbers and positions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import polars as pl

from review.decisions import Charge
from review.published import reading
from review.queue import OpenCase


@dataclass(frozen=True)
class Weighed:
    """Someone weighed as the taker, as they stood when the plate settled."""

    visit_id: str | None  # None: someone the gate did not admit
    likelihood: float
    distance_m: float
    stood_s: float | None
    moved_on_s: float | None
    lost_at_plate: bool


@dataclass(frozen=True)
class ContestedTake:
    """A take the case is about: what the plate measured, whom it was charged to and who else it may
    have been."""

    shelf_event_id: str
    plate_id: str
    product_id: str | None
    product_name: str | None
    action: str
    quantity: int | None
    detected_at: datetime
    weight_delta_g: float | None
    expected_weight_g: float | None
    plate_confidence: float | None
    charged_visit_id: str | None  # None: charged to nobody
    charged_to_case: bool
    confidence: float | None
    weighed: tuple[Weighed, ...]
    swaps_undone: int


@dataclass(frozen=True)
class CaseFile:
    """Everything the console shows of one case."""

    case: OpenCase
    takes: tuple[ContestedTake, ...]
    walks: pl.DataFrame  # shelf_event_id, visit_id, track_id, seconds_from_take, x_m, y_m
    charges: Mapping[str, Charge]  # by visit: the case's visit and every visit the evidence shows


_TAKES = """
    select shelf_event_id, plate_id, product_id, product_name, action, quantity, detected_at,
        weight_delta_g, expected_weight_g, plate_confidence, charged_visit_id, charged_to_case, confidence,
        candidates, swaps_undone
    from review.review_evidence
    where case_id = ?
    order by detected_at, shelf_event_id
"""
_WALKS = """
    select shelf_event_id, visit_id, track_id, seconds_from_take, x_m, y_m
    from review.review_tracks
    where case_id = ?
    order by shelf_event_id, visit_id, track_id, seconds_from_take
"""
_CHARGES = """
    select store_id, visit_id, shopper_id, purchase_id, product_id, units, unit_price_krw
    from review.review_charges
    where visit_id in ?
    order by visit_id, product_id
"""


def case_file(published: Path, case: OpenCase) -> CaseFile:
    """The case's evidence, walks and charges as last published."""
    with reading(published) as connection:
        takes = tuple(_take(*row) for row in connection.execute(_TAKES, [case.case_id]).fetchall())
        walks: pl.DataFrame = connection.sql(_WALKS, params=[case.case_id]).pl()
        shown = {case.visit_id} | {take.charged_visit_id for take in takes}
        shown |= {weighed.visit_id for take in takes for weighed in take.weighed}
        shown |= set(walks["visit_id"].drop_nulls().to_list())
        visits = sorted(visit for visit in shown if visit is not None)
        rows = connection.execute(_CHARGES, [visits]).fetchall() if visits else []
    return CaseFile(case, takes, walks, MappingProxyType(_charges(rows)))


def _take(
    shelf_event_id: str,
    plate_id: str,
    product_id: str | None,
    product_name: str | None,
    action: str,
    quantity: int | None,
    detected_at: datetime,
    weight_delta_g: float | None,
    expected_weight_g: float | None,
    plate_confidence: float | None,
    charged_visit_id: str | None,
    charged_to_case: bool,
    confidence: float | None,
    candidates: list[dict[str, Any]],
    swaps_undone: int,
) -> ContestedTake:
    return ContestedTake(
        shelf_event_id,
        plate_id,
        product_id,
        product_name,
        action,
        quantity,
        detected_at,
        weight_delta_g,
        expected_weight_g,
        plate_confidence,
        charged_visit_id,
        charged_to_case,
        confidence,
        tuple(Weighed(**candidate) for candidate in candidates),
        swaps_undone,
    )


def _charges(rows: list[tuple[Any, ...]]) -> dict[str, Charge]:
    lines: dict[str, tuple[tuple[str, str, str | None], dict[str, int], dict[str, int]]] = {}
    for store_id, visit_id, shopper_id, purchase_id, product_id, units, price in rows:
        _, units_of, prices = lines.setdefault(visit_id, ((store_id, shopper_id, purchase_id), {}, {}))
        if product_id is not None:
            units_of[product_id], prices[product_id] = units, price
    return {
        visit_id: Charge(
            store_id, visit_id, shopper_id, purchase_id, MappingProxyType(units), MappingProxyType(prices)
        )
        for visit_id, ((store_id, shopper_id, purchase_id), units, prices) in lines.items()
    }
