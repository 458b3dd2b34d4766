"""The checkout state on disk: a versioned snapshot that holds data only, validated when loaded.

The service writes one about every second and restores the last one after a crash, so a snapshot is
read as if anyone could have written or damaged it. It is msgpack (data: nothing in it names code to
run) in an envelope: the format's name and schema version, readable whatever follows, then a SHA-256
of the rest, so that a torn or damaged file is never taken for a valid one. The rest is an ``origin``
the caller supplies (what the state was taken against, such as the Kafka cluster and topics) and the
body: the dataclasses and enums of :data:`STATE_CLASSES` by their fields, each store's fusion by its
attributes (its store and catalog are the live ones: named, not copied; its parameters are settings,
not state: a restored fusion runs the defaults, as the service does) and held contract events as their
wire JSON. Loading builds nothing else, checks every dataclass field against its type hints and every
event against its contract, and turns any failure into one :class:`CheckoutError` line naming the file.
"""

from __future__ import annotations

import dataclasses
import hashlib
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum, IntEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

import msgpack
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from realtime.checkout.demographics import Estimate
from realtime.checkout.errors import CheckoutError
from realtime.checkout.fusion import FusionParams, OpenVisit, PassCheck, StoreCheckout, Take
from realtime.checkout.fusion.state import Weighed
from realtime.checkout.fusion.tracks import Person, Track
from realtime.checkout.ordering import EventTimeBuffer, Stream
from walkout.catalog import Catalog, Store
from walkout.contracts import ContractError, Event, parse_event
from walkout.files import write_atomically
from walkout.vocabulary import AgeBand, Gender

FORMAT = "walkout.checkout-state"
SCHEMA_VERSION = 4  # bump when the state's classes change shape: a snapshot of another shape is refused
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024  # a busy store's state is about 1 MiB (benchmarks/snapshot_format.py)
MAX_DEPTH = 32  # objects within objects; the state nests 5 deep

STATE_CLASSES: tuple[type[Any], ...] = (
    OpenVisit,
    Take,
    Weighed,
    Weighed,
    PassCheck,
    Person,
    Track,
    Estimate,
    AgeBand,
    Gender,
    EventTimeBuffer,
    Stream,
)
"""What a snapshot may hold besides its root, builtins, events and fusions. Saving anything else fails,
so a class added to the state without being added here is caught by the first round trip."""

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class _Kind(IntEnum):
    """msgpack extension codes, for what msgpack has no type of its own."""

    TUPLE = 1
    SET = 2
    OBJECT = 3  # a dataclass of the whitelist: [class name, {field: value}]; an enum: [class name, value]
    FUSION = 4  # a store's fusion: [store id, {attribute: value}]
    EVENT = 5  # a contract event: its wire JSON


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """A loaded snapshot: what it was taken against, and the state."""

    origin: dict[str, str]
    body: T


class _Envelope(BaseModel):
    """The file, once its format and schema version are known to be ours."""

    model_config = ConfigDict(strict=True, extra="forbid")

    format: str
    schema_version: int
    sha256: str  # of ``sealed``
    sealed: bytes


class _Sealed(BaseModel):
    """What the envelope's digest vouches for."""

    model_config = ConfigDict(strict=True, extra="forbid")

    origin: dict[str, str]
    body: bytes


def write_snapshot(path: Path, body: object, origin: Mapping[str, str]) -> None:
    """Write atomically and durably: a reader (or a restart) sees the old snapshot or the new one."""
    data = encode_snapshot(body, origin)
    if len(data) > MAX_SNAPSHOT_BYTES:  # a restart would refuse it: better to stop now and say why
        raise CheckoutError(
            f"checkout state grew to {len(data):,} bytes, over the {MAX_SNAPSHOT_BYTES:,}-byte limit "
            f"of a snapshot; not writing {path}"
        )
    write_atomically(path, lambda partial: partial.write_bytes(data))


def read_snapshot(path: Path, root: type[T], catalog: Catalog) -> Snapshot[T]:
    """The snapshot at ``path``, whose state is a ``root``; fusions are linked to the live ``catalog``."""
    try:
        size = path.stat().st_size
        if size > MAX_SNAPSHOT_BYTES:
            raise CheckoutError(
                _unusable(path, f"{size:,} bytes, over the {MAX_SNAPSHOT_BYTES:,}-byte limit")
            )
        data = path.read_bytes()
    except OSError as error:
        raise CheckoutError(_unusable(path, error.strerror or error)) from None
    return decode_snapshot(data, root, catalog, path)


