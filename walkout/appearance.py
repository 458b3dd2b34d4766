"""How a person looks, richer than one mean colour: a colour histogram of their upper and lower body.

Two shoppers in a navy shirt over khaki trousers and a khaki shirt over navy trousers have one mean
colour; their upper and lower bodies tell them apart. Each part's pixels (CIELAB, OpenCV's 8-bit
scale) fall into a few coarse bins: light or dark, and green/neutral/red by blue/neutral/yellow.
Coarse bins keep the descriptor small enough to ride on every ``camera.tracks`` message and let
lighting and pose noise move mass between neighbouring bins rather than scatter it. Two descriptors
are compared part by part with the Bhattacharyya distance (``cv2.compareHist``): 0 for the same
histograms, 1 for ones that share no bin.

The camera pipeline computes it from a detection's pixels; the twin's stand-in tracker from each
person's true clothing colours (:func:`part_histogram`, the histogram of a cloud of pixels around one
colour); the checkout compares them (:func:`appearance_distance`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt
from scipy.special import ndtr

Appearance = tuple[float, ...]  # upper body's bins, then lower body's; each part sums to 1
LIGHTNESS_EDGES = (128.0,)  # dark | light
CHROMA_EDGES = (120.0, 136.0)  # a: green | neutral | red, b: blue | neutral | yellow (128 is grey)
PART_BINS = (len(LIGHTNESS_EDGES) + 1) * (len(CHROMA_EDGES) + 1) ** 2
PARTS = 2  # upper body, lower body
APPEARANCE_LENGTH = PARTS * PART_BINS
DECIMALS = 2  # what travels: a bin's share to the percent keeps messages small
PIXEL_SPREAD_LAB = (12.0, 5.0, 5.0)  # how far a garment's pixels stray from its colour: shading and folds
# darken and lighten it far more than they change its hue


def appearance_of(upper: npt.NDArray[np.uint8], lower: npt.NDArray[np.uint8]) -> Appearance | None:
    """The descriptor of a person's upper and lower body pixels (each N x 3 CIELAB); None when either
    part shows no pixel."""
    if len(upper) == 0 or len(lower) == 0:
        return None
    return rounded(np.concatenate([_pixel_histogram(upper), _pixel_histogram(lower)]))


def part_histogram(lab: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The bins of body parts whose pixels scatter (:data:`PIXEL_SPREAD_LAB`) around one colour each
    (``lab``: N x 3, one part a row): what :func:`appearance_of` would count of them (N x bins)."""
    lightness = _bin_masses(lab[:, 0], LIGHTNESS_EDGES, PIXEL_SPREAD_LAB[0])
    green_red = _bin_masses(lab[:, 1], CHROMA_EDGES, PIXEL_SPREAD_LAB[1])
    blue_yellow = _bin_masses(lab[:, 2], CHROMA_EDGES, PIXEL_SPREAD_LAB[2])
    joint = lightness[:, :, None, None] * green_red[:, None, :, None] * blue_yellow[:, None, None, :]
    return joint.reshape(len(lab), PART_BINS)


def rounded(bins: npt.NDArray[np.float64]) -> Appearance:
    """A descriptor as it travels: each part normalised to sum 1, rounded to :data:`DECIMALS`."""
    parts = bins.reshape(PARTS, PART_BINS)
    parts = parts / np.maximum(parts.sum(axis=1, keepdims=True), 1e-12)
    return tuple(round(float(value), DECIMALS) for value in parts.ravel())


def appearance_distance(one: Appearance, other: Appearance) -> float:
    """How unlike two descriptors are: the mean of their parts' Bhattacharyya distances (0 to 1)."""
    ones = np.asarray(one, np.float32).reshape(PARTS, PART_BINS)
    others = np.asarray(other, np.float32).reshape(PARTS, PART_BINS)
    return (
        sum(
            float(cv2.compareHist(a, b, cv2.HISTCMP_BHATTACHARYYA)) for a, b in zip(ones, others, strict=True)
        )
        / PARTS
    )


def mean_appearance(appearances: Sequence[Appearance]) -> Appearance:
    """The bin-wise mean of several sightings' descriptors: a person's look over a few frames."""
    return rounded(np.asarray(appearances, np.float64).mean(axis=0))


def _pixel_histogram(pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float64]:
    lab = pixels.reshape(-1, 3).astype(np.float64)
    lightness = np.searchsorted(LIGHTNESS_EDGES, lab[:, 0], side="right")
    green_red = np.searchsorted(CHROMA_EDGES, lab[:, 1], side="right")
    blue_yellow = np.searchsorted(CHROMA_EDGES, lab[:, 2], side="right")
    chroma = len(CHROMA_EDGES) + 1
    index = (lightness * chroma + green_red) * chroma + blue_yellow
    counts = np.bincount(index, minlength=PART_BINS).astype(np.float64)
    return np.asarray(counts / counts.sum(), np.float64)


def _bin_masses(
    values: npt.NDArray[np.float64], edges: tuple[float, ...], spread: float
) -> npt.NDArray[np.float64]:
    """Share of a normal cloud (mean ``values``, sd ``spread``) in each bin between ``edges`` (N x bins)."""
    below = ndtr((np.asarray(edges)[None, :] - values[:, None]) / spread)
    cumulative = np.column_stack([np.zeros(len(values)), below, np.ones(len(values))])
    return np.diff(cumulative, axis=1)
