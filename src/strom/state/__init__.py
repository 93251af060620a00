"""State stores: ``Stores`` builds them; the store stack is metered(caching(changelogging(inner))).

>>> from strom import serdes
>>> from strom.state import Stores
>>> builder = Stores.key_value_store_builder(
...     Stores.in_memory_key_value_store("counts"), serdes.String(), serdes.Long())
"""

from strom.state.api import (
    CachedStateStore,
    FlushListener,
    KeyValueStore,
    ReadOnlyKeyValueStore,
    RestoreCallback,
    StateStore,
    StateStoreContext,
    StoreBuilder,
    StoreSupplier,
    ValueAndTimestamp,
)
from strom.state.builders import (
    InMemoryKeyValueBytesStoreSupplier,
    KeyValueStoreBuilder,
    LruMapSupplier,
    RocksDBKeyValueBytesStoreSupplier,
    TimestampedKeyValueStoreBuilder,
)
from strom.state.caching import CachingKeyValueStore
from strom.state.changelogging import (
    ChangeLoggingKeyValueBytesStore,
    ChangeLoggingTimestampedKeyValueBytesStore,
)
from strom.state.memory import InMemoryKeyValueStore, InMemoryLRUKeyValueStore
from strom.state.metered import (
    KeyValueStoreFacade,
    MeteredKeyValueStore,
    MeteredTimestampedKeyValueStore,
    ValueAndTimestampSerde,
)
from strom.state.rocksdb import RocksDBKeyValueStore
from strom.state.stores import Stores

#: Kafka's name for a key-value store whose values carry timestamps.
TimestampedKeyValueStore = MeteredTimestampedKeyValueStore

__all__ = [
    "CachedStateStore",
    "CachingKeyValueStore",
    "ChangeLoggingKeyValueBytesStore",
    "ChangeLoggingTimestampedKeyValueBytesStore",
    "FlushListener",
    "InMemoryKeyValueBytesStoreSupplier",
    "InMemoryKeyValueStore",
    "InMemoryLRUKeyValueStore",
    "KeyValueStore",
    "KeyValueStoreBuilder",
    "KeyValueStoreFacade",
    "LruMapSupplier",
    "MeteredKeyValueStore",
    "MeteredTimestampedKeyValueStore",
    "ReadOnlyKeyValueStore",
    "RestoreCallback",
    "RocksDBKeyValueBytesStoreSupplier",
    "RocksDBKeyValueStore",
    "StateStore",
    "StateStoreContext",
    "StoreBuilder",
    "StoreSupplier",
    "Stores",
    "TimestampedKeyValueStore",
    "TimestampedKeyValueStoreBuilder",
    "ValueAndTimestamp",
    "ValueAndTimestampSerde",
]
