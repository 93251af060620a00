"""Value getters: how a join reads a table's current value for a key — from the table's
store, or computed from its parent's (a filter or map_values that is not materialized)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from strom.state.api import ValueAndTimestamp


class ValueGetterSupplier:
    """Makes a getter for one task; ``store_names`` must be connected to the reading node."""

    store_names: tuple[str, ...] = ()

    def get(self, context: Any) -> Callable[[Any], ValueAndTimestamp[Any] | None]:
        raise NotImplementedError


class StoreGetter(ValueGetterSupplier):
    def __init__(self, store_name: str) -> None:
        self.store_name = store_name
        self.store_names = (store_name,)

    def get(self, context: Any) -> Callable[[Any], ValueAndTimestamp[Any] | None]:
        return context.get_state_store(self.store_name).get


class FilterGetter(ValueGetterSupplier):
    def __init__(
        self, parent: ValueGetterSupplier, predicate: Callable[[Any, Any], bool], keep: bool
    ) -> None:
        self.parent, self.predicate, self.keep = parent, predicate, keep
        self.store_names = parent.store_names

    def get(self, context: Any) -> Callable[[Any], ValueAndTimestamp[Any] | None]:
        parent, predicate, keep = self.parent.get(context), self.predicate, self.keep

        def get(key: Any) -> ValueAndTimestamp[Any] | None:
            vt = parent(key)
            if vt is None or bool(predicate(key, vt.value)) is not keep:
                return None
            return vt

        return get


class MapValuesGetter(ValueGetterSupplier):
    def __init__(self, parent: ValueGetterSupplier, mapper: Callable[[Any], Any]) -> None:
        self.parent, self.mapper = parent, mapper
        self.store_names = parent.store_names

    def get(self, context: Any) -> Callable[[Any], ValueAndTimestamp[Any] | None]:
        parent, mapper = self.parent.get(context), self.mapper

        def get(key: Any) -> ValueAndTimestamp[Any] | None:
            vt = parent(key)
            return None if vt is None else ValueAndTimestamp(mapper(vt.value), vt.timestamp)

        return get
