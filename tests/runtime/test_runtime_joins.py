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


def test_foreign_key_join_across_partitions(tmp_path):
    """Orders (3 partitions) joined to customers (2 partitions) by a field of the order."""
    broker = f"local://{tmp_path / 'log'}"
    J = serdes.Json()
    with strom.Client(broker) as client:
        client.create_topic("orders", partitions=3)
        client.create_topic("customers", partitions=2)
        client.create_topic("order-details", partitions=3)
        for i in range(10):
            client.produce(
                "customers", {"name": f"customer-{i}"}, key=f"c{i}", key_serde=S, value_serde=J
            )
        for i in range(40):
            client.produce(
                "orders",
                {"customer": f"c{i % 10}", "n": i},
                key=f"o{i}",
                key_serde=S,
                value_serde=J,
            )
        app = strom.App(
            "fk", broker=broker, state_dir=str(tmp_path / "state"), commit_interval_ms=20
        )
        orders = app.table("orders", key_serde=S, value_serde=J)
        customers = app.table("customers", key_serde=S, value_serde=J)
        (
            orders.join(
                customers,
                lambda order: order["customer"],
                lambda order, customer: {**order, "name": customer["name"]},
            )
            .to_stream()
            .to("order-details", key_serde=S, value_serde=J)
        )
        app.start()
        try:

            def details() -> dict:
                return {r.key: r.value for r in client.read("order-details", S, J)}

            wait_for(lambda: len(details()) == 40)
            assert details()["o13"] == {"customer": "c3", "n": 13, "name": "customer-3"}
            client.produce("customers", {"name": "renamed"}, key="c3", key_serde=S, value_serde=J)
            wait_for(lambda: all(details()[f"o{i}"]["name"] == "renamed" for i in (3, 13, 23)))
        finally:
            app.close()
        topics = client.list_topics()
        registration = [t for t in topics if t.endswith("-subscription-registration-topic")]
        response = [t for t in topics if t.endswith("-subscription-response-topic")]
        assert topics[registration[0]].partitions == 2  # co-partitioned with customers
        assert topics[response[0]].partitions == 3  # and back with orders
