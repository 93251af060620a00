#!/usr/bin/env python3
"""A real Apache Kafka broker for strom's tests and benchmarks (stdlib only).

It fetches Apache Kafka (``org.apache.kafka:kafka_2.13`` and its runtime dependencies, plus the
log4j2 binding the broker logs through) from Maven Central with ``mvn`` into
``~/.cache/strom/kafka-<version>/libs`` (Maven caches the jars under ``~/.m2`` too), formats
KRaft storage in a temporary directory and runs one combined broker + controller on 127.0.0.1
on free ports, with the settings a one-node cluster needs (replication factors 1, no initial
rebalance delay, no topic auto-creation).

As a library::

    from kafka_broker import KafkaBroker
    with KafkaBroker() as broker:
        print(broker.bootstrap)          # "127.0.0.1:PORT"

From a shell::

    python scripts/kafka_broker.py fetch            # download only (cached)
    python scripts/kafka_broker.py start            # run until Ctrl-C; prints the bootstrap address
    python scripts/kafka_broker.py start --port 9092 --config log.retention.ms=600000

Needs ``java`` (17+) and ``mvn`` on the PATH; :class:`BrokerUnavailable` says which one is
missing. The broker is stopped with SIGTERM (then SIGKILL) when the ``with`` block, the CLI or
the Python process ends; on Linux it is also killed if its parent process dies.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from server_process import die_with_parent, free_port, terminate

__all__ = [
    "KAFKA_VERSION",
    "BrokerError",
    "BrokerUnavailable",
    "KafkaBroker",
    "fetch",
    "missing_tools",
    "shared_broker",
]

#: The Apache Kafka release strom tests against (the current 4.x on Maven Central).
KAFKA_VERSION = os.environ.get("STROM_KAFKA_VERSION", "4.4.0")
SCALA_VERSION = "2.13"
#: The log4j2 binding for slf4j (Kafka ships log4j-core, the binding is the distribution's).
LOG4J_VERSION = "2.25.5"
CACHE_ROOT = Path(os.environ.get("STROM_CACHE_DIR", Path.home() / ".cache" / "strom"))
MAIN_CLASS = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"
#: Printed by the broker once it serves requests.
STARTED_LINE = "Kafka Server started"
LONG_MAX = str(2**63 - 1)

#: The settings of a one-node test cluster; ``extra_config`` overrides any of them.
BROKER_DEFAULTS = {
    "process.roles": "broker,controller",
    "node.id": "1",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
    "num.partitions": "1",
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    "offsets.topic.replication.factor": "1",
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "transaction.state.log.num.partitions": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
    "group.initial.rebalance.delay.ms": "0",
    "auto.create.topics.enable": "false",
    "delete.topic.enable": "true",
    # strom replays event time: records keep the timestamps they were given (Kafka 4's
    # defaults reject timestamps more than an hour away from the broker's clock).
    "log.message.timestamp.before.max.ms": LONG_MAX,
    "log.message.timestamp.after.max.ms": LONG_MAX,
    # Let strom's tests use short group sessions (Kafka's floor is 6 s).
    "group.min.session.timeout.ms": "500",
    "log.cleaner.backoff.ms": "1000",
}

LOG4J2_PROPERTIES = """\
status = warn
rootLogger.level = {level}
rootLogger.appenderRef.out.ref = OUT
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""

