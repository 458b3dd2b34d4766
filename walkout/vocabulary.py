"""Words every area shares: demographic bands and genders, as stored in events and the catalog, and
where the digital twin's camera tracks come from (a setting and a command option)."""

from enum import StrEnum


class AgeBand(StrEnum):
    """Age bands; ``0-18`` is a minor under Korean law (alcohol and tobacco from 19)."""

    MINOR = "0-18"
    AGE_19_29 = "19-29"
    AGE_30_39 = "30-39"
    AGE_40_49 = "40-49"
    AGE_50_59 = "50-59"
    AGE_60_PLUS = "60+"
    UNKNOWN = "unknown"


class Gender(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class DemographicSource(StrEnum):
    """Where a visit's age band and gender come from: the member's app profile wins over the camera."""

    DECLARED = "declared"
    ESTIMATED = "estimated"
    UNKNOWN = "unknown"


class CameraSource(StrEnum):
    """Where the digital twin's ``camera.tracks`` come from."""

    STAND_IN = "stand-in"
    """A stand-in tracker: the true walks with noise, breaks and id switches (fast)."""
    PIPELINE = "pipeline"
    """The real ceiling pipeline on rendered top-down frames of the twin's shoppers (minutes a store-day)."""
