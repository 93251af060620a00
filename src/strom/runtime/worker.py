"""``StreamWorker``: the poll -> process -> commit loop of one application instance.

It joins the application's group on the backend, owns the tasks of the partition numbers
assigned to it, restores their state, fetches their input in batches, processes, punctuates
and commits every ``commit.interval.ms`` (one transaction under exactly_once_v2).
"""

from __future__ import annotations

import fcntl
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from strom.backends.api import Backend, ProducerRecord, TopicPartition
from strom.core.errors import FencedError, RetriableError, StoreError, StromError
from strom.core.partitioner import partition_for_key
from strom.core.types import TaskId
from strom.runtime.assignment import assign, owners
from strom.runtime.collector import BufferingCollector
from strom.runtime.config import EXACTLY_ONCE_V2
from strom.runtime.global_task import GlobalTask
from strom.runtime.queries import KeyQueryMetadata, plain, view_for
from strom.runtime.standby import StandbyTask
from strom.runtime.state_manager import StateManager
from strom.runtime.task import StreamTask
from strom.runtime.topics import TopicPlan, plan_topics
from strom.topology.topology import Topology

log = logging.getLogger("strom.worker")

#: Records buffered per partition before the worker stops fetching more for it.
QUEUE_TARGET = 2_000
#: How often the worker applies retention and compaction to the log (embedded backends).
MAINTAIN_INTERVAL_MS = 60_000
#: How often consumed and committed repartition records are deleted (Kafka's purge interval).
PURGE_INTERVAL_MS = 30_000
#: The file in ``<state.dir>/<application.id>`` that keeps this instance's member id.
MEMBER_ID_FILE = ".member-id"
#: How long the loop waits after a transient failure of the log before it tries again.
RETRY_BACKOFF_MS = 500
#: How often standby tasks fetch what their changelogs got (and at most how many records).
STANDBY_UPDATE_MS = 100
STANDBY_BATCH = 10_000
#: at_least_once: outputs sent but not yet confirmed by the log before the loop waits for
#: them (they are also confirmed at every commit, before the input offsets).
UNCONFIRMED_MAX = 20_000


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class _OwnedTask:
    __slots__ = ("next_offsets", "state", "task")

    def __init__(self, task: StreamTask, state: StateManager) -> None:
        self.task = task
        self.state = state
        self.next_offsets: dict[TopicPartition, int] = {}


