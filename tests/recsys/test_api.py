"""The ad-screen API through HTTP: keys, every business rule, cold start, reasons, hot reload, metrics,
the member app's disputes, and the Kafka side (live context from the topics, impressions to
``ad.impressions``, disputes to ``receipt.disputes``).

Apart from the Kafka tests the live context is fed events directly and impressions and disputes go to
lists. The
published warehouse and the model come from the simulated history (``published_marts``, ``model_dir``).
"""

from __future__ import annotations

import itertools
import logging
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from fastapi.testclient import TestClient

from recsys.api.app import create_app
from recsys.api.context import LiveContext
from recsys.api.feed import follow_live_topics
from recsys.api.keys import member_app_key, screen_key
from recsys.artifact import ServedModel, load_model, write_model
from walkout.broker import EmbeddedBroker
from walkout.catalog import Category, ZoneKind, load_catalog
from walkout.contracts import (
    AdImpression,
    CameraTrack,
    DisputeKind,
    Event,
    ReceiptDispute,
    ShelfAction,
    ShelfEvent,
    Visit,
    VisitStatus,
    dispute_id,
    make_event_id,
    parse_event,
)
from walkout.edge import EdgeSigner
from walkout.kafka import bootstrap_servers, create_topics, drain, make_consumer, make_producer, publish
from walkout.live import STALE_S
from walkout.settings import DEMO_KEYS, Settings
from walkout.versions import new_version
from walkout.vocabulary import AgeBand, DemographicSource

SCREEN = "S002-AD2"
NOON_KST = datetime(2026, 11, 24, 3, tzinfo=UTC)
ELEVEN_PM_KST = datetime(2026, 11, 24, 14, tzinfo=UTC)
CATALOG = load_catalog()
STORE = CATALOG.store("S002")
CAMERA = EdgeSigner(DEMO_KEYS["edge_key"])  # tracks reach the live feed signed by their camera
SCREEN_ZONE = STORE.zone(next(s.zone_id for s in STORE.ad_screens if s.ad_screen_id == SCREEN))
ENTRANCE = next(zone for zone in STORE.zones if zone.kind is ZoneKind.ENTRANCE)
_ids = itertools.count()


def restricted(product_id: str) -> bool:
    return CATALOG.product(product_id).age_restricted


@dataclass
class Sink:
    impressions: list[AdImpression] = field(default_factory=list)

    def publish(self, impressions: Any) -> None:
        self.impressions.extend(impressions)


@dataclass
class Filed:
    disputes: list[ReceiptDispute] = field(default_factory=list)

    def file(self, dispute: ReceiptDispute) -> None:
        self.disputes.append(dispute)


@dataclass
class Api:
    client: TestClient
    context: LiveContext
    sink: Sink
    clock: list[datetime]
    filed: Filed

    def ads(self, screen: str = SCREEN, n: int = 3) -> dict[str, Any]:
        response = self.client.get(f"/v1/screens/{screen}/ads?n={n}", headers=screen_auth(screen))
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def products(self, n: int = 3) -> list[str]:
        return [ad["product_id"] for ad in self.ads(n=n)["ads"]]

    def health(self) -> tuple[int, dict[str, Any]]:
        response = self.client.get("/healthz")
        return response.status_code, response.json()


def screen_auth(screen: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {screen_key(DEMO_KEYS['ad_api_key'], screen)}"}


APP_AUTH = {"Authorization": f"Bearer {member_app_key(DEMO_KEYS['ad_api_key'])}"}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory, published_marts: Path, model_dir: Path) -> Path:
    """A data directory with the published marts and the trained model, as a warehouse build leaves it."""
    root = tmp_path_factory.mktemp("ad-api")
    settings = Settings(data_dir=root)
    settings.paths.published_warehouse_file.parent.mkdir(parents=True)
    shutil.copy(published_marts, settings.paths.published_warehouse_file)
    shutil.copytree(model_dir, settings.paths.recsys_dir)
    return root


@contextmanager
def start_api(
    settings: Settings,
    repeat_window_s: float = 0.0,
    *,
    live: bool = False,
    context: LiveContext | None = None,
    stale_s: float = STALE_S,
    **kwargs: Any,
) -> Iterator[Api]:
    """The API; ``live`` follows Kafka with a live feed that is not ready after ``stale_s`` of trouble."""
    clock = [NOON_KST]
    context = context or LiveContext(CATALOG)
    sink, filed = Sink(), Filed()
    app = create_app(
        settings,
        context,
        kwargs.pop("impressions", sink),
        disputes=kwargs.pop("disputes", filed),
        feed=follow_live_topics(settings, context, stale_s) if live else None,
        repeat_window_s=repeat_window_s,
        clock=lambda: clock[0],
        **kwargs,
    )
    with TestClient(app) as client:
        yield Api(client, context, sink, clock, filed)


