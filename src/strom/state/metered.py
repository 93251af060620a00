"""The metered layer: the typed top of a store stack (Kafka's ``MeteredKeyValueStore``).

Keys and values are (de)serialized here, with the changelog topic as the serde topic; below
this layer everything is bytes. The layer counts operations and registers the store with its
host, whose restore callback writes straight into the innermost store.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any, Generic, TypeVar

import strom.serdes as _serdes
from strom.core.errors import StoreError
from strom.serdes.base import Serde
from strom.serdes.primitives import fixed_format, shareable_types
from strom.state.api import (
    FlushListener,
    KeyValueStore,
    StateStore,
    StateStoreContext,
    ValueAndTimestamp,
)
from strom.state.caching import CachingKeyValueStore

K = TypeVar("K")
V = TypeVar("V")

_TS = struct.Struct(">q")
_tuple_new = tuple.__new__


def innermost(store: Any) -> Any:
    """The bytes store at the bottom of a stack of wrapping layers."""
    while hasattr(store, "wrapped"):
        store = store.wrapped
    return store


def find_layer(store: Any, kind: type) -> Any:
    """The first layer of ``kind`` in a stack, or None."""
    while store is not None:
        if isinstance(store, kind):
            return store
        store = getattr(store, "wrapped", None)
    return None


def _resolve(serde: Any, default: Any, key_default: Any, value_default: Any) -> Any:
    """A store serde that wraps "the default" gets it (or both, with ``with_defaults``)."""
    if serde is None:
        return default
    if hasattr(serde, "with_defaults"):
        return serde.with_defaults(key_default, value_default)
    return serde.with_default(default)


def _default_serde() -> Serde[Any]:
    """The project's default serde (Json), or Bytes where Json is not available."""
    return getattr(_serdes, "Json", _serdes.Bytes)()