POM = """\
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>strom</groupId>
  <artifactId>strom-kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{version}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""


class BrokerError(RuntimeError):
    """The broker could not be fetched or started (the message carries the log's tail)."""


class BrokerUnavailable(BrokerError):
    """A tool the broker needs (``java``, ``mvn``) is not installed."""


def missing_tools() -> list[str]:
    """The tools among ``java`` and ``mvn`` that are not on the PATH."""
    return [tool for tool in ("java", "mvn") if shutil.which(tool) is None]


def _log(msg: str) -> None:
    print(f"kafka_broker: {msg}", file=sys.stderr, flush=True)


def libs_dir(version: str = KAFKA_VERSION) -> Path:
    return CACHE_ROOT / f"kafka-{version}" / "libs"


def fetch(version: str = KAFKA_VERSION, quiet: bool = False) -> Path:
    """Download Kafka ``version`` and its runtime dependencies (once); returns the jar dir."""
    libs = libs_dir(version)
    done = libs / ".complete"
    if done.exists():
        return libs
    if shutil.which("mvn") is None:
        raise BrokerUnavailable("mvn (Apache Maven) is not on the PATH: it fetches Kafka")
    libs.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    if not quiet:
        _log(f"fetching org.apache.kafka:kafka_{SCALA_VERSION}:{version} with mvn ...")
    with tempfile.TemporaryDirectory(prefix="strom-kafka-pom-") as tmp:
        pom = Path(tmp) / "pom.xml"
        pom.write_text(POM.format(scala=SCALA_VERSION, version=version, log4j=LOG4J_VERSION))
        staging = Path(tempfile.mkdtemp(prefix="libs-", dir=libs.parent))
        cmd = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        done_run = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True)
        if done_run.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            out = (done_run.stdout + done_run.stderr)[-4000:]
            raise BrokerError(f"mvn could not fetch Kafka {version}:\n{out}")
        jars = list(staging.glob("*.jar"))
        if not any(j.name.startswith(f"kafka_{SCALA_VERSION}-") for j in jars):
            shutil.rmtree(staging, ignore_errors=True)
            raise BrokerError(f"mvn fetched no kafka_{SCALA_VERSION} jar into {staging}")
        (staging / ".complete").write_text(f"{version}\n")
        if libs.exists():  # an unfinished earlier attempt
            shutil.rmtree(libs, ignore_errors=True)
        try:
            staging.rename(libs)
        except OSError:  # another process won the race: use its copy
            shutil.rmtree(staging, ignore_errors=True)
    if not quiet:
        _log(f"fetched {len(jars)} jars into {libs} in {time.monotonic() - started:.1f}s")
    return libs


def _cluster_id() -> str:
    """A Kafka cluster id: a random UUID, base64url without padding (22 characters).

    Never one that starts with "-": the storage tool would read it as an option.
    """
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