def eventually(condition: Callable[[], bool], timeout_s: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.2)
    return condition()


@pytest.fixture
def api(data_dir: Path) -> Iterator[Api]:
    """The API with no repeat window (rules other than repeats are tested one request at a time)."""
    with start_api(Settings(data_dir=data_dir)) as api:
        yield api


# --- shoppers and their events -------------------------------------------------------------------


@pytest.fixture(scope="module")
def model(data_dir: Path) -> ServedModel:
    return load_model(Settings(data_dir=data_dir).paths.recsys_dir)


def members(model: ServedModel, known: bool, *bands: AgeBand) -> list[str]:
    """Members the model knows (or not) in the given age bands."""
    return [
        m.member_id
        for m in CATALOG.members.values()
        if model.knows(m.member_id) == known and m.age_band in bands
    ]


def drinker(model: ServedModel, declared: bool = True) -> str:
    """An adult the model knows who buys alcohol (and declared their age in the app, or not)."""
    alcohol = [
        i for i, p in enumerate(model.history.products) if CATALOG.product(p).category is Category.ALCOHOL
    ]
    adults = members(model, True, AgeBand.AGE_19_29, AgeBand.AGE_30_39, AgeBand.AGE_40_49, AgeBand.AGE_50_59)
    return next(
        shopper
        for shopper in adults
        if model.bought_before(shopper)[alcohol].sum() >= 2 and CATALOG.member(shopper).declared == declared
    )


def event_time(offset_s: float = 0.0) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=offset_s)


def track(track_id: str, zone_id: str, at: datetime, **demographics: Any) -> CameraTrack:
    zone = STORE.zone(zone_id)
    return CameraTrack(
        event_id=make_event_id("test-track", track_id, at, zone_id),
        store_id=STORE.store_id,
        ts=at,
        camera_id="S002-CAM1",
        track_id=track_id,
        x_m=round((zone.x0 + zone.x1) / 2, 2),
        y_m=round((zone.y0 + zone.y1) / 2, 2),
        zone_id=zone_id,
        **demographics,
    )


def visit(
    shopper_id: str,
    track_ids: tuple[str, ...],
    at: datetime,
    status: VisitStatus,
    group: int = 1,
    **demographics: Any,
) -> Visit:
    visit_id = f"V-{shopper_id}-{track_ids[0]}"
    return Visit(
        event_id=make_event_id("test-visit", visit_id, status),
        store_id=STORE.store_id,
        ts=at,
        visit_id=visit_id,
        shopper_id=shopper_id,
        status=status,
        group_size=group,
        track_ids=track_ids,
        entered_at=at,
        exited_at=at if status is VisitStatus.CLOSED else None,
        **demographics,
    )


def arrive(context: LiveContext, shopper_id: str, group: int = 1) -> tuple[str, ...]:
    """A visit of ``group`` people whose tracks stand in the screen's zone now; returns its track ids."""
    tracks = tuple(f"T{next(_ids)}" for _ in range(group))
    at = event_time()
    context.apply(visit(shopper_id, tracks, at, VisitStatus.OPENED, group))
    for track_id in tracks:
        context.apply(track(track_id, SCREEN_ZONE.zone_id, at))
    return tracks


def pick(product_id: str, at: datetime) -> ShelfEvent:
    plate = STORE.plates_of(product_id)[0]
    return ShelfEvent(
        event_id=make_event_id("test-pick", product_id, at),
        store_id=STORE.store_id,
        ts=at,
        shelf_id=f"{plate.gondola_id}-SH{plate.shelf}",
        plate_id=plate.plate_id,
        action=ShelfAction.PICK,
        weight_delta_g=-float(CATALOG.product(product_id).unit_weight_g),
        product_id=product_id,
        quantity=1,
        confidence=0.99,
    )


def pick_up(context: LiveContext, track_id: str, product_id: str) -> None:
    """The person walks to the product, picks it, and comes back to the screen."""
    at = event_time()
    context.apply(track(track_id, STORE.plates_of(product_id)[0].zone_id, at))
    context.apply(pick(product_id, at))
    context.apply(track(track_id, SCREEN_ZONE.zone_id, event_time(1)))


# --- keys, errors, docs ----------------------------------------------------------------------------


