"""The foreign-key KTable-KTable join (KIP-213), as Kafka Streams runs it across partitions.

The left table sends a subscription, keyed by the foreign key, to the partition of the right
row; the right side keeps subscriptions in a store, answers them, and answers again whenever
the right row changes; the answers go back, keyed by the left key, to the left row's
partition, where a hash of the left value drops answers to a value that has since changed.
"""

from __future__ import annotations

import enum
import hashlib
import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from strom.core.errors import SerializationError
from strom.dsl.ops.aggregate import skip
from strom.dsl.ops.change import Change
from strom.dsl.ops.getters import ValueGetterSupplier
from strom.processor.api import Processor, ProcessorContext
from strom.processor.record import Record
from strom.serdes.base import Serde
from strom.serdes.coerce import serde_for

_HEAD = struct.Struct(">BiI")  # instruction, primary partition, hash length (0: no hash)
_LEN = struct.Struct(">I")


class Instruction(enum.IntEnum):
    DELETE_KEY_AND_PROPAGATE = 0
    DELETE_KEY_NO_PROPAGATE = 1
    PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE = 2
    PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE = 3


class Subscription(NamedTuple):
    value_hash: bytes | None
    instruction: Instruction
    primary_key: Any
    partition: int


class Response(NamedTuple):
    value_hash: bytes | None
    foreign_value: Any
    partition: int


def value_hash(data: bytes | None) -> bytes | None:
    return None if data is None else hashlib.blake2b(data, digest_size=16).digest()


def _resolved(serde: Any, default: Serde[Any]) -> Serde[Any]:
    return default if serde is None else serde


class SubscriptionSerde(Serde[Subscription]):
    """``instruction | partition | hash length | hash | primary key`` (key in the left
    table's key serde)."""

    def __init__(self, key_serde: Serde[Any] | None) -> None:
        self.key_serde = key_serde

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Any:
        return SubscriptionSerde(_resolved(self.key_serde, key_default))

    def serialize(self, topic: str, obj: Subscription | None) -> bytes | None:
        if obj is None:
            return None
        h = obj.value_hash or b""
        pk = self.key_serde.serialize(topic, obj.primary_key) or b""  # type: ignore[union-attr]
        return _HEAD.pack(int(obj.instruction), obj.partition, len(h)) + h + pk

    def deserialize(self, topic: str, data: bytes | None) -> Subscription | None:
        if data is None:
            return None
        if len(data) < _HEAD.size:
            raise SerializationError(f"foreign-key subscription too short: {data!r}")
        instruction, partition, n = _HEAD.unpack_from(data)
        i = _HEAD.size
        h = data[i : i + n] if n else None
        pk = self.key_serde.deserialize(topic, data[i + n :])  # type: ignore[union-attr]
        return Subscription(h, Instruction(instruction), pk, partition)


class ResponseSerde(Serde[Response]):
    """``partition | hash length | hash | foreign value`` (right table's value serde)."""

    def __init__(self, value_serde: Serde[Any] | None) -> None:
        self.value_serde = value_serde

    def with_defaults(self, key_default: Serde[Any], value_default: Serde[Any]) -> Any:
        return ResponseSerde(_resolved(self.value_serde, value_default))

    def serialize(self, topic: str, obj: Response | None) -> bytes | None:
        if obj is None:
            return None
        h = obj.value_hash or b""
        value = (
            None
            if obj.foreign_value is None
            else self.value_serde.serialize(topic, obj.foreign_value)
        )  # type: ignore[union-attr]
        flag = b"\x00" if value is None else b"\x01"
        return _HEAD.pack(0, obj.partition, len(h)) + h + flag + (value or b"")

    def deserialize(self, topic: str, data: bytes | None) -> Response | None:
        if data is None:
            return None
        _, partition, n = _HEAD.unpack_from(data)
        i = _HEAD.size
        h = data[i : i + n] if n else None
        value = None if data[i + n] == 0 else self.value_serde.deserialize(topic, data[i + n + 1 :])  # type: ignore[union-attr]
        return Response(h, value, partition)


