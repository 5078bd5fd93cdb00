#!/usr/bin/env python3
"""Cross-check Ledgersys's yearly tax totals against two independent peer tools.

Random but seeded Bitcoin histories (buys, sells, income; one or two accounts;
2018-2024) go through

* Ledgersys (`import` of the generic CSV, then `report summary --format json`):
  US FIFO, LIFO and HIFO with universal basis, and the UK share-matching rules;
* RP2 1.7.2 (US, the same three methods), fed an .ods input file and an .ini
  configuration written by this script;
* BittyTax 0.6.0 (UK individual rules), fed a "BittyTax records" CSV.

and the per-year totals must agree to the cent: US proceeds, cost basis,
short-term gain, long-term gain and income; UK (per tax year) proceeds,
allowable costs, net gain and income. One comparison is one history under one
method or jurisdiction; the last line printed is `N passed, M failed` and the
exit status is non-zero when anything failed.

Run it with the Python of the peers' virtualenv (tests/peers/run.sh does that).
docs/crosscheck.md explains every difference between the tools that the
generator steers around, and why.

The peers run in worker processes of this same script (`--worker rp2|bittytax`)
so that their global state (decimal contexts, log files, a config file in
$HOME) stays out of the main process and out of each other's way. A worker
drives the peer through the same functions its command line calls, which gives
exact decimal totals instead of text or floats; once per run the peers' real
command lines are also run on the first history and must print the same totals
(`--no-cli-check` skips that).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from datetime import time as clock
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from pathlib import Path
from zoneinfo import ZoneInfo

UTC = timezone.utc
LONDON = ZoneInfo("Europe/London")
CENT = Decimal("0.01")
SAT = Decimal("0.00000001")

US_METHODS = ("fifo", "lifo", "hifo")
US_FIGURES = ("proceeds", "cost_basis", "short_term_gain", "long_term_gain", "income")
UK_FIGURES = ("proceeds", "allowable_costs", "gain", "income")
CHECKS = tuple(f"us-{m}" for m in US_METHODS) + ("uk",)

# RP2 reads numeric cells as binary floats and turns them back into decimals
# with 11 fractional digits; below 2**16 that round trip is exact for cents and
# satoshis, so no single fiat number in a history reaches this.
MAX_FIAT = Decimal("60000")
# RP2 calls a holding long-term when the timestamps are >= 365 days apart,
# Ledgersys (and the IRS) when the disposal date is after the anniversary
# date. No acquisition-to-sale gap may come near a year.
LT_GUARD_DAYS = (357.0, 374.0)
FIRST = datetime(2018, 1, 1, tzinfo=UTC)
LAST = datetime(2024, 12, 31, 12, 0, tzinfo=UTC)
ROUND_AMOUNTS = tuple(Decimal(x) for x in ("0.01", "0.02", "0.05", "0.1", "0.125", "0.25", "0.5", "1"))

MARKER = ".ledgersys-crosscheck"
DEFAULT_SEED = 20240406
DEFAULT_HISTORIES = 150

NETWORK_GUARD = """
import socket as _socket
def _crosscheck_no_network(*args, **kwargs):
    raise RuntimeError("crosscheck: a peer tool tried to use the network")
_socket.socket.connect = _crosscheck_no_network
_socket.socket.connect_ex = _crosscheck_no_network
_socket.create_connection = _crosscheck_no_network
_socket.getaddrinfo = _crosscheck_no_network
"""


# --------------------------------------------------------------------------
# money


def to_cents(value) -> Decimal:
    """Round a peer's (nearly) exact total once, half-even, to cents.

    The peers divide with 30-31 significant digits, so a total that is exactly
    on a half cent can come out a hair below or above it. Snapping to 20
    decimals first removes that last-digit noise; then the single half-even
    rounding matches what Ledgersys does with its exact totals.
    """
    with localcontext() as ctx:
        ctx.prec = 80
        snapped = Decimal(value).quantize(Decimal("1e-20"), ROUND_HALF_EVEN)
        return snapped.quantize(CENT, ROUND_HALF_EVEN)


def money(value) -> str:
    return f"{Decimal(value):.2f}"


# --------------------------------------------------------------------------
# histories


@dataclass
class Row:
    rid: str
    ts: datetime  # aware, UTC
    kind: str  # buy | sell | income
    account: str
    btc: Decimal  # 8 decimals
    fiat: Decimal  # generic CSV fiat_value: value of `btc`, fees excluded
    fee: Decimal  # generic CSV fee_fiat, 0 when none

    def to_json(self) -> dict:
        return {
            "id": self.rid,
            "timestamp": self.ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "type": self.kind,
            "account": self.account,
            "btc": str(self.btc),
            "fiat_value": str(self.fiat),
            "fee_fiat": str(self.fee),
        }


@dataclass
class History:
    index: int
    key: str
    flavour: str  # "general" or "wholelot"
    accounts: list
    rows: list

    @property
    def checks(self) -> tuple:
        # RP2's HIFO (and only HIFO) needs the whole-lot shape, see docs.
        if self.flavour == "wholelot":
            return CHECKS
        return ("us-fifo", "us-lifo", "uk")

    @property
    def us_methods(self) -> tuple:
        return tuple(c[3:] for c in self.checks if c.startswith("us-"))


def _log_uniform(rng: random.Random, low: float, high: float) -> Decimal:
    return Decimal(str(round(math.exp(rng.uniform(math.log(low), math.log(high))), 2)))


def _next_time(rng: random.Random, t: datetime) -> datetime:
    """The next row's time: mostly ordinary gaps, with deliberate edges."""
    r = rng.random()
    if r < 0.06:
        # 5 April late evening UTC: 6 April in London while BST is on, so the
        # UK tax year of the row depends on using the London date.
        year = t.year if (t.month, t.day) < (4, 5) else t.year + 1
        candidate = datetime(year, 4, 5, rng.choice((21, 22, 23)), rng.randint(0, 59), rng.randint(0, 59), tzinfo=UTC)
    elif r < 0.10:
        # New Year's Eve late evening UTC (US calendar year edge)
        candidate = datetime(t.year, 12, 31, 23, rng.randint(0, 59), rng.randint(0, 59), tzinfo=UTC)
        if candidate <= t:
            candidate = candidate.replace(year=t.year + 1)
    elif r < 0.30:
        # minutes or hours later: same day (or the next, around midnight)
        candidate = t + timedelta(minutes=rng.randint(1, 720), seconds=rng.randint(0, 59))
    elif r < 0.40:
        # exactly 29, 30 or 31 London days later: the edge of the 30-day rule
        day = t.astimezone(LONDON).date() + timedelta(days=rng.choice((29, 30, 30, 31)))
        local = datetime.combine(day, clock(rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)), tzinfo=LONDON)
        candidate = local.astimezone(UTC)
    elif r < 0.62:
        candidate = t + timedelta(days=rng.randint(1, 28), seconds=rng.randint(0, 86399))
    else:
        candidate = t + timedelta(days=rng.randint(32, 160), seconds=rng.randint(0, 86399))
    earliest = t + timedelta(minutes=1)
    if candidate < earliest:
        candidate = earliest + timedelta(seconds=rng.randint(0, 3600))
    return candidate.replace(microsecond=0)