@pytest.mark.slow
def test_each_screen_has_its_own_key(api: Api) -> None:
    url = f"/v1/screens/{SCREEN}/ads"
    assert api.client.get(url).status_code == 401
    assert api.client.get(url).headers["WWW-Authenticate"] == "Bearer"
    assert api.client.get(url, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.client.get(url, headers=screen_auth("S002-AD1")).status_code == 401
    assert api.client.get(url, headers=APP_AUTH).status_code == 401
    assert api.client.get(url, headers=screen_auth(SCREEN)).status_code == 200


def test_the_member_app_has_its_key(api: Api, model: ServedModel) -> None:
    url = f"/v1/shoppers/{drinker(model)}/recommendations"
    assert api.client.get(url).status_code == 401
    assert api.client.get(url, headers=screen_auth(SCREEN)).status_code == 401
    assert api.client.get(url, headers=APP_AUTH).status_code == 200


def test_screen_ids_cannot_be_probed_without_the_screens_key(api: Api) -> None:
    """Every id has a key, so an unknown screen answers as a known one does until its key is right."""
    for screen in (SCREEN, "S009-AD1", "S002-AD9"):
        for headers in ({}, {"Authorization": "Bearer nope"}, screen_auth("S002-AD1"), APP_AUTH):
            response = api.client.get(f"/v1/screens/{screen}/ads", headers=headers)
            assert (response.status_code, response.json()) == (401, {"detail": "missing or wrong screen key"})
    assert api.client.get("/v1/screens/S009-AD1/ads", headers=screen_auth("S009-AD1")).status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/shoppers/M999999/recommendations", 404),
        ("/v1/screens/bad%20id/ads", 422),
        ("/v1/screens/%00/ads", 422),
        (f"/v1/screens/{'S' * 65}/ads", 422),
        (f"/v1/screens/{SCREEN}/ads?n=0", 422),
        (f"/v1/screens/{SCREEN}/ads?n=11", 422),
        (f"/v1/screens/{SCREEN}/ads?n=three", 422),
        (f"/v1/screens/{SCREEN}/ads?n=1e9", 422),
        ("/v1/shoppers/M000001/recommendations?k=-1", 422),
        ("/v1/shoppers/M000001/recommendations?k=51", 422),
        ("/v1/shoppers/M0000%2F01/recommendations", 404),
        ("/v1/screens//ads", 404),
    ],
)
def test_bad_requests_are_4xx_never_500(api: Api, path: str, status: int) -> None:
    headers = APP_AUTH if "shoppers" in path else screen_auth(SCREEN)
    assert api.client.get(path, headers=headers).status_code == status


def test_docs_health_and_metrics(api: Api, model: ServedModel) -> None:
    assert api.client.get("/docs").status_code == 200
    assert "/v1/screens/{screen_id}/ads" in api.client.get("/openapi.json").json()["paths"]
    version = model.version
    assert api.health() == (
        200,
        {
            "status": "ok",
            "problems": [],
            "model_version": version,
            "live_events": 0,
            "live_events_skipped": 0,
        },
    )
    api.ads()
    metrics = api.client.get("/metrics").text
    assert 'ad_api_requests_total{route="/v1/screens/{screen_id}/ads",status="200"} 1.0' in metrics
    assert 'ad_api_request_seconds_count{route="/v1/screens/{screen_id}/ads"} 1.0' in metrics
    assert f'ad_api_model_info{{version="{version}"}} 1.0' in metrics
    assert "ad_api_impressions_total 3.0" in metrics
    assert "ad_api_live_events_skipped 0.0" in metrics


def test_the_schema_says_metrics_are_prometheus_text(api: Api) -> None:
    schema = api.client.get("/openapi.json").json()
    assert list(schema["paths"]["/metrics"]["get"]["responses"]["200"]["content"]) == ["text/plain"]
    assert api.client.get("/metrics").headers["content-type"].startswith("text/plain")


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_load_nothing_from_the_internet(api: Api, page: str) -> None:
    """The docs' scripts and styles come from the API itself: a store's network may reach no CDN."""
    html = api.client.get(page)
    assert html.status_code == 200
    assert "://" not in html.text
    assets = re.findall(r'(?:src|href)="([^"]*)"', html.text)
    assert assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets)
    scripts = re.findall(r'<script src="([^"]*)"', html.text)
    assert scripts
    for script in scripts:
        served = api.client.get(script)
        assert served.status_code == 200
        assert served.headers["content-type"].startswith("text/javascript")


def test_not_ready_without_a_published_warehouse(tmp_path: Path) -> None:
    with start_api(Settings(data_dir=tmp_path)) as api:
        status, health = api.health()
        assert (status, health["status"]) == (503, "not ready")
        assert "no published warehouse loaded yet" in health["problems"]
        assert api.client.get(f"/v1/screens/{SCREEN}/ads", headers=screen_auth(SCREEN)).status_code == 503


# --- rules ------------------------------------------------------------------------------------------


