"""The README's demo: word count running for real on the embedded ``local://`` log.

It creates the topics, starts the app (a background thread), feeds it lines of text one at a
time, and prints the counts as they change — read back from the output topic, as any
consumer would. Run: ``make demo`` (or ``.venv/bin/python examples/demo_wordcount.py``).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import strom
from strom import serdes

sys.path.insert(0, str(Path(__file__).parent))
from ex2_word_count import INPUT, OUTPUT, build

TEXT = [
    "the quick brown fox",
    "jumps over the lazy dog",
    "the dog barks",
    "a quick brown dog",
    "the end",
]


def main() -> None:
    where = Path(tempfile.mkdtemp(prefix="strom-demo-"))
    broker = f"local://{where / 'log'}"
    print(f"log: {broker}\n")
    app = strom.App("wordcount-demo", broker=broker, commit_interval_ms=100)
    build(app)
    with strom.Client(broker) as client:
        client.create_topic(INPUT, partitions=2)
        client.create_topic(OUTPUT, partitions=2)
        app.start()
        seen: dict[int, int] = {}  # partition -> next offset to print
        try:
            for line in TEXT:
                client.produce(INPUT, line, value_serde=serdes.String())
                print(f">>> {line}")
                deadline = time.monotonic() + 5
                want = set(line.split())
                while want and time.monotonic() < deadline:
                    for r in client.iter(OUTPUT, serdes.String(), serdes.Long(), offsets=seen):
                        seen[r.partition] = r.offset + 1
                        print(f"    {r.key:<6} {r.value}")
                        want.discard(r.key)
                    time.sleep(0.05)
        finally:
            app.close()
        final = {r.key: r.value for r in client.read(OUTPUT, serdes.String(), serdes.Long())}
    print("\nfinal counts:", dict(sorted(final.items())))
    shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
