"""One settings object for every area, read from ``WALKOUT_*`` environment variables.

An optional file (``walkout.env`` in the working directory, or the path in ``WALKOUT_ENV_FILE``)
holds the same ``WALKOUT_*`` lines; real environment variables win over it. The defaults make a
fresh checkout run with an embedded broker and a data directory under ``./data``.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from walkout.data_dir import DataDir
from walkout.errors import WalkoutError
from walkout.vocabulary import CameraSource

ENV_PREFIX = "WALKOUT_"
MIN_KEY_CHARS = 16
SecretName = Literal["gate_key", "edge_key", "ad_api_key", "review_key"]
DEMO_KEYS: dict[SecretName, bytes] = {
    "gate_key": b"walkout-demo-master-key",
    "edge_key": b"walkout-demo-edge-key",
    "ad_api_key": b"walkout-demo-ad-api-key",
    "review_key": b"walkout-demo-review-key",
}
"""Public demo keys: anyone can read them. Used for an unset key only when ``demo_keys`` is on."""


class SettingsError(WalkoutError):
    """A setting has a value walkout cannot use."""


def _env_file() -> str:
    return os.environ.get(f"{ENV_PREFIX}ENV_FILE", "walkout.env")


class Settings(BaseSettings):
    """Effective configuration; ``walkout config`` prints it."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", validate_default=True)

    data_dir: Path = Field(Path("data"), description="Root of the lake, warehouse, artifacts and run state.")
    kafka_bootstrap: str | None = Field(
        None,
        description="host:port[,host:port] of an existing Kafka cluster; unset means the embedded broker.",
    )
    broker_host: str = Field("127.0.0.1", description="Address the embedded broker listens on.")
    broker_port: int = Field(0, ge=0, le=65535, description="Embedded broker port; 0 picks a free one.")
    topic_partitions: int = Field(4, ge=1, le=64, description="Partitions per topic (key = store_id).")
    consumer_group_prefix: str = Field("walkout", min_length=1, description="Prefix of every consumer group.")
    max_event_bytes: int = Field(64 * 1024, ge=1024, description="Larger messages are dead-lettered.")
    log_level: str = Field("INFO", description="Python logging level.")
    gate_key: SecretStr | None = Field(
        None, description="Master key of the QR gates: each store's token-signing secret derives from it."
    )
    edge_key: SecretStr | None = Field(
        None, description="Master key of the edge devices: gates, plates and cameras sign with keys from it."
    )
    ad_api_key: SecretStr | None = Field(
        None, description="Master key of the ad API's screen and member app keys."
    )
    review_key: SecretStr | None = Field(
        None, description="Master key of the review console: each operator's sign-in key derives from it."
    )
    review_wrong_unflagged_target: float = Field(
        0.001,
        ge=0.0,
        le=0.1,
        description="Share of visits allowed to leave with a wrong receipt no operator looks at: the "
        "calibration chooses the review threshold that keeps them under it at the least review.",
    )
    demo_keys: bool = Field(
        False,
        description="Use the public demo keys for the keys left unset: for `walkout demo` and tests, "
        "never a store (anyone can read them).",
    )
    demo_history_days: int = Field(
        28, ge=1, le=366, description="Days of history `walkout demo` backfills before the streamed day."
    )
    demo_cameras: CameraSource = Field(
        CameraSource.STAND_IN,
        description="Camera tracks of the demo's streamed day: the stand-in tracker, or `pipeline` "
        "(rendered frames through the real ceiling pipeline; minutes a store-day).",
    )

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap_has_ports(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"{server!r} is not host:port")
        return value

    @field_validator("gate_key", "edge_key", "ad_api_key", "review_key")
    @classmethod
    def _key_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_KEY_CHARS:
            raise ValueError(f"a key needs at least {MIN_KEY_CHARS} characters (empty is not a key)")
        return value

    def secret(self, name: SecretName) -> bytes:
        """The configured key, or the public demo key when it is unset and ``demo_keys`` is on."""
        value: SecretStr | None = getattr(self, name)
        if value is not None:
            return value.get_secret_value().encode()
        if self.demo_keys:
            return DEMO_KEYS[name]
        variable = f"{ENV_PREFIX}{name.upper()}"
        raise SettingsError(
            f"{variable} is not set: set it from your secret store, or WALKOUT_DEMO_KEYS=1 "
            "to use the public demo keys on a laptop"
        )

    @property
    def paths(self) -> DataDir:
        """Every folder and file under ``data_dir``, as relative or absolute as ``data_dir`` is."""
        return DataDir(self.data_dir)

    @property
    def uses_embedded_broker(self) -> bool:
        return self.kafka_bootstrap is None

    def as_rows(self) -> list[tuple[str, str, str]]:
        """(environment variable, effective value, description) for every setting."""
        rows = []
        for name, field in type(self).model_fields.items():
            value: Any = getattr(self, name)
            if name == "kafka_bootstrap" and value is None:
                shown = "(embedded broker)"
            elif name in DEMO_KEYS and value is None:
                shown = "(demo key)" if self.demo_keys else "(unset)"
            else:
                shown = str(value)
            rows.append((f"{ENV_PREFIX}{name.upper()}", shown, field.description or ""))
        return rows


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (environment first, then the optional env file, then defaults)."""
    try:
        return Settings(_env_file=_env_file())
    except ValidationError as error:
        detail = error.errors(include_url=False)[0]
        name = ".".join(str(part) for part in detail["loc"])
        raise SettingsError(f"setting {ENV_PREFIX}{name.upper()}: {detail['msg']}") from None