def test_an_empty_screen_shows_in_stock_bestsellers_of_different_categories(
    api: Api, model: ServedModel, sold_out: str
) -> None:
    body = api.ads(n=5)
    assert body["audience"] == {"people": 0, "members": 0, "segment": None, "adults_only": False}
    products = [ad["product_id"] for ad in body["ads"]]
    assert len(products) == 5
    assert {ad["reason"] for ad in body["ads"]} == {"popular"}
    by_popularity = [model.history.products[i] for i in np.argsort(-model.popularity)]
    assert next(p for p in by_popularity if not restricted(p)) == sold_out  # would lead, but is sold out
    assert sold_out not in products
    assert len({CATALOG.product(p).category for p in products}) == 5
    assert all(STORE.plates_of(p) for p in products)
    assert not any(restricted(p) for p in products)


def test_a_minor_never_sees_alcohol_or_tobacco(api: Api, model: ServedModel) -> None:
    drinking_adult = drinker(model)
    arrive(api.context, drinking_adult)
    alone = api.products(n=10)
    assert any(restricted(p) for p in alone)  # what the adult sees when alone, at noon
    minor = members(model, True, AgeBand.MINOR)[0]
    arrive(api.context, minor)
    body = api.ads(n=10)
    assert body["audience"]["people"] == 2
    assert body["audience"]["adults_only"] is False
    assert not any(restricted(ad["product_id"]) for ad in body["ads"])
    assert {ad["reason"] for ad in body["ads"]} == {"group"}


def test_a_group_companion_of_unknown_age_blocks_restricted_products(api: Api, model: ServedModel) -> None:
    arrive(api.context, drinker(model), group=2)
    body = api.ads(n=10)
    assert body["audience"] == {
        "people": 2,
        "members": 1,
        "segment": body["audience"]["segment"],
        "adults_only": False,
    }
    assert not any(restricted(ad["product_id"]) for ad in body["ads"])


def camera_says(band: AgeBand, confidence: float) -> dict[str, Any]:
    """The entrance camera's estimate, on a track."""
    return {"age_band": band, "demographic_confidence": confidence}


def checkout_says(band: AgeBand, confidence: float) -> dict[str, Any]:
    """The entrance camera's estimate, as the checkout puts it on a visit."""
    return camera_says(band, confidence) | {"demographic_source": DemographicSource.ESTIMATED}


def seen_at_the_gate(
    context: LiveContext, shopper_id: str, visit_says: dict[str, Any], track_says: dict[str, Any]
) -> None:
    """The entrance camera estimates the shopper's track at the gate, the checkout opens their visit with
    its own estimate, and the shopper walks to the screen."""
    track_id = f"T{next(_ids)}"
    at = event_time()
    context.apply(track(track_id, ENTRANCE.zone_id, at, **track_says))
    context.apply(visit(shopper_id, (track_id,), at, VisitStatus.OPENED, **visit_says))
    context.apply(track(track_id, SCREEN_ZONE.zone_id, event_time(1)))


@pytest.mark.parametrize(
    ("declared", "visit_says", "track_says"),
    [
        (False, checkout_says(AgeBand.AGE_19_29, 0.63), camera_says(AgeBand.MINOR, 0.95)),
        (False, checkout_says(AgeBand.AGE_19_29, 0.95), camera_says(AgeBand.MINOR, 0.3)),
        (True, {}, camera_says(AgeBand.MINOR, 0.5)),
        (False, checkout_says(AgeBand.MINOR, 0.4), camera_says(AgeBand.AGE_19_29, 0.95)),
        (False, checkout_says(AgeBand.AGE_30_39, 0.7), {}),
    ],
    ids=[
        "the probe: an unsure adult visit, a sure minor track",
        "a sure adult visit, a faint minor track",
        "a declared adult, a minor track",
        "a minor visit, a sure adult track",
        "an unsure adult visit alone",
    ],
)
def test_any_sign_of_a_minor_or_an_unsure_age_keeps_alcohol_and_tobacco_off_the_screen(
    api: Api, model: ServedModel, declared: bool, visit_says: dict[str, Any], track_says: dict[str, Any]
) -> None:
    seen_at_the_gate(api.context, drinker(model, declared), visit_says, track_says)
    body = api.ads(n=10)
    assert body["audience"]["people"] == 1
    assert body["audience"]["adults_only"] is False
    assert not any(restricted(ad["product_id"]) for ad in body["ads"])


def test_a_shopper_surely_estimated_an_adult_may_see_alcohol(api: Api, model: ServedModel) -> None:
    sure = (AgeBand.AGE_19_29, 0.95)
    seen_at_the_gate(api.context, drinker(model, declared=False), checkout_says(*sure), camera_says(*sure))
    body = api.ads(n=10)
    assert body["audience"]["adults_only"] is True
    assert any(restricted(ad["product_id"]) for ad in body["ads"])


def test_restricted_products_wait_for_the_hours_they_may_be_sold(api: Api, model: ServedModel) -> None:
    arrive(api.context, drinker(model))
    api.clock[0] = ELEVEN_PM_KST
    assert not any(restricted(p) for p in api.products(n=10))


