"""open_backend: one URL scheme per backend, clear errors for the rest."""

from __future__ import annotations

from pathlib import Path

import pytest

from strom.backends import LocalBackend, MemoryBackend, open_backend
from strom.backends.local import parse_local_url
from strom.core.errors import BackendError


def test_memory_urls() -> None:
    private_a, private_b = open_backend("memory://"), open_backend("memory://")
    private_a.create_topic("t")
    assert "t" not in private_b.list_topics()
    named_a, named_b = open_backend("memory://reg-test"), open_backend("memory://reg-test")
    try:
        assert isinstance(named_a, MemoryBackend)
        named_a.create_topic("t")
        assert "t" in named_b.list_topics()
    finally:
        MemoryBackend.reset("reg-test")
    assert "t" not in open_backend("memory://reg-test").list_topics()


def test_local_url_creates_the_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with open_backend(f"local://{tmp_path}/a/b") as backend:
        assert isinstance(backend, LocalBackend)
    assert (tmp_path / "a" / "b" / "log.db").exists()
    monkeypatch.chdir(tmp_path)
    with open_backend("local://rel"):
        pass
    assert (tmp_path / "rel" / "log.db").exists()


def test_local_url_options() -> None:
    assert parse_local_url("local:///x/y") == (Path("/x/y"), "full")
    assert parse_local_url("local://d?synchronous=NORMAL") == (Path("d"), "normal")
    with pytest.raises(BackendError, match="synchronous"):
        parse_local_url("local://d?sync=off")
    with pytest.raises(BackendError, match="directory"):
        open_backend("local://")


def test_kafka_urls_open_the_kafka_backend_or_name_the_extra() -> None:
    try:
        import confluent_kafka  # noqa: F401
    except ImportError:
        with pytest.raises(BackendError, match="'kafka' extra"):
            open_backend("kafka://127.0.0.1:9092")
        return
    with open_backend("kafka://127.0.0.1:9092?client.id=x", {"socket.timeout.ms": 5000}) as b:
        assert type(b).__name__ == "KafkaBackend"  # opening does not connect yet
    with pytest.raises(BackendError, match="bootstrap"):
        open_backend("kafka://")


@pytest.mark.parametrize("url", ["redis://x", "localhost:9092", "memory:/x", ""])
def test_unknown_urls_name_the_url_and_the_schemes(url: str) -> None:
    with pytest.raises(
        BackendError, match=r"unsupported broker URL .*memory://.*local://.*kafka://"
    ):
        open_backend(url)


def test_local_url_pointing_at_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(BackendError, match="file"):
        open_backend(f"local://{tmp_path / 'file'}")
