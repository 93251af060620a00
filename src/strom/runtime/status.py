"""What a running instance is doing, for people (the web page) and monitors (Prometheus).

:func:`snapshot` reads a :class:`~strom.runtime.worker.StreamWorker` from any thread and returns
plain data (JSON-ready): per task its input partitions (committed offset, position, end offset,
lag), records processed and dropped, throughput, end-to-end latency, stores (entries, size on
disk) and restoration; per instance the group membership and commit timings.

The worker keeps cheap counters only (``task.metrics``, ``worker.processed``). What needs
history is kept here, beside the worker, by a :class:`Status` that :func:`install` attaches:

- commit count and latency: ``worker.commit`` is wrapped (an instance attribute, so the loop's
  ``self.commit()`` goes through it) by a timer;
- throughput: samples of each task's ``process_total`` over the last :data:`WINDOW_S` seconds,
  taken at every commit and every :func:`sample` / :func:`snapshot`;
- end-to-end latency (Kafka's ``record-e2e-latency``): wall-clock time minus the timestamp of
  the last record a task processed, taken when a sample sees that the task processed records
  since the previous sample (so an idle task keeps its last value instead of growing).

Reads race with the worker thread by design (no locks on the hot path): numbers are a
moment's view, and a store or offset that cannot be read right now shows as ``None``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from strom.core.types import TaskId

log = logging.getLogger("strom.status")

#: Throughput is averaged over this many seconds of samples.
WINDOW_S = 10.0
#: Commit latencies kept for the quantiles.
LATENCY_SAMPLES = 256
#: How long a store's size on disk is cached (walking a RocksDB directory costs syscalls).
DISK_TTL_S = 5.0
#: How long offsets read from the log are reused (a page and a scraper may ask at once).
OFFSETS_TTL_S = 0.5


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


class _TaskSamples:
    __slots__ = ("e2e_ms", "last_total", "samples")

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque(maxlen=1024)
        self.last_total = -1
        self.e2e_ms: int | None = None

    def add(self, now: float, total: int) -> None:
        s = self.samples
        if s and total < s[-1][1]:  # the task was reopened: its counters restarted
            s.clear()
        s.append((now, total))
        while len(s) > 2 and now - s[1][0] >= WINDOW_S:
            s.popleft()

    def rate(self) -> float:
        s = self.samples
        if len(s) < 2:
            return 0.0
        (t0, n0), (t1, n1) = s[0], s[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


class Status:
    """Commit timings and samples of one worker (see the module doc)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.commits = 0
        self.commit_failures = 0
        self.commit_seconds_total = 0.0
        self.commit_last_s: float | None = None
        self.commit_max_s = 0.0
        self.last_commit_ms: int | None = None
        self.latencies: deque[float] = deque(maxlen=LATENCY_SAMPLES)
        self.tasks: dict[TaskId, _TaskSamples] = {}
        self.instance = _TaskSamples()
        self._disk: dict[Path, tuple[float, int | None]] = {}
        self._reads: dict[Any, tuple[float, Any]] = {}

    # ---- commit timer --------------------------------------------------------------------
    def record_commit(self, seconds: float, ok: bool) -> None:
        with self.lock:
            self.commits += 1
            if not ok:
                self.commit_failures += 1
            self.commit_seconds_total += seconds
            self.commit_last_s = seconds
            self.commit_max_s = max(self.commit_max_s, seconds)
            self.latencies.append(seconds)
            self.last_commit_ms = _wall_ms()

    def commit_stats(self) -> dict[str, Any]:
        with self.lock:
            lat = sorted(self.latencies)
            n = self.commits

            def q(p: float) -> float | None:
                return lat[min(len(lat) - 1, int(p * len(lat)))] if lat else None

            return {
                "count": n,
                "failures": self.commit_failures,
                "seconds_total": self.commit_seconds_total,
                "last_latency_s": self.commit_last_s,
                "avg_latency_s": self.commit_seconds_total / n if n else None,
                "max_latency_s": self.commit_max_s if n else None,
                "quantiles_s": {"0.5": q(0.5), "0.9": q(0.9), "0.99": q(0.99)},
                "last_commit_ms": self.last_commit_ms,
            }

    # ---- samples -------------------------------------------------------------------------
    def sample(self, worker: Any) -> None:
        """Throughput and end-to-end latency samples of every task the worker runs now."""
        now, wall = time.monotonic(), _wall_ms()
        owned = _owned(worker)
        with self.lock:
            for tid, o in owned:
                task = o.task
                total = task.metrics.process_total
                ts = self.tasks.get(tid)
                if ts is None:
                    ts = self.tasks[tid] = _TaskSamples()
                ts.add(now, total)
                if total != ts.last_total:
                    if ts.last_total >= 0 or total > 0:
                        ts.e2e_ms = max(0, wall - int(task.context.timestamp))
                    ts.last_total = total
            for tid in set(self.tasks) - {tid for tid, _ in owned}:
                del self.tasks[tid]
            self.instance.add(now, int(worker.processed))

    def task_samples(self, tid: TaskId) -> tuple[float, int | None]:
        with self.lock:
            ts = self.tasks.get(tid)
            return (ts.rate(), ts.e2e_ms) if ts is not None else (0.0, None)

    def cached(self, key: Any, read: Callable[[], Any]) -> Any:
        """``read()``, reused for :data:`OFFSETS_TTL_S` (on Kafka each read is a request)."""
        now = time.monotonic()
        hit = self._reads.get(key)
        if hit is not None and now - hit[0] < OFFSETS_TTL_S:
            return hit[1]
        value = read()
        if len(self._reads) > 10_000:
            self._reads.clear()
        self._reads[key] = (now, value)
        return value

    def disk_bytes(self, path: Path) -> int | None:
        now = time.monotonic()
        cached = self._disk.get(path)
        if cached is not None and now - cached[0] < DISK_TTL_S:
            return cached[1]
        size = _du(path)
        self._disk[path] = (now, size)
        return size


