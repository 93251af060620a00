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
from strom.processor.record import Record, make_record
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
        self.context.global_stores = global_stores or {}
        self._queues: dict[TopicPartition, deque[ConsumerRecord]] = {}
        self._consumed: dict[TopicPartition, int] = {}
        self._partition_time: dict[TopicPartition, int] = {}
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
        for r in records:
            tp = (r.topic, r.partition)
            q = queues.get(tp)
            if q is None:
                if r.topic not in self.topology.sources:
                    raise StreamsError(f"task {self.id} has no source for topic {r.topic!r}")
                q = queues[tp] = deque()
            q.append(r)

    def queued(self, tp: TopicPartition) -> int:
        """Records added for ``tp`` and not yet processed."""
        q = self._queues.get(tp)
        return len(q) if q is not None else 0

    def has_records(self) -> bool:
        return any(self._queues.values())

    def _next_record(self) -> ConsumerRecord | None:
        queues = self._queues
        if len(queues) == 1:
            for q in queues.values():
                return q.popleft() if q else None
        best: deque[ConsumerRecord] | None = None
        best_ts = 0
        for q in self._queues.values():
            if q and (best is None or q[0].timestamp < best_ts):
                best, best_ts = q, q[0].timestamp
        return best.popleft() if best is not None else None

    # ---- processing ------------------------------------------------------------------------
    def process(self) -> bool:
        """Process the next record (lowest timestamp first); False if there was none."""
        raw = self._next_record()
        if raw is None:
            return False
        ctx = self.context
        source = self.topology.sources[raw.topic]
        self._consumed[(raw.topic, raw.partition)] = raw.offset
        record = self._deserialize(source, raw)
        if record is None:
            return True
        ts = record.timestamp
        if ts > ctx.stream_time:
            ctx.stream_time = ts
        ctx.topic, ctx.partition, ctx.offset = raw.topic, raw.partition, raw.offset
        ctx.timestamp = ts
        self.metrics.process_total += 1
        self.commit_needed = True
        try:
            source.process(record)
        except SerializationError as e:  # a sink could not write the record
            if not self.errors.handle("production", raw, e, "serializing at a sink"):
                raise
        except StromError:
            raise
        except Exception as e:
            node = failed_node(e) or source.name
            if not self.errors.handle("processing", raw, e, f"processor {node!r}"):
                raise StreamsError(
                    f"exception in processor {node!r} of task {self.id} while processing a "
                    f"record from topic={raw.topic!r} partition={raw.partition} "
                    f"offset={raw.offset}: {type(e).__name__}: {e}"
                ) from e
        return True

    def _deserialize(self, source: SourceNode, raw: ConsumerRecord) -> Record[Any, Any] | None:
        try:
            key = source.key_serde.deserialize(raw.topic, raw.key)
        except (SerializationError, ValueError, TypeError) as e:
            return self._bad_input(raw, "key", source.key_serde, e)
        try:
            value = source.value_serde.deserialize(raw.topic, raw.value)
        except (SerializationError, ValueError, TypeError) as e:
            return self._bad_input(raw, "value", source.value_serde, e)
        record = make_record(key, value, raw.timestamp, raw.headers)
        extractor = source.timestamp_extractor or self._default_extractor
        tp = (raw.topic, raw.partition)
        partition_time = self._partition_time.get(tp, -1)
        if extractor is None:  # the default: the log's timestamp, which must be valid
            ts = raw.timestamp
            if ts < 0:
                ts = FAIL_ON_INVALID.extract(record, partition_time)
        else:
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
                return None
            record.timestamp = ts
        if ts > partition_time:
            self._partition_time[tp] = ts
        return record

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
        queue = ctx.stream_punctuations
        if not queue or ctx.stream_time < 0:
            return False
        return queue.may_punctuate(ctx.stream_time, self._fire)

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
        return {tp: off + 1 for tp, off in self._consumed.items()}

    def post_commit(self) -> None:
        """Hook for checkpoints once the commit is durable."""
