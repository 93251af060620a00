"""Windowed grouped streams: ``windowed_by(TimeWindows | SlidingWindows | SessionWindows)``
then count, reduce or aggregate, and ``cogroup`` (KIP-150) for several streams into one table."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from strom.core.errors import TopologyError
from strom.core.types import to_millis
from strom.dsl.graph import ProcessorGraphNode
from strom.dsl.grouped import _check
from strom.dsl.ktable import KTable
from strom.dsl.ops.sliding import SlidingAggregateSupplier
from strom.dsl.ops.window_aggregate import (
    SessionAggregateSupplier,
    WindowAggregateSupplier,
    emit_final_store,
)
from strom.dsl.stores import materialize_buffer, materialize_session, materialize_window
from strom.serdes import Long, String
from strom.serdes.coerce import serde_for
from strom.serdes.windowed import SessionWindowedSerde, TimeWindowedSerde
from strom.windows import EmitStrategy, SessionWindows, SlidingWindows, TimeWindows

if TYPE_CHECKING:
    from strom.dsl.grouped import KGroupedStream


def _none() -> None:
    return None


def _reducing(reducer: Callable[[Any, Any], Any]) -> Callable[[Any, Any, Any], Any]:
    return lambda k, v, agg: v if agg is None else reducer(agg, v)


def retention_for(windows: Any, retention: int | None, store: str) -> int:
    """The window store's retention: as given (checked), or the least the windows need."""
    if isinstance(windows, TimeWindows):
        least, what = windows.size_ms + windows.grace_ms, "its window size plus the grace period"
    elif isinstance(windows, SlidingWindows):
        least = 2 * windows.time_difference_ms + windows.grace_ms
        what = "2 * time difference plus the grace period"
    else:
        least = windows.inactivity_gap_ms + windows.grace_ms
        what = "the session inactivity gap plus the grace period"
    if retention is None:
        return least
    if retention < least:
        raise TopologyError(
            f"The retention period of the window store {store} must be no smaller than {what}; "
            f"got retention={retention}, needed at least {least}"
        )
    return retention


def window_close_delay(windows: Any) -> int:
    """How long after a window's end it closes: grace (and, for sessions, also the gap)."""
    if isinstance(windows, SessionWindows):
        return windows.grace_ms + windows.inactivity_gap_ms
    return windows.grace_ms


class _Windowed:
    """What time-windowed and session-windowed streams share."""

    def __init__(self, grouped: KGroupedStream, windows: Any) -> None:
        self._grouped = grouped
        self._windows = windows
        self._emit_on_close = False

    def emit_strategy(self, strategy: EmitStrategy) -> Any:
        """Emit on every update (the default) or once per window when it closes (KIP-825)."""
        if not isinstance(strategy, EmitStrategy):
            raise TopologyError(f"emit_strategy() takes an EmitStrategy, got {strategy!r}")
        self._emit_on_close = strategy.type is EmitStrategy.StrategyType.ON_WINDOW_CLOSE
        return self

    def _table(
        self,
        op: str,
        prefix: str,
        store: str | None,
        name: str | None,
        key_serde: Any,
        value_serde: Any,
        retention: Any,
        make: Callable[..., Any],
        windowed_key_serde: Any,
    ) -> KTable:
        grouped = self._grouped
        builder = grouped._stream._builder
        graph = builder.graph
        lineage = graph.lineage([grouped._stream._node], f"windowed-{op}")
        store_name = store or graph.derived(f"{prefix}-STATE-STORE", lineage)
        ks = serde_for(key_serde) or grouped.key_serde
        keep = retention_for(
            self._windows, None if retention is None else to_millis(retention), store_name
        )
        if self._emit_on_close and retention is None:
            keep *= 2  # closed windows must still be there when they are emitted
        parent = grouped._parent_node(grouped._name or store_name)
        supplier = make(store_name)
        if isinstance(self._windows, SessionWindows):
            builder_ = materialize_session(
                builder, store_name, keep, ks, value_serde, caching=not self._emit_on_close
            )
        else:
            size = (
                self._windows.size_ms
                if isinstance(self._windows, TimeWindows)
                else self._windows.time_difference_ms
            )
            builder_ = materialize_window(
                builder, store_name, keep, size, ks, value_serde, caching=not self._emit_on_close
            )
        stores = [builder_]
        if self._emit_on_close:
            stores.append(
                materialize_buffer(builder, emit_final_store(store_name), String(), Long())
            )
        node = ProcessorGraphNode(
            name or graph.derived(prefix, lineage),
            lineage,
            [parent],
            supplier=supplier,
            stores=stores,
        )
        graph.add(node)
        table = KTable(
            builder,
            node,
            windowed_key_serde(ks),
            value_serde,
            supplier,
            store_name,
            queryable=store is not None,
        )
        table._windows = self._windows
        return table


