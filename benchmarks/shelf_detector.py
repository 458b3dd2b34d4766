"""Shelf plate detector: throughput and quality on a busy simulated day and on one long plate stream.

Run from the repository root:  .venv/bin/python benchmarks/shelf_detector.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from ingestion.shelf import detect_plate_events
from twin.plates import PlateInteraction, synthesize_plate_window
from twin.shelf_evaluate import score_detections, simulate_noisy_day

COMMAND = ".venv/bin/python benchmarks/shelf_detector.py"
STORE_PLATES = 300  # GS25 Eulji: ~300 weight sensors
HZ = 60
DAY_SAMPLES = STORE_PLATES * HZ * 86_400


def bench_noisy_day(seed: int, n_plates: int, picks_per_plate: float) -> None:
    """Windows around every episode of a busy day, synthesized, detected and scored."""
    began = time.perf_counter()
    day = simulate_noisy_day(np.random.default_rng(seed), n_plates, picks_per_plate)
    wall_s = time.perf_counter() - began
    score = day.score
    print(f"noisy day: {n_plates} plates x {picks_per_plate:g} episodes/plate, seed {seed}")
    print(
        f"  {day.n_interactions:,} hands ({day.n_put_backs:,} put-backs, {day.n_two_hands:,} two-hands), "
        f"{day.n_idle_windows:,} idle windows, {day.n_samples:,} samples in windows"
    )
    print(
        f"  precision {score.precision:.4f}  recall {score.recall:.4f}  "
        f"quantity accuracy {score.quantity_accuracy:.4f}  "
        f"({score.n_matched:,} matched of {score.n_true:,} true, {score.n_detected:,} detected)"
    )
    print(
        f"  detector {day.samples_per_s / 1e6:.2f} M samples/s over short windows "
        f"({day.detect_s:.2f} s); synthesis + detection + scoring {wall_s:.1f} s wall"
    )


def bench_plate_stream(seed: int, minutes: float, unit_weight_g: float = 80.0) -> None:
    """One plate's continuous stream (the edge's real workload): a hand every 8-60 s, drift, glitches."""
    rng = np.random.default_rng(seed)
    duration_s = minutes * 60.0
    touches = np.cumsum(rng.uniform(8.0, 60.0, int(duration_s / 8.0)))
    touches = touches[touches < duration_s - 10.0]
    units = np.where(
        rng.random(touches.size) < 0.15, 1, -rng.choice([1, 2, 3], touches.size, p=[0.8, 0.15, 0.05])
    )
    hands = [
        PlateInteraction(float(at), float(n * unit_weight_g), rng.uniform(0.6, 2.5))
        for at, n in zip(touches, units, strict=True)
    ]
    signal = synthesize_plate_window(
        rng, 600.0 + 200 * unit_weight_g, hands, 0.0, duration_s, drift_g_per_min=5.0, spikes_per_min=0.5
    )
    began = time.perf_counter()
    detected = detect_plate_events(signal, unit_weight_g)
    detect_s = time.perf_counter() - began
    score = score_detections(
        [(h.at_s, h.delta_g, abs(int(n))) for h, n in zip(hands, units, strict=True)], detected
    )
    rate = signal.grams.size / detect_s
    print(f"plate stream: {minutes:g} min at {HZ} Hz, {signal.grams.size:,} samples, {len(hands)} hands")
    print(
        f"  precision {score.precision:.4f}  recall {score.recall:.4f}  "
        f"quantity accuracy {score.quantity_accuracy:.4f}"
    )
    print(
        f"  detector {rate / 1e6:.2f} M samples/s ({detect_s * 1000:.1f} ms); "
        f"a store's {STORE_PLATES} plates need {STORE_PLATES * HZ:,} samples/s: "
        f"{rate / (STORE_PLATES * HZ):,.0f}x real time on one core; "
        f"a whole day ({DAY_SAMPLES / 1e9:.2f} G samples) would take {DAY_SAMPLES / rate / 60:.1f} min"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--plates", type=int, default=STORE_PLATES)
    parser.add_argument("--picks-per-plate", type=float, default=40.0)
    parser.add_argument("--stream-minutes", type=float, default=60.0)
    args = parser.parse_args()
    bench_noisy_day(args.seed, args.plates, args.picks_per_plate)
    bench_plate_stream(args.seed, args.stream_minutes)
    print(
        f"reproduce: {COMMAND} --seed {args.seed} --plates {args.plates} "
        f"--picks-per-plate {args.picks_per_plate:g} --stream-minutes {args.stream_minutes:g}"
    )


if __name__ == "__main__":
    main()