def test_what_is_in_the_cart_is_not_advertised(api: Api, model: ServedModel) -> None:
    shopper = drinker(model)
    (track_id,) = arrive(api.context, shopper)
    first = api.products(n=1)[0]
    pick_up(api.context, track_id, first)
    assert first not in api.products(n=10)


def test_a_screen_does_not_repeat_itself_within_the_window(data_dir: Path) -> None:
    with start_api(Settings(data_dir=data_dir), repeat_window_s=600) as api:
        first, second = set(api.products()), set(api.products())
        assert len(first) == len(second) == 3
        assert not first & second
        api.clock[0] += timedelta(minutes=11)
        assert set(api.products()) & first


# --- cold start and reasons ------------------------------------------------------------------------


def test_a_member_without_history_gets_their_segments_bestsellers(api: Api, model: ServedModel) -> None:
    newcomer = members(model, False, AgeBand.AGE_30_39)[0]
    member = CATALOG.member(newcomer)
    arrive(api.context, newcomer)
    body = api.ads()
    assert body["audience"]["segment"] == f"30-39:{member.gender}"
    assert {ad["reason"] for ad in body["ads"]} == {"segment_popular"}


def test_a_known_shopper_gets_their_own_ranking(api: Api, model: ServedModel) -> None:
    shopper = drinker(model)
    arrive(api.context, shopper)
    body = api.ads(n=10)
    assert body["audience"]["members"] == 1
    assert {ad["reason"] for ad in body["ads"]} <= {"repurchase", "for_you"}
    assert "repurchase" in {ad["reason"] for ad in body["ads"]}
    response = api.client.get(f"/v1/shoppers/{shopper}/recommendations?k=5", headers=APP_AUTH).json()
    assert len(response["recommendations"]) == 5


def test_every_ad_shown_is_an_impression(api: Api, model: ServedModel) -> None:
    shopper = drinker(model)
    arrive(api.context, shopper)
    body = api.ads()
    assert [i.event_id for i in api.sink.impressions] == [ad["impression_id"] for ad in body["ads"]]
    impression = api.sink.impressions[0]
    assert impression.screen_id == SCREEN
    assert impression.zone_id == SCREEN_ZONE.zone_id
    assert impression.shopper_ids == (shopper,)
    assert impression.model_version == body["model_version"]
    assert impression.reason == body["ads"][0]["reason"]


def test_leaving_the_zone_or_the_store_leaves_the_audience(api: Api, model: ServedModel) -> None:
    shopper = drinker(model)
    (track_id,) = arrive(api.context, shopper)
    assert api.ads()["audience"]["members"] == 1
    api.context.apply(visit(shopper, (track_id,), event_time(2), VisitStatus.CLOSED))
    assert api.ads()["audience"]["people"] == 0


# --- hot reload -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_new_model_version_is_served_without_a_restart_or_a_failed_request(
    tmp_path: Path, data_dir: Path, model: ServedModel
) -> None:
    shutil.copytree(data_dir, tmp_path / "data")
    settings = Settings(data_dir=tmp_path / "data")
    with start_api(settings) as api:
        old = api.ads()["model_version"]
        statuses: list[int] = []
        versions: set[str] = set()
        stop = threading.Event()

        def hammer() -> None:
            while not stop.is_set():
                response = api.client.get(f"/v1/screens/{SCREEN}/ads", headers=screen_auth(SCREEN))
                statuses.append(response.status_code)
                if response.status_code == 200:
                    versions.add(response.json()["model_version"])

        worker = threading.Thread(target=hammer)
        worker.start()
        new = new_version()
        write_model(settings.paths.recsys_dir, replace(model, version=new))
        deadline = time.monotonic() + 60
        while new not in versions and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        worker.join()
        assert versions == {old, new}
        assert set(statuses) == {200}
        assert api.client.get("/healthz").json()["model_version"] == new


# --- disputes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedReceipt:
    purchase_id: str
    store_id: str
    visit_id: str
    shopper_id: str
    lines: dict[str, tuple[int, int]]  # product: units, unit price


def published_receipt(data_dir: Path, min_units: int = 2) -> PublishedReceipt:
    """A receipt of the published warehouse with a line of at least ``min_units`` units (listed first)."""
    path = Settings(data_dir=data_dir).paths.published_warehouse_file
    with duckdb.connect(str(path), read_only=True) as con:
        (purchase_id,) = con.execute(
            "select min(purchase_id) from marts.fct_purchase_lines where quantity >= ?", [min_units]
        ).fetchone() or (None,)
        rows = con.execute(
            "select store_id, visit_id, shopper_id, product_id, quantity, unit_price_krw "
            "from marts.fct_purchase_lines where purchase_id = ? order by quantity desc, product_id",
            [purchase_id],
        ).fetchall()
    store_id, visit_id, shopper_id = rows[0][:3]
    lines = {product: (units, price) for *_, product, units, price in rows}
    return PublishedReceipt(str(purchase_id), store_id, visit_id, shopper_id, lines)


