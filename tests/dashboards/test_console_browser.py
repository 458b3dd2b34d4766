"""The review console as an operator meets it: ``walkout review console`` serving the demo's review file,
opened in headless Chromium: nothing but the sign-in until the operator's key is typed, then the queue
and the first case's evidence, then the figures tab, saved as screenshots (``make screenshots`` keeps
them)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from review.operators import operator_key
from walkout.settings import Settings

if TYPE_CHECKING:
    from tests.dashboards.conftest import Chromium, StartDashboard

pytestmark = pytest.mark.slow

SHOWS_EXCEPTION = "!!document.querySelector('[data-testid=\"stException\"]')"


def test_the_console_in_a_browser(
    demo_data: Settings, start_dashboard: StartDashboard, chromium: Chromium, screenshots_dir: Path
) -> None:
    url = start_dashboard(demo_data, ("review", "console"), WALKOUT_DEMO_KEYS="1")
    text = chromium.open(url, ["Review", "Sign in with your operator id and key"])
    assert "open cases" not in text
    chromium.screenshot(screenshots_dir / "review-0-sign-in.png")

    chromium.type_into("Operator id", "OP0001")
    chromium.type_into("Key", operator_key(Settings(demo_keys=True), "OP0001"))
    chromium.click("Sign in")
    text = chromium.shows(
        [
            "open cases",
            "Contested takes",
            "Charged to",
            "The plate changed by",
            "Send the decision",
            "Signed in",
        ]
    )
    assert not chromium.evaluate(SHOWS_EXCEPTION), text[:3000]
    chromium.screenshot(screenshots_dir / "review-1-case.png")
    assert (screenshots_dir / "review-1-case.png").stat().st_size > 10_000

    chromium.click("Figures")
    text = chromium.shows(["From the exit to the final charge", "Cases by day and cause"])
    assert not chromium.evaluate(SHOWS_EXCEPTION), text[:3000]
    chromium.screenshot(screenshots_dir / "review-2-figures.png")