_STATUS: weakref.WeakKeyDictionary[Any, Status] = weakref.WeakKeyDictionary()
_INSTALL = threading.Lock()


def install(worker: Any) -> Status:
    """The :class:`Status` of ``worker``, attaching it (and the commit timer) on first use."""
    with _INSTALL:
        status = _STATUS.get(worker)
        if status is not None:
            return status
        status = _STATUS[worker] = Status()
        worker.commit = _timed_commit(worker.commit, status, worker)
        return status


def _timed_commit(commit: Callable[[], Any], status: Status, worker: Any) -> Callable[[], Any]:
    ref = weakref.ref(worker)

    def timed_commit() -> Any:
        start = time.perf_counter()
        ok = False
        try:
            result = commit()  # False: the worker was fenced
            ok = result is not False
            return result
        finally:
            status.record_commit(time.perf_counter() - start, ok)
            w = ref()
            if w is not None:
                try:
                    status.sample(w)
                except Exception as e:  # never let monitoring break a commit
                    log.debug("status sample failed: %s", e)

    timed_commit.__wrapped__ = commit  # type: ignore[attr-defined]
    return timed_commit


def sample(worker: Any) -> None:
    """Take a throughput/latency sample now (the web server does, every second)."""
    install(worker).sample(worker)


# ---- the snapshot ------------------------------------------------------------------------------
def snapshot(worker: Any) -> dict[str, Any]:
    """The status of ``worker`` as plain data (see the module doc for what each part means)."""
    status = install(worker)
    status.sample(worker)
    owned = _owned(worker)
    tasks = [_task(worker, status, tid, o) for tid, o in sorted(owned)]
    pending = _pending(worker, {tid for tid, _ in owned})
    commits = status.commit_stats()
    e2e = [t["e2e_latency_ms"] for t in tasks if t["e2e_latency_ms"] is not None]
    if worker.stopping:
        state = "stopping"
    elif not worker.started:
        state = "starting"
    elif pending or worker.generation < 0:
        state = "rebalancing"
    else:
        state = "running"
    with status.lock:
        throughput = status.instance.rate()
    return {
        "application_id": worker.application_id,
        "application_server": str(worker.config.get("application.server") or "") or None,
        "member_id": worker.member_id,
        "generation": worker.generation,
        "members": list(worker.members),
        "servers": dict(worker.servers),
        "state": state,
        "time_ms": _wall_ms(),
        "processed": int(worker.processed),
        "throughput": throughput,
        "lag": sum(t["lag"] or 0 for t in tasks),
        "e2e_latency_ms": max(e2e) if e2e else None,
        "commits": commits,
        "tasks": tasks,
        "pending_tasks": pending,
        "standby_tasks": _standbys(worker),
        "global_stores": _global_stores(worker, status),
    }


def _standbys(worker: Any) -> list[dict[str, Any]]:
    """Standby copies kept here: how many changelog records each applied and lags behind."""
    out = []
    for tid, standby in sorted(dict(getattr(worker, "standbys", {})).items()):
        try:
            lag: int | None = standby.lag()
        except Exception:  # the log is unreachable right now
            lag = None
        out.append({"id": str(tid), "applied": standby.state.applied, "lag": lag})
    return out


def _owned(worker: Any) -> list[tuple[TaskId, Any]]:
    for _ in range(5):
        try:
            return list(worker.tasks.items())
        except RuntimeError:  # resized by the worker thread while copying
            continue
    return []


