"""Crashes under exactly_once_v2 on local://: kill -9 mid-stream, restart, exact results;
two workers share partitions and one dies."""

from __future__ import annotations

import collections
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import strom
from strom import serdes

S, L = serdes.String(), serdes.Long()
APP = Path(__file__).with_name("crash_app.py")
WORDS = [f"w{i}" for i in range(20)]


def lines(n: int, seed: int) -> list[str]:
    return [
        " ".join(WORDS[(i * 7 + j * 3 + seed) % len(WORDS)] for j in range(5)) for i in range(n)
    ]


def start_worker(broker: str, state: Path, store: str = "rocksDB") -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(APP), broker, str(state), store],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def updates(client: strom.Client) -> dict[str, list[int]]:
    out: dict[str, list[int]] = collections.defaultdict(list)
    for r in client.read("counts-out", S, L):
        out[r.key].append(r.value)
    return out


def wait_for(predicate, timeout=60.0, procs=()):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for p in procs:
            if p.poll() is not None:
                raise AssertionError(f"worker exited {p.returncode}: {p.stderr.read()}")
        time.sleep(0.05)
    raise AssertionError("timed out")


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM: the worker commits, writes checkpoints, leaves the group and exits 0."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("the worker did not stop on SIGTERM") from None
        assert proc.returncode == 0, proc.stderr.read()


def assert_exactly_once(client: strom.Client, expected: collections.Counter) -> None:
    ups = updates(client)
    assert {k: v[-1] for k, v in ups.items()} == dict(expected)
    for word, values in ups.items():
        assert values == sorted(set(values)), f"{word}: an update appears twice: {values}"


@pytest.mark.parametrize("store", ["rocksDB", "in_memory"])
def test_kill_9_mid_stream_then_restart_is_exactly_once(tmp_path, store):
    broker = f"local://{tmp_path / 'log'}"
    data = lines(4000, 1)
    expected = collections.Counter(w for line in data for w in line.split())
    with strom.Client(broker) as client:
        client.create_topic("lines", partitions=2)
        client.create_topic("counts-out", partitions=2)
        for i, line in enumerate(data):
            client.produce("lines", line, key=str(i), key_serde=S, value_serde=S, timestamp=i)
        worker = start_worker(broker, tmp_path / "state", store)
        try:
            wait_for(lambda: sum(len(v) for v in updates(client).values()) > 40, procs=[worker])
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait()
            assert {k: v[-1] for k, v in updates(client).items()} != dict(expected), (
                "the worker finished before it was killed; the test proves nothing"
            )
            worker = start_worker(broker, tmp_path / "state", store)
            wait_for(
                lambda: {k: v[-1] for k, v in updates(client).items()} == dict(expected),
                procs=[worker],
            )
        finally:
            stop(worker)
        assert_exactly_once(client, expected)


def test_two_workers_share_partitions_and_one_takes_over(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    first, second = lines(2000, 2), lines(2000, 3)
    expected = collections.Counter(w for line in first + second for w in line.split())
    with strom.Client(broker) as client:
        client.create_topic("lines", partitions=4)
        client.create_topic("counts-out", partitions=4)
        a = start_worker(broker, tmp_path / "a")
        b = start_worker(broker, tmp_path / "b")
        try:
            for p in (a, b):
                assert p.stdout.readline().strip() == "ready"
            time.sleep(1.5)  # both have joined
            for i, line in enumerate(first):
                client.produce("lines", line, key=str(i), key_serde=S, value_serde=S, timestamp=i)
            wait_for(lambda: sum(len(v) for v in updates(client).values()) > 20, procs=[a, b])
            os.kill(b.pid, signal.SIGKILL)
            b.wait()
            for i, line in enumerate(second):
                client.produce(
                    "lines", line, key=f"x{i}", key_serde=S, value_serde=S, timestamp=10_000 + i
                )
            wait_for(
                lambda: {k: v[-1] for k, v in updates(client).items()} == dict(expected), procs=[a]
            )
        finally:
            stop(a)
            stop(b)
        assert_exactly_once(client, expected)


def test_worker_added_under_load_is_exactly_once(tmp_path):
    """A second worker joins while the first is busy: the first gives up half the partitions
    (committing first), the second starts them only after that: no update is lost or doubled."""
    broker = f"local://{tmp_path / 'log'}"
    data = lines(6000, 4)
    expected = collections.Counter(w for line in data for w in line.split())
    with strom.Client(broker) as client:
        client.create_topic("lines", partitions=4)
        client.create_topic("counts-out", partitions=4)
        for i, line in enumerate(data[:3000]):
            client.produce("lines", line, key=str(i), key_serde=S, value_serde=S, timestamp=i)
        a = start_worker(broker, tmp_path / "a")
        b = None
        try:
            wait_for(lambda: sum(len(v) for v in updates(client).values()) > 20, procs=[a])
            b = start_worker(broker, tmp_path / "b")
            for i, line in enumerate(data[3000:], 3000):
                client.produce("lines", line, key=str(i), key_serde=S, value_serde=S, timestamp=i)
            wait_for(
                lambda: {k: v[-1] for k, v in updates(client).items()} == dict(expected),
                procs=[a, b],
            )
        finally:
            stop(a)
            if b is not None:
                stop(b)
        assert_exactly_once(client, expected)
    # b ran tasks (it also takes a's partitions over when a stops first, at the end)
    assert sorted(p.name for p in (tmp_path / "b" / "crash").iterdir())
