"""Sensor fusion for one store: visits from gate scans, people from camera tracks, carts from plates.

Events arrive in event-time order (see :mod:`realtime.checkout.ordering`); scans and shelf events
are decided once the tracks a few seconds past them have arrived. The tracker is the weak sensor:
it loses people for a moment (breaks) and swaps the ids of people who pass close by, so every id is
followed as part of a :class:`~realtime.checkout.fusion.tracks.Person`, and the takes are kept per
person with their time so they can move when we learn that ids were swapped.

:class:`StoreCheckout` is the façade (:mod:`.checkout`: events in, decisions when due); behind it, over
one :class:`~realtime.checkout.fusion.state.FusionState`:

* :mod:`.camera` — ids followed as people, close passes noted, breaks stitched;
* :mod:`.gate` — who came in on an entry scan, who walked out on an exit scan;
* :mod:`.exits` — who left with a visit (undoing id swaps), and the visit closed;
* :mod:`.swaps` — when the tracker swapped two ids, judged from walks and looks;
* :mod:`.shelves` — who took from a plate or put back on one;
* :mod:`.receipts` — carts, visits, dwell and receipts out;
* :mod:`.alerts` — loss-prevention alerts (tailgaters, unpaid exits, restricted items) beside them;
* :mod:`.tracks` — the geometry of ids and people; :mod:`.params` — every tunable.

Everything here is decided from the events alone, in their order: a service restored from a
snapshot, or one run in another process, decides the same (no iteration over sets, no ``hash``).
"""

from realtime.checkout.fusion.checkout import StoreCheckout
from realtime.checkout.fusion.params import DEFAULT_PARAMS, AlertRules, FusionParams
from realtime.checkout.fusion.receipts import AGE_NOT_VERIFIED, LOW_CONFIDENCE
from realtime.checkout.fusion.state import OpenVisit, PassCheck, Take

__all__ = [
    "AGE_NOT_VERIFIED",
    "DEFAULT_PARAMS",
    "LOW_CONFIDENCE",
    "AlertRules",
    "FusionParams",
    "OpenVisit",
    "PassCheck",
    "StoreCheckout",
    "Take",
]
