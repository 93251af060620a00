#!/usr/bin/env python3
"""A real schema registry with a Confluent-compatible API for strom's tests (stdlib only).

It is Apicurio Registry 3.0.9 (``io.apicurio:apicurio-registry-app``), which serves Confluent
Schema Registry's REST API at ``/apis/ccompat/v7``, with in-memory (H2) storage: every start is
empty. Maven Central publishes the app only as a jar of its classes, so ``mvn`` builds the
runnable Quarkus application from it with ``scripts/apicurio/pom.xml`` (see there, and
``scripts/apicurio/stand-ins/`` for the pieces of 3.0.9 that the registry this machine reaches
does not serve) into ``build/apicurio-registry-3.0.9/`` of the repo (gitignored; the jars are
cached under ``~/.m2`` too). The build runs once (a minute or two; more on a cold ``~/.m2``) and
again only when those poms change; a start takes a few seconds.

As a library::

    from schema_registry import SchemaRegistry
    with SchemaRegistry() as registry:
        print(registry.url)     # "http://127.0.0.1:PORT/apis/ccompat/v7"

From a shell::

    python scripts/schema_registry.py build          # build only (cached)
    python scripts/schema_registry.py start          # run until Ctrl-C; prints the URL
    python scripts/schema_registry.py start --port 8081 --compatibility NONE

Where Apicurio's API differs from Confluent's (as found against this build):

* ids are Apicurio content ids: they start at 1, the same schema gets the same id under every
  subject, but they are not dense (a rejected registration can use one up);
* the global compatibility level starts as NONE (Confluent: BACKWARD); :class:`SchemaRegistry`
  sets it to ``compatibility`` (BACKWARD unless told otherwise) once started;
* ``GET /schemas/ids/N`` and ``GET /subjects/S/versions/V`` always carry ``schemaType`` (also
  ``"AVRO"``) and ``references: []``; ``POST /subjects/S`` (look up) carries no ``schemaType``;
* the error codes are Confluent's (40401 subject, 40402 version, 40403 schema, 409 incompatible,
  42201 invalid schema), the messages are Apicurio's (they name group 'null');
* a compatibility check against a subject that does not exist answers ``is_compatible: true``
  (Confluent: 40401), and ``?verbose=true`` adds no messages;
* a schema is matched by its text: the same schema with other whitespace or key order is a new
  version (and id) when registered and not found when looked up (Confluent compares parsed
  schemas);
* ``PUT /config/S`` with ``NONE`` removes the subject's rule instead of turning the checks off,
  so the global level still applies: ``GET /config/S`` then says NONE, with
  ``?defaultToGlobal=true`` the level in force (Confluent: 40408 for a subject without a level
  of its own).

Needs ``java`` (17+; ``JAVA_HOME`` is honoured) and ``mvn`` on the PATH;
:class:`RegistryUnavailable` says which one is missing. The registry is stopped with SIGTERM (then
SIGKILL) when the ``with`` block, the CLI or the Python process ends; on Linux it is also killed
if its parent process dies.
"""

from __future__ import annotations

import argparse
import atexit
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from server_process import die_with_parent, free_port, terminate

__all__ = [
    "APICURIO_VERSION",
    "RegistryError",
    "RegistryUnavailable",
    "SchemaRegistry",
    "build",
    "missing_tools",
    "shared_registry",
]

#: The Apicurio Registry release that scripts/apicurio/pom.xml builds.
APICURIO_VERSION = "3.0.9"
REPO_ROOT = Path(__file__).resolve().parent.parent
APICURIO_DIR = Path(__file__).resolve().parent / "apicurio"
BUILD_ROOT = Path(os.environ.get("STROM_BUILD_DIR", REPO_ROOT / "build"))
#: The path of the Confluent-compatible API under the registry's root.
CCOMPAT_PATH = "/apis/ccompat/v7"
CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"

#: Settings passed to the registry (Quarkus/Apicurio properties); ``extra_config`` overrides.
REGISTRY_DEFAULTS = {
    "apicurio.storage.kind": "sql",
    "apicurio.storage.sql.kind": "h2",  # an in-memory H2 database (jdbc:h2:mem:...)
    "quarkus.http.access-log.enabled": "false",
}


class RegistryError(RuntimeError):
    """The registry could not be built or started (the message carries the log's tail)."""


class RegistryUnavailable(RegistryError):
    """A tool the registry needs (``java``, ``mvn``) is not installed."""


def _java() -> str:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").exists():
        return str(Path(home) / "bin" / "java")
    return "java"


def missing_tools() -> list[str]:
    """The tools among ``java`` and ``mvn`` that are not on the PATH."""
    return [t for t, exe in (("java", _java()), ("mvn", "mvn")) if shutil.which(exe) is None]


def _log(msg: str) -> None:
    print(f"schema_registry: {msg}", file=sys.stderr, flush=True)


