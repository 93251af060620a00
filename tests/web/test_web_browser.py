"""The status page in a real headless browser: Debian's chromium, driven by playwright.

playwright's own browser download is not used (the machine reaches no CDN): the test launches
the system's ``/usr/bin/chromium`` through ``executable_path``. ``make test`` installs chromium
with ``scripts/install_browser.sh`` when it is missing and apt-get works; without it this test
skips, saying so. The screenshot is kept as ``artifacts/web.png``.
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest

import strom
from strom import serdes
from strom.web import serve

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
S, L = serdes.String(), serdes.Long()
LINES = ["the quick brown fox", "jumps over the lazy dog", "to be or not to be", "kafka streams"]

pytestmark = pytest.mark.skipif(
    not os.access(CHROMIUM, os.X_OK),
    reason="Debian's chromium is not installed: run scripts/install_browser.sh "
    "(make test does when apt-get is available)",
)


def produce(broker: str, stop: threading.Event, batches: int = 100) -> None:
    """Keep the app busy while the page is open (bounded: at most ``batches`` batches)."""
    with strom.Client(broker) as client:
        for i in range(batches):
            for j, line in enumerate(LINES * 5):
                client.produce("text-input", line, key=f"{i}-{j}", key_serde=S, value_serde=S)
            client.flush()
            if stop.wait(0.1):
                return


def test_the_page_draws_the_topology_and_fills_the_status_tables(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    broker = f"local://{tmp_path / 'log'}"
    with strom.Client(broker) as client:
        client.create_topic("text-input", partitions=2)
        client.create_topic("word-counts", partitions=2)
    app = strom.App(
        "wordcount", broker=broker, state_dir=str(tmp_path / "state"), commit_interval_ms=200
    )
    (
        app.stream("text-input", key_serde=S, value_serde=S)
        .flat_map_values(str.split, name="split")
        .group_by(lambda _k, word: word, key_serde=S, name="by-word")
        .count(store="word-counts", name="count")
        .to_stream(name="changes")
        .to("word-counts", value_serde=L, name="to-output")
    )
    description = app.topology.describe()
    names = [n.name for sub in description.subtopologies for n in sub.nodes]
    stop = threading.Event()
    feeder = threading.Thread(target=produce, args=(broker, stop), daemon=True)
    with serve(app) as server:
        app.config["application.server"] = server.address
        app.start()
        feeder.start()
        try:
            with sync_api.sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                try:
                    page = browser.new_page(viewport={"width": 1440, "height": 1000})
                    page.goto(server.url)
                    svg = page.locator("svg#topology")
                    assert svg.is_visible()
                    assert page.locator("svg#topology g.subtopology").count() == 2
                    texts = page.locator("svg#topology text").all_text_contents()
                    assert "Sub-topology: 0" in texts and "Sub-topology: 1" in texts
                    for name in [*names, "word-counts", "text-input"]:
                        assert name in texts, f"{name} is not drawn"
                    # the script fills the tables from /api/status
                    page.wait_for_selector("body[data-loaded]", timeout=15_000)
                    page.wait_for_function(
                        "document.querySelectorAll('#tasks tbody td.lag').length === 4",
                        timeout=15_000,
                    )
                    page.wait_for_function(
                        "[...document.querySelectorAll('#tasks tbody td.throughput')]"
                        ".some(td => parseFloat(td.textContent) > 0)",
                        timeout=15_000,
                    )
                    ids = page.locator("#tasks tbody tr td:first-child").all_text_contents()
                    assert sorted(ids) == ["0_0", "0_1", "1_0", "1_1"]
                    stores = page.locator("#stores tbody tr td:first-child").all_text_contents()
                    assert stores == ["word-counts", "word-counts"]
                    assert page.locator("#state").text_content() == "running"
                    states = page.locator("#restoration tbody tr td:nth-child(2)")
                    assert set(states.all_text_contents()) == {"done"}
                    page.wait_for_timeout(1200)  # one more refresh, then the picture
                    ARTIFACTS.mkdir(exist_ok=True)
                    page.screenshot(path=str(ARTIFACTS / "web.png"), full_page=True)
                finally:
                    browser.close()
        finally:
            stop.set()
            feeder.join(10)
            app.close()
    assert (ARTIFACTS / "web.png").stat().st_size > 10_000
