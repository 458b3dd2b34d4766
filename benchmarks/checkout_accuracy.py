"""Checkout accuracy over many store-days: exact receipts and review rate per store-day and overall.

Each store-day of the digital twin (default fault rates unless overridden) goes through the service's
fusion in event-time order (:func:`realtime.checkout.replay.replay_checkout`, as the service's
ordering buffer feeds it; no Kafka, so many days fit in a minute or two), and its receipts are scored
against the ground truth as ``walkout checkout evaluate`` scores them.

``--cameras pipeline`` films each store-day and takes the real ceiling pipeline's tracks instead of
the stand-in tracker's (minutes a store-day); ``--without-looks`` strips the tracks of their colours
(mean colour and appearance) before the checkout sees them, to show what the looks are worth;
``--without-appearance`` strips only the appearance, to show what it adds to the mean colour.

Run from the repository root:
    .venv/bin/python benchmarks/checkout_accuracy.py [--seeds 11 12 13] [--fault id_switch_prob=0 ...]
        [--cameras pipeline] [--without-looks | --without-appearance]
"""

from __future__ import annotations

import argparse
import statistics
from datetime import date

from realtime.checkout.replay import replay_checkout
from twin.checkout_evaluate import CheckoutScore, WrongReceipts, explain_wrong_receipts, score_receipts
from twin.run import SimulationPlan, fault_rates, simulate_store_days
from walkout.catalog import load_catalog
from walkout.contracts import CameraTrack, Event, Purchase
from walkout.vocabulary import CameraSource

COMMAND = ".venv/bin/python benchmarks/checkout_accuracy.py"
STORES = ("S001", "S002", "S003")
DAY = date(2026, 11, 18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13])
    parser.add_argument("--stores", nargs="+", default=list(STORES))
    parser.add_argument("--day", type=date.fromisoformat, default=DAY, help="the simulated day (YYYY-MM-DD)")
    parser.add_argument("--fault", nargs="*", default=[], metavar="NAME=RATE")
    parser.add_argument(
        "--cameras", type=CameraSource, choices=list(CameraSource), default=CameraSource.STAND_IN
    )
    unseen = parser.add_mutually_exclusive_group()
    unseen.add_argument("--without-looks", action="store_true", help="strip camera.tracks of their looks")
    unseen.add_argument("--without-appearance", action="store_true", help="strip only their appearance")
    args = parser.parse_args()
    catalog = load_catalog()
    scores: list[CheckoutScore] = []
    causes = WrongReceipts()
    print(
        "| store | seed | visits | exact receipts | review of the charge | age checks | wrong, not flagged "
        "| line precision | line recall |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for store_id in args.stores:
        for seed in args.seeds:
            plan = SimulationPlan(
                (store_id,), args.day, 1, seed=seed, faults=fault_rates(args.fault), cameras=args.cameras
            )
            for store_day in simulate_store_days(catalog, plan):
                events = (event for _, event in store_day.events)
                if args.without_looks or args.without_appearance:
                    unseen = ("appearance",) if args.without_appearance else ("colour_lab", "appearance")
                    events = (_without(event, unseen) for event in events)
                outputs = replay_checkout(catalog, store_id, events)
                receipts = [event for event in outputs if isinstance(event, Purchase)]
                score = score_receipts(receipts, store_day.truth.visits, store_day.truth.receipts)
                scores.append(score)
                delivered = (event for _, event in store_day.events)
                causes += explain_wrong_receipts(receipts, store_day.truth, delivered, store_day.lost)
                print(
                    f"| {store_id} | {seed} | {score.visits} | {score.exact_receipt_rate:.4f} | "
                    f"{score.charge_review_rate:.2%} | {score.age_check_rate:.2%} | "
                    f"{score.wrong_unflagged_rate:.2%} | "
                    f"{score.line_precision:.4f} | {score.line_recall:.4f} |"
                )
    exact = [score.exact_receipt_rate for score in scores]
    review = [score.charge_review_rate for score in scores]
    age_checks = [score.age_check_rate for score in scores]
    unflagged = [score.wrong_unflagged_rate for score in scores]
    print(
        f"mean of {len(scores)} store-days: exact receipts {statistics.mean(exact):.4f} "
        f"(worst {min(exact):.4f}), review of the charge {statistics.mean(review):.2%} "
        f"(most {max(review):.2%}), "
        f"age checks {statistics.mean(age_checks):.2%}, "
        f"wrong and not flagged {statistics.mean(unflagged):.2%}"
    )
    visits = sum(score.visits for score in scores)
    print(
        f"wrong receipts by cause, of {visits} visits: {causes.lost_message} a shelf message lost on the way "
        f"({causes.lost_message / visits:.2%}), {causes.shelf_misread} a plate misread "
        f"({causes.shelf_misread / visits:.2%}), {causes.wrong_shopper} an item given to the wrong shopper "
        f"({causes.wrong_shopper / visits:.2%})"
    )
    options = f" --fault {' '.join(args.fault)}" if args.fault else ""
    if args.day != DAY:
        options += f" --day {args.day}"
    if args.cameras is not CameraSource.STAND_IN:
        options += f" --cameras {args.cameras}"
    if args.without_looks:
        options += " --without-looks"
    if args.without_appearance:
        options += " --without-appearance"
    seeds = " ".join(map(str, args.seeds))
    print(f"reproduce: {COMMAND} --stores {' '.join(args.stores)} --seeds {seeds}{options}")


def _without(event: Event, fields: tuple[str, ...]) -> Event:
    unseen = dict.fromkeys(fields)
    return event.model_copy(update=unseen) if isinstance(event, CameraTrack) else event


if __name__ == "__main__":
    main()
