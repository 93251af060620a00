"""The seed's Faust sample, with ``strom`` in place of ``faust``.

Run it: ``.venv/bin/python examples/faust_sample.py``. It sends a few orders to the topic
"orders", runs the app until its agent has seen them, and the agent prints the high-value
ones. The log is ``local://.strom`` (set ``STROM_BROKER`` for another, e.g. ``memory://``);
running it again processes only the new orders: the agent resumes from its committed offsets.
"""

from __future__ import annotations

import os
import time

import strom

app = strom.App("myapp", broker=os.environ.get("STROM_BROKER", "local://.strom"))


class Order(strom.Record):
    order_id: str
    amount: float


orders_topic = app.topic("orders", value_type=Order)


@app.agent(orders_topic)
async def process_orders(orders):
    async for order in orders:
        if order.amount > 1000:
            print(f"High-value order: {order.order_id}")


ORDERS = [("o-1", 250.0), ("o-2", 1500.0), ("o-3", 999.99), ("o-4", 4200.0), ("o-5", 1000.0)]


def main(timeout: float = 10.0) -> None:
    """Send :data:`ORDERS`, run the app until the agent has processed them, stop it."""
    for order_id, amount in ORDERS:
        orders_topic.send_soon(key=order_id, value=Order(order_id=order_id, amount=amount))
    app.start()
    try:
        deadline = time.monotonic() + timeout
        while process_orders.processed < len(ORDERS) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        app.close()


if __name__ == "__main__":
    main()