def build_dir() -> Path:
    return BUILD_ROOT / f"apicurio-registry-{APICURIO_VERSION}"


def runner_jar() -> Path:
    return build_dir() / "strom-apicurio-registry-1-runner.jar"


def _inputs_digest() -> str:
    """A hash of the build's inputs: a change to any of them means building again."""
    h = hashlib.sha256()
    for path in sorted(p for p in APICURIO_DIR.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(APICURIO_DIR)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def build(quiet: bool = False) -> Path:
    """Build the registry with ``mvn`` (once per change of scripts/apicurio/); returns the jar."""
    out = build_dir()
    done = out / ".complete"
    digest = _inputs_digest()
    if done.exists() and done.read_text().strip() == digest and runner_jar().exists():
        return runner_jar()
    if missing := missing_tools():
        raise RegistryUnavailable(
            f"{' and '.join(missing)} not found on the PATH: building the schema registry needs "
            "Java 17+ and Apache Maven"
        )
    BUILD_ROOT.mkdir(parents=True, exist_ok=True)
    with open(BUILD_ROOT / "apicurio-registry.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others then use it
        if done.exists() and done.read_text().strip() == digest and runner_jar().exists():
            return runner_jar()
        started = time.monotonic()
        if not quiet:
            _log(f"building Apicurio Registry {APICURIO_VERSION} with mvn (once) ...")
        log_path = BUILD_ROOT / f"apicurio-registry-{APICURIO_VERSION}-build.log"
        shutil.rmtree(out, ignore_errors=True)
        env = dict(os.environ)
        if env.get("JAVA_HOME") is None and _java() != "java":
            env["JAVA_HOME"] = str(Path(_java()).parent.parent)
        settings = str(APICURIO_DIR / "settings.xml")
        steps = [
            # the stand-ins for what is not served, into ~/.m2 (see stand-ins/pom.xml)
            ["mvn", "-B", "-s", settings, "-f", str(APICURIO_DIR / "stand-ins" / "pom.xml"),
             "install", f"-Dstand-ins.out={BUILD_ROOT / 'apicurio-stand-ins'}"],
            ["mvn", "-B", "-s", settings, "-f", str(APICURIO_DIR / "pom.xml"), "package",
             f"-Dstrom.apicurio.out={out}"],
        ]  # fmt: skip
        with open(log_path, "w") as log:
            for cmd in steps:
                log.write(f"$ {' '.join(cmd)}\n")
                log.flush()
                rc = subprocess.run(
                    cmd, cwd=APICURIO_DIR, stdout=log, stderr=subprocess.STDOUT, env=env
                ).returncode
                if rc != 0:
                    tail = log_path.read_text(errors="replace")[-4000:]
                    raise RegistryError(f"mvn failed (exit {rc}; log: {log_path}):\n{tail}")
        if not runner_jar().exists():
            raise RegistryError(f"the build wrote no {runner_jar()} (log: {log_path})")
        done.write_text(digest + "\n")
        if not quiet:
            _log(f"built {runner_jar()} in {time.monotonic() - started:.0f}s")
    return runner_jar()


class SchemaRegistry:
    """One Apicurio Registry with in-memory storage on 127.0.0.1 for as long as it is open.

    ``url`` is the base URL of its Confluent-compatible API. ``port`` 0 picks a free port;
    ``compatibility`` (BACKWARD, like Confluent's default; None keeps Apicurio's NONE) is set as
    the global compatibility level once it is up; ``extra_config`` adds or overrides
    Quarkus/Apicurio properties (passed as ``-Dkey=value``).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        compatibility: str | None = "BACKWARD",
        extra_config: dict[str, object] | None = None,
        startup_timeout: float = 90.0,
        jvm_opts: list[str] | None = None,
        log_level: str = "WARN",
        quiet: bool = True,
    ) -> None:
        self.host = host
        self.port = port
        self.compatibility = compatibility
        self.extra_config = {k: str(v) for k, v in (extra_config or {}).items()}
        self.startup_timeout = startup_timeout
        env_opts = os.environ.get("STROM_SCHEMA_REGISTRY_JVM_OPTS")
        self.jvm_opts = jvm_opts or (
            env_opts.split()
            if env_opts
            else ["-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"]
        )
        self.log_level = log_level
        self.quiet = quiet
        self.process: subprocess.Popen[bytes] | None = None
        self.workdir: Path | None = None
        self.timings: dict[str, float] = {}
        self._log_file: object = None

    # ---- public -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The registry's root (Apicurio's own API, ``/health/ready``, the UI)."""
        return f"http://{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """The base URL of the Confluent-compatible API (what ``schema.registry.url`` takes)."""
        return self.base_url + CCOMPAT_PATH

    @property
    def log_path(self) -> Path:
        assert self.workdir is not None
        return self.workdir / "registry.log"

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> SchemaRegistry:
        if self.running():
            return self
        t0 = time.monotonic()
        jar = build(quiet=self.quiet)
        self.timings["build"] = time.monotonic() - t0
        self.workdir = Path(tempfile.mkdtemp(prefix="strom-schema-registry-"))
        self.port = self.port or free_port(self.host)
        config = {
            **REGISTRY_DEFAULTS,
            "quarkus.http.host": self.host,
            "quarkus.http.port": str(self.port),
            "quarkus.log.level": self.log_level,
            'quarkus.log.category."io.apicurio".level': self.log_level,
            "apicurio.storage.snapshot.location": str(self.workdir),
            **self.extra_config,
        }
        cmd = [
            _java(),
            *self.jvm_opts,
            "-Djava.awt.headless=true",
            *(f"-D{k}={v}" for k, v in config.items()),
            "-jar",
            str(jar),
        ]
        t1 = time.monotonic()
        self._log_file = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            cmd,
            cwd=self.workdir,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent if sys.platform.startswith("linux") else None,
            start_new_session=not sys.platform.startswith("linux"),
        )
        try:
            self._wait_ready()
            if self.compatibility:
                self.request("PUT", "/config", {"compatibility": self.compatibility})
        except BaseException:
            self.stop()
            raise
        self.timings["start"] = time.monotonic() - t1
        if not self.quiet:
            _log(f"Apicurio Registry ready at {self.url} ({self.timings['start']:.1f}s)")
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (a clean shutdown), then SIGKILL after ``timeout`` seconds."""
        proc, self.process = self.process, None
        terminate(proc, timeout)
        if self._log_file is not None:
            self._log_file.close()  # type: ignore[attr-defined]
            self._log_file = None
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def request(self, method: str, path: str, body: object = None, timeout: float = 10.0) -> object:
        """Call the Confluent-compatible API (``path`` below :attr:`url`); returns the decoded
        JSON. An error status raises :class:`urllib.error.HTTPError` (its body is the JSON
        ``{"error_code": ..., "message": ...}``)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", CONTENT_TYPE)
        if data is not None:
            req.add_header("Content-Type", CONTENT_TYPE)
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except (OSError, AssertionError):
            return ""

    def __enter__(self) -> SchemaRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped"
        return f"SchemaRegistry(apicurio {APICURIO_VERSION}, {self.url}, {state})"

    # ---- internals --------------------------------------------------------------------------
    def _wait_ready(self) -> None:
        """Until the registry reports ready and its Confluent-compatible API answers."""
        deadline = time.monotonic() + self.startup_timeout
        assert self.process is not None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RegistryError(
                    f"the schema registry exited with {self.process.returncode}:\n{self.log_tail()}"
                )
            if self._get_ok(self.base_url + "/health/ready") and self._get_ok(
                self.url + "/subjects"
            ):
                return
            time.sleep(0.2)
        raise RegistryError(
            f"the schema registry did not start in {self.startup_timeout:.0f}s:\n{self.log_tail()}"
        )

    @staticmethod
    def _get_ok(url: str) -> bool:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                return resp.status == 200
        except (OSError, urllib.error.URLError):
            return False


_shared: SchemaRegistry | None = None
_shared_lock = threading.Lock()


def shared_registry() -> SchemaRegistry:
    """One registry per Python process, started on first use and stopped when Python exits.
    Tests that share it should use subject names of their own (it is never emptied)."""
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running():
            registry = SchemaRegistry()
            registry.start()
            atexit.register(registry.stop)
            _shared = registry
        return _shared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("build", help="build the registry with mvn (cached)")
    s = sub.add_parser("start", help="run a registry until interrupted")
    s.add_argument("--port", type=int, default=0, help="HTTP port (default: a free one)")
    s.add_argument(
        "--compatibility",
        default="BACKWARD",
        help="global compatibility level to set (default BACKWARD; NONE is Apicurio's own)",
    )
    s.add_argument(
        "--config", action="append", default=[], metavar="KEY=VALUE", help="registry setting"
    )
    s.add_argument("--log-level", default="INFO", help="registry log level (default INFO)")
    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            print(build())
            return 0
        registry = SchemaRegistry(
            port=args.port,
            compatibility=args.compatibility,
            extra_config=dict(kv.split("=", 1) for kv in args.config),
            log_level=args.log_level,
            quiet=False,
        )
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())
        with registry:
            print(registry.url, flush=True)
            _log(f"log: {registry.log_path}; Ctrl-C stops the registry")
            while not stop.wait(0.5):
                if not registry.running():
                    _log(f"the registry exited:\n{registry.log_tail()}")
                    return 1
        return 0
    except RegistryError as e:
        _log(str(e))
        return 2


if __name__ == "__main__":
    sys.exit(main())
