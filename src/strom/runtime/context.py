"""The contexts a task gives its stores and processors (Kafka's ProcessorContextImpl).

:class:`TaskContext` holds what is per task: the record being processed (topic, partition,
offset, timestamp), stream time, punctuation queues, stores, and the store-facing side
(:class:`~strom.state.api.StateStoreContext`). Each processor gets its own
:class:`NodeProcessorContext`, bound to its node: ``forward`` calls the children's ``process``
directly — no per-record graph walk, no "current node" to switch.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from operator import attrgetter
from pathlib import Path
from typing import Any

from strom.core.errors import StoreError, StreamsError
from strom.core.types import EMPTY_HEADERS, TaskId, to_millis
from strom.processor.api import PunctuationType, RecordMetadata
from strom.processor.record import Record
from strom.runtime.punctuation import PunctuationQueue, PunctuationSchedule
from strom.state.api import RestoreCallback, StateStore
from strom.topology.nodes import NodeContext, ProcessorNode, RecordCollector, RecordContext

UNKNOWN = -1


def failed_node(error: BaseException) -> str | None:
    """The name of the processor an exception came from (set as it passed through forward)."""
    return getattr(error, "_strom_node", None)


class TaskContext:
    """What is shared by one task's processors and stores."""

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
        self.task_id = task_id
        self.application_id = application_id
        self.app_configs = config
        self.record_collector = collector
        self.clock = clock
        self.stores = stores
        self.global_stores: Mapping[str, StateStore] = {}
        self.changelogs = changelogs
        self._state_dir = state_dir
        self.stream_time = UNKNOWN
        self.stream_punctuations = PunctuationQueue()
        self.wall_punctuations = PunctuationQueue()
        self.commit_requested = False
        self.registered: dict[str, tuple[StateStore, RestoreCallback]] = {}
        self.shared: dict[str, Any] = {}  # per-task objects processors share (join time)
        self.metrics: Any = None  # the task's counters (dropped records, ...)
        # the record context: where the record being processed came from, and its timestamp
        self.topic: str | None = None
        self.partition = UNKNOWN
        self.offset = UNKNOWN
        self.timestamp = 0

    @property
    def state_dir(self) -> Path | None:
        if self._state_dir is not None:
            self._state_dir.mkdir(parents=True, exist_ok=True)
        return self._state_dir

    # ---- StateStoreContext -----------------------------------------------------------------
    def register(self, store: StateStore, restore: RestoreCallback) -> None:
        if store.name in self.registered:
            raise StoreError(
                f"state store {store.name!r} is registered twice in task {self.task_id}"
            )
        self.registered[store.name] = (store, restore)

    def log_change(self, store_name: str, key: bytes, value: bytes | None, timestamp: int) -> None:
        self.record_collector.send(
            self.changelogs[store_name],
            key,
            value,
            timestamp,
            EMPTY_HEADERS,
            self.task_id.partition,
        )

    def changelog_topic(self, store_name: str) -> str:
        return self.changelogs.get(store_name) or f"{self.application_id}-{store_name}-changelog"

    #: The timestamp of the record being processed (what stores stamp writes with); a C
    #: getter, as the record cache reads it on every write.
    record_timestamp = property(attrgetter("timestamp"), doc="the record's timestamp")

    # ---- punctuation -----------------------------------------------------------------------
    def fire(self, schedule: PunctuationSchedule, now: int) -> None:
        """Run a punctuation with an empty record context at time ``now``."""
        saved = (self.topic, self.partition, self.offset, self.timestamp)
        self.topic, self.partition, self.offset, self.timestamp = None, UNKNOWN, UNKNOWN, now
        try:
            schedule.callback(now)
        except Exception as e:
            if failed_node(e) is None:
                e._strom_node = schedule.node.name  # type: ignore[attr-defined]
            raise
        finally:
            self.topic, self.partition, self.offset, self.timestamp = saved


