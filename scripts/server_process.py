"""What the test servers of scripts/ (kafka_broker.py, schema_registry.py) share: a free port,
a child that dies with its parent, and a stop that asks first (stdlib only)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
from typing import Any

__all__ = ["die_with_parent", "free_port", "terminate"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def die_with_parent() -> None:  # pragma: no cover - runs in the child
    """``preexec_fn`` on Linux: SIGTERM the child if the process that started it dies (no
    orphaned servers), in a session of its own (a Ctrl-C in the terminal reaches the parent,
    which stops the child cleanly)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    os.setsid()


def terminate(proc: subprocess.Popen[Any] | None, timeout: float) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL after ``timeout`` seconds."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        proc.wait(5)
