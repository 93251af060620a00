"""The runtime on a real Apache Kafka broker: word count over 3 partitions with 2 instances
(separate processes) under exactly_once_v2 gives exact counts, each update once."""

from __future__ import annotations

import collections
import signal
import subprocess
import sys
import time
from pathlib import Path

import strom
from strom import serdes

S, L = serdes.String(), serdes.Long()
APP = Path(__file__).resolve().parents[1] / "runtime" / "crash_app.py"
WORDS = [f"w{i}" for i in range(20)]


def lines(n: int) -> list[str]:
    return [" ".join(WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(5)) for i in range(n)]


def updates(client: strom.Client) -> dict[str, list[int]]:
    out: dict[str, list[int]] = collections.defaultdict(list)
    for r in client.read("counts-out", S, L):
        out[r.key].append(r.value)
    return out


def test_word_count_with_two_instances_over_three_partitions(kafka_url, tmp_path):
    data = lines(600)
    expected = collections.Counter(w for line in data for w in line.split())
    with strom.Client(kafka_url) as client:
        client.create_topic("lines", partitions=3)
        client.create_topic("counts-out", partitions=3)
        workers = [
            subprocess.Popen(
                [sys.executable, str(APP), kafka_url, str(tmp_path / name), "rocksDB", "6000"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("a", "b")
        ]
        try:
            for w in workers:
                assert w.stdout.readline().strip() == "ready"
            for i, line in enumerate(data):
                client.produce(
                    "lines", line, key=str(i), key_serde=S, value_serde=S, timestamp=1_000 + i
                )
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if {k: v[-1] for k, v in updates(client).items()} == dict(expected):
                    break
                for w in workers:
                    assert w.poll() is None, w.stderr.read()
                time.sleep(0.5)
        finally:
            for w in workers:
                if w.poll() is None:
                    w.send_signal(signal.SIGTERM)
            for w in workers:
                try:
                    w.wait(30)
                except subprocess.TimeoutExpired:
                    w.kill()
                    w.wait()
        ups = updates(client)
    assert {k: v[-1] for k, v in ups.items()} == dict(expected)
    for word, values in ups.items():
        assert values == sorted(set(values)), f"{word}: an update appears twice: {values}"
    assert all(w.returncode == 0 for w in workers)
    # both instances ran tasks
    assert all(any((tmp_path / name / "crash").iterdir()) for name in ("a", "b"))
