"""The member app: a shopper's recommendations, outside any store, and their disputes of a receipt line."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParameter

from recsys.api.deps import ServiceDep, member_app_only
from recsys.api.schemas import ID_PATTERN, DisputeFiled, DisputeIn, ShopperRecommendations

router = APIRouter(prefix="/v1/shoppers", tags=["shoppers"], dependencies=[Depends(member_app_only)])


@router.get("/{shopper_id}/recommendations", responses={401: {}, 404: {}, 503: {}})
def shopper_recommendations(
    shopper_id: Annotated[str, PathParameter(pattern=ID_PATTERN, description="e.g. M000001")],
    service: ServiceDep,
    k: Annotated[int, Query(ge=1, le=50, description="How many products.")] = 10,
) -> ShopperRecommendations:
    """A member's recommendations for the member app (no store context, adults-only rule applies)."""
    return service.recommendations_for(shopper_id, k)


@router.post("/{shopper_id}/disputes", status_code=202, responses={401: {}, 404: {}, 422: {}, 503: {}})
def file_dispute(
    shopper_id: Annotated[str, PathParameter(pattern=ID_PATTERN, description="e.g. M000001")],
    claim: DisputeIn,
    service: ServiceDep,
) -> DisputeFiled:
    """A member disputes one line of their receipt: charged for something not taken, took something not
    charged, or a wrong quantity. Accepted (202) once on Kafka: an operator reviews it as the case
    ``case_id``. 404 for a receipt that is not the member's (or not published yet), 422 for a line the
    receipt cannot take, 503 while Kafka is unavailable (the same dispute sent again is the same one)."""
    return service.file_dispute(shopper_id, claim)
