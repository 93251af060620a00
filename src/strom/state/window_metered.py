"""The typed tops of window store stacks (Kafka's ``MeteredWindowStore`` and
``MeteredTimestampedWindowStore``) and the plain view of a timestamped one
(``WindowStoreFacade``).

Keys and values are (de)serialized here with the changelog topic as the serde topic; below
this layer everything is bytes. The layer counts operations and registers the store with its
host, whose restore callback writes straight into the innermost store.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any, Generic, TypeVar

import strom.serdes as _serdes
from strom.core.errors import StoreError
from strom.serdes.base import Serde
from strom.state.api import FlushListener, StateStore, StateStoreContext, ValueAndTimestamp
from strom.state.metered import ValueAndTimestampSerde, innermost
from strom.state.segments import Entries
from strom.state.window import WindowStore
from strom.state.window_caching import caching_layer
from strom.windows.window import MAX_TIMESTAMP, Window, Windowed

K = TypeVar("K")
V = TypeVar("V")

_WINDOW_START = struct.Struct(">q")
_TS = struct.Struct(">q")
_window = Window._of


def default_serde() -> Serde[Any]:
    """The project's default serde (Json), or Bytes where Json is not available."""
    return getattr(_serdes, "Json", _serdes.Bytes)()


class MeteredSegmentedStore(StateStore):
    """What the typed window and session stores share: serdes (None: the app's default, set
    at init), registration with the host and restoration, lifecycle, operation counts."""

    def __init__(self, inner: Any, key_serde: Serde[Any] | None, value_serde: Serde[Any] | None):
        self.wrapped = inner
        self.name = inner.name
        self.retention_period: int = inner.retention_period
        self._given_serdes = (key_serde, value_serde)
        self.key_serde: Serde[Any] = key_serde if key_serde is not None else default_serde()
        self.value_serde: Serde[Any] = value_serde if value_serde is not None else default_serde()
        self._topic = inner.name
        self._puts = self._fetches = self._flushes = self._removes = 0
        self._bind()

    def _set_value_serde(self, serde: Serde[Any]) -> None:
        self.value_serde = serde

    def _bind(self) -> None:
        self._ks = self.key_serde.serialize
        self._kd = self.key_serde.deserialize
        self._vs = self.value_serde.serialize
        self._vd = self.value_serde.deserialize
        inner = self.wrapped
        self._put = inner.put
        self._get = inner.get
        self._fetch = inner.fetch

    # -- lifecycle ---------------------------------------------------------------------------
    def init(self, context: StateStoreContext, root: StateStore) -> None:
        self._topic = context.changelog_topic(self.name)
        key_serde, value_serde = self._given_serdes
        configs = context.app_configs
        if key_serde is None:
            self.key_serde = _serdes.serde_for(configs.get("default.key.serde"), default_serde())
        if value_serde is None:
            self._set_value_serde(
                _serdes.serde_for(configs.get("default.value.serde"), default_serde())
            )
        self.wrapped.init(context, root)
        self._bind()
        context.register(root, self._restore)

    def _restore(self, records: list[Any]) -> None:
        innermost(self.wrapped).restore_all(records)

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
    def observed_stream_time(self) -> int:
        """The largest window start (session end) written, -1 before any."""
        return self.wrapped.observed_stream_time

    @property
    def metrics(self) -> dict[str, int]:
        """Operation counts since the store was made; ``expired_records`` counts writes
        ignored because their window (session) had expired."""
        return {
            "puts": self._puts,
            "fetches": self._fetches,
            "removes": self._removes,
            "flushes": self._flushes,
            "expired_records": self.wrapped.expired_records,
        }

    def _null_key(self) -> StoreError:
        return StoreError(f"store {self.name!r}: key cannot be None")

    def _key(self, key: Any) -> bytes | None:
        return None if key is None else self._ks(self._topic, key)

    def _windowed_key(self, c: bytes) -> Windowed[Any]:
        raise NotImplementedError

    def set_flush_listener(self, listener: FlushListener, send_old_values: bool) -> bool:
        """Have the caching layer (if any) call ``listener(windowed_key, new, old,
        timestamp)`` with objects as dirty entries are flushed; True if the stack caches."""
        caching = caching_layer(self.wrapped)
        if caching is None or not caching.enabled:
            return False

        def on_flush(c: bytes, new: bytes | None, old: bytes | None, timestamp: int) -> None:
            topic, vd = self._topic, self._vd
            listener(
                self._windowed_key(c),
                None if new is None else vd(topic, new),
                None if old is None else vd(topic, old),
                timestamp,
            )

        return caching.set_flush_listener(on_flush, send_old_values)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.wrapped!r}, {self.key_serde!r}, {self.value_serde!r})"