class StreamWorker:
    """Runs an application's tasks on one backend; ``run_once`` is one loop iteration."""

    def __init__(
        self,
        topology: Topology,
        config: Mapping[str, Any],
        backend: Backend,
        clock: Callable[[], int] = wall_ms,
        member_id: str | None = None,
    ) -> None:
        self.topology = topology
        self.config = config
        self.backend = backend
        self.clock = clock
        self.application_id: str = config["application.id"]
        self.group = self.application_id
        self.state_root = Path(config["state.dir"]) / self.application_id
        self._member_lock: Any = None
        self.member_id = member_id or self._stable_member_id()
        self.eos = config["processing.guarantee"] == EXACTLY_ONCE_V2
        self.commit_interval = int(config["commit.interval.ms"])
        self.max_poll = int(config["max.poll.records"])
        self.session_timeout = int(config["session.timeout.ms"])
        self.heartbeat_interval = int(config["heartbeat.interval.ms"])
        self.plan: TopicPlan | None = None
        self.tasks: dict[TaskId, _OwnedTask] = {}
        self.generation = -1
        self.assigned: set[int] = set()
        self.replicas = int(config.get("num.standby.replicas", 0) or 0)
        self.standbys: dict[TaskId, StandbyTask] = {}
        self.standby_assigned: set[int] = set()
        self._standby_failed: set[TaskId] = set()  # could not open: retried next generation
        self._standby_checkpointed: dict[TaskId, int] = {}
        self._last_standby_update = -(10**12)
        self._partitions: dict[str, int] = {}
        self.collector = BufferingCollector(self._partitions.get)
        self._unconfirmed: list[ProducerRecord] = []  # sent, not yet flushed (at_least_once)
        self._last_commit = 0
        self._last_heartbeat = -(10**12)
        self._last_maintain = 0
        self._last_purge = 0
        self._last_retry_log = -(10**12)
        self._stop = threading.Event()
        self._stop_requested = False  # set by stop(); see there
        self._loop_thread: threading.Thread | None = None
        self.processed = 0
        self.started = False
        self.global_task: GlobalTask | None = None
        self.restoring: dict[TaskId, StateManager] = {}
        self.members: list[str] = []  # the group's members, sorted (partition p: p % len)
        self.servers: dict[str, str] = {}  # member -> application.server

    # ---- start and stop ------------------------------------------------------------------------
    def start(self) -> None:
        """Check topics, create internal ones, load global stores, join the group."""
        if int(self.config.get("num.stream.threads", 1)) > 1:
            log.warning(
                "num.stream.threads=%s: strom runs one worker per process; start more "
                "processes (they share the partitions) to process in parallel",
                self.config["num.stream.threads"],
            )
        self.plan = plan_topics(self.topology, self.application_id, self.backend, self.config)
        self._partitions.update(self.plan.partitions)
        if self.topology.global_store_names():
            self.global_task = GlobalTask(
                self.topology,
                self.application_id,
                self.config,
                self.backend,
                self.collector,
                self.clock,
                self.state_root / "global",
            )
            self.global_task.start()
        self._last_commit = self.clock()
        self.started = True
        self._heartbeat(force=True)

    def _stable_member_id(self) -> str:
        """This instance's member id, kept in its state directory across restarts.

        A restarted instance comes back as the same member, and its transactional producer
        (whose id is made from the member id) fences the one that died, aborting the
        transaction it left open at once (Kafka Streams keeps a process id in its state
        directory for the same reason). The file is locked while the worker lives; a second
        worker on the same state directory gets a fresh id.
        """
        fresh = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            self.state_root.mkdir(parents=True, exist_ok=True)
            handle = open(self.state_root / MEMBER_ID_FILE, "a+")  # noqa: SIM115 - kept open
        except OSError as e:
            log.debug("no stable member id (%s); using %s", e, fresh)
            return fresh
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return fresh  # another live worker uses this state directory
        handle.seek(0)
        member = handle.read().strip()
        if not member:
            member = f"{socket.gethostname()}-{uuid.uuid4().hex[:12]}"
            handle.write(member)
            handle.flush()
        self._member_lock = handle
        return member

    def _release_member_id(self) -> None:
        handle, self._member_lock = self._member_lock, None
        if handle is not None:
            handle.close()  # releases the lock

    def stop(self) -> None:
        """Ask the loop to finish (safe from another thread or a signal handler).

        From the loop's own thread (a signal handler runs there when the loop runs in the main
        thread) only a flag is set: the handler may have interrupted the loop inside
        ``Event.wait``, which holds the event's lock, and setting the event would wait for
        that lock for ever. The loop's waits are short, so it sees the flag at once."""
        self._stop_requested = True
        if threading.current_thread() is not self._loop_thread:
            self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop_requested or self._stop.is_set()

    def close(self, clean: bool = True) -> None:
        """Commit, close every task cleanly (checkpoints written) and leave the group; after
        an error (``clean=False``), close without committing what was not committed."""
        try:
            if clean and self.tasks:
                self.commit()
            for tid in list(self.tasks):
                try:
                    self._close_task(tid, clean=clean)
                except Exception as e:
                    if clean:
                        raise
                    log.warning("task %s: error while closing after a failure: %s", tid, e)
            if not clean:
                self.collector.drain()  # outputs of the failed, uncommitted work
            for tid in list(self.standbys):
                try:
                    self._close_standby(tid)
                except Exception as e:
                    log.warning("task %s: error while closing its standby: %s", tid, e)
            if self.global_task is not None:
                self.global_task.close()
        finally:
            try:
                self.backend.leave(self.group, self.member_id)
            except StromError as e:  # the log may be gone already
                log.warning("leaving group %s failed: %s", self.group, e)
            self._release_member_id()

    def run(self, until: Callable[[], bool] | None = None) -> None:
        """Loop until :meth:`stop` (or ``until()`` is true), then close."""
        if not self.started:
            self.start()
        self._loop_thread = threading.current_thread()
        try:
            while not self.stopping and not (until is not None and until()):
                try:
                    busy = self.run_once()
                except RetriableError as e:  # the log is unreachable for now: wait, go on
                    self._backoff(e)
                    continue
                if not busy:
                    self._stop.wait(int(self.config["poll.ms"]) / 1000 / 10)
        except BaseException:
            self.close(clean=False)
            raise
        self.close()

    # ---- the loop --------------------------------------------------------------------------------
    def run_once(self) -> bool:
        """Heartbeat, fetch, process, punctuate, maybe commit; True if records were processed."""
        self._heartbeat()
        if self.global_task is not None:
            self.global_task.poll()
        self._fetch()
        processed = 0
        for owned in self.tasks.values():
            task = owned.task
            n = 0
            while n < self.max_poll and task.process():
                task.maybe_punctuate_stream_time()
                n += 1
            processed += n
        now = self.clock()
        for owned in self.tasks.values():
            owned.task.maybe_punctuate_system_time(now)
        if self.standby_assigned or self.standbys:
            self._update_standbys(now)
        self.processed += processed
        if not self.eos and self.collector.buffer:
            self._produce()  # at_least_once: outputs go out each loop, offsets at commit
        if (
            now - self._last_commit >= self.commit_interval
            or any(o.task.context.commit_requested for o in self.tasks.values())
            or len(self.collector) >= 50_000
        ):
            self.commit()
        return processed > 0

    def _fetch(self) -> None:
        backend = self.backend
        for owned in self.tasks.values():
            queues = owned.task.queued
            for tp, offset in owned.next_offsets.items():
                if queues(tp) >= QUEUE_TARGET:
                    continue
                batch = backend.fetch(tp[0], tp[1], offset, self.max_poll, wait=False)
                if batch:
                    owned.task.add_records(batch)
                    owned.next_offsets[tp] = batch[-1].offset + 1

    def _produce(self) -> None:
        """at_least_once: send the outputs without waiting for the log (processing goes on
        meanwhile); they are confirmed before the next commit of input offsets, or once many
        are unconfirmed."""
        records = self.collector.drain()
        if records:
            try:
                self.backend.send(records)
            except RetriableError:
                self.collector.buffer[:0] = records  # sent again (at least once)
                raise
            self._unconfirmed.extend(records)
            if len(self._unconfirmed) >= UNCONFIRMED_MAX:
                self._confirm()

    def _confirm(self) -> None:
        """Wait until every output sent is written; if the log failed, send them all again."""
        try:
            self.backend.flush()
        except RetriableError:
            self.collector.buffer[:0] = self._unconfirmed  # sent again (at least once)
            self._unconfirmed = []
            raise
        self._unconfirmed = []

    def _backoff(self, error: RetriableError) -> None:
        """After a transient failure of the log: say so (once per outage), wait, retry."""
        now = self.clock()
        if now - self._last_retry_log >= 10_000:
            log.warning("member %s: %s; retrying", self.member_id, error)
            self._last_retry_log = now
        self._stop.wait(RETRY_BACKOFF_MS / 1000)

    def commit(self) -> bool:
        """Flush stores, then write outputs, changelogs and input offsets (atomically under
        exactly_once_v2). False if this member was fenced (its tasks are then dropped)."""
        offsets: dict[TopicPartition, int] = {}
        if self.global_task is not None:
            self.global_task.flush()
        for owned in self.tasks.values():
            offsets.update(owned.task.prepare_commit())
        records = self.collector.drain()
        if self.eos:
            try:
                with self.backend.transaction() as tx:
                    tx.fence(self.group, self.member_id, self.generation)
                    if records:
                        tx.produce(records)
                    if offsets:
                        tx.commit_offsets(self.group, offsets)
            except FencedError as e:
                self._fenced(e)
                return False
            except RetriableError as e:
                self._aborted(e)
                return False
        else:
            try:
                if records:
                    self.backend.send(records)
            except RetriableError:
                self.collector.buffer[:0] = records  # sent again at the next commit
                raise
            self._unconfirmed.extend(records)
            self._confirm()  # outputs are written before the input offsets are committed
            if offsets:
                self.backend.commit_offsets(self.group, offsets)
            for owned in self.tasks.values():
                if owned.task.topology.changelogs:
                    owned.state.write_checkpoint(owned.task.topology.changelogs)
        for owned in self.tasks.values():
            owned.task.post_commit()
        self._checkpoint_standbys()
        self._last_commit = self.clock()
        if offsets and self._last_commit - self._last_purge >= PURGE_INTERVAL_MS:
            self._last_purge = self._last_commit
            self._purge(offsets)
        if self._last_commit - self._last_maintain >= MAINTAIN_INTERVAL_MS:
            self._last_maintain = self._last_commit
            self.backend.maintain(wall_ms())
        return True

    def _purge(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Delete repartition records below the committed offsets: they are consumed."""
        assert self.plan is not None
        internal = {t for g in self.plan.groups for t in g.topics.internal_sources}
        for (topic, partition), offset in offsets.items():
            if topic in internal:
                self.backend.delete_records(topic, partition, offset)

    # ---- group membership and tasks ---------------------------------------------------------
    def _heartbeat(self, force: bool = False) -> None:
        """Stay in the group; on a new generation, give up revoked tasks at once, and take
        new ones only when every member has given up its own (no task runs twice)."""
        now = self.clock()
        waiting = self.assigned and self._pending()
        if not force and not waiting and now - self._last_heartbeat < self.heartbeat_interval:
            return
        self._last_heartbeat = now
        m = self.backend.heartbeat(
            self.group, self.member_id, self.session_timeout, self.generation
        )
        if m.generation != self.generation:
            members = sorted(set(m.members) | {self.member_id})
            self.members = members
            self._publish_server()
            assert self.plan is not None
            mine, standby = assign(members, self.member_id, self.plan.max_partitions, self.replicas)
            log.info(
                "member %s: generation %s, %s members, partitions %s%s",
                self.member_id,
                m.generation,
                len(members),
                sorted(mine),
                f", standby {sorted(standby)}" if standby else "",
            )
            if not self._revoke(mine):
                return  # fenced: _fenced() has already rejoined the group
            self.generation = m.generation
            self.assigned = mine
            self.standby_assigned = standby
            self._standby_failed.clear()
            for tid in [t for t in self.standbys if t.partition not in standby | mine]:
                self._close_standby(tid)
            m = self.backend.heartbeat(
                self.group, self.member_id, self.session_timeout, self.generation
            )
        if m.synced and m.generation == self.generation and self._pending():
            for tid in self._pending():
                self._open_task(tid)

    def _publish_server(self) -> None:
        """Tell the other instances where this one answers queries (``application.server``),
        through ``<application.id>-instances``, and learn theirs."""
        server = str(self.config.get("application.server") or "")
        if not server:
            return  # no queries answered here: nothing to share (and no topic to create)
        topic = f"{self.application_id}-instances"
        try:
            self.backend.create_topic(topic, 1, {"cleanup.policy": "compact"}, exist_ok=True)
            self.backend.produce(
                [ProducerRecord(topic, self.member_id.encode(), server.encode(), wall_ms())]
            )
        except StromError as e:
            log.warning("could not share application.server: %s", e)
        self._learn_servers()

    def _learn_servers(self) -> None:
        """Read where every instance answers queries."""
        topic = f"{self.application_id}-instances"
        try:
            offset = self.backend.offsets(topic, 0)[0]
            while batch := self.backend.fetch(topic, 0, offset, 1000):
                for r in batch:
                    if r.key is not None:
                        self.servers[r.key.decode()] = (r.value or b"").decode()
                offset = batch[-1].offset + 1
        except StromError as e:  # no instance has shared one yet
            log.debug("no application.server known yet: %s", e)

    def _pending(self) -> list[TaskId]:
        """Tasks assigned to this member that it has not opened yet."""
        if self.plan is None:
            return []
        return [
            TaskId(g.id, p)
            for g in self.plan.groups
            for p in sorted(self.assigned)
            if p < g.partitions and TaskId(g.id, p) not in self.tasks
        ]

    def _revoke(self, keep: set[int]) -> bool:
        """Commit, then close the tasks not kept; False if the commit found this member
        fenced (then every task is already dropped and the member has rejoined)."""
        revoked = [t for t in self.tasks if t.partition not in keep]
        if not revoked:
            return True
        if not self.commit():
            return False
        for tid in revoked:
            self._close_task(tid, clean=True)
        return True

    def _new_task(self, tid: TaskId) -> tuple[StreamTask, StateManager]:
        task_dir = self.state_root / str(tid)
        state = StateManager(tid, task_dir, self.backend, self.eos)
        pt = self.topology.build(self.application_id, self.config, tid.subtopology)
        task = StreamTask(
            tid,
            pt,
            self.application_id,
            self.config,
            self.collector,
            self.clock,
            task_dir,
            self.global_task.stores if self.global_task is not None else None,
        )
        return task, state

    def _open_task(self, tid: TaskId) -> None:
        assert self.plan is not None
        standby = self.standbys.pop(tid, None)
        if standby is not None:  # promoted: its stores are open and nearly up to date
            self._standby_checkpointed.pop(tid, None)
            task, state = standby.task, standby.state
            state.activate()
            log.info("task %s: promoting its standby (%s records behind)", tid, standby.lag())
        else:
            task, state = self._new_task(tid)
            state.prepare(task.topology.changelogs)
        pt = task.topology
        self.restoring = {tid: state}  # the task being restored, for status pages
        try:
            if standby is None:
                task.init_stores()
            state.restore(task.context, pt.changelogs)
            task.init_processors()
            owned = _OwnedTask(task, state)
            inputs = [(t, tid.partition) for t in pt.sources]
            committed = self.backend.committed(self.group, inputs)
            reset_latest = self.config["auto.offset.reset"] == "latest"
            for tp in inputs:
                if tp in committed:
                    owned.next_offsets[tp] = committed[tp]
                else:
                    begin, end = self.backend.offsets(*tp)
                    owned.next_offsets[tp] = end if reset_latest else begin
        except BaseException:  # the log failed mid-way (say): release the stores, retry later
            try:
                task.close()  # nothing to flush: a task that never processed has no outputs
            except Exception as e:
                log.debug("task %s: closing after a failed start: %s", tid, e)
            raise
        self.tasks[tid] = owned
        log.info("task %s: started (restored %s records)", tid, state.restored)

    # ---- standby tasks --------------------------------------------------------------------
    def _pending_standbys(self) -> list[TaskId]:
        """Standby tasks assigned to this member and not open (stateful sub-topologies only)."""
        if self.plan is None:
            return []
        return [
            TaskId(g.id, p)
            for g in self.plan.groups
            if g.topics.changelogs
            for p in sorted(self.standby_assigned)
            if p < g.partitions
            and TaskId(g.id, p) not in self.standbys
            and TaskId(g.id, p) not in self.tasks
            and TaskId(g.id, p) not in self._standby_failed
        ]

    def _update_standbys(self, now: int) -> None:
        """Open assigned standbys, then apply what their changelogs got (every 100 ms)."""
        if now - self._last_standby_update < STANDBY_UPDATE_MS:
            return
        self._last_standby_update = now
        for tid in self._pending_standbys():
            task, state = self._new_task(tid)
            standby = StandbyTask(task, state)
            try:
                standby.open()
            except (StromError, OSError) as e:  # e.g. another instance shares the state.dir
                log.warning("task %s: cannot keep a standby copy here: %s", tid, e)
                self._standby_failed.add(tid)
                continue
            self.standbys[tid] = standby
            log.info("task %s: standby opened", tid)
        for standby in self.standbys.values():
            standby.update(STANDBY_BATCH)

    def _checkpoint_standbys(self) -> None:
        for tid, standby in self.standbys.items():
            applied = standby.state.applied
            if self._standby_checkpointed.get(tid) != applied:
                standby.checkpoint()
                self._standby_checkpointed[tid] = applied

    def _close_standby(self, tid: TaskId, clean: bool = True) -> None:
        standby = self.standbys.pop(tid)
        self._standby_checkpointed.pop(tid, None)
        standby.close(clean)
        log.info("task %s: standby closed", tid)

    # ---- interactive queries --------------------------------------------------------------
    def local_stores(self, name: str, stale: bool = False) -> list[Any]:
        """The store ``name`` of every task this instance runs now (plain values); with
        ``stale``, of its standby tasks too (Kafka's ``enableStaleStores``)."""
        if self.global_task is not None and name in self.global_task.stores:
            return [plain(self.global_task.stores[name])]
        tasks = [o.task for o in list(self.tasks.values())]
        if stale:
            tasks += [s.task for s in list(self.standbys.values())]
        return [plain(t.topology.stores[name]) for t in tasks if name in t.topology.stores]

    def store(self, name: str, stale: bool = False) -> Any:
        """A read-only view of store ``name`` across this instance's tasks (and standbys,
        with ``stale``)."""
        if name not in self.topology.stores:
            raise StoreError(
                f"no state store named {name!r}; stores: {sorted(self.topology.stores)}"
            )
        stores = self.local_stores(name, stale)
        sample = stores[0] if stores else self.topology.stores[name].builder.build()
        return view_for(name, sample, lambda: self.local_stores(name, stale))

    def key_metadata(self, store: str, key: Any) -> KeyQueryMetadata:
        """Which partition (and so which instance) holds ``key`` of ``store``."""
        assert self.plan is not None
        group = next(
            (
                g
                for g in self.plan.groups
                if store in g.topics.changelogs
                or any(
                    store in self.topology.nodes[n].stores
                    for n in self.topology.subtopologies()[g.id]
                )
            ),
            None,
        )
        if group is None:
            raise StoreError(f"no state store named {store!r} in any sub-topology")
        builder = self.topology.stores[store].builder
        serde = getattr(builder, "key_serde", None)
        if serde is None:
            from strom.topology.build import default_serdes

            serde = default_serdes(self.config)[0]
        data = serde.serialize(self.application_id, key) or b""
        partition = partition_for_key(data, group.partitions)
        members = self.members or [self.member_id]
        member, *standbys = owners(members, partition, self.replicas)
        if any(m not in self.servers for m in (member, *standbys)):
            self._learn_servers()  # they may have joined after this instance last read
        hosts = tuple(self.servers[m] for m in standbys if m in self.servers)
        return KeyQueryMetadata(self.servers.get(member), partition, member, hosts)

    def _fenced(self, error: FencedError) -> None:
        """This member lost its tasks (it was a zombie): drop their uncommitted work and
        state without committing, then join the group again."""
        log.warning("member %s: %s; closing its tasks and rejoining", self.member_id, error)
        for tid in list(self.tasks):
            self._close_task(tid, clean=False)
        self.collector.drain()  # the outputs of the failed transaction, and what closing added
        self.assigned = set()
        self.generation = -1
        self._last_commit = self.clock()
        self._heartbeat(force=True)

    def _aborted(self, error: RetriableError) -> None:
        """A commit under exactly_once_v2 failed for a transient reason: its transaction was
        aborted, so the tasks' stores hold updates no changelog has. Close them dirty (their
        state is rebuilt from the changelogs) and reopen them from the last commit."""
        log.warning(
            "member %s: the commit failed (%s); its tasks restart from the last commit",
            self.member_id,
            error,
        )
        for tid in list(self.tasks):
            self._close_task(tid, clean=False)
        self.collector.drain()
        self._last_commit = self.clock()

    def _close_task(self, tid: TaskId, clean: bool) -> None:
        owned = self.tasks.pop(tid)
        try:
            owned.task.close()
        finally:
            if clean and owned.task.topology.changelogs:
                owned.state.write_checkpoint(owned.task.topology.changelogs)