def encode_snapshot(body: object, origin: Mapping[str, str]) -> bytes:
    """The snapshot of ``body``: a dataclass made of builtins, events, fusions and :data:`STATE_CLASSES`."""
    sealed = msgpack.packb({"origin": dict(origin), "body": _Encoder(type(body)).pack(body)})
    envelope = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "sha256": hashlib.sha256(sealed).hexdigest(),
        "sealed": sealed,
    }
    return bytes(msgpack.packb(envelope))


def decode_snapshot(data: bytes, root: type[T], catalog: Catalog, source: Path) -> Snapshot[T]:
    """The snapshot in ``data`` (read from ``source``); any flaw is a :class:`CheckoutError` naming it."""
    try:
        return _decode(data, root, catalog)
    except (
        ValueError,  # msgpack's format errors, pydantic's and the contracts' validation errors, ours
        TypeError,  # e.g. a list where a set item or a mapping key must be hashable
        msgpack.UnpackException,
        MemoryError,
        OverflowError,
        RecursionError,
    ) as error:
        raise CheckoutError(_unusable(source, str(error) or type(error).__name__)) from None


def _unusable(source: Path, reason: object) -> str:
    one_line = " ".join(str(reason).split())[:300]
    return (
        f"checkout state {source} is unusable: {one_line}; move it away to start from the committed offsets"
    )


def _decode(data: bytes, root: type[T], catalog: Catalog) -> Snapshot[T]:
    try:
        envelope = msgpack.unpackb(data)  # lengths are bounded by the data's own size
    except (ValueError, msgpack.UnpackException) as error:
        raise ValueError(
            f"not a {FORMAT} snapshot, or a damaged one: {error or type(error).__name__}"
        ) from None
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} snapshot")
    if envelope.get("schema_version") != SCHEMA_VERSION:
        raise ValueError(
            f"written as snapshot schema {envelope.get('schema_version')!r}; "
            f"this walkout reads schema {SCHEMA_VERSION}"
        )
    checked = _validated(_Envelope, envelope, "envelope")
    if hashlib.sha256(checked.sealed).hexdigest() != checked.sha256:
        raise ValueError("damaged: its content does not match its SHA-256")
    sealed = _validated(_Sealed, msgpack.unpackb(checked.sealed), "sealed content")
    body = _Decoder(root, catalog).unpack(sealed.body)
    if type(body) is not root:
        raise ValueError(f"holds a {type(body).__name__}, not a {root.__name__}")
    return Snapshot(sealed.origin, body)


def _validated(model: type[M], value: object, what: str) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise ValueError(f"{what} {_first_error(error)}") from None


def _whitelist(root: type) -> dict[str, type[Any]]:
    return {cls.__name__: cls for cls in (root, *STATE_CLASSES)}


def _fusion_state(fusion: StoreCheckout) -> dict[str, Any]:
    """A fusion's attributes but the live store and catalog it is linked to, its parameters and its
    calibration (settings: the service sets the newest calibration on restored fusions)."""
    return {
        name: value
        for name, value in vars(fusion).items()
        if not isinstance(value, Store | Catalog | FusionParams) and name != "calibration"
    }