class KafkaBroker:
    """One Apache Kafka broker + controller (KRaft) on 127.0.0.1 for as long as it is open.

    ``port``/``controller_port`` of 0 pick free ports; ``log_dir`` None uses a temporary
    directory removed on stop; ``extra_config`` adds or overrides ``server.properties`` keys.
    ``sasl_users`` (``{"user": "password"}``) adds a SASL_PLAINTEXT listener with the PLAIN
    mechanism on another free port (``sasl_bootstrap``), for testing authenticated clients.
    """

    def __init__(
        self,
        version: str = KAFKA_VERSION,
        host: str = "127.0.0.1",
        port: int = 0,
        controller_port: int = 0,
        log_dir: str | os.PathLike[str] | None = None,
        extra_config: dict[str, object] | None = None,
        startup_timeout: float = 90.0,
        jvm_opts: list[str] | None = None,
        log_level: str = "WARN",
        quiet: bool = True,
        sasl_users: dict[str, str] | None = None,
    ) -> None:
        self.version = version
        self.host = host
        self.port = port
        self.controller_port = controller_port
        self.log_dir = Path(log_dir) if log_dir is not None else None
        self.extra_config = {k: str(v) for k, v in (extra_config or {}).items()}
        self.startup_timeout = startup_timeout
        env_opts = os.environ.get("STROM_KAFKA_JVM_OPTS")
        self.jvm_opts = jvm_opts or (
            env_opts.split() if env_opts else ["-Xms256m", "-Xmx1g", "-XX:+UseG1GC"]
        )
        self.log_level = log_level
        self.quiet = quiet
        self.sasl_users = dict(sasl_users or {})
        self.sasl_port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None
        self.timings: dict[str, float] = {}
        self._own_workdir = False
        self._log_file: object = None

    # ---- public -------------------------------------------------------------------------------
    @property
    def bootstrap(self) -> str:
        """``host:port`` of the PLAINTEXT listener (what ``bootstrap.servers`` takes)."""
        return f"{self.host}:{self.port}"

    @property
    def sasl_bootstrap(self) -> str | None:
        """``host:port`` of the SASL_PLAINTEXT listener (None without ``sasl_users``)."""
        return f"{self.host}:{self.sasl_port}" if self.sasl_users else None

    @property
    def url(self) -> str:
        """The broker as a strom broker URL."""
        return f"kafka://{self.bootstrap}"

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "broker.log"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> KafkaBroker:
        if self.running():
            return self
        if missing := missing_tools():
            raise BrokerUnavailable(
                f"{' and '.join(missing)} not found on the PATH: the Kafka broker needs "
                "Java 17+ and Apache Maven"
            )
        t0 = time.monotonic()
        libs = fetch(self.version, quiet=self.quiet)
        self.timings["fetch"] = time.monotonic() - t0
        # with a log_dir of its own (a broker restarted on its data), the config and log of each
        # start go beside it, so they go where it goes (a test's tmp_path, which pytest prunes)
        beside = self.log_dir.parent if self.log_dir is not None else None
        self.workdir = Path(
            tempfile.mkdtemp(
                prefix="strom-kafka-", dir=beside if beside and beside.is_dir() else None
            )
        )
        self._own_workdir = True
        data = self.log_dir or self.workdir / "data"
        self.port = self.port or free_port(self.host)
        self.controller_port = self.controller_port or free_port(self.host)
        if self.sasl_users:
            self.sasl_port = self.sasl_port or free_port(self.host)
        props = self.workdir / "server.properties"
        props.write_text(self._properties(data))
        log4j = self.workdir / "log4j2.properties"
        log4j.write_text(LOG4J2_PROPERTIES.format(level=self.log_level))
        java = [
            "java",
            *self.jvm_opts,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            str(libs / "*"),
        ]
        t1 = time.monotonic()
        if not (Path(data) / "meta.properties").exists():
            fmt = subprocess.run(
                [
                    *java[:1],
                    "-XX:TieredStopAtLevel=1",
                    *java[1:],
                    STORAGE_TOOL,
                    "format",
                    "-t",
                    _cluster_id(),
                    "-c",
                    str(props),
                ],
                capture_output=True,
                text=True,
            )
            if fmt.returncode != 0:
                raise BrokerError(f"formatting KRaft storage failed:\n{fmt.stdout}{fmt.stderr}")
        self.timings["format"] = time.monotonic() - t1
        t2 = time.monotonic()
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*java, MAIN_CLASS, str(props)],
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
            start_new_session=not sys.platform.startswith("linux"),
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - t2
        if not self.quiet:
            _log(f"broker {self.version} ready on {self.bootstrap} ({self.timings['start']:.1f}s)")
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL after ``timeout`` seconds."""
        proc, self.process = self.process, None
        terminate(proc, timeout)
        if self._log_file is not None:
            self._log_file.close()  # type: ignore[attr-defined]
            self._log_file = None
        if self._own_workdir and self.workdir is not None and self.log_dir is None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def warm_up(self, timeout: float = 60.0) -> None:
        """Start the group and transaction coordinators now (their internal topics are created
        on first use, which costs a first transaction or offset commit a second or more).
        Needs confluent-kafka; without it, does nothing."""
        try:
            from confluent_kafka import Consumer, Producer, TopicPartition
        except ImportError:
            return
        t0 = time.monotonic()
        quiet = {"bootstrap.servers": self.bootstrap, "log_level": 0}
        producer = Producer({**quiet, "transactional.id": "kafka-broker-warm-up"})
        producer.init_transactions(timeout)  # creates __transaction_state
        consumer = Consumer({**quiet, "group.id": "kafka-broker-warm-up"})
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:  # creates __consumer_offsets
                try:
                    consumer.committed([TopicPartition("kafka-broker-warm-up", 0)], timeout=5)
                    break
                except Exception:
                    time.sleep(0.1)
        finally:
            consumer.close()
        self.timings["warm_up"] = time.monotonic() - t0

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except (OSError, AssertionError):
            return ""

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        return f"KafkaBroker({self.version}, {self.bootstrap}, {state})"

    # ---- internals --------------------------------------------------------------------------
    def _properties(self, data: Path | str) -> str:
        h, p, c = self.host, self.port, self.controller_port
        config = dict(BROKER_DEFAULTS)
        config.update(
            {
                "controller.quorum.voters": f"1@{h}:{c}",
                "listeners": f"PLAINTEXT://{h}:{p},CONTROLLER://{h}:{c}",
                "advertised.listeners": f"PLAINTEXT://{h}:{p}",
                "log.dirs": str(data),
            }
        )
        if self.sasl_users:
            s = self.sasl_port
            users = " ".join(f'user_{u}="{pw}"' for u, pw in self.sasl_users.items())
            config["listeners"] += f",SASL_PLAINTEXT://{h}:{s}"
            config["advertised.listeners"] += f",SASL_PLAINTEXT://{h}:{s}"
            config["listener.security.protocol.map"] += ",SASL_PLAINTEXT:SASL_PLAINTEXT"
            config["sasl.enabled.mechanisms"] = "PLAIN"
            config["listener.name.sasl_plaintext.plain.sasl.jaas.config"] = (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {users};"
            )
        config.update(self.extra_config)
        return "".join(f"{k}={v}\n" for k, v in config.items())

    def _wait_ready(self) -> None:
        """Until the broker logged that it started, accepts connections and answers metadata."""
        deadline = time.monotonic() + self.startup_timeout
        assert self.process is not None
        started = False
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(
                    f"the Kafka broker exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if not started:
                started = STARTED_LINE in self.log_tail(1_000_000)
            if started and self._accepts() and self._answers_metadata(deadline):
                return
            time.sleep(0.1)
        raise BrokerError(
            f"the Kafka broker did not start in {self.startup_timeout:.0f}s:\n{self.log_tail()}"
        )

    def _accepts(self) -> bool:
        try:
            with socket.create_connection((self.host, self.port), timeout=1):
                return True
        except OSError:
            return False

    def _answers_metadata(self, deadline: float) -> bool:
        try:
            from confluent_kafka.admin import AdminClient  # optional: checks metadata
        except ImportError:
            return True
        admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 0})
        try:
            md = admin.list_topics(timeout=max(1.0, deadline - time.monotonic()))
        except Exception:
            return False
        return bool(md.brokers)


_shared: KafkaBroker | None = None
_shared_lock = threading.Lock()


def shared_broker() -> KafkaBroker:
    """One broker per Python process, started on first use and stopped when Python exits
    (the test suite's backend contract and Kafka tests share it).

    Tuned to start fast rather than to run fast (C1 JIT only, serial GC; STROM_KAFKA_JVM_OPTS
    overrides), with a SASL_PLAINTEXT listener for user ``strom``, password ``strom-secret``.
    """
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running():
            fast_start = ["-Xms128m", "-Xmx768m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
            broker = KafkaBroker(
                jvm_opts=None if os.environ.get("STROM_KAFKA_JVM_OPTS") else fast_start,
                sasl_users={"strom": "strom-secret"},
            )
            broker.start()
            atexit.register(broker.stop)
            broker.warm_up()
            _shared = broker
        return _shared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fetch", help="download Kafka and its dependencies (cached)")
    f.add_argument("--version", default=KAFKA_VERSION)
    s = sub.add_parser("start", help="run a broker until interrupted")
    s.add_argument("--version", default=KAFKA_VERSION)
    s.add_argument("--port", type=int, default=0, help="PLAINTEXT port (default: a free one)")
    s.add_argument("--controller-port", type=int, default=0)
    s.add_argument("--log-dir", help="keep the data here (default: a temporary directory)")
    s.add_argument(
        "--config", action="append", default=[], metavar="KEY=VALUE", help="broker setting"
    )
    s.add_argument("--log-level", default="WARN", help="broker log level (default WARN)")
    s.add_argument(
        "--sasl-user",
        action="append",
        default=[],
        metavar="USER:PASSWORD",
        help="add a SASL_PLAINTEXT (PLAIN) listener with this user",
    )
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(fetch(args.version))
            return 0
        extra = dict(kv.split("=", 1) for kv in args.config)
        broker = KafkaBroker(
            args.version,
            port=args.port,
            controller_port=args.controller_port,
            log_dir=args.log_dir,
            extra_config=extra,
            log_level=args.log_level,
            quiet=False,
            sasl_users=dict(u.split(":", 1) for u in args.sasl_user),
        )
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        with broker:
            print(broker.bootstrap, flush=True)
            if broker.sasl_bootstrap:
                _log(f"SASL_PLAINTEXT (PLAIN) listener: {broker.sasl_bootstrap}")
            _log(f"log: {broker.log_path}; Ctrl-C stops the broker")
            while not stop.wait(0.5):
                if not broker.running():
                    _log(f"the broker exited:\n{broker.log_tail()}")
                    return 1
        return 0
    except BrokerError as e:
        _log(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
