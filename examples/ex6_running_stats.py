"""Exercise 6: real-time analytics — running count, sum and average per product.

Sales on "sales" (``Sale`` values) are grouped by ``product_id`` and folded with ``aggregate``
into a ``ProductStats`` per product (state store "product-stats"); every update goes to
"product-stats-topic", keyed by product id.

Run the demo: ``.venv/bin/python examples/ex6_running_stats.py``.
"""

from __future__ import annotations

import strom
from strom import serdes
from strom.testing import TopologyTestDriver

STORE = "product-stats"


class Sale(strom.Model):
    product_id: str
    amount: float


class ProductStats(strom.Model):
    product_id: str = ""
    count: int = 0
    total: float = 0.0
    avg: float = 0.0


def add_sale(product_id: str, sale: Sale, stats: ProductStats) -> ProductStats:
    """The aggregator: a new ``ProductStats`` (never mutate the old aggregate)."""
    count, total = stats.count + 1, stats.total + sale.amount
    return ProductStats(product_id, count, total, total / count)


def build(builder: strom.StreamsBuilder) -> strom.KTable:
    """Add the running statistics to ``builder``; returns the stats table."""
    stats = (
        builder.stream("sales", value_serde=serdes.ModelSerde(Sale))
        .group_by(lambda _key, sale: sale.product_id, key_serde=serdes.String())
        .aggregate(ProductStats, add_sale, store=STORE, value_serde=serdes.ModelSerde(ProductStats))
    )
    stats.to_stream().to("product-stats-topic", value_serde=serdes.ModelSerde(ProductStats))
    return stats


def topology() -> strom.Topology:
    builder = strom.StreamsBuilder()
    build(builder)
    return builder.build()


if __name__ == "__main__":
    with TopologyTestDriver(topology()) as driver:
        sales = driver.create_input_topic("sales", value_serde=serdes.ModelSerde(Sale))
        for i, (product, amount) in enumerate([("p1", 10.0), ("p2", 99.5), ("p1", 30.0)]):
            sales.pipe_input(f"s{i}", Sale(product, amount), timestamp=1_000 * i)
        out = driver.create_output_topic(
            "product-stats-topic", serdes.String(), serdes.ModelSerde(ProductStats)
        )
        for key, stats in out.read_key_values_to_list():
            print(f"{key}: count={stats.count} total={stats.total} avg={stats.avg}")