class TimeWindowedKStream(_Windowed):
    """A grouped stream in time windows (tumbling, hopping) or sliding windows.

    >>> import strom
    >>> from strom import serdes
    >>> b = strom.StreamsBuilder()
    >>> counts = (b.stream("clicks", key_serde=serdes.String()).group_by_key()
    ...     .windowed_by(strom.TimeWindows.of_size_with_no_grace(60_000)).count(store="per-minute"))
    """

    def _serde(self, ks: Any) -> Any:
        size = (
            self._windows.size_ms
            if isinstance(self._windows, TimeWindows)
            else self._windows.time_difference_ms
        )
        return TimeWindowedSerde(ks, size)

    def _aggregate(
        self,
        op: str,
        prefix: str,
        initializer: Any,
        aggregator: Any,
        store: str | None,
        name: str | None,
        key_serde: Any,
        value_serde: Any,
        retention: Any,
    ) -> KTable:
        windows, emit = self._windows, self._emit_on_close
        if isinstance(windows, SlidingWindows):

            def make(s: str) -> Any:
                return SlidingAggregateSupplier(s, windows, initializer, aggregator, emit)
        else:

            def make(s: str) -> Any:
                return WindowAggregateSupplier(s, windows, initializer, aggregator, emit)

        return self._table(
            op, prefix, store, name, key_serde, value_serde, retention, make, self._serde
        )

    def count(
        self,
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        retention: Any = None,
    ) -> KTable:
        """Records per key and window (counting records with a None value, as Kafka)."""
        return self._aggregate(
            "count",
            "KSTREAM-AGGREGATE",
            lambda: 0,
            lambda k, v, agg: agg + 1,
            store,
            name,
            key_serde,
            Long(),
            retention,
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
        retention: Any = None,
    ) -> KTable:
        """Combine the values of each key and window with ``reducer(aggregate, value)``."""
        _check(reducer, "reduce's reducer", "(aggregate, value) -> aggregate")
        return self._aggregate(
            "reduce",
            "KSTREAM-REDUCE",
            _none,
            _reducing(reducer),
            store,
            name,
            key_serde,
            serde_for(value_serde) or self._grouped.value_serde,
            retention,
        )

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
        retention: Any = None,
    ) -> KTable:
        """Fold each key's values per window: ``aggregator(key, value, aggregate)``."""
        _check(initializer, "aggregate's initializer", "() -> aggregate")
        _check(aggregator, "aggregate's aggregator", "(key, value, aggregate) -> aggregate")
        return self._aggregate(
            "aggregate",
            "KSTREAM-AGGREGATE",
            initializer,
            aggregator,
            store,
            name,
            key_serde,
            serde_for(value_serde),
            retention,
        )


class SessionWindowedKStream(_Windowed):
    """A grouped stream in session windows: activity separated by an inactivity gap."""

    def _aggregate(
        self,
        op: str,
        prefix: str,
        initializer: Any,
        aggregator: Any,
        merger: Any,
        store: str | None,
        name: str | None,
        key_serde: Any,
        value_serde: Any,
        retention: Any,
    ) -> KTable:
        windows, emit = self._windows, self._emit_on_close

        def make(s: str) -> Any:
            return SessionAggregateSupplier(s, windows, initializer, aggregator, merger, emit)

        return self._table(
            op, prefix, store, name, key_serde, value_serde, retention, make, SessionWindowedSerde
        )

    def count(
        self,
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        retention: Any = None,
    ) -> KTable:
        """Records per key and session."""
        return self._aggregate(
            "count",
            "KSTREAM-AGGREGATE",
            lambda: 0,
            lambda k, v, agg: agg + 1,
            lambda k, a, b: a + b,
            store,
            name,
            key_serde,
            Long(),
            retention,
        )

    def reduce(
        self,
        reducer: Callable[[Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
        retention: Any = None,
    ) -> KTable:
        """Combine each session's values with ``reducer(aggregate, value)``."""
        _check(reducer, "reduce's reducer", "(aggregate, value) -> aggregate")
        agg = _reducing(reducer)
        return self._aggregate(
            "reduce",
            "KSTREAM-REDUCE",
            _none,
            agg,
            lambda k, a, b: agg(k, b, a),
            store,
            name,
            key_serde,
            serde_for(value_serde) or self._grouped.value_serde,
            retention,
        )

    def aggregate(
        self,
        initializer: Callable[[], Any],
        aggregator: Callable[[Any, Any, Any], Any],
        merger: Callable[[Any, Any, Any], Any],
        store: str | None = None,
        name: str | None = None,
        key_serde: Any = None,
        value_serde: Any = None,
        retention: Any = None,
    ) -> KTable:
        """Fold each session: ``aggregator(key, value, agg)``; sessions that come together
        are combined with ``merger(key, agg1, agg2)``."""
        _check(initializer, "aggregate's initializer", "() -> aggregate")
        _check(aggregator, "aggregate's aggregator", "(key, value, aggregate) -> aggregate")
        _check(merger, "aggregate's merger", "(key, aggregate1, aggregate2) -> aggregate")
        return self._aggregate(
            "aggregate",
            "KSTREAM-AGGREGATE",
            initializer,
            aggregator,
            merger,
            store,
            name,
            key_serde,
            serde_for(value_serde),
            retention,
        )


def windowed(grouped: KGroupedStream, windows: Any) -> Any:
    if isinstance(windows, TimeWindows | SlidingWindows):
        return TimeWindowedKStream(grouped, windows)
    if isinstance(windows, SessionWindows):
        return SessionWindowedKStream(grouped, windows)
    raise TopologyError(
        f"windowed_by() takes TimeWindows, SlidingWindows or SessionWindows, got {windows!r}"
    )


__all__ = ["SessionWindowedKStream", "TimeWindowedKStream", "windowed"]
