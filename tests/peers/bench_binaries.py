#!/usr/bin/env python3
"""Two Ledgersys binaries side by side on the same history, through the
command line as a user runs it: `import` of a generated 100,000-row generic
CSV into a fresh data directory, then `report summary` (US FIFO universal
and UK), each a child process timed on its own (wall clock and peak memory,
median of --repeat runs). Used to compare the static musl build (mimalloc)
with the glibc build; the history generator and the timing are bench.py's.

    python3 tests/peers/bench_binaries.py target/release/ledgersys dist/ledgersys-x86_64-unknown-linux-musl
"""

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import bench  # noqa: E402
import crosscheck as cc  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("binaries", nargs="+")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        history, _ = bench.generate_bench_history(bench.DEFAULT_SEED, args.rows)
        for currency in ("USD", "GBP"):
            shuffle = random.Random(f"ledgersys-bench/{bench.DEFAULT_SEED}/{args.rows}/csv")
            cc.write_generic_csv(history, work / f"generic-{currency.lower()}.csv", currency, shuffle)
        print(f"{args.rows:,} rows, {args.repeat} runs each, median; load average {os.getloadavg()[0]:.2f}")
        print("| binary | US import | US report | UK import | UK report | peak MB (import / report) |")
        print("|---|---|---|---|---|---|")
        for binary in args.binaries:
            runs = work / Path(binary).name
            runs.mkdir()
            for currency in ("usd", "gbp"):
                (runs / f"generic-{currency}.csv").symlink_to(work / f"generic-{currency}.csv")
            out = bench.bench_ledgersys(binary, runs, args.repeat, bench.DEFAULT_TIMEOUT)
            us, uk = out["us"], out["uk"]
            peak = max(us["import_peak_kib"], uk["import_peak_kib"]) / 1024
            report_peak = max(us["report_peak_kib"], uk["report_peak_kib"]) / 1024
            print(
                f"| {binary} | {us['import']:.2f} s | {us['report']:.3f} s | {uk['import']:.2f} s | "
                f"{uk['report']:.3f} s | {peak:.0f} / {report_peak:.0f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
