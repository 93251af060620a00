"""Crashes under exactly_once_v2 on local://: kill -9 mid-stream, restart, exact results;
two workers share partitions and one dies; a worker added under load.

The scenarios (tests/crash_scenarios.py) run on a real Kafka broker too (tests/kafka).
"""

from __future__ import annotations

import pytest

from crash_scenarios import (
    WordCount,
    kill_9_then_restart,
    one_of_two_killed,
    worker_added_under_load,
)


@pytest.mark.parametrize("store", ["rocksDB", "in_memory"])
def test_kill_9_mid_stream_then_restart_is_exactly_once(tmp_path, store):
    kill_9_then_restart(WordCount(f"local://{tmp_path / 'log'}", tmp_path, store=store))


@pytest.mark.parametrize("standbys", [0, 1])
def test_two_workers_share_partitions_and_one_takes_over(tmp_path, standbys):
    broker = f"local://{tmp_path / 'log'}"
    one_of_two_killed(WordCount(broker, tmp_path, partitions=4, standbys=standbys))


def test_worker_added_under_load_is_exactly_once(tmp_path):
    worker_added_under_load(WordCount(f"local://{tmp_path / 'log'}", tmp_path, partitions=4))
