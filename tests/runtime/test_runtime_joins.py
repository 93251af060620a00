"""Joins on the runtime: co-partitioning checked at start; global tables loaded first."""

from __future__ import annotations

import itertools
import time

import pytest

import strom
from strom import serdes
from strom.core.errors import TopologyError

S = serdes.String()
_names = itertools.count()


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting")


def test_joining_topics_with_different_partition_counts_fails_at_start(tmp_path):
    broker = f"memory://joins-{next(_names)}"
    with strom.Client(broker) as client:
        client.create_topic("clicks", partitions=3)
        client.create_topic("users", partitions=2)
        client.create_topic("out", partitions=3)
        app = strom.App("cp", broker=broker, state_dir=str(tmp_path))
        users = app.table("users", key_serde=S, value_serde=S)
        app.stream("clicks", key_serde=S, value_serde=S).join(users, lambda c, u: c).to("out")
        with pytest.raises(TopologyError, match=r"clicks \(3 partitions\), users \(2 partitions\)"):
            app.start()


def test_global_table_is_loaded_before_processing_and_kept_up_to_date(tmp_path):
    broker = f"local://{tmp_path / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("products", partitions=3)
        client.create_topic("orders", partitions=2)
        client.create_topic("enriched", partitions=2)
        for i in range(30):
            client.produce("products", f"product-{i}", key=f"p{i}", key_serde=S, value_serde=S)
        for i in range(30):
            client.produce("orders", f"p{i}", key=f"o{i}", key_serde=S, value_serde=S)
        app = strom.App(
            "gt", broker=broker, state_dir=str(tmp_path / "state"), commit_interval_ms=20
        )
        products = app.global_table("products", key_serde=S, value_serde=S)
        (
            app.stream("orders", key_serde=S, value_serde=S)
            .join(products, lambda order_id, product_id: product_id, lambda o, p: f"{o}={p}")
            .to("enriched", key_serde=S, value_serde=S)
        )
        app.start()
        try:

            def enriched() -> dict:
                return {r.key: r.value for r in client.read("enriched", S, S)}

            wait_for(lambda: len(enriched()) == 30)
            assert enriched()["o7"] == "p7=product-7"  # every order found its product
            client.produce("products", "new!", key="p99", key_serde=S, value_serde=S)
            time.sleep(0.3)
            client.produce("orders", "p99", key="o99", key_serde=S, value_serde=S)
            wait_for(lambda: enriched().get("o99") == "p99=new!")
        finally:
            app.close()
