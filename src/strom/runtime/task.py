"""``StreamTask``: one partition of one sub-topology — the code every runner shares.

The real runtime and the TopologyTestDriver both feed raw records into a task, ask it to
process, punctuate and commit. A task picks the next record across its partitions by
timestamp, keeps stream time, deserializes once at its source, and runs the node chain.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from strom.core.errors import (
    DeserializationError,
    SerializationError,
    StreamsError,
    StromError,
)
from strom.core.records import ConsumerRecord
from strom.core.types import TaskId
from strom.processor.record import Record
from strom.processor.timestamps import FailOnInvalidTimestamp, timestamp_extractor
from strom.runtime.context import NodeProcessorContext, TaskContext, failed_node
from strom.runtime.errors import ErrorHandlers
from strom.topology.build import ProcessorTopology
from strom.topology.nodes import RecordCollector, SourceNode

log = logging.getLogger("strom.task")

TopicPartition = tuple[str, int]
FAIL_ON_INVALID = FailOnInvalidTimestamp()


class TaskMetrics:
    """Cheap counters of one task."""

    __slots__ = ("dropped_records", "process_total", "punctuate_total", "skipped_deserialization")

    def __init__(self) -> None:
        self.process_total = 0
        self.punctuate_total = 0
        self.dropped_records = 0
        self.skipped_deserialization = 0


_new = object.__new__


class _Input:
    """One input partition of a task: its queue, its source and where processing stands."""

    __slots__ = (
        "child",
        "consumed",
        "deserialize_key",
        "deserialize_value",
        "extractor",
        "partition_time",
        "queue",
        "source",
        "target",
        "tp",
    )

    def __init__(self, tp: TopicPartition, source: SourceNode, extractor: Any) -> None:
        self.tp = tp
        self.queue: deque[ConsumerRecord] = deque()
        self.source = source
        self.deserialize_key = source.key_serde.deserialize
        self.deserialize_value = source.value_serde.deserialize
        self.target: Callable[[Record[Any, Any]], None] = source.process
        self.child: str | None = None  # the child ``target`` is, when it is not the source
        self.extractor = extractor
        self.consumed = -1  # the offset of the last record taken from the queue
        self.partition_time = -1

    def bind(self) -> None:
        """Once the processors are initialised: with one child, the source's forward is a
        direct call of the child."""
        only = self.source.context.only_child()
        if only is None:
            self.target, self.child = self.source.process, None
        else:
            self.target, self.child = only

    def blame(self, error: BaseException) -> str:
        """The node an exception from ``target`` came from (recorded on it, as forward does)."""
        node = failed_node(error)
        if node is None:
            node = self.child or self.source.name
            if self.child is not None:
                error._strom_node = node  # type: ignore[attr-defined]
        return node


class StreamTask:
    """Runs one task's nodes over the records added to it."""

    def __init__(
        self,
        task_id: TaskId,
        topology: ProcessorTopology,
        application_id: str,
        config: Mapping[str, Any],
        collector: RecordCollector,
        clock: Callable[[], int],
        state_dir: Path | None = None,
        global_stores: Mapping[str, Any] | None = None,
    ) -> None:
        self.id = task_id
        self.topology = topology
        self.config = config
        self.metrics = TaskMetrics()
        self.context = TaskContext(
            task_id,
            application_id,
            config,
            collector,
            clock,
            topology.stores,
            topology.changelogs,
            state_dir,
        )
        self.context.metrics = self.metrics
        # the stream-time schedules' heap, read per record (a cheaper test than the queue's len)
        self._stream_heap = self.context.stream_punctuations._heap
        self.context.global_stores = global_stores or {}
        self._queues: dict[TopicPartition, deque[ConsumerRecord]] = {}
        self._inputs: list[_Input] = []  # one per partition, in the order they were first seen
        self._single: _Input | None = None  # the only input, while there is just one
        spec = config.get("default.timestamp.extractor")
        self._default_extractor = None if spec is None else timestamp_extractor(spec)
        self._initialized = False
        self._closed = False
        self.errors = ErrorHandlers(config, collector, self.metrics, task_id)

        self.commit_needed = False

    # ---- lifecycle -------------------------------------------------------------------------
    def initialize(self) -> None:
        """Open the stores, then init every processor (no restoration: the test driver)."""
        self.init_stores()
        self.init_processors()

    def init_stores(self) -> None:
        """Open the stores; each registers its restore callback with the context."""
        ctx = self.context
        for store in self.topology.stores.values():
            store.init(ctx, store)

    def init_processors(self) -> None:
        """Init every processor, once its stores are restored, each with its own context."""
        contexts = [NodeProcessorContext(self.context, node) for node in self.topology.nodes]
        for node, ctx in zip(self.topology.nodes, contexts):
            node.init(ctx)
        for ctx in contexts:  # after init: a processor may set up its process method there
            ctx.bind()
        for inp in self._inputs:
            inp.bind()
        self._initialized = True

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        errors: list[BaseException] = []
        for node in self.topology.nodes:
            try:
                node.close()
            except Exception as e:  # keep closing the rest
                errors.append(e)
        for store in self.topology.stores.values():
            try:
                if store.is_open:
                    store.flush()
                    store.close()
            except Exception as e:
                errors.append(e)
        if errors:
            raise StreamsError(f"task {self.id}: errors while closing: {errors}") from errors[0]

    # ---- input -----------------------------------------------------------------------------
    def add_records(self, records: Iterable[ConsumerRecord]) -> None:
        queues = self._queues
        q: deque[ConsumerRecord] | None = None
        last: TopicPartition | None = None
        for r in records:
            tp = (r[0], r[1])
            if tp != last:
                q = queues.get(tp)
                if q is None:
                    q = self._new_input(tp)
                last = tp
            q.append(r)  # type: ignore[union-attr]

    def _new_input(self, tp: TopicPartition) -> deque[ConsumerRecord]:
        source = self.topology.sources.get(tp[0])
        if source is None:
            raise StreamsError(f"task {self.id} has no source for topic {tp[0]!r}")
        inp = _Input(tp, source, source.timestamp_extractor or self._default_extractor)
        self._queues[tp] = inp.queue
        self._inputs.append(inp)
        self._single = self._inputs[0] if len(self._inputs) == 1 else None
        if self._initialized:
            inp.bind()
        return inp.queue

    def queued(self, tp: TopicPartition) -> int:
        """Records added for ``tp`` and not yet processed."""
        q = self._queues.get(tp)
        return len(q) if q is not None else 0

    def has_records(self) -> bool:
        return any(self._queues.values())

    def _next_input(self) -> _Input | None:
        """The input whose head record has the lowest timestamp (the first on ties)."""
        best: _Input | None = None
        best_ts = 0
        for inp in self._inputs:
            q = inp.queue
            if q and (best is None or q[0][3] < best_ts):
                best, best_ts = inp, q[0][3]
        return best

    # ---- processing ------------------------------------------------------------------------
    def process(self) -> bool:
        """Process the next record (lowest timestamp first); False if there was none."""
        inp = self._single
        if inp is not None:  # one input partition: no choice to make
            if not inp.queue:
                return False
        else:
            inp = self._next_input()
            if inp is None:
                return False
        raw = inp.queue.popleft()
        topic, partition, offset, ts, key, value, headers = raw
        inp.consumed = offset
        try:
            key = inp.deserialize_key(topic, key)
        except (SerializationError, ValueError, TypeError) as e:
            self._bad_input(raw, "key", inp.source.key_serde, e)
            return True
        try:
            value = inp.deserialize_value(topic, value)
        except (SerializationError, ValueError, TypeError) as e:
            self._bad_input(raw, "value", inp.source.value_serde, e)
            return True
        record = _new(Record)  # Record(...) without its checks: the log's fields are valid
        record.key, record.value, record.timestamp, record.headers = key, value, ts, headers
        partition_time = inp.partition_time
        if inp.extractor is not None or ts < 0:
            ts = self._extract(inp, raw, record, partition_time)
            if ts < 0:
                return True
        if ts > partition_time:
            inp.partition_time = ts
        ctx = self.context
        if ts > ctx.stream_time:
            ctx.stream_time = ts
        ctx.topic, ctx.partition, ctx.offset, ctx.timestamp = topic, partition, offset, ts
        self.metrics.process_total += 1
        self.commit_needed = True
        try:
            inp.target(record)  # the source forwards: the record's timestamp is the task's
        except SerializationError as e:  # a sink could not write the record
            inp.blame(e)
            if not self.errors.handle("production", raw, e, "serializing at a sink"):
                raise
        except StromError as e:
            inp.blame(e)
            raise
        except Exception as e:
            node = inp.blame(e)
            if not self.errors.handle("processing", raw, e, f"processor {node!r}"):
                raise StreamsError(
                    f"exception in processor {node!r} of task {self.id} while processing a "
                    f"record from topic={topic!r} partition={partition} "
                    f"offset={offset}: {type(e).__name__}: {e}"
                ) from e
        return True

    def _extract(
        self, inp: _Input, raw: ConsumerRecord, record: Record[Any, Any], partition_time: int
    ) -> int:
        """The record's timestamp from the input's extractor (or the default policy for an
        invalid log timestamp); negative: the record is skipped (and counted)."""
        extractor = inp.extractor
        if extractor is None:  # the default: the log's timestamp, which must be valid
            return FAIL_ON_INVALID.extract(record, partition_time)
        try:
            ts = extractor(record, partition_time)
        except StromError:
            raise
        except Exception as e:
            raise StreamsError(
                f"the timestamp extractor failed on the record from topic={raw.topic!r} "
                f"partition={raw.partition} offset={raw.offset}: {type(e).__name__}: {e}"
            ) from e
        if ts < 0:
            self.metrics.dropped_records += 1
            log.warning(
                "Skipping record due to negative extracted timestamp. topic=[%s] "
                "partition=[%s] offset=[%s] extractedTimestamp=[%s]",
                raw.topic,
                raw.partition,
                raw.offset,
                ts,
            )
            return ts
        record.timestamp = ts
        return ts

    def _bad_input(self, raw: ConsumerRecord, part: str, serde: Any, e: Exception) -> None:
        msg = f"cannot deserialize the {part} with {serde!r}: {e}"
        error = DeserializationError(
            msg, topic=raw.topic, partition=raw.partition, offset=raw.offset
        )
        error.__cause__ = e
        if self.errors.handle("deserialization", raw, error, f"the {part}"):
            self.metrics.skipped_deserialization += 1
            return None
        raise error from e

    # ---- punctuation ------------------------------------------------------------------------
    def maybe_punctuate_stream_time(self) -> bool:
        ctx = self.context
        if not self._stream_heap or ctx.stream_time < 0:  # nothing scheduled: the common case
            return False
        return ctx.stream_punctuations.may_punctuate(ctx.stream_time, self._fire)

    def maybe_punctuate_system_time(self, now: int | None = None) -> bool:
        ctx = self.context
        return ctx.wall_punctuations.may_punctuate(
            ctx.current_system_time_ms() if now is None else now, self._fire
        )

    def _fire(self, schedule: Any, now: int) -> None:
        self.metrics.punctuate_total += 1
        self.commit_needed = True
        try:
            self.context.fire(schedule, now)
        except StromError:
            raise
        except Exception as e:
            raise StreamsError(
                f"exception in punctuation of processor {failed_node(e) or schedule.node.name!r} "
                f"of task {self.id} at {now}: {type(e).__name__}: {e}"
            ) from e

    # ---- commit ----------------------------------------------------------------------------
    def prepare_commit(self) -> dict[TopicPartition, int]:
        """Flush stores (caches forward what they held) and return offsets to commit."""
        for store in self.topology.stores.values():
            store.flush()
        self.context.commit_requested = False
        self.commit_needed = False
        return {inp.tp: inp.consumed + 1 for inp in self._inputs if inp.consumed >= 0}

    def post_commit(self) -> None:
        """Hook for checkpoints once the commit is durable."""