def combined_key(fk_bytes: bytes, pk_bytes: bytes) -> bytes:
    """The subscription store's key: ``len(fk) | fk | pk``, so a prefix scan finds an fk's."""
    return _LEN.pack(len(fk_bytes)) + fk_bytes + pk_bytes


def fk_prefix(fk_bytes: bytes) -> bytes:
    return _LEN.pack(len(fk_bytes)) + fk_bytes


def _config_serde(context: ProcessorContext, serde: Any, key: bool) -> Serde[Any]:
    if serde is not None:
        return serde
    from strom.serdes import Json

    name = "default.key.serde" if key else "default.value.serde"
    return serde_for(context.app_configs.get(name), Json())  # type: ignore[return-value]


class FkJoinSpec:
    """What every processor of one foreign-key join needs to know."""

    def __init__(
        self,
        fk_extractor: Callable[..., Any],
        joiner: Callable[[Any, Any], Any],
        left: bool,
        left_getter: ValueGetterSupplier,
        right_getter: ValueGetterSupplier,
        subscription_store: str,
        left_key_serde: Any,
        left_value_serde: Any,
        fk_serde: Any,
    ) -> None:
        self.fk_extractor = fk_extractor
        self.joiner = joiner
        self.left = left
        self.left_getter = left_getter
        self.right_getter = right_getter
        self.subscription_store = subscription_store
        self.left_key_serde = left_key_serde
        self.left_value_serde = left_value_serde
        self.fk_serde = fk_serde

    def fk(self, key: Any, value: Any) -> Any:
        try:
            return self.fk_extractor(key, value)
        except TypeError:
            return self.fk_extractor(value)  # Kafka's one-argument extractor


class _FkProcessor(Processor[Any, Any]):
    def __init__(self, spec: FkJoinSpec) -> None:
        self.spec = spec

    def init(self, context: ProcessorContext) -> None:
        self.context = context
        self.forward = context.forward
        self.value_serde = _config_serde(context, self.spec.left_value_serde, key=False)
        self.fk_serde = _config_serde(context, self.spec.fk_serde, key=True)
        self.pk_serde = _config_serde(context, self.spec.left_key_serde, key=True)

    def hash_of(self, value: Any) -> bytes | None:
        return None if value is None else value_hash(self.value_serde.serialize("fk", value))


class SendProcessor(_FkProcessor):
    """Left table changes -> subscriptions keyed by the foreign key."""

    def process(self, record: Record[Any, Change]) -> None:
        spec, pk, change = self.spec, record.key, record.value
        new, old = change.new, change.old
        old_fk = spec.fk(pk, old) if old is not None else None
        if not spec.left:
            if new is not None:
                new_fk = spec.fk(pk, new)
                if new_fk is None:
                    skip(self.context, "null foreign key", record)
                    if old_fk is not None:
                        self._send(record, old_fk, Instruction.DELETE_KEY_AND_PROPAGATE, new)
                elif old_fk is not None and new_fk != old_fk:
                    self._send(record, old_fk, Instruction.DELETE_KEY_NO_PROPAGATE, new)
                    self._send(
                        record, new_fk, Instruction.PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE, new
                    )
                else:
                    self._send(record, new_fk, Instruction.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE, new)
            elif old_fk is not None:
                self._send(record, old_fk, Instruction.DELETE_KEY_AND_PROPAGATE, new)
            return
        if new is None and old is None:
            return
        new_fk = spec.fk(pk, new) if new is not None else None
        if old_fk is not None and new_fk != old_fk:
            self._send(record, old_fk, Instruction.DELETE_KEY_NO_PROPAGATE, new)
        self._send(record, new_fk, Instruction.PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE, new)

    def _send(self, record: Record[Any, Any], fk: Any, instruction: Instruction, new: Any) -> None:
        sub = Subscription(
            self.hash_of(new), instruction, record.key, self.context.task_id.partition
        )
        self.forward(Record(fk, sub, record.timestamp, record.headers))


