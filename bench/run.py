"""strom benchmarks: W1 (JSON filter + map), W2 (word count), W3 (tumbling windows), W4
(stream-table join) and W5 (session windows), against a Bytewax baseline where Bytewax has one.

Usage (from the repo root)::

    .venv/bin/python bench/run.py                       # W1-W5, default sizes (about 4 min)
    .venv/bin/python bench/run.py --records 50000 --workloads W2 --backends memory
    .venv/bin/python bench/run.py --workloads W3,W4,W5   # a subset
    .venv/bin/python bench/run.py --markdown results.md # also write the table as Markdown
    .venv/bin/python bench/run.py --profile --workloads W2 --backends memory  # py-spy, one run

Every measurement runs in a fresh subprocess (``run.py --child SPEC``) so that peak memory
(``ru_maxrss``) and allocator state never mix between measurements. In the child the input is
generated from a fixed seed (the same data for every system), pre-loaded (not timed), then the
timed section processes all of it to completion: for strom, every input offset (including the
repartition topic's, for W2) processed and the final commit done; for Bytewax, ``run_main``
returning after the source's EOF. For W4 the table is loaded into strom's store before the clock
starts (that load is timed separately). Outputs are checked after the clock stops.

See bench/README.md for what each workload does.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_bytewax import run_bytewax
from bench_data import BYTEWAX_WORKLOADS, DEFAULT_GUARANTEES, DEFAULT_RECORDS, WORKLOADS
from bench_strom import run_strom

# ---------------------------------------------------------------------------------------------
# parent: the matrix, subprocesses, the table
# ---------------------------------------------------------------------------------------------


def child_main(spec_json: str) -> None:
    spec = json.loads(spec_json)
    result = run_strom(spec) if spec["system"] == "strom" else run_bytewax(spec)
    print("RESULT " + json.dumps(result), flush=True)


def measure(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(
        f"measurement {spec} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    )


def label(spec: dict[str, Any]) -> str:
    if spec["system"] == "bytewax":
        return f"bytewax ({spec['variant']})" if spec.get("variant") else "bytewax"
    return "strom" if spec["store"] == "rocksDB" else f"strom ({spec['store']})"


def fmt_int(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def fmt_mb(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def fmt_ratio(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.3f}" if x < 0.1 else f"{x:.2f}"


#: Bytewax dataflows per workload (the fastest is the baseline).
BYTEWAX_VARIANTS: dict[str, list[str | None]] = {
    "W1": [None],
    "W2": ["stateful_map", "count_final"],
    "W3": ["fold_window", "fold_window, ordered=False"],
    "W5": ["count_window"],
}


def build_matrix(args: argparse.Namespace) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for workload in args.workloads:
        n = args.records or DEFAULT_RECORDS[workload]
        if "bytewax" in args.baseline and workload in BYTEWAX_WORKLOADS:
            for variant in BYTEWAX_VARIANTS[workload]:
                specs.append(
                    {
                        "system": "bytewax",
                        "workload": workload,
                        "records": n,
                        "variant": variant,
                        "backend": "-",
                        "guarantee": "-",
                        "batch_size": args.bytewax_batch_size,
                    }
                )
        for backend in args.backends:
            for guarantee in args.guarantees or DEFAULT_GUARANTEES[workload]:
                for store in args.stores:
                    specs.append(
                        {
                            "system": "strom",
                            "workload": workload,
                            "records": n,
                            "backend": backend,
                            "guarantee": guarantee,
                            "store": store,
                            "partitions": args.partitions,
                            "commit_interval_ms": args.commit_interval_ms,
                        }
                    )
    return specs


def run_matrix(args: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    specs = build_matrix(args)
    for i, spec in enumerate(specs, 1):
        runs = []
        for _ in range(args.repeat):
            r = measure(spec, args.timeout)
            runs.append(r)
        # the median run by elapsed time (its memory numbers go with it)
        runs.sort(key=lambda r: r["elapsed"])
        r = runs[len(runs) // 2]
        row = {**spec, **r, "label": label(spec), "runs": [x["elapsed"] for x in runs]}
        row["rps"] = r["records"] / r["elapsed"]
        row["wps"] = r["words"] / r["elapsed"] if r["words"] else None
        rows.append(row)
        print(
            f"[{i}/{len(specs)}] {spec['workload']} {row['label']:<22} {spec['backend']:<6} "
            f"{spec['guarantee']:<15} {row['rps']:>10,.0f} rec/s  "
            f"{r['elapsed']:.2f}s  peak {r['peak_rss_mb']:.0f} MB  ok={r['ok']}"
            + (f"  (table load {r['table_load_s']:.2f}s)" if r.get("table_load_s") else ""),
            file=sys.stderr,
            flush=True,
        )
    # ratio to the Bytewax baseline: the fastest Bytewax variant of the same workload
    for row in rows:
        base = [
            b["rps"] for b in rows if b["system"] == "bytewax" and b["workload"] == row["workload"]
        ]
        row["ratio"] = row["rps"] / max(base) if base else None
    return rows


HEADERS = (
    "workload",
    "system",
    "backend",
    "guarantee",
    "records/s",
    "words/s",
    "peak RSS MB",
    "RSS delta MB",
    "log MB",
    "x Bytewax",
    "outputs",
    "runs s",
    "ok",
)


def table_rows(rows: list[dict[str, Any]]) -> list[list[str]]:
    out = []
    for r in rows:
        out.append(
            [
                r["workload"],
                r["label"],
                r["backend"],
                r["guarantee"],
                fmt_int(r["rps"]),
                fmt_int(r["wps"]),
                fmt_mb(r["peak_rss_mb"]),
                fmt_mb(r["peak_rss_mb"] - r["rss_before_mb"]),
                fmt_mb(r["log_mb"]),
                fmt_ratio(r["ratio"]),
                fmt_int(r["outputs"]),
                "/".join(f"{x:.2f}" for x in r["runs"]),
                "yes" if r["ok"] else "NO",
            ]
        )
    return out


def print_table(rows: list[dict[str, Any]]) -> None:
    body = table_rows(rows)
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(HEADERS)]
    right = {4, 5, 6, 7, 8, 9, 10}

    def line(cells: list[str] | tuple[str, ...]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    print(line(HEADERS))
    print("  ".join("-" * w for w in widths))
    for b in body:
        print(line(b))


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def versions() -> str:
    from importlib.metadata import PackageNotFoundError, version

    parts = []
    for pkg in ("strom", "bytewax", "orjson", "rocksdict"):
        try:
            parts.append(f"{pkg} {version(pkg)}")
        except PackageNotFoundError:
            parts.append(f"{pkg} (not installed)")
    import sqlite3

    parts.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(parts)


def write_markdown(path: Path, rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    m = machine()
    lines = [
        f"Run {getattr(args, 'started_at', m['date'])} on {m['cores']} cores ({m['cpu']}), "
        f"Python {m['python']}, "
        f"{m['platform']}; {versions()}; 1-minute load average {args.load[0]:.2f} before the "
        f"run and {args.load[1]:.2f} after it.",
        "",
        f"Command: `python bench/run.py {' '.join(sys.argv[1:])}` "
        f"(median of {args.repeat} run(s) per row).",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|" + "|".join("---:" if 4 <= i <= 10 else "---" for i in range(len(HEADERS))) + "|",
    ]
    for b in table_rows(rows):
        lines.append("| " + " | ".join(b) + " |")
    path.write_text("\n".join(lines) + "\n")


PROFILE_OUT = {
    "py-spy": "bench-profile.collapsed",
    "cprofile": "bench-profile.pstats",
    "pyinstrument": "bench-profile.txt",
}
#: Frames that start the timed section of a strom child (what a py-spy profile is cut down to).
TIMED_FRAMES = ("StreamWorker.run_once ", "StreamWorker.commit ", "drained ")


def summarize_collapsed(path: Path, top: int) -> None:
    """Self and inclusive shares per function from py-spy's collapsed stacks, counting only
    samples inside the timed loop (pre-load, start and checks are left out)."""
    import re
    from collections import Counter

    own: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        start = next((i for i, f in enumerate(frames) if f.startswith(TIMED_FRAMES)), None)
        if start is None or not any(f.startswith("run_strom ") for f in frames[:start]):
            continue
        if any(f.startswith("load_table ") for f in frames[:start]):
            continue  # W4's table load, before the clock starts
        n = int(count)
        names = [re.sub(r":\d+\)$", ")", f) for f in frames[start:]]
        total += n
        own[names[-1]] += n
        for name in set(names):
            incl[name] += n
    if not total:
        sys.exit(f"no samples of the timed loop in {path}")
    print(f"{total} samples in the timed loop\n\nself time (the function's own code):")
    for name, n in own.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")
    print("\ninclusive time (the function and what it calls):")
    for name, n in incl.most_common(top):
        print(f"  {100 * n / total:5.1f}%  {name}")


def profile(args: argparse.Namespace) -> None:
    """Profile the first strom measurement of the selection (one run, in a subprocess)."""
    import pstats

    specs = [s for s in build_matrix(args) if s["system"] == "strom"][:1]
    if not specs:
        sys.exit("--profile needs a strom measurement in the selection")
    spec = specs[0]
    out = Path(args.profile_out or PROFILE_OUT[args.profiler]).resolve()
    what = (
        f"{spec['workload']} strom {spec['backend']} {spec['guarantee']} "
        f"({spec['records']} records)"
    )
    if args.profiler == "py-spy":
        exe = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which(
            "py-spy"
        )
        if exe is None:
            sys.exit("--profiler py-spy needs py-spy (pip install py-spy)")
        cmd = [
            exe,
            "record",
            "--nonblocking",
            "--format",
            "raw",
            "--rate",
            "1000",
            "--output",
            str(out),
            "--",
            sys.executable,
            str(Path(__file__).resolve()),
            "--child",
            json.dumps(spec),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        result = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode or not result:
            sys.exit(f"py-spy run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
        r = json.loads(result[0][len("RESULT ") :])
        print(f"profiled {what}: {r['records'] / r['elapsed']:,.0f} records/s under py-spy")
        summarize_collapsed(out, args.profile_top)
        return
    spec["profile"] = str(out)
    spec["profiler"] = args.profiler
    r = measure(spec, args.timeout)
    print(
        f"profiled {what}: {r['records'] / r['elapsed']:,.0f} records/s "
        f"under {args.profiler}; output in {out}"
    )
    if args.profiler == "pyinstrument":
        print(out.read_text())
        return
    stats = pstats.Stats(str(out))
    stats.sort_stats("tottime").print_stats(args.profile_top)
    stats.sort_stats("cumulative").print_stats(args.profile_top)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child_main(sys.argv[2])
        return

    def csv(choices: tuple[str, ...]) -> Any:
        def parse(s: str) -> list[str]:
            items = [x.strip() for x in s.split(",") if x.strip()]
            bad = [x for x in items if x not in choices]
            if bad:
                raise argparse.ArgumentTypeError(f"unknown {bad}; choose from {choices}")
            return items

        return parse

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--records",
        type=int,
        default=None,
        help=f"input records per measurement (default: {DEFAULT_RECORDS})",
    )
    p.add_argument(
        "--workloads",
        type=csv(WORKLOADS),
        default=list(WORKLOADS),
        help="comma-separated subset of W1,W2,W3,W4,W5 (default: all)",
    )
    p.add_argument("--backends", type=csv(("memory", "local")), default=["memory", "local"])
    p.add_argument(
        "--guarantees",
        type=csv(("at_least_once", "exactly_once_v2")),
        default=None,
        help="processing.guarantee values (default: both for W1 and W2, at_least_once for W3-W5)",
    )
    p.add_argument(
        "--stores",
        type=csv(("rocksDB", "in_memory")),
        default=["rocksDB"],
        help="default.dsl.store for the DSL's stores (W2's count, W3's and W5's window stores, "
        "W4's table; default: rocksDB, strom's default)",
    )
    p.add_argument("--baseline", type=csv(("bytewax", "none")), default=["bytewax"])
    p.add_argument("--bytewax-batch-size", type=int, default=1000)
    p.add_argument("--partitions", type=int, default=1, help="input/output topic partitions")
    p.add_argument(
        "--commit-interval-ms",
        type=int,
        default=None,
        help="override commit.interval.ms (default: strom's, 30000 / 100 under EOS)",
    )
    p.add_argument("--repeat", type=int, default=3, help="runs per row; the median is shown")
    p.add_argument("--timeout", type=float, default=600, help="seconds per measurement")
    p.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    p.add_argument("--json", type=Path, default=None, help="also write raw results as JSON")
    p.add_argument(
        "--profile",
        action="store_true",
        help="profile the first strom measurement of the selection instead of the matrix",
    )
    p.add_argument(
        "--profiler",
        choices=tuple(PROFILE_OUT),
        default="py-spy",
        help="py-spy (sampling, least distortion; default), cprofile or pyinstrument",
    )
    p.add_argument(
        "--profile-out", default=None, help=f"where the profile goes (default: {PROFILE_OUT})"
    )
    p.add_argument("--profile-top", type=int, default=25)
    args = p.parse_args()
    if "none" in args.baseline:
        args.baseline = []

    if args.profile:
        profile(args)
        return
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    args.started_at = time.strftime("%Y-%m-%d %H:%M %Z")
    rows = run_matrix(args)
    args.load = (load_before, os.getloadavg()[0])
    print()
    print_table(rows)
    m = machine()
    print(
        f"\n{m['cores']} cores, {m['cpu']}, Python {m['python']}; {versions()}; "
        f"load average {args.load[0]:.2f} before, {args.load[1]:.2f} after; "
        f"total {time.perf_counter() - started:.0f}s"
    )
    if args.markdown:
        write_markdown(args.markdown, rows, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    if not all(r["ok"] for r in rows):
        sys.exit("some measurement produced wrong output (ok=NO)")


if __name__ == "__main__":
    main()
