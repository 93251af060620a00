"""local:// is durable: it survives reopening, concurrent writer processes and kill -9."""

from __future__ import annotations

import collections
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from strom.backends import LocalBackend, ProducerRecord

BATCH = 400

# A child process: produce (or transact) numbered batches, acknowledging each on stdout.
CHILD = """
import sys
from strom.backends import LocalBackend, ProducerRecord
url, mode, first, count, topic = sys.argv[1:6]
first, count, BATCH = int(first), int(count), int(sys.argv[6])
log = LocalBackend(url)
log.create_topic(topic, partitions=3, exist_ok=True)
for b in range(first, first + count):
    batch = [ProducerRecord(topic, b"%d-%d" % (b, i), b"%d:%d" % (b, i), b) for i in range(BATCH)]
    if mode == "txn":
        with log.transaction() as txn:
            txn.produce(batch)
            txn.commit_offsets("app", {("src", 0): b + 1})
    else:
        log.produce(batch)
    print(b, flush=True)
log.close()
"""


def child(url: str, mode: str, first: int, count: int, topic: str = "t") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, url, mode, str(first), str(count), topic, str(BATCH)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def batches_in(log: LocalBackend, topic: str) -> dict[int, int]:
    """Records per batch number, checking offsets are dense and unique per partition."""
    counts: collections.Counter[int] = collections.Counter()
    for p in range(log.list_topics()[topic].partitions):
        offsets = []
        offset = 0
        while chunk := log.fetch(topic, p, offset, 5000):
            offsets += [r.offset for r in chunk]
            counts.update(int(r.value.split(b":")[0]) for r in chunk)  # type: ignore[union-attr]
            offset = chunk[-1].offset + 1
        assert offsets == list(range(len(offsets))), f"partition {p} offsets not dense"
        assert log.offsets(topic, p) == (0, len(offsets))
    return dict(counts)


def integrity(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_data_survives_closing_and_reopening(tmp_path: Path) -> None:
    url = f"local://{tmp_path}"
    with LocalBackend(url) as log:
        log.create_topic("t", partitions=2, config={"cleanup.policy": "compact"})
        log.produce([ProducerRecord("t", b"k", b"v", 7, (("h", b"1"),), partition=1)])
        log.commit_offsets("g", {("t", 1): 1})
        log.heartbeat("g", "m", 60_000)
    with LocalBackend(url) as log:
        assert log.list_topics()["t"].config == {"cleanup.policy": "compact"}
        [r] = log.fetch("t", 1, 0)
        assert (r.key, r.value, r.timestamp, r.headers) == (b"k", b"v", 7, (("h", b"1"),))
        assert log.committed("g", [("t", 1)]) == {("t", 1): 1}
        assert log.heartbeat("g", "m", 60_000).members == ("m",)
        assert log.produce([ProducerRecord("t", b"k", b"w", 8, partition=1)]) == [(1, 1)]
    assert integrity(tmp_path / "log.db") == "ok"


def test_two_processes_producing_concurrently_lose_nothing(tmp_path: Path) -> None:
    url = f"local://{tmp_path / 'fresh'}"  # both also race to create the log and the topic
    procs = [child(url, "produce", first, 25) for first in (0, 1000)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert len(out.split()) == 25
    with LocalBackend(url) as log:
        counts = batches_in(log, "t")
    assert counts == {b: BATCH for b in [*range(25), *range(1000, 1025)]}


def run_and_kill(url: str, mode: str, first: int, rng: random.Random) -> list[int]:
    """Start a child, let it acknowledge a few batches, kill -9 it; return the acked batches."""
    proc = child(url, mode, first, 100_000)
    assert proc.stdout is not None
    acked = []
    wanted = rng.randint(3, 12)
    while len(acked) < wanted:
        line = proc.stdout.readline()
        assert line, f"child died early: {proc.stderr.read() if proc.stderr else ''}"
        acked.append(int(line))
    time.sleep(rng.uniform(0.0, 0.012))  # land anywhere in the next batch (~5-10 ms)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    acked += [int(line) for line in proc.stdout.read().split()]  # acks already in the pipe
    proc.stdout.close()
    proc.stderr.close()  # type: ignore[union-attr]
    return acked


@pytest.mark.parametrize("mode", ["produce", "txn"])
def test_kill_9_mid_produce_loses_no_acknowledged_batch_and_tears_none(
    tmp_path: Path, mode: str
) -> None:
    url = f"local://{tmp_path}"
    with LocalBackend(url) as log:
        log.create_topic("t", partitions=3)
        log.create_topic("src")
    rng = random.Random(mode)
    acked: set[int] = set()
    for round_ in range(3):
        acked.update(run_and_kill(url, mode, round_ * 100_000, rng))
        assert integrity(tmp_path / "log.db") == "ok"
        with LocalBackend(url) as log:
            counts = batches_in(log, "t")
            committed = log.committed("app", [("src", 0)])
        torn = {b: n for b, n in counts.items() if n != BATCH}
        assert not torn, f"partial batches visible: {torn}"
        assert acked <= counts.keys(), f"acknowledged but lost: {acked - counts.keys()}"
        unacked = counts.keys() - acked
        assert len(unacked) <= round_ + 1  # at most the one in flight at each kill
        if mode == "txn":  # offsets committed atomically with the batch they follow
            assert committed == {("src", 0): max(counts) + 1}
