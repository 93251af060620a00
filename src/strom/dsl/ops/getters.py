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


class JoinGetter(ValueGetterSupplier):
    """The current value of a table-table join that is not materialized."""

    def __init__(
        self,
        left: ValueGetterSupplier,
        right: ValueGetterSupplier,
        joiner: Callable[[Any, Any], Any],
        left_outer: bool,
        right_outer: bool,
    ) -> None:
        self.left, self.right, self.joiner = left, right, joiner
        self.left_outer, self.right_outer = left_outer, right_outer
        self.store_names = tuple(dict.fromkeys(left.store_names + right.store_names))

    def get(self, context: Any) -> Callable[[Any], ValueAndTimestamp[Any] | None]:
        left, right = self.left.get(context), self.right.get(context)
        joiner, left_outer, right_outer = self.joiner, self.left_outer, self.right_outer

        def get(key: Any) -> ValueAndTimestamp[Any] | None:
            lv, rv = left(key), right(key)
            if (lv is None and not right_outer) or (rv is None and not left_outer):
                return None
            if lv is None and rv is None:
                return None
            ts = max(lv.timestamp if lv else -1, rv.timestamp if rv else -1)
            return ValueAndTimestamp(joiner(lv.value if lv else None, rv.value if rv else None), ts)

        return get
