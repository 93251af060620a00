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


def _kind(builder: Any) -> str:
    kind = str(builder.config.get("default.dsl.store", "rocksDB")).lower()
    if kind not in ("rocksdb", "rocks_db", "persistent", "in_memory", "in-memory", "memory"):
        raise ConfigError(f"default.dsl.store must be 'rocksDB' or 'in_memory', got {kind!r}")
    return "memory" if "memory" in kind else "rocksdb"


def materialize_window(
    builder: Any,
    name: str,
    retention: int,
    window_size: int,
    key_serde: Any,
    value_serde: Any,
    caching: bool = True,
) -> Any:
    """A logged timestamped window store (cached unless emitting on window close)."""
    if _kind(builder) == "memory":
        supplier = Stores.in_memory_window_store(name, retention, window_size)
    else:
        supplier = Stores.persistent_timestamped_window_store(name, retention, window_size)
    builder.graph.store_names.add(name)
    b = Stores.timestamped_window_store_builder(supplier, key_serde, value_serde)
    return b.with_caching_enabled() if caching else b


def materialize_session(
    builder: Any, name: str, retention: int, key_serde: Any, value_serde: Any, caching: bool = True
) -> Any:
    """A logged session store (cached unless emitting on window close)."""
    if _kind(builder) == "memory":
        supplier = Stores.in_memory_session_store(name, retention)
    else:
        supplier = Stores.persistent_session_store(name, retention)
    builder.graph.store_names.add(name)
    b = Stores.session_store_builder(supplier, key_serde, value_serde)
    return b.with_caching_enabled() if caching else b


def materialize_buffer(builder: Any, name: str, key_serde: Any, value_serde: Any) -> Any:
    """The logged in-memory store behind a suppression buffer."""
    builder.graph.store_names.add(name)
    return Stores.key_value_store_builder(
        Stores.in_memory_key_value_store(name), key_serde, value_serde
    )
