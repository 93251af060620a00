"""Measuring helpers (child side): RSS, peak RSS, profiling."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path
from typing import Any

# ---------------------------------------------------------------------------------------------
# measuring helpers (child side)
# ---------------------------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size of this process, MB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def lifetime_peak_rss_mb() -> float:
    """The process's peak RSS since it started (pre-load included), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def reset_peak_rss() -> bool:
    """Reset the kernel's high-water mark (VmHWM) so that the peak of the timed section alone
    can be read afterwards; False where that is not possible (then ru_maxrss is used)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_rss_mb(reset_ok: bool) -> float:
    """Peak RSS since :func:`reset_peak_rss` (or since the start of the process), MB."""
    if reset_ok:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    return lifetime_peak_rss_mb()


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


class Profiling:
    """Optional profiler around the timed section: ``cprofile`` (pstats file) or
    ``pyinstrument`` (a wall-clock sampling profiler; text report)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.out = spec.get("profile")
        self.kind = spec.get("profiler", "cprofile")
        self.p: Any = None
        if not self.out:
            return
        if self.kind == "pyinstrument":
            try:
                from pyinstrument import Profiler
            except ImportError:
                sys.exit("--profiler pyinstrument needs pyinstrument (pip install pyinstrument)")
            self.p = Profiler(interval=0.0005)
        else:
            import cProfile

            self.p = cProfile.Profile()

    def start(self) -> None:
        if self.p is not None:
            (self.p.start if self.kind == "pyinstrument" else self.p.enable)()

    def stop(self) -> None:
        if self.p is not None:
            (self.p.stop if self.kind == "pyinstrument" else self.p.disable)()

    def save(self) -> None:
        if self.p is None:
            return
        if self.kind == "pyinstrument":
            Path(self.out).write_text(self.p.output_text(unicode=False, color=False))
        else:
            self.p.dump_stats(self.out)