def dispute(api: Api, shopper_id: str, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return api.client.post(
        f"/v1/shoppers/{shopper_id}/disputes", json=body, headers=APP_AUTH if headers is None else headers
    )


def not_charged(receipt: PublishedReceipt) -> str:
    return next(p for p in sorted(CATALOG.products) if p not in receipt.lines)


def test_a_shopper_disputes_a_line_of_their_receipt(api: Api, data_dir: Path) -> None:
    receipt = published_receipt(data_dir)
    product, (units, _) = next(iter(receipt.lines.items()))
    answer = dispute(
        api,
        receipt.shopper_id,
        purchase_id=receipt.purchase_id,
        product_id=product,
        kind="not_taken",
        quantity=units - 1,
        note="  I put one back on the shelf\n ",
    )
    assert answer.status_code == 202, answer.text
    expected = ReceiptDispute(
        event_id=dispute_id(receipt.purchase_id, product, DisputeKind.NOT_TAKEN),
        store_id=receipt.store_id,
        ts=NOON_KST,
        purchase_id=receipt.purchase_id,
        visit_id=receipt.visit_id,
        shopper_id=receipt.shopper_id,
        product_id=product,
        kind=DisputeKind.NOT_TAKEN,
        quantity=units - 1,
        note="I put one back on the shelf",
    )
    assert api.filed.disputes == [expected]
    assert answer.json() == {
        "dispute_id": expected.event_id,
        "case_id": f"dispute:{expected.event_id}",
        "purchase_id": receipt.purchase_id,
        "product_id": product,
        "kind": "not_taken",
        "quantity": units - 1,
        "filed_at": "2026-11-24T03:00:00Z",
    }
    # Left out, the units are every unit charged; filed again, it is the same dispute (and case).
    again = dispute(
        api, receipt.shopper_id, purchase_id=receipt.purchase_id, product_id=product, kind="not_taken"
    )
    assert (again.status_code, again.json()["case_id"]) == (202, f"dispute:{expected.event_id}")
    assert api.filed.disputes[-1].quantity == units
    missing = dispute(
        api,
        receipt.shopper_id,
        purchase_id=receipt.purchase_id,
        product_id=not_charged(receipt),
        kind="missing",
    )
    assert missing.status_code == 202, missing.text
    assert (api.filed.disputes[-1].kind, api.filed.disputes[-1].quantity) == (DisputeKind.MISSING, 1)


def test_a_receipt_that_is_not_the_shoppers_is_not_found_like_an_unknown_one(
    api: Api, data_dir: Path
) -> None:
    receipt = published_receipt(data_dir)
    product = next(iter(receipt.lines))
    other = next(m for m in sorted(CATALOG.members) if m != receipt.shopper_id)
    answers = [
        dispute(api, shopper, purchase_id=purchase_id, product_id=product, kind="not_taken")
        for shopper, purchase_id in [
            (other, receipt.purchase_id),
            (receipt.shopper_id, "receipt-nowhere-00"),
            ("M999999", receipt.purchase_id),
        ]
    ]
    assert [answer.status_code for answer in answers] == [404, 404, 404]
    assert answers[0].json() == {"detail": f"no receipt {receipt.purchase_id} of shopper {other}"}
    assert api.filed.disputes == []


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ({"kind": "not_taken", "product_id": "(not charged)"}, "does not charge"),
        ({"kind": "wrong_quantity", "product_id": "(not charged)", "quantity": 1}, "does not charge"),
        ({"kind": "not_taken", "quantity": 99}, "not 99"),
        ({"kind": "wrong_quantity"}, "needs the quantity"),
        ({"kind": "wrong_quantity", "quantity": "(as charged)"}, "already charges"),
        ({"kind": "missing", "product_id": "P9999"}, "unknown product"),
    ],
)
def test_a_dispute_the_receipt_cannot_take_is_422_saying_why(
    api: Api, data_dir: Path, body: dict[str, Any], detail: str
) -> None:
    receipt = published_receipt(data_dir)
    product, (units, _) = next(iter(receipt.lines.items()))
    body = {"purchase_id": receipt.purchase_id, "product_id": product, **body}
    if body["product_id"] == "(not charged)":
        body["product_id"] = not_charged(receipt)
    if body.get("quantity") == "(as charged)":
        body["quantity"] = units
    answer = dispute(api, receipt.shopper_id, **body)
    assert answer.status_code == 422, answer.text
    assert detail in answer.json()["detail"]
    assert api.filed.disputes == []


