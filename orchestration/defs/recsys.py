"""The recommendation model: trained and evaluated from the published marts after every warehouse build.

It sits with the published warehouse (group ``published``): both are what readers load, the ad API
this model's newest version, which it picks up without a restart.
"""

import dagster as dg

from orchestration.defs.warehouse import published_warehouse
from orchestration.resources import WarehouseResource
from recsys.artifact import model_path
from recsys.train import train_from_warehouse


@dg.asset(
    key=["published", "recsys_model"],
    group_name="published",
    kinds={"python"},
    deps=[published_warehouse],
    description="Implicit ALS with a repurchase prior, tuned and evaluated on a time split against "
    "baselines, written as a new artifact version for the ad API.",
)
def recsys_model(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult[None]:
    paths = warehouse.paths
    directory = paths.recsys_dir
    model = train_from_warehouse(paths.published_warehouse_file, directory)
    manifest = model.manifest
    metadata: dict[str, dg.RawMetadataValue] = {
        "version": model.version,
        "path": str(model_path(directory, model.version)),
        "shoppers": len(model.history.shoppers),
        "products": len(model.history.products),
        "training": dg.MetadataValue.json(manifest["training"]),
    }
    evaluation = manifest["evaluation"]
    if evaluation is None:
        context.log.warning(f"model trained without evaluation: {manifest['evaluation_skipped']}")
        metadata["evaluation_skipped"] = manifest["evaluation_skipped"]
    else:
        ndcg = f"ndcg@{evaluation['k']}"
        for name, item_sets in evaluation["models"].items():
            for items, metrics in item_sets.items():
                metadata[f"test {ndcg} {name} ({items})"] = metrics[ndcg]
    return dg.MaterializeResult(metadata=metadata)


defs = dg.Definitions(assets=[recsys_model])