class _Encoder:
    def __init__(self, root: type) -> None:
        self.classes = _whitelist(root)

    def pack(self, value: object) -> bytes:
        # strict types: a tuple, a set or a StrEnum member reaches ``extension`` instead of passing for a list
        return bytes(msgpack.packb(value, default=self.extension, strict_types=True, datetime=True))

    def extension(self, value: object) -> msgpack.ExtType:
        if type(value) is tuple:
            return msgpack.ExtType(_Kind.TUPLE, self.pack(list(value)))
        if type(value) is set:
            return msgpack.ExtType(_Kind.SET, self.pack(list(value)))
        if isinstance(value, Event):
            return msgpack.ExtType(_Kind.EVENT, value.to_bytes())
        if isinstance(value, StoreCheckout):
            return msgpack.ExtType(_Kind.FUSION, self.pack([value.store.store_id, _fusion_state(value)]))
        name = type(value).__name__
        if self.classes.get(name) is type(value):
            if isinstance(value, Enum):
                return msgpack.ExtType(_Kind.OBJECT, self.pack([name, value.value]))
            if dataclasses.is_dataclass(value):
                fields = {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
                return msgpack.ExtType(_Kind.OBJECT, self.pack([name, fields]))
        raise TypeError(f"a checkout snapshot cannot hold a {name}: if it is state, add it to STATE_CLASSES")


class _Decoder:
    def __init__(self, root: type, catalog: Catalog) -> None:
        self.classes = _whitelist(root)
        self.field_types = {
            name: _field_types(cls) for name, cls in self.classes.items() if dataclasses.is_dataclass(cls)
        }
        self.catalog = catalog
        self.depth = 0

    def unpack(self, data: bytes) -> Any:
        return msgpack.unpackb(data, ext_hook=self.extension, strict_map_key=False, timestamp=3)

    def extension(self, code: int, data: bytes) -> object:
        if code == _Kind.EVENT:
            try:
                return parse_event(data, max_bytes=MAX_SNAPSHOT_BYTES)  # re-validated by its contract
            except ContractError as error:
                raise ValueError(f"event {error}") from None
        if self.depth == MAX_DEPTH:
            raise ValueError(f"objects nested over {MAX_DEPTH} deep")
        self.depth += 1
        try:
            payload = self.unpack(data)
        finally:
            self.depth -= 1
        if code in (_Kind.TUPLE, _Kind.SET):
            if not isinstance(payload, list):
                raise ValueError(f"a {_Kind(code).name.lower()} of a {type(payload).__name__}")
            return tuple(payload) if code == _Kind.TUPLE else set(payload)
        if code == _Kind.OBJECT:
            return self.build(*_named(payload))
        if code == _Kind.FUSION:
            return self.fusion(*_named(payload))
        raise ValueError(f"unknown msgpack extension {code}")

    def build(self, name: str, state: object) -> object:
        """An instance of a whitelisted class, from fields checked against its type hints."""
        cls = self.classes.get(name)
        if cls is None:
            raise ValueError(f"holds a {name[:60]!r}, which is not checkout state")
        if issubclass(cls, Enum):
            return cls(state)
        names = [field.name for field in dataclasses.fields(cls)]
        if not isinstance(state, dict) or list(state) != names:
            raise ValueError(f"a {name} whose fields are not {', '.join(names)}")
        try:
            self.field_types[name].validate_python(tuple(state.values()), strict=True)
        except ValidationError as error:
            raise ValueError(f"{name}.{_first_error(error, names)}") from None
        return cls(**state)

    def fusion(self, store_id: str, state: object) -> StoreCheckout:
        """A store's fusion linked to the live catalog, with the attributes a fresh one has, each of the
        kind it starts as (its contents are checked as far as they are dataclasses and events)."""
        fusion = StoreCheckout(self.catalog.store(store_id), self.catalog)
        fresh = _fusion_state(fusion)
        if not isinstance(state, dict) or state.keys() != fresh.keys():
            raise ValueError(f"a fusion whose attributes are not {', '.join(fresh)}")
        for name, value in state.items():
            if not _starts_as(value, fresh[name]):
                raise ValueError(
                    f"fusion.{name}: a {type(value).__name__}, not a {type(fresh[name]).__name__}"
                )
        vars(fusion).update(state)
        return fusion


def _starts_as(value: object, start: object) -> bool:
    """Whether a restored attribute is of the kind a fresh fusion's starts as (any number for a float;
    anything for None, which says nothing of what comes later)."""
    if start is None:
        return True
    if isinstance(start, float):
        return type(value) in (float, int)
    return type(value) is type(start)


def _named(payload: object) -> tuple[str, object]:
    """A (name, state) pair: an object's class or a fusion's store, and what it holds."""
    if not (isinstance(payload, list) and len(payload) == 2 and isinstance(payload[0], str)):
        raise ValueError("an object that is not a (name, state) pair")
    return payload[0], payload[1]


def _field_types(cls: type[Any]) -> TypeAdapter[tuple[Any, ...]]:
    """Checks a dataclass's field values (in field order) against its type hints."""
    hints = typing.get_type_hints(cls)
    types = tuple(hints[field.name] for field in dataclasses.fields(cls))
    # arbitrary types: a field holding fusions (not a dataclass) is checked as an instance of it
    return TypeAdapter(tuple[types], config=ConfigDict(arbitrary_types_allowed=True))  # type: ignore[valid-type]


def _first_error(error: ValidationError, names: list[str] | None = None) -> str:
    detail = error.errors(include_url=False)[0]
    where = [str(part) for part in detail["loc"]]
    if names is not None and where:  # the first part is a field's place in the checked tuple
        where[0] = names[int(where[0])]
    return f"{'.'.join(where)}: {detail['msg']}"
