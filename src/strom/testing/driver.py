"""``TopologyTestDriver``: run a topology deterministically, one record at a time, no broker.

It runs the runtime's own :class:`~strom.runtime.task.StreamTask` (the same processors, stores,
stream time and punctuation) over in-memory topics with a mock wall clock, as Kafka's driver
runs the real StreamTask.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from strom.core.errors import StoreError, StromError
from strom.core.records import ConsumerRecord
from strom.core.types import Headers, TaskId, to_millis
from strom.runtime.task import StreamTask
from strom.serdes.base import Serde
from strom.serdes.coerce import serde_for
from strom.state.metered import KeyValueStoreFacade, MeteredTimestampedKeyValueStore
from strom.state.window_metered import MeteredTimestampedWindowStore, WindowStoreFacade
from strom.testing.topics import TestInputTopic, TestOutputTopic
from strom.topology.build import default_serdes
from strom.topology.topology import Topology

DEFAULT_APP_ID = "dummy-topology-test-driver-app-id"
#: Kafka's internal config: how often emit-on-close aggregations look for closed windows.
EMIT_INTERVAL = "__emit.interval.ms.kstreams.windowed.aggregation__"


class _Collector:
    """Captures everything sinks and changelogs write; feeds internal topics back in."""

    def __init__(self, driver: TopologyTestDriver) -> None:
        self._driver = driver

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        timestamp: int,
        headers: Headers,
        partition: int | None,
        partitioner: Callable[[int], int | None] | None = None,
    ) -> None:
        self._driver._append(topic, key, value, timestamp, headers)


class TopologyTestDriver:
    """Drive a :class:`~strom.Topology` synchronously and read what it writes.

    >>> import strom
    >>> from strom import serdes
    >>> from strom.testing import TopologyTestDriver
    >>> b = strom.StreamsBuilder()
    >>> b.stream("in", value_serde=serdes.String()).map_values(str.upper).to(
    ...     "out", value_serde=serdes.String())
    >>> with TopologyTestDriver(b.build()) as driver:
    ...     driver.create_input_topic("in", value_serde=serdes.String()).pipe_input("k", "hi")
    ...     driver.create_output_topic("out", value_serde=serdes.String()).read_key_value()
    ('k', 'HI')
    """

    def __init__(
        self,
        topology: Topology | Any,
        config: Mapping[str, Any] | None = None,
        initial_wall_clock_time_ms: int | timedelta = 0,
    ) -> None:
        app_config = getattr(topology, "config", None)
        if not isinstance(topology, Topology):
            built = getattr(topology, "topology", None) or getattr(topology, "build", None)
            topology = built() if callable(built) else built
            if not isinstance(topology, Topology):
                raise TypeError(
                    "TopologyTestDriver takes a Topology (StreamsBuilder.build()), "
                    f"got {type(topology).__name__}"
                )
        self.topology = topology
        # an App (or a builder with a config) brings its config; ``config`` overrides it
        cfg = {**(app_config if isinstance(app_config, Mapping) else {}), **(config or {})}
        self.application_id = str(cfg.setdefault("application.id", DEFAULT_APP_ID))
        self._own_state_dir = "state.dir" not in cfg
        self.state_root = Path(cfg.get("state.dir") or tempfile.mkdtemp(prefix="strom-ttd-"))
        cfg["state.dir"] = str(self.state_root)
        cfg.setdefault(EMIT_INTERVAL, 0)  # emit-on-close checks on every record, as Kafka's
        self.config = cfg
        self._now = to_millis(initial_wall_clock_time_ms)
        self._outputs: dict[str, deque[ConsumerRecord]] = {}
        self._offsets: dict[str, int] = {}
        self._outputs_written: set[str] = set()
        self._closed = False
        processor_topology = topology.build(self.application_id, cfg)
        self._internal = set(processor_topology.repartition_topics)
        self._sources = set(processor_topology.sources)
        self._pending: deque[ConsumerRecord] = deque()
        global_topology = topology.build(self.application_id, cfg, global_stores=True)
        self._global_sources = set(global_topology.sources)
        self.global_task = StreamTask(
            TaskId(-1, -1),
            global_topology,
            self.application_id,
            cfg,
            _Collector(self),
            self._clock,
            self.state_root / self.application_id / "global",
        )
        self.global_task.initialize()
        task_id = TaskId(0, 0)
        self.task = StreamTask(
            task_id,
            processor_topology,
            self.application_id,
            cfg,
            _Collector(self),
            self._clock,
            self.state_root / self.application_id / str(task_id),
            global_topology.stores,
        )
        self._key_default, self._value_default = default_serdes(cfg)
        self.task.initialize()
        self._complete_all_processable_work()

    # ---- time and input ---------------------------------------------------------------------
    def _clock(self) -> int:
        return self._now

    def create_input_topic(
        self,
        name: str,
        key_serde: Serde[Any] | Any = None,
        value_serde: Serde[Any] | Any = None,
        start_timestamp: int | None = None,
        auto_advance: int | timedelta = 0,
    ) -> TestInputTopic:
        """A topic to pipe records into; serdes default to the app's defaults (Json)."""
        self._check_open()
        if name not in self._global_sources and (
            name in self._internal or name not in self._sources
        ):
            known = sorted(
                t for t in self._sources | self._global_sources if t not in self._internal
            )
            raise StromError(f"Unknown topic: {name!r}; the topology reads {known}")
        return TestInputTopic(
            self,
            name,
            serde_for(key_serde, self._key_default),  # type: ignore[arg-type]
            serde_for(value_serde, self._value_default),  # type: ignore[arg-type]
            self._now if start_timestamp is None else start_timestamp,
            to_millis(auto_advance),
        )

    def create_output_topic(
        self, name: str, key_serde: Serde[Any] | Any = None, value_serde: Serde[Any] | Any = None
    ) -> TestOutputTopic:
        """A topic to read what the topology wrote; serdes default to the app's defaults."""
        self._check_open()
        return TestOutputTopic(
            name,
            self._outputs.setdefault(name, deque()),
            serde_for(key_serde, self._key_default),  # type: ignore[arg-type]
            serde_for(value_serde, self._value_default),  # type: ignore[arg-type]
        )

    def pipe_raw(
        self, topic: str, key: bytes | None, value: bytes | None, timestamp: int, headers: Headers
    ) -> None:
        """Append serialized bytes to an input topic and process them to completion."""
        self._check_open()
        offset = self._offsets.get(topic, 0)
        self._offsets[topic] = offset + 1
        record = ConsumerRecord(topic, 0, offset, timestamp, key, value, headers)
        if topic in self._global_sources:  # a global store's topic: update it right away
            self.global_task.add_records([record])
            while self.global_task.process():
                pass
            self.global_task.prepare_commit()
            return
        self.task.add_records([record])
        self._complete_all_processable_work()

    def advance_wall_clock_time(self, duration: int | timedelta) -> None:
        """Move the mock wall clock forward, firing due WALL_CLOCK_TIME punctuations."""
        self._check_open()
        ms = to_millis(duration)
        if ms < 0:
            raise ValueError(f"advance_wall_clock_time takes a non-negative duration, got {ms}")
        self._now += ms
        self.task.maybe_punctuate_system_time(self._now)
        self._commit()
        self._complete_all_processable_work()

    # ---- the loop -------------------------------------------------------------------------
    def _append(
        self, topic: str, key: bytes | None, value: bytes | None, ts: int, headers: Headers
    ) -> None:
        offset = self._offsets.get(topic, 0)
        self._offsets[topic] = offset + 1
        record = ConsumerRecord(topic, 0, offset, ts, key, value, headers)
        self._outputs.setdefault(topic, deque()).append(record)
        self._outputs_written.add(topic)
        if topic in self._sources:  # internal topics, and user topics the topology also reads
            self._pending.append(record)

    def _feed_internal(self) -> None:
        if self._pending:
            self.task.add_records(self._pending)
            self._pending.clear()

    def _complete_all_processable_work(self) -> None:
        task = self.task
        self._feed_internal()
        while task.process():
            task.maybe_punctuate_stream_time()
            self._commit()
            self._feed_internal()

    def _commit(self) -> None:
        self.task.prepare_commit()
        self.task.post_commit()
        self._feed_internal()

    # ---- stores ----------------------------------------------------------------------------
    def get_all_state_stores(self) -> dict[str, Any]:
        return dict(self.task.topology.stores)

    def get_state_store(self, name: str) -> Any:
        self._check_open()
        store = self.task.topology.stores.get(name) or self.global_task.topology.stores.get(name)
        if store is None:
            raise StoreError(
                f"no state store named {name!r}; stores: {sorted(self.task.topology.stores)}"
            )
        return store

    def get_key_value_store(self, name: str) -> Any:
        """A key-value store; for a timestamped store, a view of plain values (as Kafka's)."""
        store = self.get_state_store(name)
        if not callable(getattr(store, "put_if_absent", None)):
            raise StoreError(f"state store {name!r} is not a key-value store")
        if isinstance(store, MeteredTimestampedKeyValueStore):
            return KeyValueStoreFacade(store)
        return store

    def get_timestamped_key_value_store(self, name: str) -> Any:
        store = self.get_state_store(name)
        if isinstance(store, MeteredTimestampedKeyValueStore):
            return store
        raise StoreError(f"state store {name!r} is not a timestamped key-value store")

    def get_window_store(self, name: str) -> Any:
        """A window store; for a timestamped one (the DSL's), a view of plain values."""
        store = self.get_state_store(name)
        if not getattr(store, "is_window_store", False):
            raise StoreError(f"state store {name!r} is not a window store")
        if isinstance(store, MeteredTimestampedWindowStore):
            return WindowStoreFacade(store)
        return store

    def get_timestamped_window_store(self, name: str) -> Any:
        store = self.get_state_store(name)
        if isinstance(store, MeteredTimestampedWindowStore):
            return store
        raise StoreError(f"state store {name!r} is not a timestamped window store")

    def get_session_store(self, name: str) -> Any:
        store = self.get_state_store(name)
        if not getattr(store, "is_session_store", False):
            raise StoreError(f"state store {name!r} is not a session store")
        return store

    def produced_topic_names(self) -> set[str]:
        """Every topic the topology wrote to (sinks, repartition topics, changelogs)."""
        return set(self._outputs_written)

    # ---- lifecycle --------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise StromError("the TopologyTestDriver is closed")

    def close(self) -> None:
        """Flush and close the task and its stores; persistent stores stay under state.dir."""
        if self._closed:
            return
        try:
            self._commit()
            self.task.close()
            self.global_task.close()
        finally:
            self._closed = True
            if self._own_state_dir:
                shutil.rmtree(self.state_root, ignore_errors=True)

    def __enter__(self) -> TopologyTestDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
