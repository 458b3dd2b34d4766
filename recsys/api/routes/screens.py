"""The ad screens: what to show whoever stands in front of one now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from recsys.api.deps import KeyedScreen, ServiceDep
from recsys.api.schemas import ScreenAds

router = APIRouter(prefix="/v1/screens", tags=["screens"])


@router.get("/{screen_id}/ads", responses={401: {}, 404: {}, 503: {}})
def screen_ads(
    screen: KeyedScreen,
    service: ServiceDep,
    n: Annotated[int, Query(ge=1, le=10, description="How many ads to show.")] = 3,
) -> ScreenAds:
    """Ads for whoever stands in front of this screen now, with a reason code each."""
    return service.ads_for(screen, n)
