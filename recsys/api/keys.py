"""Who may call the ad API: each ad screen of the catalog with its own key, and the member app.

Keys are derived from one master key (``WALKOUT_AD_API_KEY``), like the gates' store secrets, so
nothing per screen is stored: ``HMAC-SHA256(master, "ad-screen:<screen id>")``, hex, 32 characters.
``walkout ads keys`` prints them for provisioning the screens. Without the setting the API refuses
to start, unless the public demo keys were asked for (``WALKOUT_DEMO_KEYS=1``, as ``walkout demo`` does).
"""

from __future__ import annotations

from dataclasses import dataclass

from walkout.catalog import AdScreen, Catalog, Store
from walkout.keys import derive, matches
from walkout.settings import Settings

KEY_CHARS = 32


@dataclass(frozen=True)
class Screen:
    """An ad screen and the store it hangs in."""

    screen: AdScreen
    store: Store

    @property
    def screen_id(self) -> str:
        return self.screen.ad_screen_id


def master_key(settings: Settings) -> bytes:
    """``WALKOUT_AD_API_KEY``; the public demo key only when the demo keys were asked for."""
    return settings.secret("ad_api_key")


def derive_key(master: bytes, purpose: str) -> str:
    return derive(master, purpose).hex()[:KEY_CHARS]


def screen_key(master: bytes, screen_id: str) -> str:
    return derive_key(master, f"ad-screen:{screen_id}")


def member_app_key(master: bytes) -> str:
    return derive_key(master, "member-app")


def key_matches(expected: str, presented: str | None) -> bool:
    return matches(expected, presented)


def screens_of(catalog: Catalog) -> dict[str, Screen]:
    """Every ad screen of every store, by id."""
    return {
        screen.ad_screen_id: Screen(screen, store)
        for store in catalog.stores.values()
        for screen in store.ad_screens
    }
