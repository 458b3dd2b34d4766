"""An evaluation report (``Evaluation.as_dict()``, also kept in each model's manifest) as a terminal table."""

from __future__ import annotations

from typing import Any

from rich.table import Table

ITEM_SETS = {"all": "all", "new_items": "new"}
METRICS = {"precision": "P", "map": "MAP", "ndcg": "NDCG"}


def evaluation_table(report: dict[str, Any]) -> Table:
    """One row per model: precision, MAP and NDCG at k on all products and on products new to the shopper."""
    k, window, scored = report["k"], report["window"], report["scored_users"]
    table = Table(
        "model",
        *(f"{short}@{k} {items}" for items in ITEM_SETS.values() for short in METRICS.values()),
        title=f"test {window['test_from'][:10]}..{window['last'][:10]}: {scored['all']} shoppers, "
        f"{scored['new_items']} bought something new to them (served: {report['served']})",
    )
    for name, item_sets in report["models"].items():
        table.add_row(
            name,
            *(f"{item_sets[items][f'{metric}@{k}']:.4f}" for items in ITEM_SETS for metric in METRICS),
        )
    return table