class MeteredKeyValueStore(KeyValueStore[K, V], Generic[K, V]):
    """A typed key-value store over a stack of bytes stores.

    ``key_serde``/``value_serde`` default (when None) to the project default serde (Json when
    available, else Bytes). ``metrics`` counts operations.

    >>> from strom import serdes
    >>> from strom.state.memory import InMemoryKeyValueStore
    >>> store = MeteredKeyValueStore(InMemoryKeyValueStore("counts"), serdes.String(),
    ...                              serdes.Long())
    >>> store.name
    'counts'
    """

    def __init__(
        self,
        inner: KeyValueStore[bytes, bytes],
        key_serde: Serde[K] | None,
        value_serde: Serde[V] | None,
    ) -> None:
        self.wrapped = inner
        self.name = inner.name
        self._given_serdes = (key_serde, value_serde)  # None: the app's default, set at init
        self.key_serde: Serde[K] = key_serde if key_serde is not None else _default_serde()
        self.value_serde: Serde[V] = value_serde if value_serde is not None else _default_serde()
        self._topic = inner.name
        self._bind()
        self._puts = self._gets = self._deletes = self._ranges = self._flushes = 0
        self._put_ifs = self._put_alls = self._prefix_scans = self._alls = 0

    def _set_value_serde(self, serde: Serde[Any]) -> None:
        self.value_serde = serde

    def _bind(self) -> None:
        self._memo_key: Any = None  # the last key read, and its bytes
        self._memo_bytes: bytes | None = None
        self._ks = self.key_serde.serialize
        self._kd = self.key_serde.deserialize
        self._vs = self.value_serde.serialize
        self._vd = self.value_serde.deserialize
        inner = self.wrapped
        self._get = inner.get
        self._put = inner.put
        # typed values in the cache below (see _bind_typed): off until the store is initialised
        self._typed = False
        self._share_types: frozenset[type] = frozenset()
        self._get_typed: Callable[[bytes], Any] = self._get

    def _shareable(self) -> Callable[[Any], bool] | None:
        """Which values the cache below may keep as objects (None: none)."""
        types = self._share_types = shareable_types(self.value_serde)
        if not types:
            return None
        return lambda obj: obj.__class__ in types

    def _bind_typed(self) -> None:
        """With a record cache right below, keep the typed value beside its bytes when the
        value serde round-trips it exactly into an immutable object (int with Long, str with
        String, ...): a read after a write (an aggregation's get then put) then skips
        deserializing. The bytes, what is flushed, logged and sized, are unchanged."""
        inner = self.wrapped
        if not isinstance(inner, CachingKeyValueStore):
            return
        shareable = self._shareable()
        if shareable is not None and inner.typed(partial(self._vd, self._topic), shareable):
            self._typed = True
            self._get_typed = inner.get_typed

    # -- lifecycle -------------------------------------------------------------------------
    def init(self, context: StateStoreContext, root: StateStore) -> None:
        self._topic = context.changelog_topic(self.name)
        key_serde, value_serde = self._given_serdes
        configs = context.app_configs
        key_default = _serdes.serde_for(configs.get("default.key.serde"), _default_serde())
        value_default = _serdes.serde_for(configs.get("default.value.serde"), _default_serde())
        if key_serde is None or hasattr(key_serde, "with_default"):
            self.key_serde = _resolve(key_serde, key_default, key_default, value_default)
        if value_serde is None or hasattr(value_serde, "with_default"):
            self._set_value_serde(_resolve(value_serde, value_default, key_default, value_default))
        self.wrapped.init(context, root)
        self._bind()
        self._bind_typed()
        context.register(root, self._restore)

    def _restore(self, records: list[Any]) -> None:
        innermost_store = innermost(self.wrapped)
        restore = getattr(innermost_store, "restore_all", None) or innermost_store.put_all
        restore([(r[0], r[1]) for r in records])

    def flush(self) -> None:
        self._flushes += 1
        self.wrapped.flush()

    def close(self) -> None:
        self.wrapped.close()

    @property
    def persistent(self) -> bool:
        return self.wrapped.persistent

    @property
    def is_open(self) -> bool:
        return self.wrapped.is_open

    @property
    def metrics(self) -> dict[str, int]:
        """Operation counts since the store was made."""
        return {
            "puts": self._puts,
            "put_if_absents": self._put_ifs,
            "put_alls": self._put_alls,
            "gets": self._gets,
            "deletes": self._deletes,
            "ranges": self._ranges,
            "alls": self._alls,
            "prefix_scans": self._prefix_scans,
            "flushes": self._flushes,
        }

    def set_flush_listener(self, listener: FlushListener, send_old_values: bool) -> bool:
        """Have the caching layer (if any) call ``listener(key, new, old, timestamp)`` with
        objects as dirty entries are flushed; True if the stack caches."""
        caching = find_layer(self.wrapped, CachingKeyValueStore)
        if caching is None or not caching.enabled:
            return False

        def on_flush(key: bytes, new: bytes | None, old: bytes | None, timestamp: int) -> None:
            topic, vd = self._topic, self._vd
            listener(
                self._kd(topic, key),
                None if new is None else vd(topic, new),
                None if old is None else vd(topic, old),
                timestamp,
            )

        return caching.set_flush_listener(on_flush, send_old_values)

    # -- serdes ----------------------------------------------------------------------------
    def _key(self, key: K | None) -> bytes | None:
        return None if key is None else self._ks(self._topic, key)

    def _null_key(self) -> StoreError:
        return StoreError(f"store {self.name!r}: key cannot be None")

    def _items(self, it: Iterator[tuple[bytes, bytes]]) -> Iterator[tuple[K, V]]:
        kd, vd, topic = self._kd, self._vd, self._topic
        try:
            for k, v in it:
                yield kd(topic, k), vd(topic, v)  # type: ignore[misc]
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    # -- KeyValueStore ---------------------------------------------------------------------
    def get(self, key: K) -> V | None:
        self._gets += 1
        if key is None:
            raise self._null_key()
        if key is self._memo_key:  # a get then a put of one key: serialize it once
            kb = self._memo_bytes
        else:
            kb = self._ks(self._topic, key)
            self._memo_key, self._memo_bytes = key, kb
        if self._typed:
            return self._get_typed(kb)  # type: ignore[no-any-return]
        raw = self._get(kb)
        return None if raw is None else self._vd(self._topic, raw)

    def put(self, key: K, value: V | None) -> None:
        self._puts += 1
        if key is None:
            raise self._null_key()
        topic = self._topic
        kb = self._memo_bytes if key is self._memo_key else self._ks(topic, key)
        vb = self._vs(topic, value)
        if self._typed and vb is not None and value.__class__ in self._share_types:
            self._put(kb, vb, value)  # type: ignore[call-arg]
        else:
            self._put(kb, vb)

    def put_if_absent(self, key: K, value: V) -> V | None:
        self._put_ifs += 1
        if key is None:
            raise self._null_key()
        topic = self._topic
        old = self.wrapped.put_if_absent(self._ks(topic, key), self._vs(topic, value))  # type: ignore[arg-type]
        return None if old is None else self._vd(topic, old)

    def put_all(self, entries: Iterable[tuple[K, V | None]]) -> None:
        self._put_alls += 1
        ks, vs, topic = self._ks, self._vs, self._topic
        raw = []
        for key, value in entries:
            if key is None:
                raise self._null_key()
            raw.append((ks(topic, key), vs(topic, value)))
        self.wrapped.put_all(raw)  # type: ignore[arg-type]

    def delete(self, key: K) -> V | None:
        self._deletes += 1
        if key is None:
            raise self._null_key()
        topic = self._topic
        old = self.wrapped.delete(self._ks(topic, key))  # type: ignore[arg-type]
        return None if old is None else self._vd(topic, old)

    def range(self, from_key: K | None, to_key: K | None) -> Iterator[tuple[K, V]]:
        """Entries with ``from_key <= key <= to_key`` in serialized-key byte order."""
        self._ranges += 1
        return self._items(self.wrapped.range(self._key(from_key), self._key(to_key)))

    def reverse_range(self, from_key: K | None, to_key: K | None) -> Iterator[tuple[K, V]]:
        self._ranges += 1
        return self._items(self.wrapped.reverse_range(self._key(from_key), self._key(to_key)))

    def all(self) -> Iterator[tuple[K, V]]:
        self._alls += 1
        return self._items(self.wrapped.all())

    def reverse_all(self) -> Iterator[tuple[K, V]]:
        self._alls += 1
        return self._items(self.wrapped.reverse_all())

    def prefix_scan(self, prefix: Any, prefix_serde: Any = None) -> Iterator[tuple[K, V]]:
        """Entries whose serialized key starts with ``prefix`` serialized by ``prefix_serde``
        (default: the key serde)."""
        self._prefix_scans += 1
        serde = self.key_serde if prefix_serde is None else prefix_serde
        raw = serde.serialize(self._topic, prefix)
        if raw is None:
            raise StoreError(f"store {self.name!r}: prefix cannot be None")
        return self._items(self.wrapped.prefix_scan(raw))

    def approximate_num_entries(self) -> int:
        return self.wrapped.approximate_num_entries()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r}, {self.key_serde!r}, {self.value_serde!r})"


