"""Where a camera's pixels lie on the floor plan: a homography from reference points, and zones.

The floor is a plane, so one 3x3 homography maps every floor pixel to floor-plan metres. It is
estimated with OpenCV from four or more reference points (RANSAC when there are more than four, so
one mis-clicked point does not bend the map) and checked by reprojecting the points. Zones are
polygons in floor metres: the camera config's own, or the store's catalog zones.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from ingestion.camera import CameraError
from ingestion.camera.config import CameraConfig, ReferencePoint, ZoneArea
from walkout.catalog import CatalogError, load_catalog

MAX_REPROJECTION_PX = 4.0
RANSAC_FLOOR_M = 0.1
UNCALIBRATED_PX_PER_M = 75.0
"""Without a calibration, a top-down view is assumed to show about this many pixels per metre."""

Points = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Calibration:
    """Image pixels ↔ floor-plan metres, and the zone under a floor position."""

    image_to_floor: npt.NDArray[np.float64]
    zones: tuple[ZoneArea, ...] = ()
    reprojection_px: float = 0.0
    calibrated: bool = True

    @classmethod
    def from_points(cls, points: tuple[ReferencePoint, ...], zones: tuple[ZoneArea, ...] = ()) -> Calibration:
        """Estimate the homography; raises :class:`CameraError` when the points do not define one."""
        if len(points) < 4:
            raise CameraError(f"a calibration needs at least 4 reference points, got {len(points)}")
        image = np.array([point.image for point in points], dtype=np.float64)
        floor = np.array([point.floor for point in points], dtype=np.float64)
        method = cv2.RANSAC if len(points) > 4 else 0
        found, _ = cv2.findHomography(image, floor, method, RANSAC_FLOOR_M)
        homography = None if found is None else np.asarray(found, dtype=np.float64)
        if homography is None or abs(np.linalg.det(homography)) < 1e-12:
            raise CameraError(
                "the reference points do not define a floor homography (are 3 of them in a line?)"
            )
        calibration = cls(homography, zones)
        error = float(np.median(np.hypot(*(calibration.to_image(floor) - image).T)))
        if not np.isfinite(error) or error > MAX_REPROJECTION_PX:
            raise CameraError(
                f"the reference points disagree: median reprojection error {error:.1f} px "
                f"(at most {MAX_REPROJECTION_PX:.0f} px); check their image and floor coordinates"
            )
        return cls(homography, zones, error)

    @classmethod
    def uncalibrated(cls) -> Calibration:
        """A stand-in for a camera without calibration: a top-down view at a nominal scale, no zones."""
        scale = np.diag([1.0 / UNCALIBRATED_PX_PER_M, 1.0 / UNCALIBRATED_PX_PER_M, 1.0])
        return cls(np.asarray(scale, dtype=np.float64), calibrated=False)

    def to_floor(self, pixels: Points) -> Points:
        """Image points (N x 2, pixels) → floor-plan points (N x 2, metres)."""
        return _transform(pixels, self.image_to_floor)

    def to_image(self, floor: Points) -> Points:
        """Floor-plan points (N x 2, metres) → image points (N x 2, pixels)."""
        return _transform(floor, np.asarray(np.linalg.inv(self.image_to_floor), dtype=np.float64))

    def pixels_per_metre(self, pixel: tuple[float, float]) -> float:
        """The local scale of the view around an image point (perspective makes it vary)."""
        u, v = pixel
        floor = self.to_floor(np.array([[u, v], [u + 1.0, v], [u, v + 1.0]]))
        (ax, ay), (bx, by) = floor[1] - floor[0], floor[2] - floor[0]
        area_m2 = abs(ax * by - ay * bx)
        return float(1.0 / np.sqrt(area_m2)) if area_m2 > 0 else UNCALIBRATED_PX_PER_M

    def zone_at(self, x: float, y: float) -> str | None:
        """The zone under a floor position, or None outside every zone."""
        for zone in self.zones:
            polygon = np.array(zone.polygon, dtype=np.float32)
            if cv2.pointPolygonTest(polygon, (float(x), float(y)), False) >= 0:
                return zone.zone_id
        return None


def calibrate(config: CameraConfig) -> Calibration:
    """The calibration of a configured camera, with its zones (the catalog's when the config has none);
    the uncalibrated stand-in for a camera without reference points."""
    if config.reference_points is None:
        return Calibration.uncalibrated()
    return Calibration.from_points(config.reference_points, config.zones or store_zones(config.store_id))


def store_zones(store_id: str) -> tuple[ZoneArea, ...]:
    """A catalog store's zones as floor polygons; none for a store the catalog does not know."""
    try:
        store = load_catalog().store(store_id)
    except CatalogError:
        return ()
    return tuple(
        ZoneArea(
            zone_id=zone.zone_id,
            polygon=((zone.x0, zone.y0), (zone.x1, zone.y0), (zone.x1, zone.y1), (zone.x0, zone.y1)),
        )
        for zone in store.zones
    )


def _transform(points: Points, homography: npt.NDArray[np.float64]) -> Points:
    if len(points) == 0:
        return np.empty((0, 2))
    moved = cv2.perspectiveTransform(np.asarray(points, dtype=np.float64).reshape(-1, 1, 2), homography)
    return np.asarray(moved, dtype=np.float64).reshape(-1, 2)
