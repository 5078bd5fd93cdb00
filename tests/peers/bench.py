#!/usr/bin/env python3
"""Side-by-side speed benchmark: Ledgersys, RP2 1.7.2 (US FIFO) and BittyTax 0.6.0 (UK).

One seeded, realistic history of 100,000 rows (buys, sells, income on two
accounts, 2018-2024) goes through

* Ledgersys: `import` of the generic CSV into a fresh data directory, then
  `report summary --format json` (US FIFO universal in USD, UK in GBP), each
  command a separate child process;
* RP2's engine in a worker process: reading the .ods input (`open_ods` +
  `parse_ods`) and `compute_tax` timed separately, no report files written;
* BittyTax's engine in a worker process: reading the records CSV, the audit,
  and the tax computation (transaction history, same-day / bed-and-breakfast /
  Section 104 matching, integrity check, income, yearly totals) timed
  separately, no report printed.

Each is timed on its own (nothing else of the benchmark runs meanwhile):
wall clock, and peak memory of its process (`wait4`'s `ru_maxrss`). The
yearly totals are then compared exactly as tests/peers/crosscheck.py does, so
the timings are of the same work; the input converters, the peer workers and
the comparison are crosscheck.py's own. Output: a markdown table.

Run it with tests/peers/bench.sh (which sets up the peers' virtualenv like
run.sh); docs/crosscheck.md, "Speed benchmark", describes it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crosscheck as cc  # noqa: E402  (the converters, workers and comparisons)

UTC = cc.UTC
CENT = cc.CENT
SAT = cc.SAT
DEFAULT_SEED = 20240406
DEFAULT_ROWS = 100_000
DEFAULT_TIMEOUT = 900  # seconds, per timed step

# A price path loosely following BTC/USD by month (log-linear in between, plus
# a mean-reverting wobble per row), clamped to crosscheck's 3,000..69,000 so
# that, with every row's fiat value under crosscheck.MAX_FIAT, RP2's float
# round trip stays exact.
PRICE_ANCHORS = [
    ((2018, 1), 13500), ((2018, 2), 9000), ((2018, 4), 7000), ((2018, 5), 9200), ((2018, 7), 6400),
    ((2018, 11), 6300), ((2018, 12), 3800), ((2019, 4), 4100), ((2019, 6), 8500), ((2019, 7), 11000),
    ((2019, 10), 8300), ((2020, 1), 7200), ((2020, 2), 9400), ((2020, 3), 5800), ((2020, 5), 8800),
    ((2020, 8), 11300), ((2020, 11), 13800), ((2021, 1), 29000), ((2021, 2), 33000), ((2021, 4), 58800),
    ((2021, 6), 36700), ((2021, 8), 41500), ((2021, 10), 43800), ((2021, 11), 61300), ((2022, 1), 47000),
    ((2022, 3), 43200), ((2022, 5), 38500), ((2022, 6), 31800), ((2022, 7), 19900), ((2022, 11), 20500),
    ((2022, 12), 17000), ((2023, 1), 16600), ((2023, 4), 28500), ((2023, 7), 30500), ((2023, 10), 27000),
    ((2023, 12), 37700), ((2024, 1), 42300), ((2024, 3), 61000), ((2024, 4), 69000), ((2024, 6), 67500),
    ((2024, 8), 64600), ((2024, 10), 63300), ((2024, 11), 69000), ((2025, 1), 69000),
]
# phases of the trader: (buy, income) probabilities per row (the rest are
# sales), sale sizes in dollars, phase lengths in days
P_ACCUMULATE, P_DISTRIBUTE = (0.55, 0.15), (0.22, 0.10)
SELL_ACCUMULATE, SELL_DISTRIBUTE = (10, 1500), (0.02, 0.3)
BUY_SIZE, INCOME_SIZE = (20, 5000), (5, 500)
ACCUMULATE_DAYS, DISTRIBUTE_DAYS = (240, 540), (90, 240)
_ANCHORS = [(datetime(y, m, 1, tzinfo=UTC).timestamp(), math.log(p)) for (y, m), p in PRICE_ANCHORS]


def _anchor_price(t: datetime) -> float:
    x = t.timestamp()
    for (x0, y0), (x1, y1) in zip(_ANCHORS, _ANCHORS[1:]):
        if x0 <= x < x1:
            return math.exp(y0 + (y1 - y0) * (x - x0) / (x1 - x0))
    raise ValueError(f"no price anchor around {t}")


def _log_uniform(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(math.exp(rng.uniform(math.log(low), math.log(high))), 2)))


def _fee(rng: random.Random, fiat: Decimal) -> Decimal:
    fee = max(CENT, (fiat * Decimal(str(round(rng.uniform(0.001, 0.02), 4)))).quantize(CENT))
    return fee if fee < fiat else Decimal(0)


def generate_bench_history(seed: int, n_rows: int) -> tuple:
    """One seeded history of exactly n_rows rows; returns (History, generator stats).

    A busy trader on two accounts from January 2018 (100,000 rows reach
    October 2024): a row every half hour or so, a price that loosely follows
    BTC's (PRICE_ANCHORS), a 3-6 week break from trading every year, and
    alternating phases of accumulating (240-540 days: mostly buys, small
    sales of $10-$1,500) and of selling down (90-240 days: mostly sales of
    2-30% of an account's balance, 5% of them the whole balance). Buys are
    $20-$5,000 (a fifth of them round amounts, 40% with a fee), income
    $5-$500, half of the sales carry a fee, and a sale under 10,000 satoshis
    becomes a buy.

    The rules of crosscheck's generator that make both peers accept the
    history and agree with Ledgersys are kept (docs/crosscheck.md): every fiat
    number under crosscheck.MAX_FIAT, timestamps at least a minute apart, no
    account selling more than it holds, no transfers and no fees in bitcoin.
    The long-term guard (quirk 1) is applied to the lots a sale actually
    takes under FIFO: a sale stops before the first lot, in universal FIFO
    order, that it would take between 357 and 374 days after that lot was
    acquired (and becomes a buy when that is the very first lot) -- a trader
    waiting for the lot to go long-term. crosscheck keeps a sale clear of
    every earlier acquisition instead, which cannot be done with a row every
    half hour; for FIFO (the US method timed here) this is the same
    guarantee, for LIFO and HIFO it is not, so those are not compared on this
    history (HIFO would also need no income and whole lots only, quirk 4).
    """
    rng = random.Random(f"ledgersys-bench/{seed}/{n_rows}")
    accounts = ["exchange", "cold"]
    start = datetime(2018, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 6), seconds=rng.randint(0, 86399))
    end = cc.LAST - timedelta(days=1)

    breaks = []  # (first, last) instants with no rows
    for year in range(start.year, end.year + 1):
        b0 = datetime(year, 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(20, 300), seconds=rng.randint(0, 86399))
        breaks.append((b0, b0 + timedelta(days=rng.randint(21, 42))))
    trading_seconds = (end - start).total_seconds() - sum((b1 - b0).total_seconds() for b0, b1 in breaks)
    mean_gap = trading_seconds / n_rows * 0.97

    accumulating = True
    regime_end = start + timedelta(days=rng.randint(*ACCUMULATE_DAYS))
    wobble = 0.0
    balance = {a: 0 for a in accounts}  # satoshis
    fifo: deque = deque()  # universal FIFO queue: [acquired, satoshis left, satoshis bought]
    rows: list = []
    stats = {"sell_wanted": 0, "sell_cut_short": 0, "sell_became_buy": 0, "pieces": 0, "partial": 0, "long_term": 0, "by_year": {}}
    t = start

    while len(rows) < n_rows:
        t = t + timedelta(seconds=max(60, int(rng.expovariate(1 / mean_gap))))
        for b0, b1 in breaks:
            if b0 <= t < b1:
                t = b1 + timedelta(seconds=rng.randint(0, 3600))
        if t > end:
            raise RuntimeError(f"only {len(rows)} rows fit before {end}; lower the row density factor")
        if t >= regime_end:
            accumulating = not accumulating
            regime_end = t + timedelta(days=rng.randint(*(ACCUMULATE_DAYS if accumulating else DISTRIBUTE_DAYS)))
        wobble = 0.995 * wobble + rng.gauss(0, 0.003)
        price = Decimal(min(max(_anchor_price(t) * math.exp(wobble), 3000), 69000)).quantize(CENT)
        rid = f"b{len(rows) + 1:06d}"

        r = rng.random()
        p_buy, p_income = P_ACCUMULATE if accumulating else P_DISTRIBUTE
        kind = "buy" if r < p_buy else ("income" if r < p_buy + p_income else "sell")
        if kind == "sell":
            stats["sell_wanted"] += 1
            row = _bench_sell(rng, rid, t, price, accumulating, balance, fifo, stats)
            if row is not None:
                rows.append(row)
                continue
            stats["sell_became_buy"] += 1
            kind = "buy"

        account = rng.choice(accounts)
        for _ in range(40):
            if kind == "buy":
                btc = (_log_uniform(rng, *BUY_SIZE) / price).quantize(SAT, ROUND_DOWN)
                if rng.random() < 0.2:
                    btc = rng.choice(cc.ROUND_AMOUNTS)
            else:
                btc = (_log_uniform(rng, *INCOME_SIZE) / price).quantize(SAT, ROUND_DOWN)
            btc = max(btc, Decimal("0.00010000"))
            fiat = (btc * price).quantize(CENT, ROUND_HALF_EVEN)
            if 0 < fiat < cc.MAX_FIAT:
                break
        else:
            raise RuntimeError("could not draw an acquisition")
        fee = _fee(rng, fiat) if kind == "buy" and rng.random() < 0.4 else Decimal(0)
        rows.append(cc.Row(rid, t, kind, account, btc, fiat, fee))
        sats = int(btc / SAT)
        balance[account] += sats
        fifo.append([t, sats, sats])

    return cc.History(0, "bench", "general", accounts, rows), stats


def _bench_sell(rng, rid, t, price, accumulating, balance, fifo, stats):
    funded = [a for a in balance if balance[a] > 0]
    if not funded:
        return None
    account = rng.choice(funded)
    if accumulating:
        wanted = int(_log_uniform(rng, *SELL_ACCUMULATE) / price / SAT)
    elif rng.random() < 0.05:
        wanted = balance[account]
    else:
        wanted = int(balance[account] * rng.uniform(*SELL_DISTRIBUTE))
    wanted = min(wanted, balance[account], int((cc.MAX_FIAT - 1) / price / SAT))
    # universal FIFO: stop before a lot the sale would take near its anniversary
    lo, hi = (timedelta(days=d) for d in cc.LT_GUARD_DAYS)
    sats = 0
    for acquired, left, _ in fifo:
        if sats >= wanted:
            break
        if lo < t - acquired < hi:
            break
        sats += min(left, wanted - sats)
    if sats < wanted:
        stats["sell_cut_short"] += 1
    btc = Decimal(sats) * SAT
    fiat = (btc * price).quantize(CENT, ROUND_HALF_EVEN)
    if sats < 10_000 or fiat < 1:
        return None
    taken = sats
    while taken:
        lot = fifo[0]
        piece = min(lot[1], taken)
        stats["pieces"] += 1
        stats["partial"] += piece != lot[2]
        stats["long_term"] += t - lot[0] >= hi
        stats["by_year"].setdefault(t.year, [0, 0])[t - lot[0] >= hi] += 1
        lot[1] -= piece
        taken -= piece
        if lot[1] == 0:
            fifo.popleft()
    fee = _fee(rng, fiat) if rng.random() < 0.5 else Decimal(0)
    balance[account] -= sats
    return cc.Row(rid, t, "sell", account, btc, fiat, fee)


# --------------------------------------------------------------------------
# measuring


GNU_TIME = "/usr/bin/time"


def run_measured(argv: list, *, env: dict, cwd=None, timeout: float, stdout: Path, stderr: Path) -> dict:
    """Run one child process: its wall clock and its own peak RSS.

    The peak comes from GNU time (`/usr/bin/time -f %M`), which forks the
    command from its own small process: a child forked straight from this
    Python process would carry this process's memory in its high-water mark
    until it execs (Linux keeps the larger of the two). Without GNU time,
    os.wait4's figure is used and can be too high by this process's size.
    """
    timefile = stdout.with_suffix(".time")
    gnu_time = os.access(GNU_TIME, os.X_OK)
    command = [GNU_TIME, "-o", str(timefile), "-f", "%M"] + argv if gnu_time else argv
    with stdout.open("wb") as out, stderr.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd, start_new_session=True)
        killed = []

        def kill():
            killed.append(True)
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    peak = usage.ru_maxrss
    if gnu_time and not killed:
        peak = int(timefile.read_text(encoding="utf-8").split()[-1])
    return {"rc": proc.returncode, "seconds": seconds, "peak_kib": peak, "timed_out": bool(killed), "timeout": timeout, "gnu_time": gnu_time}


def _mb(kib: int) -> float:
    return kib * 1024 / 1e6


def ledgersys_step(binary: str, args: list, work: Path, name: str, timeout: float) -> dict:
    env = dict(cc.clean_env(), LEDGERSYS_TIMINGS="1")
    m = run_measured([binary] + args, env=env, timeout=timeout, stdout=work / f"{name}.out", stderr=work / f"{name}.err")
    m["stdout"] = work / f"{name}.out"
    # `report` says how long loading the books and computing took.
    found = re.search(r"timings: load ([0-9.]+) ms .*?, compute ([0-9.]+) ms", (work / f"{name}.err").read_text(encoding="utf-8", errors="replace"))
    if found:
        m["load"], m["compute"] = float(found.group(1)) / 1000, float(found.group(2)) / 1000
    if m["timed_out"] or m["rc"] not in (0, 3):
        tail = (work / f"{name}.err").read_text(encoding="utf-8", errors="replace")[-2000:]
        how = "timed out" if m["timed_out"] else f"exited {m['rc']}"
        raise RuntimeError(f"ledgersys {' '.join(args[2:])} {how}: {tail}")
    return m


def ledgersys_years(stdout: Path, jurisdiction: str, currency: str) -> dict:
    """The yearly figures of a `report summary --format json`, as crosscheck.run_ledgersys reads them."""
    report = json.loads(stdout.read_text(encoding="utf-8"))
    if not report.get("complete"):
        raise RuntimeError(f"ledgersys says the {jurisdiction} report is incomplete")
    if report.get("currency") != currency:
        raise RuntimeError(f"ledgersys reported in {report.get('currency')}, expected {currency}")
    figures = cc.US_FIGURES if jurisdiction == "us" else cc.UK_FIGURES
    return {y["year"]: {f: y[f] for f in figures} for y in report["years"]}


def bench_ledgersys(binary: str, work: Path, repeat: int, timeout: float) -> dict:
    """Per jurisdiction: `import` into a fresh data directory, then the report; `repeat` times, median kept."""
    out = {}
    for jurisdiction, currency, extra in (("us", "USD", ["--method", "fifo", "--basis", "universal"]), ("uk", "GBP", [])):
        runs = []
        for i in range(repeat):
            data_dir = work / f"ledgersys-{jurisdiction}-{i + 1}"
            imp = ledgersys_step(binary, ["--data-dir", str(data_dir), "import", str(work / f"generic-{currency.lower()}.csv")], work, f"ledgersys-{jurisdiction}-import-{i + 1}", timeout)
            rep = ledgersys_step(
                binary,
                ["--data-dir", str(data_dir), "report", "summary", "--jurisdiction", jurisdiction] + extra + ["--format", "json"],
                work,
                f"ledgersys-{jurisdiction}-report-{i + 1}",
                timeout,
            )
            if rep["rc"] != 0:
                raise RuntimeError(f"ledgersys {jurisdiction} report exited {rep['rc']} (incomplete)")
            runs.append((imp, rep))
            if i:
                shutil.rmtree(data_dir, ignore_errors=True)

        def median(values):
            values = sorted(values)
            return values[len(values) // 2]

        out[jurisdiction] = {
            "import": median(r[0]["seconds"] for r in runs),
            "report": median(r[1]["seconds"] for r in runs),
            "load": median(r[1].get("load", 0.0) for r in runs),
            "compute": median(r[1].get("compute", 0.0) for r in runs),
            "import_all": [r[0]["seconds"] for r in runs],
            "report_all": [r[1]["seconds"] for r in runs],
            "import_peak_kib": max(r[0]["peak_kib"] for r in runs),
            "report_peak_kib": max(r[1]["peak_kib"] for r in runs),
            "years": ledgersys_years(runs[0][1]["stdout"], jurisdiction, currency),
        }
    return out


def run_peer(kind: str, jobs: list, work: Path, env: dict, timeout: float) -> dict:
    """One peer worker (this script with --worker) in its own process; returns its results, step stamps and peak RSS."""
    jobs_file = work / f"{kind}-jobs.json"
    jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
    out = work / f"{kind}-results.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--jobs", str(jobs_file), "--out", str(out)]
    m = run_measured(cmd, env=env, cwd=work, timeout=timeout, stdout=work / f"{kind}-worker.log", stderr=work / f"{kind}-worker.err")
    if m["timed_out"]:
        m["error"] = f"{kind} did not finish within {timeout:.0f} s (killed)"
    elif m["rc"] != 0 or not out.exists():
        tail = (work / f"{kind}-worker.err").read_text(encoding="utf-8", errors="replace")[-3000:]
        m["error"] = f"{kind} worker exited {m['rc']}:\n{tail}"
    else:
        data = json.loads(out.read_text(encoding="utf-8"))
        m.update(data)
    return m


def worker_entry(args) -> int:
    jobs = json.loads(Path(args.jobs).read_text(encoding="utf-8"))
    scratch = Path(args.out).parent / f"{args.worker}-scratch"
    marks: list = []
    if args.worker == "rp2":
        result = cc.worker_rp2(jobs, scratch, marks=marks)
    else:
        result = cc.worker_bittytax(jobs, scratch, marks=marks)
    Path(args.out).write_text(json.dumps({"result": result, "marks": marks}, indent=1), encoding="utf-8")
    return 0


def phases(marks: list) -> dict:
    """Seconds per step of a worker, from its stamps (see crosscheck.worker_rp2 / worker_bittytax)."""
    got: dict = {"peak_kib": {}}
    previous = None
    for label, when, peak in marks:
        step = label.split("/")[-1]
        got["peak_kib"][step] = peak
        if previous is not None:
            got[step] = got.get(step, 0.0) + when - previous
        previous = when
    return got


# --------------------------------------------------------------------------
# main


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledgersys", help="path to the ledgersys binary (use the release build)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help=f"rows in the history (default {DEFAULT_ROWS:,})")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each Ledgersys step, the median is shown (default 3; the peers run once)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help=f"seconds allowed to each timed step (default {DEFAULT_TIMEOUT})")
    parser.add_argument("--workdir", help="keep every input and output here (default: a temporary directory, removed when all agreed)")
    parser.add_argument("--worker", choices=("rp2", "bittytax"), help=argparse.SUPPRESS)
    parser.add_argument("--jobs", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_entry(args)
    if not args.ledgersys:
        parser.error("--ledgersys is required")
    binary = shutil.which(args.ledgersys) or args.ledgersys
    if not os.access(binary, os.X_OK):
        parser.error(f"not an executable: {args.ledgersys}")
    binary = str(Path(binary).resolve())
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    started = time.monotonic()
    load_before = os.getloadavg()
    work, temporary = cc.prepare_workdir(args.workdir)
    (work / cc.MARKER).write_text("made by tests/peers/bench.py\n", encoding="utf-8")
    print(f"ledgersys {binary} (modified {datetime.fromtimestamp(os.path.getmtime(binary)):%Y-%m-%d %H:%M})")
    print(f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} cores, load average {load_before[0]:.2f} at the start; files in {work}")

    # the history and every tool's input (not timed)
    t0 = time.perf_counter()
    h, gen = generate_bench_history(args.seed, args.rows)
    (work / "history.json").write_text(json.dumps(cc.history_to_json(h)), encoding="utf-8")
    shuffle = random.Random(f"ledgersys-bench/{args.seed}/{args.rows}/csv")
    cc.write_generic_csv(h, work / "generic-usd.csv", "USD", shuffle)
    shuffle = random.Random(f"ledgersys-bench/{args.seed}/{args.rows}/csv")
    cc.write_generic_csv(h, work / "generic-gbp.csv", "GBP", shuffle)
    cc.write_rp2_inputs(h, work / "rp2")
    cc.write_bittytax_inputs(h, work / "bittytax")
    home = work / "bittytax-home"
    cc.prepare_bittytax_home(home)
    print(f"seed {args.seed}: {len(h.rows):,} rows from {h.rows[0].ts:%Y-%m-%d} to {h.rows[-1].ts:%Y-%m-%d}; inputs written in {time.perf_counter() - t0:.1f}s (not timed)")
    print(
        f"generator: {gen['sell_cut_short']} sales stopped short of a lot near its anniversary, {gen['sell_became_buy']} became buys; "
        "FIFO lot pieces short/long-term by year: " + ", ".join(f"{y} {s}/{lt}" for y, (s, lt) in sorted(gen["by_year"].items()))
    )
    sys.stdout.flush()

    # each tool on its own, one after the other
    problems: list = []
    try:
        ours = bench_ledgersys(binary, work, args.repeat, args.timeout)
    except Exception as e:  # noqa: BLE001
        print(f"ledgersys failed: {e}")
        print(f"inputs and outputs kept in {work}")
        return 1
    print(f"ledgersys done ({time.monotonic() - started:.0f}s so far)")
    sys.stdout.flush()
    history = cc.history_to_json(h)
    rp2 = run_peer("rp2", [{"history": history, "dir": str(work / "rp2"), "methods": ["fifo"]}], work, cc.clean_env(), args.timeout)
    print(f"rp2 done ({time.monotonic() - started:.0f}s so far)")
    sys.stdout.flush()
    bt = run_peer("bittytax", [{"history": history, "dir": str(work / "bittytax")}], work, dict(cc.clean_env(), HOME=str(home)), args.timeout)
    print(f"bittytax done ({time.monotonic() - started:.0f}s so far)")
    load_after = os.getloadavg()

    # the totals must agree, so that the times are of the same work
    peer: dict = {h.key: {}}
    stats: dict = {h.key: {}}
    compared = {}
    for name, m, check, ours_years, compare in (
        ("RP2", rp2, "fifo", ours["us"]["years"], cc.compare_us),
        ("BittyTax", bt, "uk", ours["uk"]["years"], cc.compare_uk),
    ):
        if "error" in m:
            problems.append(f"{name}: {m['error']}")
            compared[name] = None
            continue
        got = m["result"][h.key]
        stats[h.key].update(got.get("stats", {}))
        years = got[check]
        if "error" in years:
            problems.append(f"{name}: {years['error']}")
            compared[name] = None
            continue
        peer[h.key]["uk" if check == "uk" else f"us-{check}"] = years
        diffs = compare(ours_years, years)
        compared[name] = (len(set(ours_years) | set(years)), diffs)
        problems += [f"{name} {d}" for d in diffs]

    rows_label = f"{len(h.rows):,}"
    lines = [
        "| rows | tool | what is timed | seconds | peak MB | peer ÷ Ledgersys report | peer ÷ Ledgersys import + report |",
        "|---|---|---|---:|---:|---:|---:|",
    ]

    def ratio(peer_s, base):
        if base <= 0:
            return "-"
        r = peer_s / base
        return f"{r:,.0f}×" if r >= 10 else f"{r:.1f}×"

    def peer_rows(name, m, label_engine, engine_steps, label_all, all_steps, j):
        base_report = ours[j]["report"]
        base_all = ours[j]["import"] + ours[j]["report"]
        if "error" in m:
            what = "timed out" if m.get("timed_out") else "failed"
            lines.append(f"| {rows_label} | {name} | {label_all} | {what} after {m['seconds']:.0f} | {_mb(m['peak_kib']):,.0f} | - | - |")
            return
        ph = phases(m["marks"])
        engine = sum(ph.get(s, 0.0) for s in engine_steps)
        total = sum(ph.get(s, 0.0) for s in all_steps)
        peak = _mb(m["peak_kib"])
        lines.append(f"| {rows_label} | {name} | {label_engine} | {engine:.2f} | {peak:,.0f} | {ratio(engine, base_report)} | {ratio(engine, base_all)} |")
        if ours[j].get("compute"):
            lines.append(f"| {rows_label} | {name} ÷ Ledgersys, engine to engine | {label_engine} ÷ Ledgersys computing from loaded books | | | {ratio(engine, ours[j]['compute'])} | |")
        lines.append(f"| {rows_label} | {name} | {label_all} | {total:.2f} | {peak:,.0f} | {ratio(total, base_report)} | {ratio(total, base_all)} |")

    for j, label in (("us", "US FIFO, universal, USD"), ("uk", "UK, GBP")):
        o = ours[j]
        report_args = "--jurisdiction us --method fifo --basis universal" if j == "us" else "--jurisdiction uk"
        lines.append(f"| {rows_label} | Ledgersys ({label}) | `import` generic CSV into a new data directory | {o['import']:.2f} | {_mb(o['import_peak_kib']):,.0f} | | |")
        lines.append(f"| {rows_label} | Ledgersys ({label}) | `report summary {report_args} --format json` | {o['report']:.2f} | {_mb(o['report_peak_kib']):,.0f} | | |")
        lines.append(f"| {rows_label} | Ledgersys ({label}) | import + report | {o['import'] + o['report']:.2f} | {_mb(max(o['import_peak_kib'], o['report_peak_kib'])):,.0f} | | |")
        lines.append(f"| {rows_label} | Ledgersys ({label}) | of the report: loading the books from SQLite | {o['load']:.3f} | | | |")
        lines.append(f"| {rows_label} | Ledgersys ({label}) | of the report: computing it from the loaded books (engine, totals, input hash, JSON) | {o['compute']:.3f} | | | |")
        if j == "us":
            peer_rows("RP2 1.7.2 (US FIFO)", rp2, "`compute_tax` (engine only)", ["computed"], "read .ods (`open_ods` + `parse_ods`) + `compute_tax`", ["read", "computed"], j)
        else:
            peer_rows(
                "BittyTax 0.6.0 (UK)",
                bt,
                "tax computation: history, matching, Section 104, integrity check, income, yearly totals",
                ["computed", "calculated"],
                "read records CSV + audit + tax computation",
                ["imported", "audited", "computed", "calculated"],
                j,
            )

    print()
    print("\n".join(lines))
    print()
    baseline = {name: _mb(phases(m["marks"])["peak_kib"].get("start", 0)) for name, m in (("RP2", rp2), ("BittyTax", bt)) if "marks" in m}
    print(
        "Ledgersys: each step a separate process, median of "
        f"{args.repeat} run{'s' if args.repeat > 1 else ''}; import = parse the CSV and write SQLite; report = read the database and compute. "
        "RP2: `compute_tax` with the FIFO plugin (lot pairing, gains, yearly sums); no report written. "
        "BittyTax: the steps of its command line up to its yearly totals, no report printed. "
        "Peers' peak MB: their worker process, which also holds Python, the peer's modules and the history the harness checks the peer's input against"
        + (" (" + ", ".join(f"{k} {v:,.0f} MB" for k, v in baseline.items()) + " before reading any input)" if baseline else "")
        + "; the peers ran once, each alone."
    )
    print()
    for j in ("us", "uk"):
        o = ours[j]
        print(
            f"ledgersys {j}: import runs {', '.join(f'{s:.2f}' for s in o['import_all'])} s; "
            f"report runs {', '.join(f'{s:.3f}' for s in o['report_all'])} s (median shown)"
        )
    for name, m in (("rp2", rp2), ("bittytax", bt)):
        if "marks" not in m:
            continue
        ph = phases(m["marks"])
        steps = ", ".join(f"{k} {v:.2f}s" for k, v in ph.items() if k != "peak_kib")
        peaks = ", ".join(f"{k} {_mb(v):,.0f}" for k, v in ph["peak_kib"].items())
        print(f"{name} worker: whole process {m['seconds']:.1f}s, peak {_mb(m['peak_kib']):,.0f} MB; steps: {steps}")
        print(f"  peak MB so far at each stamp: {peaks}")
    print(f"load average {load_before[0]:.2f} at the start, {load_after[0]:.2f} at the end (2 cores; other work on the machine slows every tool)")
    print()
    if any(stats[h.key].values()):
        print(cc.coverage([h], stats, peer))
    for name, c in compared.items():
        if c is not None:
            print(f"totals {'US FIFO' if name == 'RP2' else 'UK'}: Ledgersys and {name} compared over {c[0]} years: {'agree' if not c[1] else f'{len(c[1])} figures differ'}")
    for p in problems:
        print(p)
    print()
    print(f"took {time.monotonic() - started:.1f}s")
    if temporary and not problems:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"inputs and outputs kept in {work}")
    print("totals agree" if not problems else f"{len(problems)} problems: the timings are not of equal work")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
