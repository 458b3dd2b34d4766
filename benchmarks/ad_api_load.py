"""Ad API under load: requests/s and latency of ``GET /v1/screens/{id}/ads`` from a separate process.

The API runs as ``walkout ads serve`` (one uvicorn process, as shipped) on loopback, on a data
directory that holds a published warehouse and a model (after ``walkout demo``, or ``walkout warehouse
build``). A thread keeps a shopper the model knows in front of every screen of the catalog (visits and
tracks published to Kafka every two seconds, so the live context, the ranking of a known shopper and
the impressions to Kafka are all in the measured path). This process then sends requests from
CONCURRENCY connections, round-robin over the screens, for SECONDS after a warm-up. Client and
server share the machine's cores, so the figures are a floor.

Run from the repository root:  .venv/bin/python benchmarks/ad_api_load.py [data dir] [concurrency]
"""

from __future__ import annotations

import asyncio
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np

from recsys.api.keys import screen_key, screens_of
from recsys.artifact import load_model
from walkout.broker import kafka_available
from walkout.catalog import load_catalog
from walkout.contracts import CameraTrack, Visit, VisitStatus, make_event_id
from walkout.edge import EdgeSigner
from walkout.kafka import create_topics, make_producer, publish
from walkout.settings import DEMO_KEYS, Settings

COMMAND = ".venv/bin/python benchmarks/ad_api_load.py"
CONCURRENCY = 32
WARM_UP_S = 3.0
SECONDS = 20.0
REFRESH_S = 2.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def keep_audiences(settings: Settings, shoppers: list[str], stop: threading.Event) -> None:
    """One known shopper per screen, their visit open and their track in the screen's zone."""
    catalog = load_catalog()
    producer = make_producer(settings)
    camera = EdgeSigner(settings.secret("edge_key"))  # as the store's cameras sign their tracks
    screens = sorted(screens_of(catalog).values(), key=lambda s: s.screen_id)
    opened_at = datetime.now(UTC)
    for tick in itertools.count():
        at = datetime.now(UTC)
        for screen, shopper in zip(screens, itertools.cycle(shoppers), strict=False):
            track_id = f"bench-{screen.screen_id}"
            visit_id = f"bench-{screen.screen_id}-{shopper}"
            if tick == 0:
                publish(
                    producer,
                    Visit(
                        event_id=make_event_id("bench-visit", visit_id),
                        store_id=screen.store.store_id,
                        ts=opened_at,
                        visit_id=visit_id,
                        shopper_id=shopper,
                        status=VisitStatus.OPENED,
                        group_size=1,
                        track_ids=(track_id,),
                        entered_at=opened_at,
                    ),
                )
            zone = screen.store.zone(screen.screen.zone_id)
            publish(
                producer,
                CameraTrack(
                    event_id=make_event_id("bench-track", track_id, tick),
                    store_id=screen.store.store_id,
                    ts=at,
                    camera_id=f"{screen.store.store_id}-CAM1",
                    track_id=track_id,
                    x_m=round((zone.x0 + zone.x1) / 2, 2),
                    y_m=round((zone.y0 + zone.y1) / 2, 2),
                    zone_id=zone.zone_id,
                ),
                signer=camera,
            )
        producer.flush()
        if stop.wait(REFRESH_S):
            break
    producer.close()


async def load(base: str, seconds: float, concurrency: int) -> tuple[list[float], int, int]:
    """Latencies (s) of the requests after the warm-up, and the count of non-200 answers or none."""
    screens = sorted(screens_of(load_catalog()))
    next_screen = itertools.cycle(screens)
    latencies: list[float] = []
    failures = 0
    warm_until = time.perf_counter() + WARM_UP_S
    end = warm_until + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal failures
            while (now := time.perf_counter()) < end:
                screen = next(next_screen)
                headers = {"Authorization": f"Bearer {screen_key(DEMO_KEYS['ad_api_key'], screen)}"}
                try:
                    response = await client.get(f"/v1/screens/{screen}/ads?n=3", headers=headers)
                    answered = response.status_code == 200
                except httpx.TransportError:  # no answer (a timeout, a dropped connection): a failure too
                    answered = False
                if now >= warm_until:
                    latencies.append(time.perf_counter() - now)
                    failures += not answered

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, failures, len(screens)


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the API exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit("the API did not become ready")


def main() -> None:
    data_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "data").resolve()
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else CONCURRENCY
    settings = Settings(data_dir=data_dir, demo_keys=True)  # a benchmark signs and serves with the demo keys
    model = load_model(settings.paths.recsys_dir)  # fails clearly without one: run `walkout demo` first
    with kafka_available(settings) as bootstrap:
        create_topics(settings)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        environment = os.environ | {"WALKOUT_DATA_DIR": str(data_dir), "WALKOUT_KAFKA_BOOTSTRAP": bootstrap}
        server = subprocess.Popen(
            [sys.executable, "-m", "walkout", "ads", "serve", "--port", str(port)],
            env=environment,
            stdout=subprocess.DEVNULL,
        )
        stop = threading.Event()
        audiences = threading.Thread(
            target=keep_audiences, args=(settings, list(model.history.shoppers[:50]), stop), daemon=True
        )
        try:
            wait_ready(base, server)
            audiences.start()
            time.sleep(REFRESH_S * 2)  # the live feed applies the first audiences
            latencies, failures, screens = asyncio.run(load(base, SECONDS, concurrency))
        finally:
            stop.set()
            server.terminate()
            server.wait(timeout=30)
    milliseconds = np.array(latencies) * 1000
    shape = f"{len(model.history.shoppers):,} shoppers x {len(model.history.products)} products"
    print(f"model {model.version}: {shape}")
    print(f"{screens} screens, a known shopper in front of each, {concurrency} connections, {SECONDS:.0f} s")
    print("| requests | failed | requests/s | p50 | p90 | p99 |")
    print("|---|---|---|---|---|---|")
    print(
        f"| {len(latencies):,} | {failures} | {len(latencies) / SECONDS:,.0f} | "
        + " | ".join(f"{np.percentile(milliseconds, q):.1f} ms" for q in (50, 90, 99))
        + " |"
    )
    print(f"reproduce: {COMMAND} {data_dir} {concurrency}")


if __name__ == "__main__":
    main()