def _task(worker: Any, status: Status, tid: TaskId, owned: Any) -> dict[str, Any]:
    task, metrics = owned.task, owned.task.metrics
    rate, e2e = status.task_samples(tid)
    partitions = _partitions(worker, status, owned)
    lags = [p["lag"] for p in partitions if p["lag"] is not None]
    return {
        "id": str(tid),
        "subtopology": tid.subtopology,
        "partition": tid.partition,
        "partitions": partitions,
        "lag": sum(lags) if lags else None,
        "processed": metrics.process_total,
        "punctuations": metrics.punctuate_total,
        "dropped": metrics.dropped_records,
        "skipped_deserialization": metrics.skipped_deserialization,
        "throughput": rate,
        "e2e_latency_ms": e2e,
        "stream_time": task.context.stream_time,
        "stores": [
            _store(status, name, store, worker.state_root / str(tid))
            for name, store in list(task.topology.stores.items())
        ],
        "restoration": {
            "state": "done",
            "restored": owned.state.restored,
            "total": owned.state.restored,
            "progress": 1.0,
        },
    }


def _partitions(worker: Any, status: Status, owned: Any) -> list[dict[str, Any]]:
    positions = dict(owned.next_offsets)
    backend = worker.backend
    try:
        tps = sorted(positions)
        committed = status.cached(("committed", *tps), lambda: backend.committed(worker.group, tps))
    except Exception as e:
        log.debug("committed offsets unavailable: %s", e)
        committed = {}
    out = []
    for tp in sorted(positions):
        position = positions[tp]
        processed = position - owned.task.queued(tp)  # the next offset to process
        try:
            begin, end = status.cached(("offsets", tp), lambda tp=tp: backend.offsets(*tp))
        except Exception as e:
            log.debug("offsets of %s unavailable: %s", tp, e)
            begin = end = None
        out.append(
            {
                "topic": tp[0],
                "partition": tp[1],
                "committed": committed.get(tp),
                "position": position,
                "processed": processed,
                "begin": begin,
                "end": end,
                "lag": max(0, end - processed) if end is not None else None,
            }
        )
    return out


def _store(status: Status, name: str, store: Any, task_dir: Path | None) -> dict[str, Any]:
    if getattr(store, "is_window_store", False):
        kind = "window"
    elif getattr(store, "is_session_store", False):
        kind = "session"
    else:
        kind = "key-value"
    try:
        persistent = bool(store.persistent)
    except Exception:
        persistent = False
    entries = None
    count = getattr(store, "approximate_num_entries", None)
    if count is not None:
        try:
            entries = int(count())
        except Exception as e:  # closed while reading, or not countable
            log.debug("store %s: no entry count: %s", name, e)
    disk = None
    if persistent and task_dir is not None:
        disk = status.disk_bytes(task_dir / "rocksdb" / name)
    return {
        "name": name,
        "type": kind,
        "persistent": persistent,
        "entries": entries,
        "disk_bytes": disk,
    }


def _pending(worker: Any, opened: set[TaskId]) -> list[dict[str, Any]]:
    """Tasks assigned to this instance and not open yet: they are restoring (a task opens,
    restores, then runs, all in the worker thread) or waiting for the group to settle."""
    plan = worker.plan
    if plan is None:
        return []
    restoring = getattr(worker, "restoring", None) or {}  # see _restoration
    out = []
    for g in plan.groups:
        for p in sorted(worker.assigned):
            tid = TaskId(g.id, p)
            if p >= g.partitions or tid in opened:
                continue
            out.append(
                {
                    "id": str(tid),
                    "subtopology": g.id,
                    "partition": p,
                    "restoration": _restoration(worker, g.topics.changelogs, p, restoring.get(tid)),
                }
            )
    return out


def _restoration(
    worker: Any, changelogs: dict[str, str], partition: int, state: Any
) -> dict[str, Any]:
    """Progress of a task that is not open yet: ``total`` is what its changelog partitions hold
    (an upper bound: a checkpoint skips what local state already has). ``restored`` is known
    only if the worker exposes the task's StateManager as ``worker.restoring[task_id]`` while
    it restores, and the StateManager updates ``restored`` per batch (hooks, see the report)."""
    total = 0
    for topic in set(changelogs.values()):
        try:
            begin, end = worker.backend.offsets(topic, partition)
            total += end - begin
        except Exception:
            pass
    restored = getattr(state, "restored", None)
    progress = None
    if restored is not None:
        progress = min(1.0, restored / total) if total else 1.0
    return {
        "state": "restoring" if state is not None else "pending",
        "restored": restored,
        "total": total,
        "progress": progress,
    }


def _global_stores(worker: Any, status: Status) -> list[dict[str, Any]]:
    g = worker.global_task
    if g is None:
        return []
    return [
        _store(status, name, store, worker.state_root / "global")
        for name, store in list(g.stores.items())
    ]


def _du(path: Path) -> int | None:
    """Bytes under ``path`` (None if it does not exist)."""
    if not path.exists():
        return None
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            try:
                total += os.stat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total
