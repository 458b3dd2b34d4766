"""The member app: a shopper's recommendations, outside any store."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParameter

from recsys.api.deps import ServiceDep, member_app_only
from recsys.api.schemas import ID_PATTERN, ShopperRecommendations

router = APIRouter(prefix="/v1/shoppers", tags=["shoppers"], dependencies=[Depends(member_app_only)])


@router.get("/{shopper_id}/recommendations", responses={401: {}, 404: {}, 503: {}})
def shopper_recommendations(
    shopper_id: Annotated[str, PathParameter(pattern=ID_PATTERN, description="e.g. M000001")],
    service: ServiceDep,
    k: Annotated[int, Query(ge=1, le=50, description="How many products.")] = 10,
) -> ShopperRecommendations:
    """A member's recommendations for the member app (no store context, adults-only rule applies)."""
    return service.recommendations_for(shopper_id, k)
