"""The status snapshot in Prometheus' text exposition format (version 0.0.4).

Every sample carries an ``application`` label (the application.id). Names follow Prometheus'
conventions: counters end in ``_total``, durations are in seconds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _escape(value: Any) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float | int) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class _Family:
    def __init__(self, name: str, kind: str, help: str) -> None:
        self.name, self.kind, self.help = name, kind, help
        self.samples: list[tuple[str, dict[str, Any], float | int]] = []

    def add(self, value: float | int | None, suffix: str = "", **labels: Any) -> None:
        if value is not None:
            self.samples.append((self.name + suffix, labels, value))

    def lines(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        for name, labels, value in self.samples:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            yield f"{name}{{{text}}} {_number(value)}"


def render(snap: dict[str, Any] | None, application_id: str) -> str:
    """The exposition text of a :func:`strom.runtime.status.snapshot` (None: not running).

    >>> print(render(None, "wordcount"))
    # HELP strom_up 1 while the application runs on this instance
    # TYPE strom_up gauge
    strom_up{application="wordcount"} 0
    <BLANKLINE>
    """
    app = {"application": application_id}
    up = _Family("strom_up", "gauge", "1 while the application runs on this instance")
    up.add(1 if snap is not None else 0, **app)
    if snap is None:
        return "\n".join(up.lines()) + "\n"
    fams = {
        name: _Family(name, kind, help)
        for name, kind, help in (
            ("strom_records_processed_total", "counter", "Records processed, per task"),
            ("strom_dropped_records_total", "counter", "Records dropped (late, invalid), per task"),
            (
                "strom_skipped_records_total",
                "counter",
                "Records skipped by the deserialization exception handler, per task",
            ),
            ("strom_punctuations_total", "counter", "Punctuations run, per task"),
            ("strom_throughput_records_per_second", "gauge", "Records per second, per task"),
            (
                "strom_consumer_lag",
                "gauge",
                "Records of an input partition not processed yet (end offset - next to process)",
            ),
            ("strom_committed_offset", "gauge", "Committed offset of an input partition"),
            ("strom_end_offset", "gauge", "End offset of an input partition"),
            (
                "strom_e2e_latency_seconds",
                "gauge",
                "Wall-clock time minus the timestamp of the last record processed, per task",
            ),
            ("strom_commit_latency_seconds", "summary", "Time to commit (flush, write, offsets)"),
            ("strom_commit_failures_total", "counter", "Commits that raised an error"),
            ("strom_state_store_entries", "gauge", "Approximate entries of a state store"),
            ("strom_state_store_disk_bytes", "gauge", "Bytes on disk of a persistent store"),
            ("strom_restored_records_total", "counter", "Changelog records restored, per task"),
            ("strom_restoring_tasks", "gauge", "Tasks assigned here and not running yet"),
            ("strom_tasks", "gauge", "Tasks running on this instance"),
            ("strom_standby_tasks", "gauge", "Standby copies of tasks kept on this instance"),
            ("strom_standby_lag", "gauge", "Changelog records a standby has not applied yet"),
            ("strom_group_members", "gauge", "Members of the application's group"),
            ("strom_group_generation", "gauge", "Generation of the application's group"),
        )
    }

    def add(name: str, value: Any, suffix: str = "", **labels: Any) -> None:
        fams[name].add(value, suffix, **app, **labels)

    for t in snap["tasks"]:
        task = t["id"]
        add("strom_records_processed_total", t["processed"], task=task)
        add("strom_dropped_records_total", t["dropped"], task=task)
        add("strom_skipped_records_total", t["skipped_deserialization"], task=task)
        add("strom_punctuations_total", t["punctuations"], task=task)
        add("strom_throughput_records_per_second", t["throughput"], task=task)
        e2e = t["e2e_latency_ms"]
        add("strom_e2e_latency_seconds", None if e2e is None else e2e / 1000, task=task)
        add("strom_restored_records_total", t["restoration"]["restored"], task=task)
        for p in t["partitions"]:
            where = {"topic": p["topic"], "partition": p["partition"]}
            add("strom_consumer_lag", p["lag"], **where)
            add("strom_committed_offset", p["committed"], **where)
            add("strom_end_offset", p["end"], **where)
        for s in t["stores"]:
            add("strom_state_store_entries", s["entries"], store=s["name"], task=task)
            add("strom_state_store_disk_bytes", s["disk_bytes"], store=s["name"], task=task)
    for s in snap["global_stores"]:
        add("strom_state_store_entries", s["entries"], store=s["name"], task="global")
        add("strom_state_store_disk_bytes", s["disk_bytes"], store=s["name"], task="global")
    commits = snap["commits"]
    for q, value in commits["quantiles_s"].items():
        add("strom_commit_latency_seconds", value, quantile=q)
    add("strom_commit_latency_seconds", commits["seconds_total"], "_sum")
    add("strom_commit_latency_seconds", commits["count"], "_count")
    add("strom_commit_failures_total", commits["failures"])
    add("strom_restoring_tasks", len(snap["pending_tasks"]))
    add("strom_tasks", len(snap["tasks"]))
    add("strom_standby_tasks", len(snap.get("standby_tasks", [])))
    for sb in snap.get("standby_tasks", []):
        add("strom_standby_lag", sb["lag"], task=sb["id"])
    add("strom_group_members", len(snap["members"]))
    add("strom_group_generation", snap["generation"])
    lines = list(up.lines())
    for fam in fams.values():
        lines += fam.lines()
    return "\n".join(lines) + "\n"
