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
from strom.state.session import (
    InMemorySessionStore,
    ReadOnlySessionStore,
    RocksDBSessionStore,
    SessionStore,
)
from strom.state.session_metered import MeteredSessionStore
from strom.state.stores import Stores
from strom.state.window import (
    InMemoryWindowStore,
    ReadOnlyWindowStore,
    RocksDBWindowStore,
    WindowStore,
)
from strom.state.window_builders import (
    InMemorySessionBytesStoreSupplier,
    InMemoryWindowBytesStoreSupplier,
    RocksDBSessionBytesStoreSupplier,
    RocksDBWindowBytesStoreSupplier,
    SessionBytesStoreSupplier,
    SessionStoreBuilder,
    TimestampedWindowStoreBuilder,
    WindowBytesStoreSupplier,
    WindowStoreBuilder,
)
from strom.state.window_caching import CachingSessionStore, CachingWindowStore
from strom.state.window_changelogging import (
    ChangeLoggingSessionBytesStore,
    ChangeLoggingTimestampedWindowBytesStore,
    ChangeLoggingWindowBytesStore,
)
from strom.state.window_metered import (
    MeteredTimestampedWindowStore,
    MeteredWindowStore,
    WindowStoreFacade,
)

#: Kafka's name for a key-value store whose values carry timestamps.
TimestampedKeyValueStore = MeteredTimestampedKeyValueStore
#: Kafka's name for a window store whose values carry timestamps.
TimestampedWindowStore = MeteredTimestampedWindowStore

__all__ = [
    "CachedStateStore",
    "CachingKeyValueStore",
    "CachingSessionStore",
    "CachingWindowStore",
    "ChangeLoggingKeyValueBytesStore",
    "ChangeLoggingSessionBytesStore",
    "ChangeLoggingTimestampedKeyValueBytesStore",
    "ChangeLoggingTimestampedWindowBytesStore",
    "ChangeLoggingWindowBytesStore",
    "FlushListener",
    "InMemoryKeyValueBytesStoreSupplier",
    "InMemoryKeyValueStore",
    "InMemoryLRUKeyValueStore",
    "InMemorySessionBytesStoreSupplier",
    "InMemorySessionStore",
    "InMemoryWindowBytesStoreSupplier",
    "InMemoryWindowStore",
    "KeyValueStore",
    "KeyValueStoreBuilder",
    "KeyValueStoreFacade",
    "LruMapSupplier",
    "MeteredKeyValueStore",
    "MeteredSessionStore",
    "MeteredTimestampedKeyValueStore",
    "MeteredTimestampedWindowStore",
    "MeteredWindowStore",
    "ReadOnlyKeyValueStore",
    "ReadOnlySessionStore",
    "ReadOnlyWindowStore",
    "RestoreCallback",
    "RocksDBKeyValueBytesStoreSupplier",
    "RocksDBKeyValueStore",
    "RocksDBSessionBytesStoreSupplier",
    "RocksDBSessionStore",
    "RocksDBWindowBytesStoreSupplier",
    "RocksDBWindowStore",
    "SessionBytesStoreSupplier",
    "SessionStore",
    "SessionStoreBuilder",
    "StateStore",
    "StateStoreContext",
    "StoreBuilder",
    "StoreSupplier",
    "Stores",
    "TimestampedKeyValueStore",
    "TimestampedKeyValueStoreBuilder",
    "TimestampedWindowStore",
    "TimestampedWindowStoreBuilder",
    "ValueAndTimestamp",
    "ValueAndTimestampSerde",
    "WindowBytesStoreSupplier",
    "WindowStore",
    "WindowStoreBuilder",
    "WindowStoreFacade",
]
