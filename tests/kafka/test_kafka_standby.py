"""Standby replicas on a real Kafka broker: the scenarios of tests/standby_scenarios.py."""

from __future__ import annotations

from standby_scenarios import (
    checkpoint_lets_a_restart_skip_the_changelog,
    promoted_when_the_owner_leaves,
)


def test_standby_is_promoted_when_the_owner_leaves(kafka_url, tmp_path):
    promoted_when_the_owner_leaves(kafka_url, tmp_path, "rocksDB", unique=True)


def test_a_standby_checkpoint_lets_a_restart_skip_the_changelog(kafka_url, tmp_path):
    checkpoint_lets_a_restart_skip_the_changelog(kafka_url, tmp_path, unique=True)
