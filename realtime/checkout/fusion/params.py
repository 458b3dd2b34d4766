"""Every tunable of the checkout fusion, in one frozen record.

The defaults are what the service runs (most measured on the twin); a test or a study passes a
:class:`FusionParams` with some of them changed (``dataclasses.replace``) to a ``StoreCheckout``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AlertRules:
    """The loss-prevention alerts' thresholds, in one place (see docs/alerts.md): times in seconds,
    money in KRW."""

    # A group comes through the lane member by member (``member_gap_s`` apart) and its last member
    # appears within ``entry_window_s[1]`` of being due; an id that no scan admitted appearing at the
    # same lane this much later still walked in on the group's opening (a speed gate closes in ~2 s).
    tailgate_behind_s: float = 3.0
    # An unpaid exit's severity by the value carried out: a drink or a snack is low, a basket's worth
    # medium, a bottle of spirits, cigarettes or an armful of goods high (convenience prices: 1,000 -
    # 5,000 KRW an item, a carton of cigarettes ~45,000).
    unpaid_medium_krw: int = 5_000
    unpaid_high_krw: int = 20_000


@dataclass(frozen=True)
class FusionParams:
    """How the fusion weighs what it sees: times in seconds, distances in metres, odds as logs."""

    lookahead_s: float = 10.0  # decide a scan or shelf event once tracks this much later have arrived
    left_without_scan_s: float = 180.0  # a visit whose people are all gone this long left without a scan
    closed_memory_s: float = 86_400.0
    sweep_s: float = 10.0  # how often (event time) to forget what is long gone

    # Gate lanes: who came in on a scan, who left on one.
    gate_m: float = 1.5  # a track starting or ending this close to a gate lane went through it
    lane_doubt_m: float = 0.4  # a first sighting this much further from a neighbouring lane: maybe it
    entry_window_s: tuple[float, float] = (1.0, 2.0)  # a group appears at the gate from just before its scan
    member_gap_s: float = 0.9  # members of a group come through the gate about this far apart
    unpaired_s: float = 1.5  # how far from when a member was due an id may come or go: then someone else
    exit_window_s: tuple[float, float] = (
        1.5,
        4.0,
    )  # a visit's people vanish through the gate around its exit
    lost_at_exit_s: float = 5.0  # ... or the tracker lost them by the gate this long before it (a break)
    exit_gap_s: float = 0.8  # members of a group leave through the gate about this far apart
    next_exit_s: float = 0.3  # ... and whoever leaves after the next exit scan at that lane is that one's

    # Track breaks: a new id mid-store continues someone lost a moment ago.
    midstore_settle_s: float = 2.0  # a new id mid-store is judged once it has moved a little
    stitch_gap_s: tuple[float, float] = (0.5, 8.0)  # the tracker loses someone for this long
    stitch_m: float = 1.0  # ... and finds them this far (plus a walk across the gap) from where it lost them
    walk_mps: float = 1.5  # a shopper walks at most this fast: how far a lost person can have gone
    lost_s: float = 6.0  # a person the tracker lost this recently still stands where last seen

    # Hands on plates: who stood at the reach point, and how they came and went (measured on the twin).
    reach_m: float = 1.2  # how far from the reach point a shopper can stand and still take from the plate
    hand_on_plate_s: tuple[float, float] = (
        4.5,
        1.0,
    )  # a taker surely stands there before and after the weight settles
    stand_noise_m: float = (
        0.04  # the tracker's mean position over that stand strays this far from the true one
    )
    at_plate_m: float = 0.4  # standing at a reach point, give or take the tracker's noise
    stood_before_s: float = 4.8  # a taker has stood at the shelf this long before the weight settles ...
    stood_lookback_s: float = 8.0
    just_arrived_odds: float = math.log(0.05)  # ... nearly always
    moved_on_s: tuple[float, float] = (
        3.0,
        9.0,
    )  # a taker moves on this long after the weight settled, mostly
    # (stowing the item, a last look), as measured on the twin's stands:
    stayed_on_odds: float = math.log(0.15)  # ... seldom staying longer (another take from the same spot)
    soon_odds: float = math.log(0.25)  # ... now and then a second sooner
    left_at_once_s: float = 2.0
    left_at_once_odds: float = math.log(0.05)  # ... and hardly ever leaving sooner still
    lost_at_plate_odds: float = math.log(
        0.5
    )  # one the tracker lost there before they walked away: half as likely
    lost_at_plate_s: float = (
        1.5  # not seen this long by the end of the look ahead: lost (a break), not staying
    )
    busy_hands_s: float = 5.0  # picks from one spot this close in time are weighed together ...
    same_spot_m: float = 0.5  # ... when their reach points are this close
    both_hands_odds: float = math.log(0.05)  # one person taking two of them at once
    max_takers: int = 3  # likeliest people weighed per pick
    pick_window_s: tuple[float, float] = (
        6.0,
        1.0,
    )  # a take this close to an id swap goes to whoever stood there
    weight_match_g: float = 15.0  # a put-back on another plate weighs a carried product's units, give or take

    # Id swaps at close passes, undone at the exit (motion evidence calibrated on the twin).
    pass_m: float = 1.2  # people this close (along each axis) in a frame are passing each other
    swap_odds: float = 0.3 / 0.7  # a close pass swaps ids now and then: explanations with fewer swaps win
    someone_else: float = (
        0.1  # ids of people who came close before may still swap: a third person passed between
    )
    max_swaps: int = 3  # longest chain of swaps an exit is explained by
    motion_scale_m2: float = (
        0.12  # how far (m²) walks stray from straight lines over a few seconds, besides a swap
    )
    motion_floor: float = -2.3  # walks that join up as kept make a swap there unlikely ...
    motion_cap: float = 5.0  # ... and walks that join up only as swapped make it likely, within bounds
    look_sightings: int = 8  # an id's look either side of an instant: its nearest sightings there ...
    look_horizon_s: float = (
        30.0  # ... within this long (people who stood close together were seen as one blob)
    )
    colour_min_sightings: int = 2
    colour_cap: float = 6.0  # however different the looks, a swap's odds move at most this much (log)
    looks_blend_m: float = 0.7  # people this close may show up as one blob: neither's look is their own
    colour_sure: float = 4.0  # looks this sure of a swap undo it right after the pass, before anyone leaves
    ambiguous_cost: float = 1.0  # a second explanation this close to the best one leaves the receipt unsure

    # The tracks' geometry: where two ids may have swapped, and whether a walk joins up.
    frame_s: float = 1.25  # frames this close in time belong to one pass (a frame may go missing)
    motion_s: float = 1.5  # how much of a walk shows where it was heading
    join_s: float = 1.5  # how much of a walk either side of an instant shows whether it went on as one
    swap_m: float = 0.5  # the tracker swaps the ids of two people the first time they come this close
    swap_noise_m: float = 0.14  # the tracker's error on the distance between two people, per frame
    late_swap: float = 0.05  # a swap after the two first came that close: someone else came by in between
    swap_frame_min: float = 0.05  # frames less likely than this to have been that close are not weighed
    # Frames either side of one to fit the gap between two over, widest first: a stand at a shelf
    # lasts 5-30 s, and only a window as long as the stand averages the tracker's noise out of it.
    fit_half_windows: tuple[int, ...] = (16, 8, 4, 2, 1)
    look_noise_lab: float = 6.0  # how far two looks of one person may differ (CIELAB units, per channel)
    look_noise_appearance: float = 0.2  # ... and two appearances (Bhattacharyya distance, 0 to 1)
    other_look: float = (
        0.01  # chance an id's look matches neither of two people (a third person took it over)
    )
    line_noise_z: float = 2.33  # frames stray from a line beyond what noise does 1 time in 100: not a line
    off_line_frames: float = 20.0  # one frame in this many truly strays from a fitted walk (a step aside)

    # Receipts and dwell. A line's confidence: the taker's share at the plate (0.5 to 0.99) times the plate's
    # own, times how likely an id swap undone around the take left it with the right person (weighed by
    # the swap model above: no constant of its own; see swaps.charged_right).
    review_below: float = 0.65  # a receipt line less sure than this goes to review: wrong one time in three
    stop_min_s: float = 5.0  # a zone stay at least this long, moving under 0.4 m/s on average, is a stop

    # Loss-prevention alerts raised beside the receipts.
    alerts: AlertRules = field(default_factory=AlertRules)

    @property
    def gate_settle_s(self) -> float:
        """How long a new id at a gate first waits for the entry scan that admits it."""
        return self.lookahead_s + 0.5

    @property
    def pass_seen_after_s(self) -> float:
        """How long after a close pass both ids must have been seen before it is looked at."""
        return self.frame_s + 6.0


DEFAULT_PARAMS = FusionParams()  # what the service runs
