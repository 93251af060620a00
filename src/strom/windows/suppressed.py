"""KTable suppression specs: :class:`Suppressed` and its :class:`BufferConfig`."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from types import MappingProxyType

from strom.core.types import to_millis

#: "No limit" for record and byte limits (Java's ``Long.MAX_VALUE``).
UNLIMITED = 2**63 - 1


class BufferFullStrategy(enum.Enum):
    """What a suppression buffer does when full."""

    #: Emit the oldest buffered records early ("eager" buffer).
    EMIT = "emit"
    #: Fail the application rather than emit early ("strict" buffer).
    SHUT_DOWN = "shut_down"


def _limit(n: int, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"{what} must be an int, got {type(n).__name__}: {n!r}")
    if n < 0:
        raise ValueError(f"{what} must not be negative: {n}")
    return n


@dataclass(frozen=True, slots=True)
class BufferConfig:
    """How much a suppression may buffer and what happens when the buffer is full.

    Strict configs (:meth:`unbounded`, :meth:`shut_down_when_full`) never emit early and are the
    only ones :meth:`Suppressed.until_window_closes` accepts.

    >>> Suppressed.BufferConfig.max_records(1000).emit_early_when_full()
    BufferConfig(record_limit=1000, byte_limit=None, strategy='emit')
    >>> Suppressed.BufferConfig.unbounded().is_strict
    True
    """

    record_limit: int = UNLIMITED
    byte_limit: int = UNLIMITED
    buffer_full_strategy: BufferFullStrategy = BufferFullStrategy.SHUT_DOWN
    logging_enabled: bool = True
    logging_config: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    @staticmethod
    def unbounded() -> BufferConfig:
        """A buffer with no size limit; strict (it never emits early).

        >>> Suppressed.BufferConfig.unbounded().is_unbounded
        True
        """
        return BufferConfig()

    @staticmethod
    def max_records(record_limit: int) -> BufferConfig:
        """A buffer holding at most ``record_limit`` keys; emits early when full unless made strict.

        >>> Suppressed.BufferConfig.max_records(10).shut_down_when_full().is_strict
        True
        """
        return BufferConfig(
            record_limit=_limit(record_limit, "max_records"),
            buffer_full_strategy=BufferFullStrategy.EMIT,
        )

    @staticmethod
    def max_bytes(byte_limit: int) -> BufferConfig:
        """A buffer using at most ``byte_limit`` bytes; emits early when full unless made strict.

        >>> Suppressed.BufferConfig.max_bytes(1 << 20).byte_limit
        1048576
        """
        return BufferConfig(
            byte_limit=_limit(byte_limit, "max_bytes"),
            buffer_full_strategy=BufferFullStrategy.EMIT,
        )

    @property
    def is_unbounded(self) -> bool:
        """True if neither records nor bytes are limited."""
        return self.record_limit == UNLIMITED and self.byte_limit == UNLIMITED

    @property
    def is_strict(self) -> bool:
        """True if the buffer never emits early (Kafka's ``StrictBufferConfig``)."""
        return self.buffer_full_strategy is BufferFullStrategy.SHUT_DOWN

    def with_max_records(self, record_limit: int) -> BufferConfig:
        """This config with a record limit."""
        return replace(self, record_limit=_limit(record_limit, "max_records"))

    def with_max_bytes(self, byte_limit: int) -> BufferConfig:
        """This config with a byte limit."""
        return replace(self, byte_limit=_limit(byte_limit, "max_bytes"))

    def with_no_bound(self) -> BufferConfig:
        """This config with no size limits (strict)."""
        return replace(
            self,
            record_limit=UNLIMITED,
            byte_limit=UNLIMITED,
            buffer_full_strategy=BufferFullStrategy.SHUT_DOWN,
        )

    def shut_down_when_full(self) -> BufferConfig:
        """Fail the application instead of emitting early when a limit is hit (strict)."""
        return replace(self, buffer_full_strategy=BufferFullStrategy.SHUT_DOWN)

    def emit_early_when_full(self) -> BufferConfig:
        """Emit the oldest records early when a limit is hit (needs a limit to hit)."""
        if self.is_unbounded:
            raise ValueError(
                "emit_early_when_full() needs a bounded buffer: an unbounded buffer is never "
                "full; use BufferConfig.max_records(n) or BufferConfig.max_bytes(n)"
            )
        return replace(self, buffer_full_strategy=BufferFullStrategy.EMIT)

    def with_logging_disabled(self) -> BufferConfig:
        """No changelog for the buffer (buffered records are lost on failover)."""
        return replace(self, logging_enabled=False, logging_config=MappingProxyType({}))

    def with_logging_enabled(self, config: Mapping[str, str] | None = None) -> BufferConfig:
        """Changelog the buffer, with extra topic ``config``."""
        return replace(
            self, logging_enabled=True, logging_config=MappingProxyType(dict(config or {}))
        )

    def __repr__(self) -> str:
        records = None if self.record_limit == UNLIMITED else self.record_limit
        size = None if self.byte_limit == UNLIMITED else self.byte_limit
        extra = "" if self.logging_enabled else ", logging_enabled=False"
        return (
            f"BufferConfig(record_limit={records}, byte_limit={size}, "
            f"strategy={self.buffer_full_strategy.value!r}{extra})"
        )


@dataclass(frozen=True, slots=True)
class Suppressed:
    """How ``KTable.suppress`` holds back updates.

    :meth:`until_window_closes` emits one final result per windowed key once its window closes;
    :meth:`until_time_limit` emits the latest value per key ``time_to_wait_ms`` after its
    first buffered update.

    >>> s = Suppressed.until_window_closes(Suppressed.BufferConfig.unbounded())
    >>> s.final_results, s.with_name("final").name
    (True, 'final')
    >>> Suppressed.until_time_limit(60_000, Suppressed.BufferConfig.unbounded()).time_to_wait_ms
    60000
    """

    BufferConfig = BufferConfig  # type: ignore[misc]  # nested as in Kafka: Suppressed.BufferConfig

    buffer_config: BufferConfig
    time_to_wait_ms: int | None = None
    name: str | None = None

    @property
    def final_results(self) -> bool:
        """True for :meth:`until_window_closes` (emit only when the window closes)."""
        return self.time_to_wait_ms is None

    @property
    def safe_to_drop_tombstones(self) -> bool:
        """Final-results suppression may drop tombstones of keys it never emitted."""
        return self.time_to_wait_ms is None

    @staticmethod
    def until_window_closes(buffer_config: BufferConfig) -> Suppressed:
        """Emit only the final result of each window, after window end plus grace.

        ``buffer_config`` must be strict (it may not emit early): a final result must be final.
        """
        if not isinstance(buffer_config, BufferConfig):
            raise TypeError(f"buffer_config must be a BufferConfig, got {buffer_config!r}")
        if not buffer_config.is_strict:
            raise ValueError(
                "until_window_closes() needs a strict buffer config that never emits early: "
                "use BufferConfig.unbounded() or .shut_down_when_full()"
            )
        return Suppressed(buffer_config)

    @staticmethod
    def until_time_limit(
        time_to_wait_for_more_events: int | timedelta, buffer_config: BufferConfig
    ) -> Suppressed:
        """Emit each key's latest value ``time_to_wait_for_more_events`` after its first update.

        A later update replaces the buffered value but does not restart the timer.
        """
        if not isinstance(buffer_config, BufferConfig):
            raise TypeError(f"buffer_config must be a BufferConfig, got {buffer_config!r}")
        wait = to_millis(time_to_wait_for_more_events, "timeToWaitForMoreEvents")
        if wait < 0:
            raise ValueError(f"time to wait for more events must not be negative: {wait} ms")
        return Suppressed(buffer_config, wait)

    def with_name(self, name: str) -> Suppressed:
        """The same suppression with a processor (and changelog) name."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"name must be a non-empty str, got {name!r}")
        return replace(self, name=name)

    def __repr__(self) -> str:
        named = "" if self.name is None else f".with_name({self.name!r})"
        if self.time_to_wait_ms is None:
            return f"Suppressed.until_window_closes({self.buffer_config!r}){named}"
        wait = self.time_to_wait_ms
        return f"Suppressed.until_time_limit({wait}, {self.buffer_config!r}){named}"
