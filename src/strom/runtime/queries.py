"""Interactive queries: read-only views of an instance's local stores, across its tasks
(Kafka's ``KafkaStreams.store`` and its composite stores)."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

from strom.core.errors import StoreError


class KeyQueryMetadata(NamedTuple):
    """Where a key lives: the instance (its ``application.server``) and the partition, and
    the instances that keep standby copies of it (``num.standby.replicas``)."""

    active_host: str | None
    partition: int
    member: str | None
    standby_hosts: tuple[str, ...] = ()


class _View:
    """A read-only view over the stores named ``name`` of every local task."""

    def __init__(self, name: str, stores: Callable[[], list[Any]]) -> None:
        self.name = name
        self._stores = stores

    def _all(self) -> list[Any]:
        stores = self._stores()
        if not stores:
            raise StoreError(
                f"state store {self.name!r} has no local tasks right now (rebalancing, or all "
                "its partitions are on other instances)"
            )
        return stores

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def _merged(iterators: list[Iterator[tuple[Any, Any]]], reverse: bool = False) -> Iterator[Any]:
    """Merge per-task iterators (each in order) by key; tasks hold disjoint keys."""
    return heapq.merge(*iterators, key=lambda kv: kv[0], reverse=reverse)


class ReadOnlyKeyValueView(_View):
    """``get``, ``range``, ``all`` over the key-value stores of every local task."""

    def get(self, key: Any) -> Any:
        for store in self._all():
            value = store.get(key)
            if value is not None:
                return value
        return None

    def all(self) -> Iterator[tuple[Any, Any]]:
        return _merged([s.all() for s in self._all()])

    def range(self, from_key: Any, to_key: Any) -> Iterator[tuple[Any, Any]]:
        return _merged([s.range(from_key, to_key) for s in self._all()])

    def approximate_num_entries(self) -> int:
        return sum(s.approximate_num_entries() for s in self._all())


class ReadOnlyWindowView(_View):
    """Window fetches over the window stores of every local task."""

    is_window_store = True

    def fetch(self, key: Any, time_from: int, time_to: int | None = None) -> Any:
        if time_to is None:  # one window
            for store in self._all():
                value = store.fetch(key, time_from)
                if value is not None:
                    return value
            return None
        return _merged([iter(s.fetch(key, time_from, time_to)) for s in self._all()])

    def fetch_all(self, time_from: int, time_to: int) -> Iterator[tuple[Any, Any]]:
        for store in self._all():
            yield from store.fetch_all(time_from, time_to)

    def all(self) -> Iterator[tuple[Any, Any]]:
        for store in self._all():
            yield from store.all()


class ReadOnlySessionView(_View):
    """Session fetches over the session stores of every local task."""

    is_session_store = True

    def fetch(self, key: Any) -> Iterator[tuple[Any, Any]]:
        for store in self._all():
            yield from store.fetch(key)

    def find_sessions(self, key: Any, earliest_end: int, latest_start: int) -> Iterator[Any]:
        for store in self._all():
            yield from store.find_sessions(key, earliest_end, latest_start)


def plain(store: Any) -> Any:
    """A DSL store's values without their timestamps (as queries see them)."""
    from strom.state.metered import KeyValueStoreFacade, MeteredTimestampedKeyValueStore
    from strom.state.window_metered import MeteredTimestampedWindowStore, WindowStoreFacade

    if isinstance(store, MeteredTimestampedKeyValueStore):
        return KeyValueStoreFacade(store)
    if isinstance(store, MeteredTimestampedWindowStore):
        return WindowStoreFacade(store)
    return store


def view_for(name: str, sample: Any, stores: Callable[[], list[Any]]) -> _View:
    if getattr(sample, "is_window_store", False):
        return ReadOnlyWindowView(name, stores)
    if getattr(sample, "is_session_store", False):
        return ReadOnlySessionView(name, stores)
    return ReadOnlyKeyValueView(name, stores)
