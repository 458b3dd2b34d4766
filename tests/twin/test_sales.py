"""The twin's true receipts become the zero-filled daily series forecasting reads."""

from __future__ import annotations

import pytest

from forecasting.sales import UNITS, SalesHistory
from walkout.catalog import load_catalog


@pytest.mark.slow
def test_the_twin_history_has_every_carried_product_on_every_day(twin_sales: SalesHistory) -> None:
    store = load_catalog().store("S002")
    carried = {plate.product_id for plate in store.plates}
    assert set(twin_sales.keys["product_id"]) == carried
    assert twin_sales.series.height == len(carried) * twin_sales.days
    assert twin_sales.series[UNITS].sum() > 0
    assert twin_sales.days == 42
