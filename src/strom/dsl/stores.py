"""The stores the DSL materializes: timestamped key-value, persistent unless configured."""

from __future__ import annotations

from typing import Any

from strom.core.errors import ConfigError
from strom.state import Stores
from strom.state.api import StoreBuilder


def materialize(
    builder: Any, name: str, key_serde: Any, value_serde: Any
) -> StoreBuilder[Any, Any]:
    """A cached, logged timestamped key-value store (``default.dsl.store`` picks the kind)."""
    kind = str(builder.config.get("default.dsl.store", "rocksDB"))
    if kind.lower() in ("rocksdb", "rocks_db", "persistent"):
        supplier = Stores.persistent_timestamped_key_value_store(name)
    elif kind.lower() in ("in_memory", "in-memory", "memory"):
        supplier = Stores.in_memory_key_value_store(name)
    else:
        raise ConfigError(f"default.dsl.store must be 'rocksDB' or 'in_memory', got {kind!r}")
    builder.graph.store_names.add(name)
    return Stores.timestamped_key_value_store_builder(
        supplier, key_serde, value_serde
    ).with_caching_enabled()