def _clear_of_anniversaries(t: datetime, acquisitions: list) -> datetime:
    step = timedelta(days=LT_GUARD_DAYS[1] - LT_GUARD_DAYS[0] + 1)
    for _ in range(100):
        near = False
        for acquired in acquisitions:
            days = (t - acquired).total_seconds() / 86400
            if LT_GUARD_DAYS[0] < days < LT_GUARD_DAYS[1]:
                near = True
                break
        if not near:
            return t
        t += step
    raise RuntimeError("could not place a sale clear of every acquisition's anniversary")


def generate_history(seed: int, index: int) -> History:
    """One seeded random history.

    Even indexes are "general" (income, fees on buys and sells, sales of any
    size); odd ones are "wholelot": buys without fees and no income, distinct
    prices per coin, and every sale takes exactly the one to three whole lots
    that HIFO picks next, so HIFO never splits a lot. RP2's released HIFO
    mishandles partly used lots and loses a lot from its queue at each income
    event; docs/crosscheck.md has the details. Both shapes go through FIFO,
    LIFO and the UK rules; only "wholelot" histories go through HIFO.
    """
    rng = random.Random(f"ledgersys-crosscheck/{seed}/{index}")
    flavour = "wholelot" if index % 2 else "general"
    key = f"h{index:03d}"
    accounts = ["exchange", "cold"][: rng.choice((1, 2))]
    target_rows = rng.randint(20, 40)
    t = datetime(rng.randint(2018, 2020), 1, 1, tzinfo=UTC) + timedelta(days=rng.randint(0, 330), seconds=rng.randint(0, 86399))
    price = Decimal(rng.randint(3500, 16000))
    balance = {a: 0 for a in accounts}  # satoshis
    acquisitions: list = []
    lots: list = []  # wholelot: [price per coin (Fraction), satoshis], none partly used
    rows: list = []

    def new_lot_price_ok(fiat: Decimal, btc: Decimal) -> bool:
        per_coin = Fraction(fiat) / Fraction(btc)
        return all(abs(per_coin - other) >= 1 for other, _ in lots)

    while len(rows) < target_rows:
        t = _next_time(rng, t)
        if t > LAST:
            break
        step = Decimal(str(round(1 + rng.gauss(0, 0.05), 4)))
        price = min(max(price * step, Decimal(3000)), Decimal(69000)).quantize(CENT)
        holding = sum(balance.values()) > 0
        r = rng.random()
        kind = "buy" if (not rows or not holding or r < 0.42) else ("income" if r < 0.56 else "sell")
        if kind == "income" and flavour == "wholelot":
            kind = "buy"  # RP2's HIFO drops a lot from its queue at every income event
        rid = f"{key}-{len(rows) + 1:02d}"
        account = rng.choice(accounts)

        if kind == "sell":
            sell_t = _clear_of_anniversaries(t, acquisitions)
            if sell_t > LAST:
                break
            row = _make_sell(rng, flavour, rid, sell_t, price, balance, lots)
            if row is not None:
                t = sell_t
                rows.append(row)
                continue
            kind = "buy"

        for _ in range(40):
            if kind == "buy":
                btc = (_log_uniform(rng, 40, 45000) / price).quantize(SAT, ROUND_DOWN)
                if rng.random() < 0.2:
                    btc = rng.choice(ROUND_AMOUNTS)
            else:
                btc = (_log_uniform(rng, 10, 5000) / price).quantize(SAT, ROUND_DOWN)
            btc = max(btc, Decimal("0.00010000"))
            fiat = (btc * price).quantize(CENT, ROUND_HALF_EVEN)
            if fiat < MAX_FIAT and fiat > 0 and (flavour != "wholelot" or new_lot_price_ok(fiat, btc)):
                break
            price += rng.randint(3, 40)
        else:
            raise RuntimeError("could not draw an acquisition")
        fee = Decimal(0)
        if kind == "buy" and flavour == "general" and rng.random() < 0.5:
            fee = max(CENT, (fiat * Decimal(str(round(rng.uniform(0.001, 0.02), 4)))).quantize(CENT))
        rows.append(Row(rid, t, kind, account, btc, fiat, fee))
        sats = int(btc / SAT)
        balance[account] += sats
        acquisitions.append(t)
        if flavour == "wholelot":
            lots.append([Fraction(fiat) / Fraction(btc), sats])

    return History(index, key, flavour, accounts, rows)


def _make_sell(rng, flavour, rid, t, price, balance, lots):
    funded = [a for a in balance if balance[a] > 0]
    if not funded:
        return None
    if flavour == "general":
        account = rng.choice(funded)
        held = balance[account]
        sats = held if rng.random() < 0.15 else max(1, int(held * rng.uniform(0.05, 0.95)))
        sats = min(sats, int(MAX_FIAT / price / SAT) - 1)
    else:
        # HIFO order: highest price per coin first; take whole lots only
        order = sorted(range(len(lots)), key=lambda i: lots[i][0], reverse=True)
        options = []
        for k in range(1, min(3, len(order)) + 1):
            total = sum(lots[i][1] for i in order[:k])
            accounts = [a for a in funded if balance[a] >= total]
            if accounts and Decimal(total) * SAT * price < MAX_FIAT:
                options.append((k, total, accounts))
        if not options:
            return None
        k, sats, accounts = rng.choice(options)
        account = rng.choice(accounts)
    btc = Decimal(sats) * SAT
    fiat = (btc * price).quantize(CENT, ROUND_HALF_EVEN)
    if sats <= 0 or fiat < 1:
        return None
    if flavour == "wholelot":
        for i in sorted(order[:k], reverse=True):
            del lots[i]
    fee = Decimal(0)
    if rng.random() < 0.5:
        fee = max(CENT, (fiat * Decimal(str(round(rng.uniform(0.001, 0.02), 4)))).quantize(CENT))
        if fee >= fiat:
            fee = Decimal(0)
    balance[account] -= sats
    return Row(rid, t, "sell", account, btc, fiat, fee)


