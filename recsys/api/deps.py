"""What the routes depend on (FastAPI dependencies): the app's shared objects, and who may call.

Each screen has its own key and the member app one of its own (:mod:`keys`), presented as
``Authorization: Bearer <key>``; a missing or wrong key is a 401 whatever the id, so screen ids cannot
be probed. The dependencies only look things up, so they are ``async`` and skip the thread pool.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi import Path as PathParameter
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from recsys.api.context import LiveContext
from recsys.api.keys import Screen, key_matches, member_app_key, screen_key
from recsys.api.schemas import ID_PATTERN
from recsys.api.service import AdService
from walkout.live import LiveFeed

UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


async def get_service(request: Request) -> AdService:
    service: AdService = request.app.state.service
    return service


ServiceDep = Annotated[AdService, Depends(get_service)]


async def get_live_context(service: ServiceDep) -> LiveContext:
    return service.context


LiveContextDep = Annotated[LiveContext, Depends(get_live_context)]


async def get_feed(request: Request) -> LiveFeed | None:
    """The live feed following Kafka, or None for an app fed by hand (tests)."""
    feed: LiveFeed | None = request.app.state.feed
    return feed


FeedDep = Annotated[LiveFeed | None, Depends(get_feed)]


async def get_master_key(request: Request) -> bytes:
    master: bytes = request.app.state.master_key
    return master


MasterKeyDep = Annotated[bytes, Depends(get_master_key)]

bearer = HTTPBearer(auto_error=False, description="The screen's key, or the member app's key.")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def _require_key(expected: str, credentials: HTTPAuthorizationCredentials | None, caller: str) -> None:
    presented = credentials.credentials if credentials is not None else None
    if not key_matches(expected, presented):
        raise HTTPException(401, f"missing or wrong {caller} key", headers=UNAUTHORIZED)


async def keyed_screen(
    screen_id: Annotated[str, PathParameter(pattern=ID_PATTERN, description="e.g. S001-AD1")],
    credentials: Credentials,
    master: MasterKeyDep,
    service: ServiceDep,
) -> Screen:
    """The screen of the path, once the caller has shown its key."""
    # Any id has its key, so the key is checked first: without it, every id gets the same 401.
    _require_key(screen_key(master, screen_id), credentials, "screen")
    return service.screen(screen_id)


KeyedScreen = Annotated[Screen, Depends(keyed_screen)]


async def member_app_only(credentials: Credentials, master: MasterKeyDep) -> None:
    _require_key(member_app_key(master), credentials, "member app")
