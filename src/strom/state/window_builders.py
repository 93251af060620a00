"""Suppliers of window and session bytes stores and the builders that stack the Kafka Streams
layers on them: metered(caching?(changelogging?(inner))).

Changelogs of window and session stores are compacted and deleted by time
(``cleanup.policy=compact,delete``) with ``retention.ms`` = the store's retention +
``windowstore.changelog.additional.retention.ms`` (one day by default), as in Kafka.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar

from strom.core.types import to_millis
from strom.serdes.base import Serde
from strom.state.api import StoreBuilder, StoreSupplier, ValueAndTimestamp
from strom.state.builders import validate_store_name
from strom.state.segments import default_segment_interval
from strom.state.session import InMemorySessionStore, RocksDBSessionStore, SegmentedSessionStore
from strom.state.session_metered import MeteredSessionStore
from strom.state.window import InMemoryWindowStore, RocksDBWindowStore, SegmentedWindowStore
from strom.state.window_caching import CachingSessionStore, CachingWindowStore
from strom.state.window_changelogging import (
    ChangeLoggingSessionBytesStore,
    ChangeLoggingTimestampedWindowBytesStore,
    ChangeLoggingWindowBytesStore,
)
from strom.state.window_metered import MeteredTimestampedWindowStore, MeteredWindowStore

K = TypeVar("K")
V = TypeVar("V")

#: Kafka's default ``windowstore.changelog.additional.retention.ms``: one day.
DEFAULT_ADDITIONAL_RETENTION_MS = 86_400_000

Duration = int | timedelta


def _millis(value: Duration, what: str) -> int:
    ms = to_millis(value, what)
    if ms < 0:
        raise ValueError(f"{what} cannot be negative, got {ms}")
    return ms


class WindowBytesStoreSupplier(StoreSupplier):
    """Makes window bytes stores named ``name``; checks Kafka's rules (non-negative durations,
    retention no smaller than the window size)."""

    _store: type[SegmentedWindowStore]

    def __init__(
        self,
        name: str,
        retention: Duration,
        window_size: Duration,
        retain_duplicates: bool = False,
        timestamped: bool = False,
    ) -> None:
        self.name = validate_store_name(name)
        self.retention_period = _millis(retention, "retention period")
        self.window_size = _millis(window_size, "window size")
        if self.window_size > self.retention_period:
            raise ValueError(
                f"the retention period of window store {name!r} must be no smaller than its "
                f"window size: got size={self.window_size} ms, "
                f"retention={self.retention_period} ms"
            )
        self.retain_duplicates = bool(retain_duplicates)
        self.timestamped = timestamped

    @property
    def segment_interval(self) -> int:
        """``max(retention // 2, 60_000)``, as Kafka's ``Stores``."""
        return default_segment_interval(self.retention_period)

    def get(self) -> SegmentedWindowStore:
        return self._store(
            self.name,
            self.retention_period,
            self.window_size,
            self.retain_duplicates,
            self.segment_interval,
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.name!r}, retention={self.retention_period}, "
            f"window_size={self.window_size}, retain_duplicates={self.retain_duplicates})"
        )


class RocksDBWindowBytesStoreSupplier(WindowBytesStoreSupplier):
    """``Stores.persistent_window_store``: RocksDB window stores.

    >>> RocksDBWindowBytesStoreSupplier("w", 120_000, 60_000).get()
    RocksDBWindowStore('w', retention_ms=120000, window_size=60000, retain_duplicates=False)
    """

    _store = RocksDBWindowStore

    def metrics_scope(self) -> str:
        return "rocksdb-window"


class InMemoryWindowBytesStoreSupplier(WindowBytesStoreSupplier):
    """``Stores.in_memory_window_store``: in-memory window stores.

    >>> InMemoryWindowBytesStoreSupplier("w", timedelta(minutes=2), 60_000).retention_period
    120000
    """

    _store = InMemoryWindowStore

    def metrics_scope(self) -> str:
        return "in-memory-window"


class SessionBytesStoreSupplier(StoreSupplier):
    """Makes session bytes stores named ``name`` keeping sessions for ``retention``."""

    _store: type[SegmentedSessionStore]

    def __init__(self, name: str, retention: Duration) -> None:
        self.name = validate_store_name(name)
        self.retention_period = _millis(retention, "retention period")

    @property
    def segment_interval(self) -> int:
        return default_segment_interval(self.retention_period)

    def get(self) -> SegmentedSessionStore:
        return self._store(self.name, self.retention_period, self.segment_interval)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, retention={self.retention_period})"


class RocksDBSessionBytesStoreSupplier(SessionBytesStoreSupplier):
    """``Stores.persistent_session_store``: RocksDB session stores.

    >>> RocksDBSessionBytesStoreSupplier("s", 60_000).get()
    RocksDBSessionStore('s', retention_ms=60000)
    """

    _store = RocksDBSessionStore

    def metrics_scope(self) -> str:
        return "rocksdb-session"


class InMemorySessionBytesStoreSupplier(SessionBytesStoreSupplier):
    """``Stores.in_memory_session_store``: in-memory session stores.

    >>> InMemorySessionBytesStoreSupplier("s", 60_000).get()
    InMemorySessionStore('s', retention_ms=60000)
    """

    _store = InMemorySessionStore

    def metrics_scope(self) -> str:
        return "in-memory-session"


