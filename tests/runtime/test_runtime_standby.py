"""Standby replicas (``num.standby.replicas``): where they go, how they follow the active task,
how a failover promotes them, and stale interactive queries over them."""

from __future__ import annotations

import pytest

from standby_scenarios import (
    checkpoint_lets_a_restart_skip_the_changelog,
    promoted_when_the_owner_leaves,
)
from strom.runtime.assignment import assign, owners


# ---- placement ---------------------------------------------------------------------------------
@pytest.mark.parametrize("n", [1, 2, 3, 5])
@pytest.mark.parametrize("replicas", [0, 1, 2])
def test_actives_are_balanced_and_standbys_sit_elsewhere(n, replicas):
    members = [f"m{i}" for i in range(n)]
    partitions = 12
    plans = {m: assign(members, m, partitions, replicas) for m in members}
    actives = [p for m in members for p in plans[m][0]]
    assert sorted(actives) == list(range(partitions))  # each partition active exactly once
    sizes = [len(plans[m][0]) for m in members]
    assert max(sizes) - min(sizes) <= 1
    for p in range(partitions):
        holders = [m for m in members if p in plans[m][1]]
        assert len(holders) == min(replicas, n - 1)
        owner = next(m for m in members if p in plans[m][0])
        assert owner not in holders
        chain = owners(members, p, replicas)
        assert chain[0] == owner and sorted(chain[1:]) == holders


@pytest.mark.parametrize("n", [2, 3, 4, 6])
def test_a_failed_owner_s_partitions_go_to_its_first_standby(n):
    members = [f"m{i}" for i in range(n)]
    for p in range(20):
        owner, standby = owners(members, p, replicas=1)
        survivors = [m for m in members if m != owner]
        assert owners(survivors, p)[0] == standby


def test_owners_example():
    assert owners(["a", "b", "c"], 4, replicas=1) == ["b", "a"]
    assert owners(["a"], 3, replicas=2) == ["a"]


# ---- end to end on local:// (the same scenarios run on Kafka: tests/kafka) --------------------
@pytest.mark.parametrize("store", ["in_memory", "rocksDB"])
def test_standby_follows_and_is_promoted_when_the_owner_leaves(tmp_path, store):
    promoted_when_the_owner_leaves(f"local://{tmp_path / 'log'}", tmp_path, store)


def test_a_standby_checkpoint_lets_a_restart_skip_the_changelog(tmp_path):
    checkpoint_lets_a_restart_skip_the_changelog(f"local://{tmp_path / 'log'}", tmp_path)