class MeteredWindowStore(MeteredSegmentedStore, WindowStore[K, V], Generic[K, V]):
    """A typed window store over a stack of window bytes stores.

    >>> from strom import serdes
    >>> from strom.state.window import InMemoryWindowStore
    >>> store = MeteredWindowStore(InMemoryWindowStore("w", 120_000, 60_000),
    ...                            serdes.String(), serdes.Long())
    >>> store.window_size, store.is_window_store
    (60000, True)
    """

    def __init__(
        self, inner: Any, key_serde: Serde[K] | None, value_serde: Serde[V] | None
    ) -> None:
        super().__init__(inner, key_serde, value_serde)
        self.window_size: int = inner.window_size
        self.retain_duplicates: bool = inner.retain_duplicates

    def _windowed_key(self, c: bytes) -> Windowed[K]:
        start = _WINDOW_START.unpack_from(c, len(c) - 12)[0]
        return Windowed(
            self._kd(self._topic, c[:-12]),
            _window(start, min(start + self.window_size, MAX_TIMESTAMP)),
        )

    def _starts(self, it: Entries) -> Iterator[tuple[int, V]]:
        vd, topic, unpack = self._vd, self._topic, _WINDOW_START.unpack_from
        try:
            for c, v in it:
                yield unpack(c, len(c) - 12)[0], vd(topic, v)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    def _windows(self, it: Entries) -> Iterator[tuple[Windowed[K], V]]:
        kd, vd, topic, size = self._kd, self._vd, self._topic, self.window_size
        unpack = _WINDOW_START.unpack_from
        try:
            for c, v in it:
                start = unpack(c, len(c) - 12)[0]
                end = min(start + size, MAX_TIMESTAMP)
                yield Windowed(kd(topic, c[:-12]), _window(start, end)), vd(topic, v)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()

    # -- WindowStore -------------------------------------------------------------------------
    def put(self, key: K, value: V | None, window_start: int) -> None:
        self._puts += 1
        if key is None:
            raise self._null_key()
        topic = self._topic
        self._put(self._ks(topic, key), self._vs(topic, value), window_start)

    def fetch(self, key: K, time_from: int, time_to: int | None = None) -> Any:
        """``fetch(key, time)``: the value of the window of ``key`` starting at ``time`` (or
        None); ``fetch(key, time_from, time_to)``: ``(window_start, value)`` oldest first."""
        self._fetches += 1
        if key is None:
            raise self._null_key()
        kb = self._ks(self._topic, key)
        if time_to is None:
            raw = self._get(kb, time_from)
            return None if raw is None else self._vd(self._topic, raw)
        return self._starts(self._fetch(kb, kb, time_from, time_to, False))

    def backward_fetch(self, key: K, time_from: int, time_to: int) -> Iterator[tuple[int, V]]:
        self._fetches += 1
        if key is None:
            raise self._null_key()
        kb = self._ks(self._topic, key)
        return self._starts(self._fetch(kb, kb, time_from, time_to, True))

    def fetch_range(
        self, key_from: K | None, key_to: K | None, time_from: int, time_to: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        kf, kt = self._key(key_from), self._key(key_to)
        return self._windows(self._fetch(kf, kt, time_from, time_to, False))

    def backward_fetch_range(
        self, key_from: K | None, key_to: K | None, time_from: int, time_to: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        kf, kt = self._key(key_from), self._key(key_to)
        return self._windows(self._fetch(kf, kt, time_from, time_to, True))

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        return self._windows(self._fetch(None, None, time_from, time_to, False))

    def backward_fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        return self._windows(self._fetch(None, None, time_from, time_to, True))

    def all(self) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        return self._windows(self._fetch(None, None, 0, MAX_TIMESTAMP, False))

    def backward_all(self) -> Iterator[tuple[Windowed[K], V]]:
        self._fetches += 1
        return self._windows(self._fetch(None, None, 0, MAX_TIMESTAMP, True))


class MeteredTimestampedWindowStore(MeteredWindowStore[K, ValueAndTimestamp[V]]):
    """A typed window store of :class:`ValueAndTimestamp` values (what the DSL's windowed
    aggregations materialize); ``value_serde`` is the plain value's serde. Its changelog
    holds plain values with the value's timestamp as the record's; restoration puts the
    timestamp back in front.

    >>> from strom import serdes
    >>> from strom.state.window import InMemoryWindowStore
    >>> MeteredTimestampedWindowStore(InMemoryWindowStore("w", 120_000, 60_000),
    ...                               serdes.String(), serdes.Long()).value_serde
    ValueAndTimestampSerde()
    """

    def __init__(
        self, inner: Any, key_serde: Serde[K] | None, value_serde: Serde[V] | None
    ) -> None:
        plain = value_serde if value_serde is not None else default_serde()
        self.plain_value_serde: Serde[V] = plain
        super().__init__(inner, key_serde, ValueAndTimestampSerde(plain))  # type: ignore[arg-type]
        self._given_serdes = (key_serde, value_serde)

    def _set_value_serde(self, serde: Serde[Any]) -> None:
        self.plain_value_serde = serde
        self.value_serde = ValueAndTimestampSerde(serde)

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
        innermost(self.wrapped).restore_all(batch)


class WindowStoreFacade(WindowStore[K, V], Generic[K, V]):
    """A timestamped window store seen as a plain one (Kafka's ``WindowStoreFacade``, what
    ``TopologyTestDriver.getWindowStore`` gives for the DSL's stores): reads drop the
    timestamps; writes stamp values with ``-1``.

    >>> from strom import serdes
    >>> from strom.state.window import InMemoryWindowStore
    >>> facade = WindowStoreFacade(MeteredTimestampedWindowStore(
    ...     InMemoryWindowStore("w", 120_000, 60_000), serdes.String(), serdes.Long()))
    >>> facade.window_size, facade.is_window_store
    (60000, True)
    """

    def __init__(self, store: MeteredTimestampedWindowStore[K, V]) -> None:
        self.store = store
        self.name = store.name
        self.window_size = store.window_size
        self.retention_period = store.retention_period

    @staticmethod
    def _plain(it: Iterator[tuple[Any, ValueAndTimestamp[V]]]) -> Iterator[tuple[Any, V]]:
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

    def put(self, key: K, value: V | None, window_start: int) -> None:
        self.store.put(key, None if value is None else ValueAndTimestamp(value, -1), window_start)

    def fetch(self, key: K, time_from: int, time_to: int | None = None) -> Any:
        if time_to is None:
            vt = self.store.fetch(key, time_from)
            return None if vt is None else vt.value
        return self._plain(self.store.fetch(key, time_from, time_to))

    def backward_fetch(self, key: K, time_from: int, time_to: int) -> Iterator[tuple[int, V]]:
        return self._plain(self.store.backward_fetch(key, time_from, time_to))

    def fetch_range(
        self, key_from: K | None, key_to: K | None, time_from: int, time_to: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        return self._plain(self.store.fetch_range(key_from, key_to, time_from, time_to))

    def backward_fetch_range(
        self, key_from: K | None, key_to: K | None, time_from: int, time_to: int
    ) -> Iterator[tuple[Windowed[K], V]]:
        return self._plain(self.store.backward_fetch_range(key_from, key_to, time_from, time_to))

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed[K], V]]:
        return self._plain(self.store.fetch_all(time_from, time_to))

    def backward_fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Windowed[K], V]]:
        return self._plain(self.store.backward_fetch_all(time_from, time_to))

    def all(self) -> Iterator[tuple[Windowed[K], V]]:
        return self._plain(self.store.all())

    def backward_all(self) -> Iterator[tuple[Windowed[K], V]]:
        return self._plain(self.store.backward_all())

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.store!r})"