class NodeProcessorContext(NodeContext):
    """The ProcessorContext of one node; ``forward`` goes straight to its children."""

    __slots__ = ("_children", "_node", "_only", "_targets", "task")

    def __init__(self, task: TaskContext, node: ProcessorNode) -> None:
        self.task = task
        self._node = node
        self._children: tuple[ProcessorNode, ...] = ()
        self._targets: tuple[Callable[[Record[Any, Any]], None], ...] = ()
        self._only: Callable[[Record[Any, Any]], None] | None = None  # the one child's target

    def bind(self) -> None:
        """Resolve the children's process methods (after every node of the task is built)."""
        self._children = tuple(self._node.children)
        self._targets = tuple(c.process_fn() for c in self._children)
        self._only = self._targets[0] if len(self._targets) == 1 else None

    def only_child(self) -> tuple[Callable[[Record[Any, Any]], None], str] | None:
        """The one child's process callable and name (after :meth:`bind`), None unless the
        node has exactly one child: a caller that knows the record's timestamp is already the
        task's may call it directly instead of :meth:`forward` (and must then name the child
        on an exception that has no node yet, as ``forward`` does)."""
        if self._only is None:
            return None
        return self._only, self._children[0].name

    # ---- ProcessorContext ----------------------------------------------------------------
    @property
    def application_id(self) -> str:
        return self.task.application_id

    @property
    def task_id(self) -> TaskId:
        return self.task.task_id

    @property
    def app_configs(self) -> Mapping[str, Any]:
        return self.task.app_configs

    @property
    def state_dir(self) -> Path | None:
        return self.task.state_dir

    @property
    def record_collector(self) -> RecordCollector:  # type: ignore[override]
        return self.task.record_collector

    @property
    def metrics(self) -> Any:
        return self.task.metrics

    @property
    def current_node(self) -> ProcessorNode:
        return self._node

    @property
    def shared_state(self) -> dict[str, Any]:
        """Objects the processors of one task share (e.g. the two sides of a join)."""
        return self.task.shared

    def record_metadata(self) -> RecordMetadata | None:
        t = self.task
        if t.topic is None:
            return None
        return RecordMetadata(t.topic, t.partition, t.offset)

    def record_context(self) -> RecordContext:
        t = self.task
        return RecordContext(t.topic, t.partition, t.offset, t.timestamp, EMPTY_HEADERS)

    def current_stream_time_ms(self) -> int:
        return self.task.stream_time

    def current_system_time_ms(self) -> int:
        return self.task.clock()

    def forward(self, record: Record[Any, Any], child_name: str | None = None) -> None:
        task = self.task
        ts = task.timestamp
        only = self._only
        if only is not None and child_name is None:  # one child: the common case
            rts = record.timestamp
            if rts != ts:  # the children see the forwarded record's timestamp
                task.timestamp = rts
            try:
                only(record)
            except Exception as e:
                if failed_node(e) is None:
                    e._strom_node = self._children[0].name  # type: ignore[attr-defined]
                raise
            task.timestamp = ts
            return
        task.timestamp = record.timestamp
        if child_name is None:
            i = 0
            try:
                for target in self._targets:
                    target(record)
                    i += 1
            except Exception as e:
                if failed_node(e) is None:
                    e._strom_node = self._children[i].name  # type: ignore[attr-defined]
                raise
        else:
            self._forward_to(record, child_name)
        task.timestamp = ts

    def _forward_to(self, record: Record[Any, Any], child_name: str) -> None:
        for child in self._children:
            if child.name == child_name:
                try:
                    child.process_fn()(record)
                except Exception as e:
                    if failed_node(e) is None:
                        e._strom_node = child.name  # type: ignore[attr-defined]
                    raise
                return
        raise StreamsError(
            f"processor {self._node.name!r} forwarded to child {child_name!r}, which is "
            f"not one of its children {[c.name for c in self._children]}"
        )

    def forward_as(self, node: ProcessorNode, record: Record[Any, Any]) -> None:
        node.context.forward(record)

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
        task = self.task
        if punctuation_type is PunctuationType.STREAM_TIME:
            # aligned to 0: fires as soon as stream time is known
            return task.stream_punctuations.add(PunctuationSchedule(self._node, ms, callback, 0))
        if punctuation_type is PunctuationType.WALL_CLOCK_TIME:
            return task.wall_punctuations.add(
                PunctuationSchedule(self._node, ms, callback, task.clock() + ms)
            )
        raise TypeError(f"punctuation_type must be a PunctuationType, got {punctuation_type!r}")

    def get_state_store(self, name: str) -> Any:
        node = self._node
        store = self.task.stores.get(name)
        if store is None:
            store = self.task.global_stores.get(name)
            if store is not None:  # global stores are readable from every processor
                return store
        if store is None:
            raise StoreError(
                f"processor {node.name!r} asked for state store {name!r}, which does not exist; "
                f"stores: {sorted(self.task.stores)}"
            )
        if name not in node.store_names:
            raise StoreError(
                f"processor {node.name!r} has no access to state store {name!r}: connect it "
                "(KStream.process(supplier, store_name) or Topology.add_state_store(builder, "
                "processor_name))"
            )
        return store

    def commit(self) -> None:
        self.task.commit_requested = True
