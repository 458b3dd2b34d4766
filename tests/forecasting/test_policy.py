"""The forecast and replenishment policy: the shipped default, a data directory's own, bad files."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecasting.errors import ForecastError
from forecasting.policy import DEFAULT_POLICY, ReplenishmentPolicy, load_policy, policy_of
from walkout.data_dir import DataDir


def test_the_default_policy_loads() -> None:
    policy = load_policy()
    assert policy.forecast.horizon_days == 14
    assert policy.forecast.interval_levels == (80, 95)
    assert policy.replenishment.review_period("fresh_food") == 1
    assert (
        policy.replenishment.review_period("no_such_category")
        == policy.replenishment.review_period_days["default"]
    )


def test_a_data_directory_may_have_its_own(tmp_path: Path) -> None:
    paths = DataDir(tmp_path)
    assert policy_of(paths) == load_policy(DEFAULT_POLICY)
    paths.forecast_policy_file.write_text("forecast: {horizon_days: 21, interval_levels: [95, 50]}\n")
    own = policy_of(paths)
    assert own.forecast.horizon_days == 21
    assert own.forecast.interval_levels == (50, 95)


def test_lead_time_overrides_win_product_first() -> None:
    policy = ReplenishmentPolicy.model_validate(
        {"lead_time_days": {"suppliers": {"SUP01": 4}, "products": {"P0001": 1}}}
    )
    assert policy.lead_time("P0001", "SUP01", 2) == 1
    assert policy.lead_time("P0002", "SUP01", 2) == 4
    assert policy.lead_time("P0003", "SUP02", 2) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("forecast: {interval_levels: [80, 120]}", "forecast.interval_levels"),
        ("replenishment: {service_level: 1.5}", "replenishment.service_level"),
        ("replenishment: {review_period_days: {fresh_food: 1}}", "needs a 'default' entry"),
        ("forecast: {horizon: 14}", "forecast.horizon: Extra inputs are not permitted"),
        ("forecast: [unclosed", "is not YAML"),
    ],
)
def test_a_bad_policy_names_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    with pytest.raises(ForecastError, match=message):
        load_policy(path)
