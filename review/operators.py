"""Who may decide: store operators, each signing in to the review console with a key of their own.

Keys derive from one master key (``WALKOUT_REVIEW_KEY``) by the operator's id, like the ad screens'
keys, so nothing per operator is stored: ``HMAC-SHA256(master, "review-operator:<id>")``, hex, 32
characters; ``walkout review keys --operator ID`` prints one. The operator id is all a decision says of
who made it (``decided_by``): pseudonymous, as the receipt adjustments' contract asks.
"""

from __future__ import annotations

import re

from walkout.errors import WalkoutError
from walkout.keys import derive, matches
from walkout.settings import Settings

KEY_CHARS = 32
OPERATOR_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{1,31}")
"""An operator id: letters, digits, ``_`` and ``-``, 2 to 32 characters (an identifier, not a name)."""


class SignInError(WalkoutError):
    """The operator id is malformed or the key is not that operator's."""


def operator_key(settings: Settings, operator_id: str) -> str:
    """The sign-in key of ``operator_id``; refused for an id that is not one (see :data:`OPERATOR_ID`)."""
    if not OPERATOR_ID.fullmatch(operator_id):
        raise SignInError(
            f"{operator_id!r} is not an operator id: 2-32 letters, digits, '_' or '-', starting with a "
            "letter or digit"
        )
    return derive(settings.secret("review_key"), f"review-operator:{operator_id}").hex()[:KEY_CHARS]


def sign_in(settings: Settings, operator_id: str, key: str) -> str:
    """The operator id, once ``key`` is proven to be its key; :class:`SignInError` otherwise."""
    operator_id = operator_id.strip()
    if not matches(operator_key(settings, operator_id), key.strip()):
        raise SignInError(f"that is not the key of operator {operator_id}")
    return operator_id