class ValueAndTimestampSerde(Serde[ValueAndTimestamp[Any]]):
    """Kafka's ``ValueAndTimestampSerde``: an 8-byte big-endian timestamp, then the value's
    bytes. None, or a value that serializes to None, is None (a tombstone).

    >>> from strom import serdes
    >>> ValueAndTimestampSerde(serdes.String()).serialize("t", ValueAndTimestamp("a", 1))
    b'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01a'
    """

    def __init__(self, value_serde: Serde[Any]) -> None:
        self.value_serde = value_serde

    def serialize(self, topic: str, obj: ValueAndTimestamp[Any] | None) -> bytes | None:
        if obj is None:
            return None
        if obj.__class__ is not ValueAndTimestamp and not isinstance(obj, ValueAndTimestamp):
            raise TypeError(
                f"a timestamped store takes ValueAndTimestamp(value, timestamp) or None, "
                f"got {type(obj).__name__}: {obj!r}"
            )
        raw = self.value_serde.serialize(topic, obj.value)
        return None if raw is None else _TS.pack(obj.timestamp) + raw

    def deserialize(self, topic: str, data: bytes | None) -> ValueAndTimestamp[Any] | None:
        if data is None:
            return None
        if len(data) < 8:
            raise StoreError(f"timestamped value shorter than its 8-byte timestamp: {data!r}")
        return _tuple_new(  # ValueAndTimestamp(...) without its Python frame
            ValueAndTimestamp,
            (self.value_serde.deserialize(topic, data[8:]), _TS.unpack_from(data)[0]),
        )


