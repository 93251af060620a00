"""Every Python block of the README runs (the docs cannot drift from the code)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the app's state goes to the default state dir: keep it here
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 4
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(README), "exec"), namespace)
    out = capsys.readouterr().out
    assert "{'hello': 2, 'world': 1}\n" in out
    assert "[('hello', 1), ('world', 1), ('hello', 2)]\n2\n" in out
    assert "clicks-per-minute" in str(namespace["builder"].build().describe())
    assert "(stores: [users])" in str(namespace["joins"].build().describe())
