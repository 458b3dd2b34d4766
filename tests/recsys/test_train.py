"""The served model: trained from the published marts, written as atomic versions, and the Dagster asset."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import numpy as np
import pytest
import scipy.sparse as sp

from orchestration.build import build_warehouse
from orchestration.definitions import build_definitions
from realtime.checkout.replay import replay_checkout
from realtime.lander import land_offline
from recsys import RecsysError
from recsys.artifact import KEEP_VERSIONS, ServedModel, current_version, load_model, write_model
from recsys.evaluate import SERVED_MODEL
from recsys.interactions import UserItems
from recsys.models import FactorModel
from twin.run import StoreDay
from walkout.catalog import load_catalog
from walkout.settings import Settings


@pytest.mark.slow
def test_training_writes_the_evaluated_model_with_its_window(model_dir: Path) -> None:
    model = load_model(model_dir)
    assert current_version(model_dir) == model.version
    manifest = model.manifest
    assert manifest["model"] == SERVED_MODEL
    assert manifest["evaluation_skipped"] is None
    assert manifest["evaluation"]["window"]["test_from"] == "2026-10-05T00:00:00+00:00"
    assert (
        manifest["hyperparameters"]["repurchase_weight"]
        == manifest["evaluation"]["tuning"][SERVED_MODEL]["repurchase_weight"]
    )
    assert manifest["training"]["first_ts"].startswith("2026-09-1")
    assert manifest["training"]["last_ts"].startswith("2026-10-11")
    assert len(model.history.products) > 200
    assert {"0-18:female", "30-39:male", "60plus:female"} <= set(model.segments)
    shopper = model.history.shoppers[0]
    assert model.shopper_scores(shopper).shape == (len(model.history.products),)


def tiny_model(version: str) -> ServedModel:
    bought = sp.csr_matrix(np.array([[1.0, 0.0]], dtype=np.float32))
    return ServedModel(
        version=version,
        manifest={"model": SERVED_MODEL},
        factors=FactorModel(np.ones((1, 2), np.float32), np.ones((2, 2), np.float32), 1.0),
        history=UserItems(("M1",), ("P1", "P2"), bought, bought),
        popularity=np.array([1.0, 0.0], np.float32),
        segments={"19-29:male": np.array([0.0, 2.0], np.float32)},
    )


def test_versions_replace_each_other_whole_and_old_ones_go(tmp_path: Path) -> None:
    for number in range(KEEP_VERSIONS + 2):
        write_model(tmp_path, tiny_model(f"2026112{number}T000000000000Z"))
    assert current_version(tmp_path) == f"2026112{KEEP_VERSIONS + 1}T000000000000Z"
    assert len(list(tmp_path.glob("model-*.npz"))) == KEEP_VERSIONS
    assert not list(tmp_path.glob(".*"))  # no partial file left behind
    model = load_model(tmp_path)
    assert model.manifest["version"] == model.version
    assert model.segment_scores("19-29:male").tolist() == [0.0, 2.0]
    assert model.segment_scores("unknown:unknown").tolist() == [1.0, 0.0]
    assert model.bought_before("M1").tolist() == [True, False]
    assert model.shopper_scores("M1").tolist() == pytest.approx([2.0 + np.log(2.0), 2.0])


def test_no_model_yet_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RecsysError, match=r"no recommendation model in .*walkout recsys train"):
        load_model(tmp_path)
    (tmp_path / "CURRENT").write_text("20260101T000000000000Z\n")
    with pytest.raises(RecsysError, match="cannot load recommendation model"):
        load_model(tmp_path)


def test_the_warehouse_job_trains_the_model_after_publishing(tmp_path: Path) -> None:
    definitions = build_definitions(Settings(data_dir=tmp_path))
    model = dg.AssetKey(["published", "recsys_model"])
    assert definitions.resolve_asset_graph().get(model).parent_keys == {
        dg.AssetKey(["published", "warehouse"])
    }
    assert model in definitions.resolve_job_def("warehouse").asset_layer.selected_asset_keys


@pytest.mark.slow
def test_a_real_build_of_one_day_trains_a_model_without_evaluation(
    tmp_path: Path, simulated_day: list[StoreDay]
) -> None:
    settings = Settings(data_dir=tmp_path)
    (store_day,) = simulated_day
    edge = [event for _, event in store_day.events]
    land_offline(settings, edge + replay_checkout(load_catalog(), store_day.store_id, edge))
    build = build_warehouse(settings)
    assert build.published_path.exists()
    model = load_model(settings.paths.recsys_dir)
    assert model.manifest["evaluation"] is None
    assert "needs more than 14 days of history" in model.manifest["evaluation_skipped"]
    assert len(model.history.shoppers) > 50