def history_from_json(data: dict) -> History:
    rows = [
        Row(
            r["id"],
            datetime.strptime(r["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
            r["type"],
            r["account"],
            Decimal(r["btc"]),
            Decimal(r["fiat_value"]),
            Decimal(r["fee_fiat"]),
        )
        for r in data["rows"]
    ]
    return History(data["index"], data["key"], data["flavour"], data["accounts"], rows)


def history_to_json(h: History) -> dict:
    return {"index": h.index, "key": h.key, "flavour": h.flavour, "accounts": h.accounts, "rows": [r.to_json() for r in h.rows]}


# --------------------------------------------------------------------------
# input files


GENERIC_COLUMNS = ["id", "timestamp", "type", "account", "btc", "fiat_value", "fiat_currency", "fee_btc", "fee_fiat", "to_account", "txid", "note"]


def write_generic_csv(h: History, path: Path, currency: str, rng: random.Random) -> None:
    """Ledgersys's generic CSV; column and row order shuffled (the format allows any)."""
    columns = GENERIC_COLUMNS[:]
    rng.shuffle(columns)
    rows = h.rows[:]
    rng.shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(columns)
        for r in rows:
            values = {
                "id": r.rid,
                "timestamp": r.ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "type": r.kind,
                "account": r.account,
                "btc": f"{r.btc:.8f}",
                "fiat_value": str(r.fiat),
                "fiat_currency": currency,
                "fee_btc": "",
                "fee_fiat": str(r.fee) if r.fee else "",
                "to_account": "",
                "txid": "",
                "note": f"crosscheck {h.key}",
            }
            w.writerow([values[c] for c in columns])


RP2_INI = """\
[general]
assets = BTC
exchanges = {exchanges}
holders = owner

[in_header]
timestamp = 0
asset = 1
exchange = 2
holder = 3
transaction_type = 4
spot_price = 5
crypto_in = 6
fiat_fee = 7
fiat_in_no_fee = 8
unique_id = 9
notes = 10

[out_header]
timestamp = 0
asset = 1
exchange = 2
holder = 3
transaction_type = 4
spot_price = 5
crypto_out_no_fee = 6
crypto_fee = 7
fiat_out_no_fee = 8
unique_id = 9
notes = 10

[intra_header]
timestamp = 0
asset = 1
from_exchange = 2
from_holder = 3
to_exchange = 4
to_holder = 5
spot_price = 6
crypto_sent = 7
crypto_received = 8
unique_id = 9
notes = 10
"""

RP2_IN_HEADER = ["timestamp", "asset", "exchange", "holder", "transaction_type", "spot_price", "crypto_in", "fiat_fee", "fiat_in_no_fee", "unique_id", "notes"]
RP2_OUT_HEADER = ["timestamp", "asset", "exchange", "holder", "transaction_type", "spot_price", "crypto_out_no_fee", "crypto_fee", "fiat_out_no_fee", "unique_id", "notes"]


def rp2_expected(r: Row) -> dict:
    """What RP2 must read back for a row (checked by the worker)."""
    if r.kind == "sell":
        # RP2 ignores a fiat fee on a sale (it is a "deduction" outside the
        # gain), so the fee is netted into the proceeds it is given.
        return {"crypto": str(r.btc), "fiat": str(r.fiat - r.fee), "fee": "0"}
    return {"crypto": str(r.btc), "fiat": str(r.fiat), "fee": str(r.fee)}


def write_rp2_inputs(h: History, directory: Path) -> None:
    import ezodf  # RP2's own spreadsheet library, installed with it

    directory.mkdir(parents=True, exist_ok=True)
    (directory / "crosscheck.ini").write_text(RP2_INI.format(exchanges=", ".join(h.accounts)), encoding="utf-8")
    ins = [r for r in h.rows if r.kind != "sell"]
    outs = [r for r in h.rows if r.kind == "sell"]
    table: list = [["IN"], RP2_IN_HEADER]
    for r in ins:
        spot = float(round(r.fiat / r.btc, 6))
        table.append(
            [r.ts.isoformat(), "BTC", r.account, "owner", "BUY" if r.kind == "buy" else "INCOME", spot, float(r.btc), float(r.fee) if r.fee else None, float(r.fiat), r.rid, f"crosscheck {h.key}"]
        )
    table.append(["TABLE END"])
    if outs:
        table += [[], ["OUT"], RP2_OUT_HEADER]
        for r in outs:
            spot = float(round(r.fiat / r.btc, 6))
            table.append([r.ts.isoformat(), "BTC", r.account, "owner", "SELL", spot, float(r.btc), 0.0, float(r.fiat - r.fee), r.rid, f"crosscheck {h.key}"])
        table.append(["TABLE END"])
    path = directory / "crosscheck.ods"
    if path.exists():
        path.unlink()
    doc = ezodf.newdoc(doctype="ods", filename=str(path))
    sheet = ezodf.Sheet("BTC", size=(len(table) + 1, len(RP2_IN_HEADER)))
    doc.sheets += sheet
    for i, cells in enumerate(table):
        for j, value in enumerate(cells):
            if value is not None:
                sheet[i, j].set_value(value)
    doc.save()


BITTYTAX_HEADER = ["Type", "Buy Quantity", "Buy Asset", "Buy Value", "Sell Quantity", "Sell Asset", "Sell Value", "Fee Quantity", "Fee Asset", "Fee Value", "Wallet", "Timestamp", "Note"]

# BittyTax reads its configuration from $HOME/.bittytax/bittytax.conf; the
# workers run with HOME pointing at a directory holding this one. Missing keys
# fall back to BittyTax's defaults, which name online price sources, so the
# price sources are listed explicitly as empty: every row carries its value
# and BittyTax never needs (or tries) a price lookup.
BITTYTAX_CONF = """\
local_currency: 'GBP'
local_timezone: 'Europe/London'
transfers_include: False
transaction_fee_allowable_cost: True
fiat_income: False
data_source_select: {}
data_source_fiat: []
data_source_crypto: []
"""


def write_bittytax_inputs(h: History, directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "records.csv").open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(BITTYTAX_HEADER)
        for r in h.rows:
            ts = r.ts.strftime("%Y-%m-%dT%H:%M:%SZ")
            fee = [str(r.fee), "GBP", str(r.fee)] if r.fee else ["", "", ""]
            btc = f"{r.btc:.8f}"
            if r.kind == "buy":
                w.writerow(["Trade", btc, "BTC", str(r.fiat), str(r.fiat), "GBP", ""] + fee + [r.account, ts, r.rid])
            elif r.kind == "sell":
                # gross proceeds; the fee is an allowable cost of the disposal
                w.writerow(["Trade", str(r.fiat), "GBP", "", btc, "BTC", str(r.fiat)] + fee + [r.account, ts, r.rid])
            else:
                w.writerow(["Income", btc, "BTC", str(r.fiat), "", "", "", "", "", "", r.account, ts, r.rid])


def prepare_bittytax_home(home: Path) -> None:
    (home / ".bittytax").mkdir(parents=True, exist_ok=True)
    (home / ".bittytax" / "bittytax.conf").write_text(BITTYTAX_CONF, encoding="utf-8")


# --------------------------------------------------------------------------
# Ledgersys


def clean_env() -> dict:
    """The caller's environment without LEDGERSYS_* settings, so runs are hermetic."""
    return {k: v for k, v in os.environ.items() if not k.startswith("LEDGERSYS_")}


def run_ledgersys(binary: str, h: History, hdir: Path) -> dict:
    """Import the history and read the summaries. Returns {"us-fifo": years, ..., "uk": years} or {"error": ...} per check."""
    env = clean_env()
    results: dict = {}

    def call(args, allow=(0,)):
        p = subprocess.run([binary] + args, capture_output=True, text=True, env=env, timeout=300)
        if p.returncode not in allow:
            raise RuntimeError(f"ledgersys {' '.join(args[2:])} exited {p.returncode}: {p.stderr.strip()[:2000]}")
        return p

    for jurisdiction, currency in (("us", "USD"), ("uk", "GBP")):
        data_dir = hdir / f"ledgersys-{jurisdiction}"
        wanted = [c for c in h.checks if c.startswith(jurisdiction)]
        try:
            call(["--data-dir", str(data_dir), "import", str(hdir / f"generic-{currency.lower()}.csv")])
        except Exception as e:  # noqa: BLE001 - reported as a failed comparison
            for c in wanted:
                results[c] = {"error": str(e)}
            continue
        for check in wanted:
            args = ["--data-dir", str(data_dir), "report", "summary", "--jurisdiction", jurisdiction]
            if jurisdiction == "us":
                args += ["--method", check[3:], "--basis", "universal"]
            args += ["--format", "json"]
            try:
                p = call(args, allow=(0, 3))
                report = json.loads(p.stdout)
                (hdir / f"ledgersys-{check}.json").write_text(p.stdout, encoding="utf-8")
                if p.returncode != 0 or not report.get("complete"):
                    raise RuntimeError(f"ledgersys says the {check} report is incomplete: {p.stderr.strip()[:2000]}")
                if report.get("currency") != currency:
                    raise RuntimeError(f"ledgersys reported in {report.get('currency')}, expected {currency}")
                figures = US_FIGURES if jurisdiction == "us" else UK_FIGURES
                results[check] = {y["year"]: {f: y[f] for f in figures} for y in report["years"]}
            except Exception as e:  # noqa: BLE001
                results[check] = {"error": str(e)}
    return results


# --------------------------------------------------------------------------
# peer workers (run in their own processes)


def _stamper(marks):
    """For tests/peers/bench.py: record (label, perf_counter, peak RSS in KiB so far) at each step of a worker."""
    if marks is None:
        return lambda label: None
    import resource

    def stamp(label: str) -> None:
        marks.append([label, time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss])

    return stamp


def worker_rp2(jobs: list, scratch: Path, marks: list = None) -> dict:
    stamp = _stamper(marks)
    scratch.mkdir(parents=True, exist_ok=True)
    os.chdir(scratch)  # RP2 creates ./log/ when imported
    exec(NETWORK_GUARD, {})  # noqa: S102 - fixed text defined above
    import logging
    from importlib import import_module

    from prezzemolo.avl_tree import AVLTree
    from rp2.accounting_engine import AccountingEngine
    from rp2.configuration import MIN_DATE, Configuration
    from rp2.entry_types import TransactionType
    from rp2.in_transaction import InTransaction
    from rp2.ods_parser import open_ods, parse_ods
    from rp2.out_transaction import OutTransaction
    from rp2.plugin.country.us import US
    from rp2.tax_engine import compute_tax

    for handler in logging.getLogger("rp2").handlers:
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            handler.setLevel(logging.ERROR)

    out: dict = {}
    for job in jobs:
        h = history_from_json(job["history"])
        directory = Path(job["dir"])
        expected = {r.rid: rp2_expected(r) for r in h.rows}
        out[h.key] = {}
        for method in job["methods"]:
            try:
                stamp(f"{h.key}/{method}/start")
                years_2_methods = AVLTree()
                years_2_methods.insert_node(MIN_DATE.year, import_module(f"rp2.plugin.accounting_method.{method}").AccountingMethod())
                configuration = Configuration(str(directory / "crosscheck.ini"), US())
                input_data = parse_ods(configuration, "BTC", open_ods(configuration, str(directory / "crosscheck.ods")))
                stamp(f"{h.key}/{method}/read")
                # the spreadsheet round trip must give back exactly the numbers written
                seen = 0
                for entry in list(input_data.unfiltered_in_transaction_set) + list(input_data.unfiltered_out_transaction_set):
                    want = expected[str(entry.unique_id)]
                    if isinstance(entry, InTransaction):
                        got = {"crypto": entry.crypto_in, "fiat": entry.fiat_in_no_fee, "fee": entry.fiat_fee}
                    elif isinstance(entry, OutTransaction):
                        got = {"crypto": entry.crypto_out_no_fee, "fiat": entry.fiat_out_no_fee, "fee": entry.fiat_fee}
                    else:
                        raise RuntimeError(f"unexpected RP2 entry {entry}")
                    for k, v in got.items():
                        if Decimal(str(v)) != Decimal(want[k]):
                            raise RuntimeError(f"RP2 read {k}={v} for row {entry.unique_id}, expected {want[k]}")
                    seen += 1
                if seen != len(h.rows):
                    raise RuntimeError(f"RP2 read {seen} rows, expected {len(h.rows)}")
                stamp(f"{h.key}/{method}/verified")
                computed = compute_tax(configuration, AccountingEngine(years_2_methods), input_data)
                stamp(f"{h.key}/{method}/computed")
                pieces = {"pieces": 0, "partial": 0, "long_term": 0}
                for gain_loss in computed.gain_loss_set:
                    if gain_loss.taxable_event.transaction_type == TransactionType.SELL:
                        pieces["pieces"] += 1
                        pieces["partial"] += gain_loss.crypto_amount != gain_loss.acquired_lot.crypto_in
                        pieces["long_term"] += gain_loss.is_long_term_capital_gains()
                out[h.key].setdefault("stats", {})[method] = pieces
                years: dict = {}
                with localcontext() as ctx:
                    ctx.prec = 60
                    for y in computed.yearly_gain_loss_list:
                        acc = years.setdefault(str(y.year), {f: Decimal(0) for f in US_FIGURES})
                        if y.transaction_type == TransactionType.SELL:
                            acc["proceeds"] += Decimal(y.fiat_amount)
                            acc["cost_basis"] += Decimal(y.fiat_cost_basis)
                            acc["long_term_gain" if y.is_long_term_capital_gains else "short_term_gain"] += Decimal(y.fiat_gain_loss)
                        elif y.transaction_type == TransactionType.INCOME:
                            acc["income"] += Decimal(y.fiat_amount)
                        else:
                            raise RuntimeError(f"unexpected RP2 taxable event type {y.transaction_type}")
                out[h.key][method] = {year: {f: str(v) for f, v in figs.items()} for year, figs in years.items()}
                stamp(f"{h.key}/{method}/summed")
            except Exception:  # noqa: BLE001
                out[h.key][method] = {"error": traceback.format_exc(limit=6)}
    return out


def worker_bittytax(jobs: list, scratch: Path, marks: list = None) -> dict:
    stamp = _stamper(marks)
    scratch.mkdir(parents=True, exist_ok=True)
    os.chdir(scratch)
    exec(NETWORK_GUARD, {})  # noqa: S102
    # HOME was set by the parent to a directory holding our bittytax.conf
    import bittytax.tax as bt_tax
    from bittytax.audit import AuditRecords
    from bittytax.bt_types import DisposalType, TaxRules
    from bittytax.config import config
    from bittytax.import_records import ImportRecords
    from bittytax.price.valueasset import ValueAsset
    from bittytax.tax_event import TaxEventCapitalGains, TaxEventIncome
    from bittytax.transactions import TransactionHistory

    if config.data_source_fiat or config.data_source_crypto or config.ccy != "GBP":
        raise RuntimeError(f"BittyTax did not pick up the crosscheck config (HOME={os.environ.get('HOME')})")

    class RecordedGains(TaxEventCapitalGains):
        """BittyTax's disposal event, also keeping the figures before its per-disposal rounding."""

        def __init__(self, disposal_type, b, s, cost, fees):
            super().__init__(disposal_type, b, s, cost, fees)
            self.raw = (s.proceeds, cost, fees)

    class RecordedIncome(TaxEventIncome):
        def __init__(self, b):
            super().__init__(b)
            self.raw = b.cost

    bt_tax.TaxEventCapitalGains = RecordedGains
    bt_tax.TaxEventIncome = RecordedIncome

    out: dict = {}
    for job in jobs:
        key = job["history"]["key"]
        try:
            log = io.StringIO()
            with redirect_stdout(log):
                stamp(f"{key}/uk/start")
                importer = ImportRecords()
                with open(Path(job["dir"]) / "records.csv", newline="", encoding="utf-8") as f:
                    importer.import_csv(f, "records.csv")
                if importer.failure_cnt:
                    raise RuntimeError(f"BittyTax refused {importer.failure_cnt} rows:\n{log.getvalue()[-3000:]}")
                records = importer.get_records()
                if len(records) != len(job["history"]["rows"]):
                    raise RuntimeError(f"BittyTax read {len(records)} records, expected {len(job['history']['rows'])}")
                stamp(f"{key}/uk/imported")
                audit = AuditRecords(records)
                stamp(f"{key}/uk/audited")
                # the same steps as bittytax's command line (_do_tax, integrity check, income)
                history = TransactionHistory(records, ValueAsset())
                tax = bt_tax.TaxCalculator(history.transactions, TaxRules.UK_INDIVIDUAL)
                tax.pool_same_day()
                tax.match_sell(DisposalType.SAME_DAY)
                tax.match_buyback(DisposalType.BED_AND_BREAKFAST)
                tax.process_section104(False)
                if not audit.compare_pools(tax.holdings):
                    raise RuntimeError(f"BittyTax integrity check failed:\n{log.getvalue()[-3000:]}")
                tax.process_income()
                stamp(f"{key}/uk/computed")
                kinds = {"same_day": 0, "thirty_day": 0, "thirty_day_edge": 0, "section_104": 0, "rounded": 0}
                for events in tax.tax_events.values():
                    for te in events:
                        if not isinstance(te, RecordedGains):
                            continue
                        if te.disposal_type is DisposalType.SAME_DAY:
                            kinds["same_day"] += 1
                        elif te.disposal_type is DisposalType.BED_AND_BREAKFAST:
                            kinds["thirty_day"] += 1
                            kinds["thirty_day_edge"] += (te.acquisition_date - te.date).days == 30
                        elif te.disposal_type is DisposalType.SECTION_104:
                            kinds["section_104"] += 1
                        kinds["rounded"] += any(Decimal(x) != Decimal(x).quantize(CENT, ROUND_HALF_EVEN) for x in te.raw)
                stamp(f"{key}/uk/counted")
                years: dict = {}
                for year in sorted(tax.tax_events):
                    gains = tax.calculate_capital_gains(year)
                    income = tax.calculate_income(year)
                    stamp(f"{key}/uk/{year}/calculated")
                    figs = {f: {"reported": Decimal(0), "raw": Decimal(0), "rounded_events": 0} for f in UK_FIGURES}
                    with localcontext() as ctx:
                        ctx.prec = 60
                        for events in gains.assets.values():
                            for te in events:
                                proceeds, cost, fees = (Decimal(x) for x in te.raw)
                                parts = {
                                    "proceeds": (te.proceeds, proceeds, [proceeds]),
                                    "allowable_costs": (te.cost + te.fees, cost + fees, [cost, fees]),
                                    "gain": (te.gain, proceeds - cost - fees, [proceeds, cost, fees]),
                                }
                                for f, (reported, raw, inputs) in parts.items():
                                    figs[f]["reported"] += reported
                                    figs[f]["raw"] += raw
                                    if any(x != x.quantize(CENT, ROUND_HALF_EVEN) for x in inputs):
                                        figs[f]["rounded_events"] += 1
                        for events in income.assets.values():
                            for te in events:
                                figs["income"]["reported"] += te.amount
                                figs["income"]["raw"] += Decimal(te.raw)
                                if Decimal(te.raw) != te.amount:
                                    figs["income"]["rounded_events"] += 1
                    # cross-check our sums against BittyTax's own totals
                    if figs["proceeds"]["reported"] != gains.totals["proceeds"] or figs["income"]["reported"] != income.totals["amount"]:
                        raise RuntimeError(f"per-event sums disagree with BittyTax's totals for {year}")
                    if figs["allowable_costs"]["reported"] != gains.totals["cost"] + gains.totals["fees"]:
                        raise RuntimeError(f"allowable cost sums disagree with BittyTax's totals for {year}")
                    label = f"{year - 1}/{year % 100:02d}"
                    years[label] = {
                        f: {"reported": str(v["reported"]), "raw": str(v["raw"]), "rounded_events": v["rounded_events"]} for f, v in figs.items()
                    }
                    years[label]["disposal_events"] = int(gains.summary["disposals"])
                    stamp(f"{key}/uk/{year}/summed")
            out[key] = {"uk": years, "stats": {"uk": kinds}}
        except Exception:  # noqa: BLE001
            out[key] = {"uk": {"error": traceback.format_exc(limit=6)}}
    return out


def worker_main(args) -> int:
    jobs = json.loads(Path(args.jobs).read_text(encoding="utf-8"))
    scratch = Path(args.out).parent / f"{args.worker}-scratch"
    result = worker_rp2(jobs, scratch) if args.worker == "rp2" else worker_bittytax(jobs, scratch)
    Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


# --------------------------------------------------------------------------
# the peers' real command lines, once per run


def _python_entry(code: str) -> list:
    return [sys.executable, "-c", NETWORK_GUARD + code]


def cli_check_rp2(h: History, hdir: Path, inprocess: dict) -> list:
    """Run `rp2_us -m fifo` on the history and compare its tax report with the worker's totals."""
    import ezodf

    directory = hdir / "rp2-cli"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    argv = ["rp2_us", "-m", "fifo", "-o", str(directory / "out"), "-p", "cli_", str(hdir / "rp2" / "crosscheck.ini"), str(hdir / "rp2" / "crosscheck.ods")]
    code = f"import sys\nsys.argv = {argv!r}\nfrom rp2.plugin.country.us import rp2_entry\nrp2_entry()\n"
    p = subprocess.run(_python_entry(code), cwd=directory, capture_output=True, text=True, timeout=600)
    (directory / "output.txt").write_text(p.stdout + p.stderr, encoding="utf-8")
    if p.returncode != 0:
        return [f"rp2_us exited {p.returncode}; see {directory / 'output.txt'}"]
    reports = list((directory / "out").glob("*tax_report_us.ods"))
    if len(reports) != 1:
        return [f"rp2_us wrote no tax_report_us.ods in {directory / 'out'}"]
    doc = ezodf.opendoc(str(reports[0]))
    totals: dict = {}
    for sheet in doc.sheets:
        if sheet.name not in ("Capital Gains", "Income"):
            continue
        for row in sheet.rows():
            cells = [c.value for c in row]
            if len(cells) < 15 or not isinstance(cells[9], str) or not re.search(r"/ (SELL|INCOME)$", cells[9]):
                continue
            year = cells[3][-4:]  # mm/dd/YYYY
            acc = totals.setdefault(year, {f: 0.0 for f in US_FIGURES})
            if cells[9].endswith("SELL"):
                acc["proceeds"] += cells[4]
                acc["cost_basis"] += cells[5]
                acc["long_term_gain" if cells[14] == "LONG" else "short_term_gain"] += cells[8]
            else:
                acc["income"] += cells[4]
    problems = []
    expected = inprocess
    for year in sorted(set(totals) | set(expected)):
        for f in US_FIGURES:
            cli = totals.get(year, {}).get(f, 0.0)
            mine = float(expected.get(year, {}).get(f, "0"))
            if abs(cli - mine) > 0.011:  # the report holds floats
                problems.append(f"rp2_us report {year} {f} = {cli:.4f}, in-process {mine:.4f}")
    return problems


def cli_check_bittytax(h: History, hdir: Path, home: Path, inprocess: dict) -> list:
    """Run `bittytax --nopdf` on the records and compare the printed totals with the worker's."""
    directory = hdir / "bittytax-cli"
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir()
    argv = ["bittytax", "--nopdf", str(hdir / "bittytax" / "records.csv")]
    code = f"import sys\nsys.argv = {argv!r}\nfrom bittytax.bittytax import main\nmain()\n"
    env = dict(clean_env(), HOME=str(home), COLUMNS="200")
    p = subprocess.run(_python_entry(code), cwd=directory, capture_output=True, text=True, timeout=600, env=env)
    text = re.sub(r"\x1b\[[0-9;]*m", "", p.stdout + p.stderr)
    (directory / "output.txt").write_text(text, encoding="utf-8")
    if p.returncode != 0 or "integrity check: passed" not in text:
        return [f"bittytax exited {p.returncode} (integrity check passed: {'integrity check: passed' in text}); see {directory / 'output.txt'}"]
    amount = r"£(-?[\d,]+\.\d\d)"
    printed: dict = {}
    year = section = None
    for line in text.splitlines():
        m = re.match(r"\s*Tax Year - (\d{4}/\d\d) ", line)
        if m:
            year, section = m.group(1), None
            printed[year] = {}
            continue
        if year is None:
            continue
        if line.strip() in ("Capital Gains", "Income", "Margin Trading", "Appendix"):
            section = line.strip()
            continue

        def grab(label):
            m2 = re.search(label + r".*?" + amount, line)
            return Decimal(m2.group(1).replace(",", "")) if m2 else None

        if section == "Capital Gains":
            for label, f in (("Disposal proceeds:", "proceeds"), (r"Allowable costs \(including the", "allowable_costs"), ("Gains in the year, before losses:", "gains"), ("Losses in the year:", "losses")):
                v = grab(label)
                if v is not None and line.lstrip().startswith(label.replace("\\", "")):
                    printed[year][f] = v
        elif section == "Income" and line.lstrip().startswith("Total"):
            m2 = re.findall(amount, line)
            if m2:
                printed[year]["income"] = Decimal(m2[0].replace(",", ""))
    problems = []
    for label, figs in inprocess.items():
        if label not in printed:
            problems.append(f"bittytax printed no tax year {label}")
            continue
        got = printed[label]
        if "gains" in got and "losses" in got:
            got["gain"] = got["gains"] - got["losses"]
        for f in UK_FIGURES:
            want = Decimal(figs[f]["reported"])
            if got.get(f) is None or got[f] != want:
                problems.append(f"bittytax printed {label} {f} = {got.get(f)}, in-process {want}")
    return problems


# --------------------------------------------------------------------------
# comparison


def compare_us(ledgersys: dict, rp2: dict) -> list:
    problems = []
    for year in sorted(set(ledgersys) | set(rp2)):
        for f in US_FIGURES:
            ours = Decimal(ledgersys.get(year, {}).get(f) or "0")
            theirs = to_cents(rp2.get(year, {}).get(f, "0"))
            if ours != theirs:
                problems.append(f"{year} {f}: ledgersys {money(ours)}, rp2 {money(theirs)} (diff {money(theirs - ours)})")
    return problems


def compare_uk(ledgersys: dict, bittytax: dict) -> list:
    """Exact agreement with BittyTax's unrounded totals (rounded once), and
    BittyTax's own per-disposal-rounded totals within 0.01 per disposal whose
    figure it actually had to round."""
    problems = []
    for year in sorted(set(ledgersys) | set(bittytax)):
        for f in UK_FIGURES:
            ours = Decimal(ledgersys.get(year, {}).get(f) or "0")
            peer = bittytax.get(year, {}).get(f, {"raw": "0", "reported": "0", "rounded_events": 0})
            exact = to_cents(peer["raw"])
            reported = Decimal(peer["reported"])
            tolerance = CENT * peer["rounded_events"]
            if exact != ours:
                problems.append(f"{year} {f}: ledgersys {money(ours)}, bittytax {money(exact)} before its per-disposal rounding (diff {money(exact - ours)})")
            elif abs(reported - ours) > tolerance:
                problems.append(f"{year} {f}: ledgersys {money(ours)}, bittytax reports {money(reported)}, beyond {money(tolerance)} for {peer['rounded_events']} rounded disposals")
    return problems


def coverage(histories: list, stats: dict, peer: dict) -> str:
    """What the histories exercised, so a green run can be judged."""
    rows = [r for h in histories for r in h.rows]
    n = {k: sum(r.kind == k for r in rows) for k in ("buy", "sell", "income")}
    fee = {k: sum(r.kind == k and r.fee > 0 for r in rows) for k in ("buy", "sell")}
    london = sum(r.ts.astimezone(LONDON).date() != r.ts.date() for r in rows)
    two = sum(len(h.accounts) == 2 for h in histories)
    lines = [
        f"coverage: {len(rows)} rows: {n['buy']} buys ({fee['buy']} with fees), {n['sell']} sells ({fee['sell']} with fees), "
        f"{n['income']} income; {two} histories with two accounts; {london} rows on another date in London than in UTC"
    ]
    us = []
    for method in US_METHODS:
        got = [s[method] for s in stats.values() if method in s]
        if got:
            total = {k: sum(g[k] for g in got) for k in got[0]}
            us.append(f"{method} {total['pieces']} ({total['partial']} of part of a lot, {total['long_term']} long-term)")
    if us:
        lines.append("  RP2 lot pieces sold: " + "; ".join(us))
    uk = [s["uk"] for s in stats.values() if "uk" in s]
    if uk:
        t = {k: sum(g[k] for g in uk) for k in uk[0]}
        differs = 0
        for by_check in peer.values():
            for year, figs in (by_check.get("uk") or {}).items():
                if isinstance(figs, dict) and year != "error":
                    differs += sum(
                        Decimal(figs[f]["reported"]) != to_cents(figs[f]["raw"]) for f in UK_FIGURES if isinstance(figs.get(f), dict)
                    )
        lines.append(
            f"  BittyTax disposals: {t['same_day']} same-day, {t['thirty_day']} 30-day ({t['thirty_day_edge']} exactly 30 days before the buy), "
            f"{t['section_104']} section 104; {t['rounded']} rounded to pennies by BittyTax, "
            f"{differs} yearly figures where that rounding moved its total"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------
# main


def prepare_workdir(path) -> tuple:
    if path is None:
        return Path(tempfile.mkdtemp(prefix="ledgersys-crosscheck-")), True
    work = Path(path).resolve()
    if work.exists() and any(work.iterdir()) and not (work / MARKER).exists():
        raise SystemExit(f"--workdir {work} is not empty and was not made by this script; choose another")
    work.mkdir(parents=True, exist_ok=True)
    for child in work.iterdir():
        if child.name != MARKER:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    return work, False


def start_worker(kind: str, jobs: list, work: Path, env: dict):
    jobs_file = work / f"{kind}-jobs.json"
    jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
    out = work / f"{kind}-results.json"
    log = (work / f"{kind}-worker.log").open("w", encoding="utf-8")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", kind, "--jobs", str(jobs_file), "--out", str(out)]
    return subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=work), out, log


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ledgersys", help="path to the ledgersys binary")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"random seed (default {DEFAULT_SEED})")
    parser.add_argument("--histories", type=int, default=DEFAULT_HISTORIES, help=f"number of random histories (default {DEFAULT_HISTORIES})")
    parser.add_argument("--only", help="comma-separated history indexes to run (to re-run a failure), e.g. 7,12")
    parser.add_argument("--workdir", help="keep every input and output here (default: a temporary directory, removed when all passed)")
    parser.add_argument("--no-cli-check", action="store_true", help="skip running the peers' own command lines on the first history")
    parser.add_argument("--verbose", action="store_true", help="print a line per history and every year's figures")
    parser.add_argument("--worker", choices=("rp2", "bittytax"), help=argparse.SUPPRESS)
    parser.add_argument("--jobs", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker_main(args)
    if not args.ledgersys:
        parser.error("--ledgersys is required")
    binary = shutil.which(args.ledgersys) or args.ledgersys
    if not os.access(binary, os.X_OK):
        parser.error(f"not an executable: {args.ledgersys}")
    binary = str(Path(binary).resolve())

    started = time.monotonic()
    work, temporary = prepare_workdir(args.workdir)
    (work / MARKER).write_text("made by tests/peers/crosscheck.py\n", encoding="utf-8")
    indexes = [int(x) for x in args.only.split(",")] if args.only else list(range(1, args.histories + 1))
    histories = [generate_history(args.seed, i) for i in indexes]

    home = work / "bittytax-home"
    prepare_bittytax_home(home)
    rp2_jobs, bt_jobs = [], []
    for h in histories:
        hdir = work / h.key
        hdir.mkdir()
        (hdir / "history.json").write_text(json.dumps(history_to_json(h), indent=1), encoding="utf-8")
        shuffle = random.Random(f"ledgersys-crosscheck/{args.seed}/{h.index}/csv")
        write_generic_csv(h, hdir / "generic-usd.csv", "USD", shuffle)
        write_generic_csv(h, hdir / "generic-gbp.csv", "GBP", shuffle)
        write_rp2_inputs(h, hdir / "rp2")
        write_bittytax_inputs(h, hdir / "bittytax")
        rp2_jobs.append({"history": history_to_json(h), "dir": str(hdir / "rp2"), "methods": list(h.us_methods)})
        bt_jobs.append({"history": history_to_json(h), "dir": str(hdir / "bittytax")})

    # the peers work in the background while Ledgersys runs here
    workers = [
        start_worker("rp2", rp2_jobs, work, clean_env()),
        start_worker("bittytax", bt_jobs, work, dict(clean_env(), HOME=str(home))),
    ]
    ledgersys = {h.key: run_ledgersys(binary, h, work / h.key) for h in histories}
    peer: dict = {h.key: {} for h in histories}
    stats: dict = {}
    for (proc, out, log), kind in zip(workers, ("rp2", "bittytax")):
        rc = proc.wait()
        log.close()
        if rc != 0 or not out.exists():
            tail = (work / f"{kind}-worker.log").read_text(encoding="utf-8")[-3000:]
            for h in histories:
                for c in h.checks:
                    if (kind == "rp2") == c.startswith("us-"):
                        peer[h.key][c] = {"error": f"{kind} worker exited {rc}:\n{tail}"}
            continue
        for key, by_method in json.loads(out.read_text(encoding="utf-8")).items():
            for name, years in by_method.items():
                if name == "stats":
                    stats.setdefault(key, {}).update(years)
                else:
                    peer[key][name if name == "uk" else f"us-{name}"] = years

    passed = failed = 0
    details = []
    per_check = {c: {"compared": 0, "passed": 0, "failed": 0, "years": 0} for c in CHECKS}
    history_lines = []
    for h in histories:
        cells = []
        years = set()
        for c in CHECKS:
            if c not in h.checks:
                cells.append("-")
                continue
            ours, theirs = ledgersys[h.key].get(c, {"error": "no result"}), peer[h.key].get(c, {"error": "no result"})
            if "error" in ours or "error" in theirs:
                problems = [f"ledgersys: {ours['error']}" if "error" in ours else f"peer: {theirs['error']}"]
            else:
                years |= set(ours) | set(theirs)
                per_check[c]["years"] += len(set(ours) | set(theirs))
                problems = compare_us(ours, theirs) if c.startswith("us-") else compare_uk(ours, theirs)
                if args.verbose:
                    details.append(f"{h.key} {c} figures:\n" + json.dumps({"ledgersys": ours, "peer": theirs}, indent=1))
            per_check[c]["compared"] += 1
            if problems:
                failed += 1
                per_check[c]["failed"] += 1
                cells.append("FAIL")
                details.append(f"{h.key} {c} ({h.flavour}, inputs in {work / h.key}):\n  " + "\n  ".join(problems))
            else:
                passed += 1
                per_check[c]["passed"] += 1
                cells.append("ok")
        if args.verbose or "FAIL" in cells:
            history_lines.append(f"{h.key:<8} {h.flavour:<9} {len(h.rows):>4} {len(years):>5}  " + "  ".join(f"{c:<7}" for c in cells))

    shapes = {f: sum(h.flavour == f for h in histories) for f in ("general", "wholelot")}
    print(f"ledgersys {binary}")
    print(f"seed {args.seed}: {len(histories)} histories ({shapes['general']} general, {shapes['wholelot']} whole-lot); files in {work}")
    print()
    print(f"{'check':<8} {'peer':<9} {'compared':>8} {'passed':>7} {'failed':>7} {'years':>6}")
    for c in CHECKS:
        t = per_check[c]
        print(f"{c:<8} {'RP2' if c.startswith('us-') else 'BittyTax':<9} {t['compared']:>8} {t['passed']:>7} {t['failed']:>7} {t['years']:>6}")
    if history_lines:
        print()
        print(f"{'history':<8} {'shape':<9} {'rows':>4} {'years':>5}  " + "  ".join(f"{c:<7}" for c in CHECKS))
        for line in history_lines:
            print(line)
    print()

    self_check_failed = False
    if not args.no_cli_check and histories:
        h = histories[0]
        for name, fn in (
            ("rp2_us", lambda: cli_check_rp2(h, work / h.key, peer[h.key].get("us-fifo", {}))),
            ("bittytax", lambda: cli_check_bittytax(h, work / h.key, home, peer[h.key].get("uk", {}))),
        ):
            try:
                problems = fn()
            except Exception:  # noqa: BLE001
                problems = [traceback.format_exc(limit=4)]
            if problems:
                self_check_failed = True
                details.append(f"self-check: {name} command line on {h.key} disagrees with the in-process run:\n  " + "\n  ".join(problems))
            print(f"self-check: {name} command line on {h.key}: {'FAIL' if problems else 'same totals'}")

    print()
    print(coverage(histories, stats, peer))
    for d in details:
        print()
        print(d)
    print()
    print(f"took {time.monotonic() - started:.1f}s")
    if temporary and failed == 0 and not self_check_failed:
        shutil.rmtree(work, ignore_errors=True)
    elif temporary:
        print(f"inputs and outputs kept in {work}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or self_check_failed else 0


if __name__ == "__main__":
    sys.exit(main())
