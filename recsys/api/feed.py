"""The ad API's live feed: a :class:`walkout.live.LiveFeed` that applies the live topics to a
:class:`LiveContext`.

Every API instance reads all of them (from the earliest retained event, no commits: the state lives in
memory only). Camera and shelf events must come from the store's own devices, as at the checkout.
"""

from __future__ import annotations

from recsys.api.context import LiveContext
from walkout.contracts import CameraTrack, ShelfEvent, Visit
from walkout.edge import EdgeAdmission
from walkout.live import STALE_S, LiveFeed
from walkout.settings import Settings

LIVE_TOPICS = (CameraTrack.TOPIC, Visit.TOPIC, ShelfEvent.TOPIC)


def follow_live_topics(settings: Settings, context: LiveContext, stale_s: float = STALE_S) -> LiveFeed:
    """A feed (not started) applying the live topics to ``context``; it is not ready after ``stale_s``
    stuck or cut off from Kafka."""
    admission = EdgeAdmission(context.catalog, settings.secret("edge_key"), settings.max_event_bytes)
    return LiveFeed(
        settings, "ad-api-live-feed", LIVE_TOPICS, context.apply, admit=admission.admit, stale_s=stale_s
    )
