"""The systems measured on Kafka: how each is installed (outside the project's .venv) and how
its job process is started.

- ``strom``: this repo, in the interpreter running the harness (the project's .venv).
- ``quixstreams`` / ``faust``: each in its own virtualenv under ``build/peer-venvs/<name>``,
  created on first use with pip (lower-bounded, pinned-major requirements).
- ``kafka-streams``: Apache Kafka Streams' ``WordCountDemo`` (``kafka-streams-examples``)
  resolved from Maven Central with ``mvn`` from ``bench/kafka/java/pom.xml`` into
  ``build/kafka-streams-<version>/libs`` (cached in ~/.m2), run with ``java``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BUILD = ROOT / "build"
PEER_VENVS = BUILD / "peer-venvs"
JAVA_POM = HERE / "java" / "pom.xml"
#: Kafka Streams' version (the broker's); its examples jar is 4.3.1 (see java/pom.xml)
KAFKA_STREAMS_VERSION = "4.4.0"
KAFKA_STREAMS_LIBS = BUILD / f"kafka-streams-{KAFKA_STREAMS_VERSION}" / "libs"
WORDCOUNT_DEMO = "org.apache.kafka.streams.examples.wordcount.WordCountDemo"
#: WordCountDemo's fixed topic names
DEMO_INPUT, DEMO_OUTPUT = "streams-plaintext-input", "streams-wordcount-output"
#: The KafkaStreams log line that ends its start-up (the harness's start of processing).
JAVA_RUNNING = "State transition from REBALANCING to RUNNING"

#: pip requirements of each peer's virtualenv
PEER_REQUIREMENTS = {
    "quixstreams": ["quixstreams>=3.28,<4"],
    "faust": ["faust-streaming>=0.15.3,<0.16"],
}
#: the distribution whose version the report names
PEER_DISTRIBUTION = {"quixstreams": "quixstreams", "faust": "faust-streaming"}

LOG4J2 = """\
status = warn
rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
logger.streams.name = org.apache.kafka.streams.KafkaStreams
logger.streams.level = INFO
"""


@dataclass(frozen=True)
class System:
    name: str  # what --systems takes
    label: str  # what the table shows
    workloads: tuple[str, ...]
    guarantees: tuple[str, ...]  # measured by default
    value_format: str  # how the W2 count is encoded in the output: "long" or "json"


SYSTEMS = {
    "strom": System("strom", "strom", ("W1", "W2"), ("at_least_once", "exactly_once_v2"), "long"),
    "quixstreams": System("quixstreams", "Quix Streams", ("W1", "W2"), ("at_least_once",), "json"),
    "faust": System("faust", "Faust", ("W1", "W2"), ("at_least_once",), "json"),
    "kafka-streams": System(
        "kafka-streams", "Kafka Streams (WordCountDemo)", ("W2",), ("at_least_once",), "long"
    ),
    # the demo sets statestore.cache.max.bytes=0 (every update goes out); this row gives it
    # Kafka Streams' default 10 MB record cache back, as strom's record cache is on by default
    "kafka-streams-cache": System(
        "kafka-streams-cache",
        "Kafka Streams (demo, 10 MB cache)",
        ("W2",),
        ("at_least_once",),
        "long",
    ),
}
#: statestore.cache.max.bytes of the cached Kafka Streams row (Kafka Streams' default)
KAFKA_STREAMS_CACHE_BYTES = 10 * 1024 * 1024


def _log(msg: str) -> None:
    print(f"bench/kafka: {msg}", file=sys.stderr, flush=True)


def venv_python(name: str) -> Path:
    return PEER_VENVS / name / "bin" / "python"


def ensure_venv(name: str) -> Path:
    """``build/peer-venvs/<name>`` with the peer installed (created on first use)."""
    venv = PEER_VENVS / name
    python = venv_python(name)
    reqs = PEER_REQUIREMENTS[name]
    done = venv / ".strom-bench-requirements"
    if python.exists() and done.exists() and done.read_text().split("\n") == reqs:
        return python
    _log(f"creating {venv} with {' '.join(reqs)} ...")
    if venv.exists():
        shutil.rmtree(venv)
    # the harness's base interpreter: the same Python version for every Python system
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *reqs],
        check=True,
    )
    done.write_text("\n".join(reqs))
    return python


def ensure_java_libs() -> Path:
    """WordCountDemo's jars in ``build/kafka-streams-<version>/libs`` (resolved on first use)."""
    done = KAFKA_STREAMS_LIBS / ".complete"
    if done.exists():
        return KAFKA_STREAMS_LIBS
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"kafka-streams needs {tool} on the PATH")
    _log(f"resolving kafka-streams-examples with mvn into {KAFKA_STREAMS_LIBS} ...")
    if KAFKA_STREAMS_LIBS.exists():
        shutil.rmtree(KAFKA_STREAMS_LIBS)
    KAFKA_STREAMS_LIBS.mkdir(parents=True)
    proc = subprocess.run(
        [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(JAVA_POM),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={KAFKA_STREAMS_LIBS}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"mvn failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    (KAFKA_STREAMS_LIBS.parent / "log4j2.properties").write_text(LOG4J2)
    done.write_text(KAFKA_STREAMS_VERSION + "\n")
    return KAFKA_STREAMS_LIBS


def prepare(names: list[str]) -> None:
    """Install what the selected systems need (before the broker starts; never timed)."""
    for name in names:
        if name in PEER_REQUIREMENTS:
            ensure_venv(name)
        elif name.startswith("kafka-streams"):
            ensure_java_libs()


def command(name: str, spec: dict[str, Any], workdir: Path) -> list[str]:
    """The job process of system ``name`` for ``spec`` (see common.py)."""
    import json

    if name.startswith("kafka-streams"):
        # the demo's optional config file: its own settings are put only where this has none
        config = {
            "bootstrap.servers": spec["bootstrap"],
            "application.id": spec["app_id"],
            "state.dir": spec["state_dir"],
            "commit.interval.ms": spec["commit_interval_ms"],
        }
        if name == "kafka-streams-cache":
            config["statestore.cache.max.bytes"] = KAFKA_STREAMS_CACHE_BYTES
        props = workdir / "streams.properties"
        props.write_text("".join(f"{k}={v}\n" for k, v in config.items()))
        log4j = KAFKA_STREAMS_LIBS.parent / "log4j2.properties"
        return [
            "java",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            str(KAFKA_STREAMS_LIBS / "*"),
            WORDCOUNT_DEMO,
            str(props),
        ]
    python = sys.executable if name == "strom" else str(venv_python(name))
    job = HERE / f"job_{'quix' if name == 'quixstreams' else name}.py"
    return [python, str(job), json.dumps(spec)]


def versions(names: list[str]) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, str] = {}
    for pkg in ("strom", "confluent-kafka"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "?"
    for name in names:
        if name in PEER_DISTRIBUTION:
            dist = PEER_DISTRIBUTION[name]
            proc = subprocess.run(
                [
                    str(venv_python(name)),
                    "-c",
                    f"from importlib.metadata import version as v; print(v({dist!r}))",
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            out[dist] = proc.stdout.strip() or "?"
        elif name.startswith("kafka-streams") and "kafka-streams" not in out:
            out["kafka-streams"] = KAFKA_STREAMS_VERSION
            java = subprocess.run(
                ["java", "-version"], capture_output=True, text=True, check=False
            ).stderr.splitlines()
            out["java"] = java[0] if java else "?"
    out["python"] = sys.version.split()[0]
    return out