@pytest.mark.parametrize(
    "change",
    [
        {"kind": "refund_everything"},
        {"quantity": 0},
        {"quantity": 101},
        {"quantity": "2"},
        {"quantity": 1.5},
        {"note": "x" * 501},
        {"note": "nothing\x00taken"},
        {"purchase_id": "bad id!"},
        {"product_id": "P 1"},
        {"colour": "red"},
        {"purchase_id": None},
    ],
    ids=str,
)
def test_a_malformed_dispute_is_422(api: Api, data_dir: Path, change: dict[str, Any]) -> None:
    receipt = published_receipt(data_dir)
    body = {"purchase_id": receipt.purchase_id, "product_id": next(iter(receipt.lines)), "kind": "not_taken"}
    answer = dispute(api, receipt.shopper_id, **{**body, **change})
    assert answer.status_code == 422, answer.text
    assert api.filed.disputes == []


def test_only_the_member_app_files_disputes(api: Api, data_dir: Path) -> None:
    receipt = published_receipt(data_dir)
    body = {"purchase_id": receipt.purchase_id, "product_id": next(iter(receipt.lines)), "kind": "not_taken"}
    for headers in ({}, {"Authorization": "Bearer nope"}, screen_auth(SCREEN)):
        answer = dispute(api, receipt.shopper_id, headers=headers, **body)
        assert (answer.status_code, answer.json()) == (401, {"detail": "missing or wrong member app key"})
    assert api.filed.disputes == []


@pytest.mark.slow
def test_a_dispute_kafka_cannot_take_is_503_and_says_so(data_dir: Path) -> None:
    receipt = published_receipt(data_dir)
    nowhere = Settings(data_dir=data_dir, kafka_bootstrap="127.0.0.1:9")
    with start_api(nowhere, disputes=None) as api:
        answer = dispute(
            api,
            receipt.shopper_id,
            purchase_id=receipt.purchase_id,
            product_id=next(iter(receipt.lines)),
            kind="not_taken",
        )
    assert (answer.status_code, answer.json()) == (
        503,
        {"detail": "the dispute was not filed: Kafka is unavailable; try again shortly"},
    )


# --- Kafka ------------------------------------------------------------------------------------------


@pytest.fixture
def kafka_data_dir(kafka_settings: Settings, data_dir: Path, tmp_path: Path) -> Settings:
    """The API's data directory on the session's broker."""
    shutil.copytree(data_dir, tmp_path / "data")
    return kafka_settings.model_copy(
        update={"data_dir": tmp_path / "data", "kafka_bootstrap": bootstrap_servers(kafka_settings)}
    )


@pytest.mark.kafka
def test_impressions_reach_kafka(kafka_data_dir: Settings) -> None:
    with start_api(kafka_data_dir, impressions=None) as api:
        shown = {ad["impression_id"] for ad in api.ads(n=4)["ads"]}
    consumer = make_consumer(kafka_data_dir, f"test-impressions-{time.time_ns()}", [AdImpression.TOPIC])
    try:
        received = {
            parse_event(record.value, AdImpression.TOPIC).event_id
            for record in drain(consumer, expected=10_000, idle_timeout_s=5)
        }
    finally:
        consumer.close()
    assert len(shown) == 4
    assert shown <= received


@pytest.mark.kafka
def test_a_dispute_answered_as_filed_is_on_its_topic(kafka_data_dir: Settings) -> None:
    receipt = published_receipt(kafka_data_dir.data_dir)
    product = next(iter(receipt.lines))
    with start_api(kafka_data_dir, disputes=None) as api:
        answer = dispute(
            api, receipt.shopper_id, purchase_id=receipt.purchase_id, product_id=product, kind="not_taken"
        )
    assert answer.status_code == 202, answer.text
    consumer = make_consumer(kafka_data_dir, f"test-disputes-{time.time_ns()}", [ReceiptDispute.TOPIC])
    try:
        received = [
            parse_event(record.value, ReceiptDispute.TOPIC)
            for record in drain(consumer, expected=10_000, idle_timeout_s=5)
        ]
    finally:
        consumer.close()
    units, _ = receipt.lines[product]
    assert [event for event in received if event.event_id == answer.json()["dispute_id"]] == [
        ReceiptDispute(
            event_id=dispute_id(receipt.purchase_id, product, DisputeKind.NOT_TAKEN),
            store_id=receipt.store_id,
            ts=NOON_KST,
            purchase_id=receipt.purchase_id,
            visit_id=receipt.visit_id,
            shopper_id=receipt.shopper_id,
            product_id=product,
            kind=DisputeKind.NOT_TAKEN,
            quantity=units,
        )
    ]