class _SegmentedStoreBuilder(StoreBuilder[K, V], Generic[K, V]):
    """Caching off and logging on by default, as in Kafka Streams."""

    _supplier_type: type[StoreSupplier]

    def __init__(
        self, supplier: StoreSupplier, key_serde: Serde[K] | None, value_serde: Serde[Any] | None
    ) -> None:
        if not isinstance(supplier, self._supplier_type):
            raise TypeError(
                f"{type(self).__name__} needs a {self._supplier_type.__name__}, "
                f"got {type(supplier).__name__}"
            )
        self.supplier: Any = supplier
        self.name = supplier.name
        self.key_serde = key_serde
        self.value_serde = value_serde
        self._caching = False
        self._logging = True
        self._log_config: dict[str, str] = {}

    def with_caching_enabled(self) -> _SegmentedStoreBuilder[K, V]:
        self._caching = True
        return self

    def with_caching_disabled(self) -> _SegmentedStoreBuilder[K, V]:
        self._caching = False
        return self

    def with_logging_enabled(
        self, config: Mapping[str, str] | None = None
    ) -> _SegmentedStoreBuilder[K, V]:
        """Log changes to the changelog topic; ``config`` adds to (or overrides) the
        default topic config."""
        self._logging = True
        self._log_config = dict(config or {})
        return self

    def with_logging_disabled(self) -> _SegmentedStoreBuilder[K, V]:
        self._logging = False
        self._log_config = {}
        return self

    @property
    def caching_enabled(self) -> bool:
        return self._caching

    @property
    def logging_enabled(self) -> bool:
        return self._logging

    @property
    def retention_period(self) -> int:
        return self.supplier.retention_period

    def changelog_config(
        self, additional_retention_ms: int = DEFAULT_ADDITIONAL_RETENTION_MS
    ) -> dict[str, str]:
        """The changelog topic's config: compact,delete with the store's retention plus
        ``additional_retention_ms`` (``windowstore.changelog.additional.retention.ms``),
        then what :meth:`with_logging_enabled` was given."""
        config = {
            "cleanup.policy": "compact,delete",
            "retention.ms": str(self.supplier.retention_period + int(additional_retention_ms)),
        }
        config.update(self._log_config)
        return config

    @property
    def log_config(self) -> Mapping[str, str]:
        """:meth:`changelog_config` with the default additional retention (one day)."""
        return self.changelog_config() if self._logging else {}

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.supplier!r}, caching={self._caching}, "
            f"logging={self._logging})"
        )


class WindowStoreBuilder(_SegmentedStoreBuilder[K, V]):
    """Builds typed window stores from a supplier (``Stores.window_store_builder``). A store
    that retains duplicates is never cached, as in Kafka.

    >>> from strom import serdes
    >>> builder = WindowStoreBuilder(InMemoryWindowBytesStoreSupplier("w", 120_000, 60_000),
    ...                              serdes.String(), serdes.Long())
    >>> builder.log_config["cleanup.policy"], builder.log_config["retention.ms"]
    ('compact,delete', '86520000')
    >>> builder.with_caching_enabled().build()  # doctest: +ELLIPSIS
    MeteredWindowStore(CachingWindowStore(ChangeLoggingWindowBytesStore(...)), ...)
    """

    _supplier_type = WindowBytesStoreSupplier
    _changelogging: type[ChangeLoggingWindowBytesStore] = ChangeLoggingWindowBytesStore
    _metered: type[MeteredWindowStore[Any, Any]] = MeteredWindowStore

    @property
    def window_size(self) -> int:
        return self.supplier.window_size

    def build(self) -> MeteredWindowStore[K, Any]:
        """A new, uninitialised store stack (one per task)."""
        store: Any = self.supplier.get()
        if self._logging:
            store = self._changelogging(store)
        if self._caching and not self.supplier.retain_duplicates:
            store = CachingWindowStore(store)
        return self._metered(store, self.key_serde, self.value_serde)


class TimestampedWindowStoreBuilder(WindowStoreBuilder[K, ValueAndTimestamp[V]]):
    """Like :class:`WindowStoreBuilder`, for stores of :class:`ValueAndTimestamp` values
    (``value_serde`` is the plain value's serde): what the DSL's windowed aggregations use.

    >>> from strom import serdes
    >>> TimestampedWindowStoreBuilder(RocksDBWindowBytesStoreSupplier("w", 120_000, 60_000),
    ...     serdes.String(), serdes.Long()).build()  # doctest: +ELLIPSIS
    MeteredTimestampedWindowStore(ChangeLoggingTimestampedWindowBytesStore(...), ...)
    """

    _changelogging = ChangeLoggingTimestampedWindowBytesStore
    _metered = MeteredTimestampedWindowStore


class SessionStoreBuilder(_SegmentedStoreBuilder[K, V]):
    """Builds typed session stores from a supplier (``Stores.session_store_builder``).

    >>> from strom import serdes
    >>> builder = SessionStoreBuilder(InMemorySessionBytesStoreSupplier("s", 60_000),
    ...                               serdes.String(), serdes.Long())
    >>> builder.build()  # doctest: +ELLIPSIS
    MeteredSessionStore(ChangeLoggingSessionBytesStore(InMemorySessionStore(...)), ...)
    """

    _supplier_type = SessionBytesStoreSupplier

    def build(self) -> MeteredSessionStore[K, V]:
        """A new, uninitialised store stack (one per task)."""
        store: Any = self.supplier.get()
        if self._logging:
            store = ChangeLoggingSessionBytesStore(store)
        if self._caching:
            store = CachingSessionStore(store)
        return MeteredSessionStore(store, self.key_serde, self.value_serde)
