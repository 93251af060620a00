"""The context a task gives its processors and stores (Kafka's ProcessorContextImpl)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from strom.core.errors import StoreError, StreamsError
from strom.core.types import EMPTY_HEADERS, Headers, TaskId, to_millis
from strom.processor.api import PunctuationType, RecordMetadata
from strom.processor.record import Record
from strom.runtime.punctuation import PunctuationQueue, PunctuationSchedule
from strom.state.api import RestoreCallback, StateStore
from strom.topology.nodes import NodeContext, ProcessorNode, RecordCollector, RecordContext

UNKNOWN = -1


class TaskContext(NodeContext):
    """Tracks the node and record being processed; forwards, schedules, logs store changes."""

    def __init__(
        self,
        task_id: TaskId,
        application_id: str,
        config: Mapping[str, Any],
        collector: RecordCollector,
        clock: Callable[[], int],
        stores: Mapping[str, StateStore],
        changelogs: Mapping[str, str],
        state_dir: Path | None,
    ) -> None:
        self._task_id = task_id
        self._application_id = application_id
        self._config = config
        self.record_collector = collector
        self._clock = clock
        self._stores = stores
        self._changelogs = changelogs
        self._state_dir = state_dir
        self.stream_time = UNKNOWN
        self.stream_punctuations = PunctuationQueue()
        self.wall_punctuations = PunctuationQueue()
        self.commit_requested = False
        self.registered: dict[str, tuple[StateStore, RestoreCallback]] = {}
        self.node: ProcessorNode | None = None
        self.failed_node: ProcessorNode | None = None
        self.metrics: Any = None  # the task's counters (dropped records, ...)
        # the record context
        self.topic: str | None = None
        self.partition = UNKNOWN
        self.offset = UNKNOWN
        self.timestamp = 0
        self.headers: Headers = EMPTY_HEADERS

    # ---- ProcessorContext ----------------------------------------------------------------
    @property
    def application_id(self) -> str:
        return self._application_id

    @property
    def task_id(self) -> TaskId:
        return self._task_id

    @property
    def app_configs(self) -> Mapping[str, Any]:
        return self._config

    @property
    def state_dir(self) -> Path | None:
        if self._state_dir is not None:
            self._state_dir.mkdir(parents=True, exist_ok=True)
        return self._state_dir

    def record_metadata(self) -> RecordMetadata | None:
        if self.topic is None:
            return None
        return RecordMetadata(self.topic, self.partition, self.offset)

    def record_context(self) -> RecordContext:
        return RecordContext(self.topic, self.partition, self.offset, self.timestamp, self.headers)

    def current_stream_time_ms(self) -> int:
        return self.stream_time

    def current_system_time_ms(self) -> int:
        return self._clock()

    def forward(self, record: Record[Any, Any], child_name: str | None = None) -> None:
        node = self.node
        ts, headers = self.timestamp, self.headers
        self.timestamp, self.headers = record.timestamp, record.headers
        try:
            if child_name is None:
                for child in node.children:  # type: ignore[union-attr]
                    self.node = child
                    child.process(record)
            else:
                child = node.child(child_name)  # type: ignore[union-attr]
                if child is None:
                    raise StreamsError(
                        f"processor {node.name!r} forwarded to child {child_name!r}, which is "  # type: ignore[union-attr]
                        f"not one of its children {[c.name for c in node.children]}"  # type: ignore[union-attr]
                    )
                self.node = child
                child.process(record)
        except BaseException:
            if self.failed_node is None:
                self.failed_node = self.node  # the innermost node that raised
            raise
        finally:
            self.node = node
            self.timestamp, self.headers = ts, headers

    @property
    def current_node(self) -> ProcessorNode | None:
        return self.node

    def forward_as(self, node: ProcessorNode, record: Record[Any, Any]) -> None:
        """Forward ``record`` to the children of ``node``, whatever node is current."""
        saved = self.node
        self.node = node
        try:
            self.forward(record)
        finally:
            self.node = saved

    def schedule(
        self,
        interval: int | timedelta,
        punctuation_type: PunctuationType,
        callback: Callable[[int], None],
    ) -> PunctuationSchedule:
        ms = to_millis(interval, "punctuation interval")
        if ms < 1:
            raise ValueError(f"punctuation interval must be at least 1 ms, got {ms}")
        if not callable(callback):
            raise TypeError(f"punctuation callback must be callable, got {callback!r}")
        if punctuation_type is PunctuationType.STREAM_TIME:
            # aligned to 0: fires as soon as stream time is known
            return self.stream_punctuations.add(PunctuationSchedule(self.node, ms, callback, 0))
        if punctuation_type is PunctuationType.WALL_CLOCK_TIME:
            return self.wall_punctuations.add(
                PunctuationSchedule(self.node, ms, callback, self._clock() + ms)
            )
        raise TypeError(f"punctuation_type must be a PunctuationType, got {punctuation_type!r}")

    def get_state_store(self, name: str) -> Any:
        node = self.node
        store = self._stores.get(name)
        if store is None:
            raise StoreError(
                f"processor {getattr(node, 'name', None)!r} asked for state store {name!r}, "
                f"which does not exist; stores: {sorted(self._stores)}"
            )
        if node is not None and name not in node.store_names:
            raise StoreError(
                f"processor {node.name!r} has no access to state store {name!r}: connect it "
                "(KStream.process(supplier, store_name) or Topology.add_state_store(builder, "
                "processor_name))"
            )
        return store

    def commit(self) -> None:
        self.commit_requested = True

    # ---- StateStoreContext -----------------------------------------------------------------
    def register(self, store: StateStore, restore: RestoreCallback) -> None:
        if store.name in self.registered:
            raise StoreError(
                f"state store {store.name!r} is registered twice in task {self._task_id}"
            )
        self.registered[store.name] = (store, restore)

    def log_change(self, store_name: str, key: bytes, value: bytes | None, timestamp: int) -> None:
        self.record_collector.send(
            self._changelogs[store_name],
            key,
            value,
            timestamp,
            EMPTY_HEADERS,
            self._task_id.partition,
        )

    def changelog_topic(self, store_name: str) -> str:
        return self._changelogs.get(store_name) or f"{self._application_id}-{store_name}-changelog"

    @property
    def record_timestamp(self) -> int:
        return self.timestamp

    # ---- punctuation -----------------------------------------------------------------------
    def fire(self, schedule: PunctuationSchedule, now: int) -> None:
        """Run a punctuation as its node, with an empty record context at time ``now``."""
        saved = (self.node, self.topic, self.partition, self.offset, self.timestamp, self.headers)
        self.node = schedule.node
        self.topic, self.partition, self.offset = None, UNKNOWN, UNKNOWN
        self.timestamp, self.headers = now, EMPTY_HEADERS
        try:
            schedule.callback(now)
        finally:
            (self.node, self.topic, self.partition, self.offset, self.timestamp, self.headers) = (
                saved
            )