def hostile_messages(at: datetime) -> list[tuple[str, bytes | None]]:
    """Messages the live feed can neither read nor apply, on each of its topics."""
    somewhere = track("H1", SCREEN_ZONE.zone_id, at)
    no_plate = pick(STORE.plates[0].product_id, at).model_copy(update={"plate_id": "S002-X9"})
    return [
        (CameraTrack.TOPIC, b"not json"),
        (CameraTrack.TOPIC, b"[" * 5000 + b"]" * 5000),
        (Visit.TOPIC, b'{"event_type": "visit", "group_size": ' + b"9" * 5000 + b"}"),
        (Visit.TOPIC, None),  # a tombstone
        (CameraTrack.TOPIC, somewhere.model_copy(update={"store_id": "S999"}).to_bytes()),
        (CameraTrack.TOPIC, somewhere.model_copy(update={"zone_id": "S002-nowhere"}).to_bytes()),
        (ShelfEvent.TOPIC, no_plate.to_bytes()),
        (CameraTrack.TOPIC, somewhere.to_bytes()),  # valid, but no camera of the store signed it
    ]


def problems(api: Api) -> str:
    return "; ".join(api.health()[1]["problems"])


@pytest.mark.kafka
def test_the_live_feed_skips_what_it_cannot_apply_and_survives_a_restart(
    kafka_data_dir: Settings, model: ServedModel, caplog: pytest.LogCaptureFixture
) -> None:
    """Each bad message is skipped with a log line, after a restart too (the feed replays them)."""
    shopper, at = drinker(model), event_time()
    producer = make_producer(kafka_data_dir)
    key = STORE.store_id.encode()
    sent = [producer.send(topic, key=key, value=raw) for topic, raw in hostile_messages(at)]
    bad = [f"{m.topic}[{m.partition}]@{m.offset}" for m in (future.get(timeout=30) for future in sent)]
    publish(producer, visit(shopper, ("K1",), at, VisitStatus.OPENED))
    publish(producer, track("K1", SCREEN_ZONE.zone_id, at), signer=CAMERA)
    producer.flush()
    producer.close()
    caplog.set_level(logging.WARNING, logger="walkout.live")

    def logged_every_bad_message() -> bool:
        return all(any(where in record.message for record in caplog.records) for where in bad)

    def follow_the_topics() -> None:
        caplog.clear()
        with start_api(kafka_data_dir, live=True) as api:
            assert eventually(lambda: api.ads()["audience"]["members"] == 1)
            assert eventually(logged_every_bad_message)
            status, health = api.health()
            assert (status, health["problems"]) == (200, [])
            assert health["live_events_skipped"] >= len(bad)
            metrics = api.client.get("/metrics").text
            assert f"ad_api_live_events_skipped {float(health['live_events_skipped'])}" in metrics

    follow_the_topics()
    follow_the_topics()  # a restart replays the same messages


@pytest.mark.slow
def test_the_live_feed_is_not_ready_while_kafka_cannot_be_reached(data_dir: Path) -> None:
    nowhere = Settings(data_dir=data_dir, kafka_bootstrap="127.0.0.1:9")
    with start_api(nowhere, live=True, stale_s=2.0) as api:
        assert eventually(lambda: "127.0.0.1:9" in problems(api))
        assert api.health()[0] == 503
        assert api.ads()["audience"]["people"] == 0  # still serving ads, to nobody in particular


class StuckContext(LiveContext):
    """A live context that does not finish applying an event until released."""

    def __init__(self) -> None:
        super().__init__(CATALOG)
        self.released = threading.Event()

    def apply(self, event: Event) -> None:
        self.released.wait()
        super().apply(event)


@pytest.mark.kafka
def test_a_stuck_live_feed_is_not_ready(kafka_data_dir: Settings) -> None:
    producer = make_producer(kafka_data_dir)
    publish(producer, track("K2", SCREEN_ZONE.zone_id, event_time()), signer=CAMERA)
    producer.close()
    context = StuckContext()
    with start_api(kafka_data_dir, live=True, context=context, stale_s=2.0) as api:
        assert eventually(lambda: "stuck" in problems(api))
        assert api.health()[0] == 503
        context.released.set()
        assert eventually(lambda: api.health()[0] == 200)


@pytest.mark.kafka
def test_a_live_feed_that_loses_its_broker_is_not_ready_until_it_is_back(
    data_dir: Path, tmp_path: Path
) -> None:
    shutil.copytree(data_dir, tmp_path / "data")
    settings = Settings(data_dir=tmp_path / "data", kafka_bootstrap=None)
    broker = EmbeddedBroker(settings)
    broker.start()
    try:
        create_topics(settings)
        with start_api(settings, live=True, stale_s=2.0) as api:
            assert eventually(lambda: api.health()[0] == 200)
            broker.stop()
            assert eventually(lambda: "cannot read Kafka" in problems(api))
            assert api.health()[0] == 503
            broker.start()  # on another port: the feed finds it again
            assert eventually(lambda: api.health()[0] == 200)
    finally:
        broker.stop()
