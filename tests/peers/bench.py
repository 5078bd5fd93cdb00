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
import resource
import shutil
import subprocess
import sys
import tempfile
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
MARKER = ".ledgersys-bench"

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

    A busy trader on two accounts from January 2018: a row every half hour or
    so, a price that follows BTC's path, phases of accumulating and of
    selling down (60-240 days each), a 3-6 week break from trading every year,
    buys of $40-$20,000 (a fifth of them round amounts, 40% with a fee),
    income of $10-$2,000, sales of $20-$30,000 of one account's balance (half
    of them with a fee; a few sell the whole account).

    The rules of crosscheck's generator that make both peers accept the
    history and agree with Ledgersys are kept (docs/crosscheck.md): every fiat
    number under crosscheck.MAX_FIAT, timestamps at least a minute apart, no
    account selling more than it holds, no transfers and no fees in bitcoin.
    The long-term guard (quirk 1) is applied to the lots a sale actually
    takes under FIFO: a sale stops before the first lot, in universal FIFO
    order, that it would take between 357 and 374 days after that lot was
    acquired (and becomes a buy when that is the very first lot). crosscheck
    keeps a sale clear of every earlier acquisition instead, which cannot be
    done with a row every half hour; for FIFO (the US method timed here) this
    is the same guarantee, for LIFO and HIFO it is not, so those are not
    compared on this history. The yearly breaks are what let the sales of the
    following year reach past a year-old stretch of lots into short-term
    ones.
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
        stats["long_term"] += t - lot[0] > hi
        stats["by_year"].setdefault(t.year, [0, 0])[t - lot[0] > hi] += 1
        lot[1] -= piece
        taken -= piece
        if lot[1] == 0:
            fifo.popleft()
    fee = _fee(rng, fiat) if rng.random() < 0.5 else Decimal(0)
    balance[account] -= sats
    return cc.Row(rid, t, "sell", account, btc, fiat, fee)