class ReceiveProcessor(_FkProcessor):
    """Subscriptions -> the subscription store, then on to the right table lookup."""

    def init(self, context: ProcessorContext) -> None:
        super().init(context)
        self.store = context.get_state_store(self.spec.subscription_store)

    def process(self, record: Record[Any, Subscription]) -> None:
        fk, sub = record.key, record.value
        if fk is None:
            if sub.instruction != Instruction.PROPAGATE_NULL_IF_NO_FK_VAL_AVAILABLE:
                skip(self.context, "null foreign key", record)
                return
        else:
            skey = combined_key(
                self.fk_serde.serialize("fk", fk) or b"",
                self.pk_serde.serialize("fk", sub.primary_key) or b"",
            )
            if sub.instruction in (
                Instruction.DELETE_KEY_AND_PROPAGATE,
                Instruction.DELETE_KEY_NO_PROPAGATE,
            ):
                self.store.delete(skey)
            else:
                self.store.put(skey, sub)
        self.forward(record)


class JoinForeignProcessor(_FkProcessor):
    """A subscription meets the right row (if any) and is answered."""

    def init(self, context: ProcessorContext) -> None:
        super().init(context)
        self.right = self.spec.right_getter.get(context)

    def process(self, record: Record[Any, Subscription]) -> None:
        fk, sub = record.key, record.value
        vt = self.right(fk) if fk is not None else None
        ts = record.timestamp if vt is None else max(record.timestamp, vt.timestamp)
        i = sub.instruction
        if i == Instruction.DELETE_KEY_NO_PROPAGATE:
            return
        if i == Instruction.PROPAGATE_ONLY_IF_FK_VAL_AVAILABLE and vt is None:
            return
        value = None if vt is None or i == Instruction.DELETE_KEY_AND_PROPAGATE else vt.value
        self.forward(
            Record(
                sub.primary_key, Response(sub.value_hash, value, sub.partition), ts, record.headers
            )
        )


class ForeignTableJoinProcessor(_FkProcessor):
    """A right row changed: answer every left row subscribed to it."""

    def init(self, context: ProcessorContext) -> None:
        super().init(context)
        self.store = context.get_state_store(self.spec.subscription_store)

    def process(self, record: Record[Any, Change]) -> None:
        fk = record.key
        if fk is None:
            skip(self.context, "null key", record)
            return
        prefix = fk_prefix(self.fk_serde.serialize("fk", fk) or b"")
        for _skey, sub in self.store.prefix_scan(prefix):
            self.forward(
                Record(
                    sub.primary_key,
                    Response(sub.value_hash, record.value.new, sub.partition),
                    record.timestamp,
                    record.headers,
                )
            )


class ResolverProcessor(_FkProcessor):
    """Answers back at the left row: joined, or dropped when the left value has changed."""

    def init(self, context: ProcessorContext) -> None:
        super().init(context)
        self.left_value = self.spec.left_getter.get(context)

    def process(self, record: Record[Any, Response]) -> None:
        pk, response = record.key, record.value
        current = self.left_value(pk)
        if response.value_hash != self.hash_of(None if current is None else current.value):
            metrics = getattr(self.context, "metrics", None)
            if metrics is not None:
                metrics.dropped_records += 1
            return  # an answer to an older left value
        if response.foreign_value is None and (not self.spec.left or current is None):
            self.forward(Record(pk, Change(None, None), record.timestamp, record.headers))
            return
        joined = self.spec.joiner(
            None if current is None else current.value, response.foreign_value
        )
        self.forward(Record(pk, Change(joined, None), record.timestamp, record.headers))


def supplier(cls: type[_FkProcessor], spec: FkJoinSpec) -> Callable[[], _FkProcessor]:
    return lambda: cls(spec)


def response_partition(topic: str, key: Any, value: Response, n: int) -> int:
    """Answers go back to the partition of the left row that subscribed."""
    return value.partition
