"""A deterministic table of pseudonymous app members, spread over the stores.

The age mix follows Korean convenience-store shoppers: heavy in the 20s and 30s, some minors
(14-18, who may enter but not buy alcohol or tobacco), fewer over 60. One in five members did not
declare their age and gender in the app.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from walkout.catalog.model import Member, Store
from walkout.vocabulary import AgeBand, Gender

AGE_MIX: dict[AgeBand, float] = {
    AgeBand.MINOR: 0.06,
    AgeBand.AGE_19_29: 0.34,
    AgeBand.AGE_30_39: 0.26,
    AgeBand.AGE_40_49: 0.16,
    AgeBand.AGE_50_59: 0.10,
    AgeBand.AGE_60_PLUS: 0.08,
}
MALE_SHARE = 0.54
# Members who skipped age and gender at sign-up: their visits carry the entrance camera's estimate.
UNDECLARED_SHARE = 0.2


def generate_members(stores: Sequence[Store], per_store: int = 1500, seed: int = 2019) -> list[Member]:
    """``per_store`` members for each store, ids ``M000001``... in store order; same seed, same table."""
    rng = np.random.default_rng(seed)
    # A stream of its own, so who declared does not change anyone's age or gender.
    skipped_profile = np.random.default_rng([seed, 1]).random(per_store * len(stores)) < UNDECLARED_SHARE
    bands = list(AGE_MIX)
    shares = np.array(list(AGE_MIX.values()))
    members: list[Member] = []
    for store in stores:
        band_draws = rng.choice(len(bands), size=per_store, p=shares / shares.sum())
        male_draws = rng.random(per_store) < MALE_SHARE
        for band, male in zip(band_draws, male_draws, strict=True):
            members.append(
                Member(
                    member_id=f"M{len(members) + 1:06d}",
                    age_band=bands[band],
                    gender=Gender.MALE if male else Gender.FEMALE,
                    home_store_id=store.store_id,
                    declared=not skipped_profile[len(members)],
                )
            )
    return members
