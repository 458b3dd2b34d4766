"""The served model as versioned files, written whole and then renamed, so a reader never sees half of one.

A data directory's ``recsys_dir`` (``artifacts/recsys/``, see :class:`walkout.data_dir.DataDir`) holds
``model-<version>.npz`` (factors, the shoppers' histories, popularity overall and per demographic
segment, and a JSON manifest: hyperparameters, metrics, data window) and ``CURRENT``, the version
readers load, replaced by a rename once its model file is in place. Versions are written and pruned by
:mod:`walkout.versions`: the last few are kept so a reader still loading one never loses it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from recsys import RecsysError
from recsys.interactions import UserItems
from recsys.models import FactorModel, Scores
from walkout.files import write_atomically
from walkout.versions import write_version

KEEP_VERSIONS = 5
POINTER = "CURRENT"
MODEL_PREFIX, MODEL_SUFFIX = "model-", ".npz"


@dataclass(frozen=True)
class ServedModel:
    """What the ad API needs to recommend: the learned factors, the histories and the cold-start scores."""

    version: str
    manifest: dict[str, Any]
    factors: FactorModel
    history: UserItems
    popularity: Scores
    segments: dict[str, Scores]
    _rows: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_rows", {shopper: row for row, shopper in enumerate(self.history.shoppers)})

    def knows(self, shopper_id: str) -> bool:
        return shopper_id in self._rows

    def shopper_scores(self, shopper_id: str) -> Scores:
        """Scores of every product for a shopper the model knows (see :meth:`knows`)."""
        rows = np.array([self._rows[shopper_id]], dtype=np.int64)
        scores: Scores = self.factors.scores(rows, self.history)[0]
        return scores

    def bought_before(self, shopper_id: str) -> npt.NDArray[np.bool_]:
        """Which products the shopper has bought (all False for an unknown shopper)."""
        if not self.knows(shopper_id):
            return np.zeros(len(self.history.products), dtype=bool)
        row = self._rows[shopper_id]
        bought: npt.NDArray[np.bool_] = self.history.bought[row].toarray()[0] > 0
        return bought

    def segment_scores(self, segment: str | None) -> Scores:
        """Units bought per product by a demographic segment; the whole chain's for an unknown segment."""
        scores: Scores = self.segments.get(segment or "", self.popularity)
        return scores


def model_path(directory: Path, version: str) -> Path:
    return directory / f"{MODEL_PREFIX}{version}{MODEL_SUFFIX}"


def _matrix_arrays(name: str, matrix: sp.csr_matrix) -> dict[str, npt.NDArray[Any]]:
    return {f"{name}_data": matrix.data, f"{name}_indices": matrix.indices, f"{name}_indptr": matrix.indptr}


def _matrix(arrays: Any, name: str, shape: tuple[int, int]) -> sp.csr_matrix:
    parts = (arrays[f"{name}_data"], arrays[f"{name}_indices"], arrays[f"{name}_indptr"])
    return sp.csr_matrix(parts, shape=shape)


def write_model(directory: Path, model: ServedModel) -> Path:
    """Write ``model`` as its version's file, then point ``CURRENT`` at it; older versions beyond a few go."""
    segments = sorted(model.segments)
    arrays: dict[str, Any] = {
        "manifest": np.array(json.dumps(model.manifest | {"version": model.version})),
        "shoppers": np.array(model.history.shoppers, dtype=str),
        "products": np.array(model.history.products, dtype=str),
        "user_factors": model.factors.user_factors,
        "item_factors": model.factors.item_factors,
        "repurchase_weight": np.array(model.factors.repurchase_weight),
        "popularity": model.popularity,
        "segment_names": np.array(segments, dtype=str),
        "segment_scores": np.array([model.segments[name] for name in segments], dtype=np.float32).reshape(
            len(segments), len(model.history.products)
        ),
        **_matrix_arrays("confidence", model.history.confidence),
        **_matrix_arrays("bought", model.history.bought),
    }

    def save(partial: Path) -> None:
        with partial.open("wb") as file:  # a file object: np.savez would add ".npz" to a bare temp name
            np.savez(file, **arrays)

    target = write_version(directory, model.version, MODEL_SUFFIX, save, KEEP_VERSIONS, MODEL_PREFIX)
    write_atomically(directory / POINTER, lambda pointer: pointer.write_text(model.version + "\n"))
    return target


def current_version(directory: Path) -> str | None:
    """The version ``CURRENT`` names, or None before the first model."""
    try:
        return (directory / POINTER).read_text().strip() or None
    except FileNotFoundError:
        return None


def load_model(directory: Path, version: str | None = None) -> ServedModel:
    """The given version, or the current one; :class:`RecsysError` when there is none."""
    version = version or current_version(directory)
    if version is None:
        raise RecsysError(f"no recommendation model in {directory}: train one first (walkout recsys train)")
    path = model_path(directory, version)
    try:
        with np.load(path, allow_pickle=False) as arrays:
            shoppers = tuple(str(s) for s in arrays["shoppers"])
            products = tuple(str(p) for p in arrays["products"])
            shape = (len(shoppers), len(products))
            history = UserItems(
                shoppers, products, _matrix(arrays, "confidence", shape), _matrix(arrays, "bought", shape)
            )
            factors = FactorModel(
                arrays["user_factors"], arrays["item_factors"], float(arrays["repurchase_weight"])
            )
            segments = dict(
                zip((str(s) for s in arrays["segment_names"]), arrays["segment_scores"], strict=True)
            )
            manifest: dict[str, Any] = json.loads(str(arrays["manifest"]))
            popularity = arrays["popularity"]
    except (OSError, KeyError, ValueError) as error:
        raise RecsysError(f"cannot load recommendation model {path}: {error}") from None
    return ServedModel(version, manifest, factors, history, popularity, segments)