class MeteredTimestampedKeyValueStore(MeteredKeyValueStore[K, ValueAndTimestamp[V]]):
    """A typed store whose values are :class:`ValueAndTimestamp` (what the DSL materializes),
    stored as an 8-byte big-endian timestamp followed by the value's bytes.

    ``value_serde`` is the serde of the plain value. Its changelog holds the plain value with
    the value's timestamp as the record timestamp; restoration puts the timestamp back.

    >>> from strom import serdes
    >>> from strom.state.memory import InMemoryKeyValueStore
    >>> store = MeteredTimestampedKeyValueStore(InMemoryKeyValueStore("t"), serdes.String(),
    ...                                         serdes.Long())
    >>> store.value_serde
    ValueAndTimestampSerde()
    """

    def __init__(
        self,
        inner: KeyValueStore[bytes, bytes],
        key_serde: Serde[K] | None,
        value_serde: Serde[V] | None,
    ) -> None:
        plain = value_serde if value_serde is not None else _default_serde()
        self.plain_value_serde: Serde[V] = plain
        super().__init__(inner, key_serde, ValueAndTimestampSerde(plain))
        self._given_serdes = (key_serde, value_serde)

    def _set_value_serde(self, serde: Serde[Any]) -> None:
        self.plain_value_serde = serde
        self.value_serde = ValueAndTimestampSerde(serde)  # type: ignore[assignment]

    def _shareable(self) -> Callable[[Any], bool] | None:
        types = self._share_types = shareable_types(self.plain_value_serde)
        if not types:
            return None
        return lambda obj: (
            obj.__class__ is ValueAndTimestamp
            and obj[0].__class__ in types
            and obj[1].__class__ is int
        )

    def _bind(self) -> None:
        super()._bind()
        self._pvs = self.plain_value_serde.serialize
        # a fixed-width number: the timestamp and the value packed in one go
        fmt = fixed_format(self.plain_value_serde)
        self._pack_both = None if fmt is None else struct.Struct(">q" + fmt).pack

    def put(self, key: K, value: ValueAndTimestamp[V] | None) -> None:
        self._puts += 1
        if key is None:
            raise self._null_key()
        topic = self._topic
        kb = self._memo_bytes if key is self._memo_key else self._ks(topic, key)
        if self._typed and value.__class__ is ValueAndTimestamp:
            v, ts = value  # type: ignore[misc]
            if v.__class__ in self._share_types and ts.__class__ is int:
                # the bytes ValueAndTimestampSerde writes (a shareable value is never None)
                pack = self._pack_both
                if pack is None:
                    vb = _TS.pack(ts) + self._pvs(topic, v)
                else:
                    try:
                        vb = pack(ts, v)
                    except struct.error:  # out of range: the serde raises its own error
                        vb = self._vs(topic, value)
                self._put(kb, vb, value)  # type: ignore[call-arg]
                return
        self._put(kb, self._vs(topic, value))

    def _restore(self, records: list[Any]) -> None:
        pack = _TS.pack
        batch: list[tuple[bytes, bytes | None]] = []
        for record in records:
            if len(record) < 3:
                raise StoreError(
                    f"store {self.name!r} is timestamped: its restore records must be "
                    "(key, value, timestamp), got a pair"
                )
            key, value, ts = record[0], record[1], record[2]
            batch.append((key, None if value is None else pack(ts) + value))
        innermost_store = innermost(self.wrapped)
        restore = getattr(innermost_store, "restore_all", None) or innermost_store.put_all
        restore(batch)


class KeyValueStoreFacade(KeyValueStore[K, V], Generic[K, V]):
    """A timestamped store seen as a plain one (Kafka's ``KeyValueStoreFacade``): reads drop
    the timestamps; writes stamp values with ``-1`` (no timestamp).

    >>> from strom import serdes
    >>> from strom.state.memory import InMemoryKeyValueStore
    >>> inner = InMemoryKeyValueStore("t")
    >>> facade = KeyValueStoreFacade(
    ...     MeteredTimestampedKeyValueStore(inner, serdes.String(), serdes.Long()))
    >>> facade.name
    't'
    """

    def __init__(self, store: MeteredTimestampedKeyValueStore[K, V]) -> None:
        self.store = store
        self.name = store.name

    @staticmethod
    def _plain(it: Iterator[tuple[K, ValueAndTimestamp[V]]]) -> Iterator[tuple[K, V]]:
        for k, vt in it:
            yield k, vt.value

    def init(self, context: StateStoreContext, root: StateStore) -> None:
        self.store.init(context, root)

    def flush(self) -> None:
        self.store.flush()

    def close(self) -> None:
        self.store.close()

    @property
    def persistent(self) -> bool:
        return self.store.persistent

    @property
    def is_open(self) -> bool:
        return self.store.is_open

    def get(self, key: K) -> V | None:
        vt = self.store.get(key)
        return None if vt is None else vt.value

    def put(self, key: K, value: V | None) -> None:
        self.store.put(key, None if value is None else ValueAndTimestamp(value, -1))

    def put_if_absent(self, key: K, value: V) -> V | None:
        old = self.store.put_if_absent(key, ValueAndTimestamp(value, -1))
        return None if old is None else old.value

    def put_all(self, entries: Iterable[tuple[K, V | None]]) -> None:
        self.store.put_all(
            [(k, None if v is None else ValueAndTimestamp(v, -1)) for k, v in entries]
        )

    def delete(self, key: K) -> V | None:
        old = self.store.delete(key)
        return None if old is None else old.value

    def range(self, from_key: K | None, to_key: K | None) -> Iterator[tuple[K, V]]:
        return self._plain(self.store.range(from_key, to_key))

    def reverse_range(self, from_key: K | None, to_key: K | None) -> Iterator[tuple[K, V]]:
        return self._plain(self.store.reverse_range(from_key, to_key))

    def all(self) -> Iterator[tuple[K, V]]:
        return self._plain(self.store.all())

    def reverse_all(self) -> Iterator[tuple[K, V]]:
        return self._plain(self.store.reverse_all())

    def prefix_scan(self, prefix: Any, prefix_serde: Any = None) -> Iterator[tuple[K, V]]:
        return self._plain(self.store.prefix_scan(prefix, prefix_serde))

    def approximate_num_entries(self) -> int:
        return self.store.approximate_num_entries()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r})"
