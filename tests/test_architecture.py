"""The layering of DESIGN.md section 4 and the public API of section 2, kept by tests."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import strom

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = {
    "strom": [
        "App",
        "GlobalKTable",
        "JoinWindows",
        "KStream",
        "KTable",
        "Model",
        "Record",
        "SessionWindows",
        "SlidingWindows",
        "StreamsBuilder",
        "Suppressed",
        "TimeWindows",
        "Topology",
        "Window",
        "Windowed",
    ],
    "strom.processor": ["Processor", "ProcessorContext", "PunctuationType", "Record"],
    "strom.state": ["Stores", "KeyValueStore", "ReadOnlyKeyValueStore", "StateStore"],
    "strom.serdes": ["Bytes", "Double", "Integer", "Json", "Long", "String", "Serde"],
    "strom.testing": ["TopologyTestDriver", "TestInputTopic", "TestOutputTopic", "TestRecord"],
}


def test_import_contracts_are_kept():
    """import-linter: data and imports flow one way; the runtime never imports the DSL."""
    exe = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and " 0 broken" in done.stdout


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_exist_and_all_is_complete(module):
    """Every public name is exported and exists (ruff's RUF022 keeps ``__all__`` sorted)."""
    mod = importlib.import_module(module)
    assert len(set(mod.__all__)) == len(mod.__all__), f"{module}.__all__ repeats a name"
    for name in PUBLIC[module]:
        assert name in mod.__all__, f"{module} does not export {name}"
    for name in mod.__all__:
        assert hasattr(mod, name), f"{module}.__all__ names {name}, which does not exist"


def test_record_is_the_model_alias_and_processor_record_is_separate():
    from strom.processor import Record as ProcessorRecord

    assert strom.Record is strom.Model
    assert ProcessorRecord is not strom.Model


def test_no_module_over_800_lines():
    big = [
        (str(p.relative_to(ROOT)), n)
        for p in (ROOT / "src").rglob("*.py")
        if (n := len(p.read_text().splitlines())) > 800
    ]
    assert big == []
