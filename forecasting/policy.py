"""The forecast and replenishment policy: horizons, backtest folds, interval levels, service level,
review periods and lead-time overrides, read from a small YAML file (``policy.yaml`` beside this module,
or ``<data dir>/forecasting.yaml`` when a deployment has one)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from forecasting.errors import ForecastError
from walkout.data_dir import DataDir

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ForecastSettings(_Strict):
    horizon_days: int = Field(14, ge=1, le=90)
    backtest_horizon_days: int = Field(7, ge=1, le=90)
    backtest_folds: int = Field(3, ge=2, le=20)
    interval_levels: tuple[int, ...] = (80, 95)
    n_jobs: int = Field(1, ge=1)

    @field_validator("interval_levels")
    @classmethod
    def _levels_are_percentages(cls, levels: tuple[int, ...]) -> tuple[int, ...]:
        if not levels or any(not 0 < level < 100 for level in levels):
            raise ValueError("levels must be percentages between 0 and 100, e.g. [80, 95]")
        return tuple(sorted(set(levels)))


class LeadTimeOverrides(_Strict):
    suppliers: dict[str, int] = Field(default_factory=dict)
    products: dict[str, int] = Field(default_factory=dict)


class ReplenishmentPolicy(_Strict):
    service_level: float = Field(0.95, gt=0.5, lt=1.0)
    review_period_days: dict[str, int] = Field(default_factory=lambda: {"default": 1})
    lead_time_days: LeadTimeOverrides = Field(default_factory=LeadTimeOverrides)

    @field_validator("review_period_days")
    @classmethod
    def _has_a_default(cls, periods: dict[str, int]) -> dict[str, int]:
        if "default" not in periods:
            raise ValueError("needs a 'default' entry for categories not listed")
        if any(days < 1 for days in periods.values()):
            raise ValueError("review periods are whole days, at least 1")
        return periods

    def review_period(self, category: str) -> int:
        """Days between two orders of a product of ``category``."""
        return self.review_period_days.get(category, self.review_period_days["default"])

    def lead_time(self, product_id: str, supplier_id: str, catalog_days: int) -> int:
        """The product's lead time: its override, else its supplier's, else the catalog's."""
        overrides = self.lead_time_days
        return overrides.products.get(product_id, overrides.suppliers.get(supplier_id, catalog_days))


class Policy(_Strict):
    forecast: ForecastSettings = Field(default_factory=ForecastSettings)
    replenishment: ReplenishmentPolicy = Field(default_factory=ReplenishmentPolicy)


def load_policy(path: Path = DEFAULT_POLICY) -> Policy:
    """Read and check a policy file; a bad one raises :class:`ForecastError` naming the field."""
    try:
        return Policy.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except OSError as error:
        raise ForecastError(f"cannot read the forecast policy {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise ForecastError(f"forecast policy {path} is not YAML: {error}") from None
    except ValidationError as error:
        detail = error.errors(include_url=False)[0]
        field = ".".join(str(part) for part in detail["loc"])
        raise ForecastError(f"forecast policy {path}: {field}: {detail['msg']}") from None


def policy_of(paths: DataDir) -> Policy:
    """The policy of a data directory: its ``forecasting.yaml`` if there is one, else the default."""
    own = paths.forecast_policy_file
    return load_policy(own if own.exists() else DEFAULT_POLICY)
