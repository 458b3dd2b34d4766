"""``walkout recsys``: recommendation models evaluated against baselines, and trained from the warehouse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.options import JsonOption, console
from walkout.settings import get_settings

recsys_app = typer.Typer(help="Recommendations: implicit ALS against baselines.", no_args_is_help=True)

ListLengthOption = Annotated[int, typer.Option(min=1, help="Length of each recommendation list.")]
TestDaysOption = Annotated[
    int, typer.Option(min=1, help="Last days held out for the test; as many before them tune the models.")
]


@recsys_app.command("evaluate")
def recsys_evaluate(
    interactions: Annotated[
        Path, typer.Option(help="CSV or Parquet with shopper_id, product_id, ts, quantity (weight optional).")
    ],
    k: ListLengthOption = 10,
    test_days: TestDaysOption = 7,
    as_json: JsonOption = False,
) -> None:
    """Tune ALS, BPR and item-item models and compare them with popularity and personal frequency."""
    from recsys.evaluate import evaluate_interactions
    from recsys.interactions import read_interactions
    from recsys.report import evaluation_table

    evaluation = evaluate_interactions(read_interactions(interactions), k, test_days)
    if as_json:
        print(json.dumps(evaluation.as_dict()))
        return
    console.print(evaluation_table(evaluation.as_dict()))


@recsys_app.command("train")
def recsys_train(
    k: ListLengthOption = 10,
    test_days: TestDaysOption = 7,
) -> None:
    """Evaluate, tune and train a new model version from the published warehouse, as its Dagster asset."""
    from recsys.report import evaluation_table
    from recsys.train import train_from_warehouse

    settings = get_settings()
    directory = settings.paths.recsys_dir
    model = train_from_warehouse(settings.paths.published_warehouse_file, directory, k, test_days)
    evaluation = model.manifest["evaluation"]
    console.print(
        f"model {model.version}: {len(model.history.shoppers)} shoppers x {len(model.history.products)} "
        f"products, in {directory.resolve()}"
    )
    if evaluation is None:
        console.print(f"not evaluated: {model.manifest['evaluation_skipped']}")
        return
    console.print(evaluation_table(evaluation))
