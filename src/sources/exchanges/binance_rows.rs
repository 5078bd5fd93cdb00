//! Binance API entries as ledger rows. Fills, deposits and withdrawals are
//! written as Binance's own export files write them and read by the same
//! importers (`binance-trades`, `binance-transfers`), so a file and the API
//! bring one row once: deposits and withdrawals carry the on-chain txid
//! as their id, as the file importer gives them; trade-history files carry
//! no trade id, so fills are recognised by their content. Entries that no
//! export file of those formats holds (card purchases, Convert, rewards,
//! dust) become rows here, with Binance's own ids.
//!
//! Amounts are read as decimal text, never through floats.

use rust_decimal::Decimal;
use serde_json::Value;

use crate::ledger::{Kind, Tx};
use crate::sources::cell::{btc, is_btc, is_fiat};

/// A field as text: Binance sends amounts as strings and ids as numbers.
pub fn text(v: &Value, field: &str) -> String {
    match &v[field] {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// A millisecond time field.
pub fn millis(v: &Value, field: &str) -> Result<i64, String> {
    text(v, field)
        .parse::<i64>()
        .map_err(|_| format!("its {field} is not a time"))
}

fn amount(v: &Value, field: &str) -> Result<Decimal, String> {
    let t = text(v, field);
    t.parse::<Decimal>()
        .map_err(|_| format!("its {field} {t:?} is not a number"))
}

fn timestamp(ms: i64) -> Result<jiff::Timestamp, String> {
    jiff::Timestamp::from_millisecond(ms).map_err(|_| format!("the time {ms} is out of range"))
}

/// `2024-01-05 10:00:00`, the exports' UTC layout.
fn civil(ms: i64) -> Result<String, String> {
    Ok(timestamp(ms)?.strftime("%Y-%m-%d %H:%M:%S").to_string())
}

fn cell(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

fn line(cells: &[&str]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
    format!("{}\n", cells.join(","))
}

/// One fill of `myTrades` for the pair `base`/`quote`.
#[derive(Debug, Clone)]
pub struct Fill {
    pub id: u64,
    pub time_ms: i64,
    pub symbol: String,
    pub base: &'static str,
    pub quote: &'static str,
    pub entry: Value,
}

/// Binance's trade-history export (`Date(UTC),Pair,Side,Price,Executed,
/// Amount,Fee`), amounts glued to their asset codes as the file has them.
pub fn trades_csv(fills: &[Fill]) -> Result<String, String> {
    let mut out = String::from("Date(UTC),Pair,Side,Price,Executed,Amount,Fee\n");
    for f in fills {
        let e = &f.entry;
        let side = match &e["isBuyer"] {
            Value::Bool(true) => "BUY",
            Value::Bool(false) => "SELL",
            _ => return Err(format!("fill {} has no side", f.id)),
        };
        let executed = format!("{}{}", amount(e, "qty")?, f.base);
        let quoted = format!("{}{}", amount(e, "quoteQty")?, f.quote);
        let fee = format!("{}{}", amount(e, "commission")?, text(e, "commissionAsset"));
        out.push_str(&line(&[
            &civil(f.time_ms)?,
            &f.symbol,
            side,
            &text(e, "price"),
            &executed,
            &quoted,
            &fee,
        ]));
    }
    Ok(out)
}

/// A deposit counts once credited: `1` success, `6` credited but locked.
pub fn deposit_counts(status: i64) -> bool {
    matches!(status, 1 | 6)
}

/// A deposit that may still be credited: `0` pending, `8` waiting for the
/// user to confirm.
pub fn deposit_pending(status: i64) -> bool {
    matches!(status, 0 | 8)
}

/// A withdrawal counts once completed (`6`).
pub fn withdrawal_counts(status: i64) -> bool {
    status == 6
}

/// `0` email sent, `2` awaiting approval, `4` processing: not yet decided.
pub fn withdrawal_pending(status: i64) -> bool {
    matches!(status, 0 | 2 | 4)
}

/// Binance's crypto deposit history export, completed deposits only.
pub fn deposits_csv(deposits: &[Value]) -> Result<String, String> {
    let mut out = String::from("Date(UTC+0),Coin,Network,Amount,Address,TXID,Status\n");
    for d in deposits {
        out.push_str(&line(&[
            &civil(millis(d, "insertTime")?)?,
            &text(d, "coin"),
            &text(d, "network"),
            &amount(d, "amount")?.to_string(),
            &text(d, "address"),
            &text(d, "txId"),
            "Completed",
        ]));
    }
    Ok(out)
}

/// Binance's crypto withdrawal history export: the amount sent, and the fee
/// on top of it (Binance debits both).
pub fn withdrawals_csv(withdrawals: &[Value]) -> Result<String, String> {
    let mut out = String::from("Date(UTC+0),Coin,Network,Amount,Fee,Address,TXID,Status\n");
    for w in withdrawals {
        out.push_str(&line(&[
            &apply_time(w)?,
            &text(w, "coin"),
            &text(w, "network"),
            &amount(w, "amount")?.to_string(),
            &amount(w, "transactionFee")?.to_string(),
            &text(w, "address"),
            &text(w, "txId"),
            "Completed",
        ]));
    }
    Ok(out)
}

/// `applyTime`, `2019-10-12 11:12:02` in UTC, checked.
fn apply_time(w: &Value) -> Result<String, String> {
    let t = text(w, "applyTime");
    t.parse::<jiff::civil::DateTime>()
        .map(|c| c.strftime("%Y-%m-%d %H:%M:%S").to_string())
        .map_err(|_| format!("its applyTime {t:?} does not read"))
}

/// A withdrawal's `applyTime` in milliseconds (for holding a pending one).
pub fn apply_time_ms(w: &Value) -> Result<i64, String> {
    let civil: jiff::civil::DateTime = apply_time(w)?
        .parse()
        .map_err(|_| "its applyTime does not read".to_string())?;
    civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_millisecond())
        .map_err(|_| "its applyTime is out of range".to_string())
}

fn row(id: String, ms: i64, kind: Kind, account: &str, sats: Decimal) -> Result<Tx, String> {
    Ok(Tx {
        id: Some(id),
        time: timestamp(ms)?,
        kind,
        account: account.to_string(),
        btc: btc(sats.abs())?,
        fee_btc: crate::ledger::Sats::ZERO,
        fiat_value: None,
        currency: None,
        fee_fiat: Decimal::ZERO,
        to_account: None,
        txid: None,
        note: None,
    })
}

/// A fiat currency code as the ledger takes one.
fn currency_code(code: &str) -> Option<String> {
    let code = code.trim().to_ascii_uppercase();
    (code.len() == 3 && code.chars().all(|c| c.is_ascii_uppercase())).then_some(code)
}

/// A finished card or bank purchase (`0`) or sale (`1`) of `fiat/payments`.
pub fn payment_counts(status: &str) -> bool {
    // "Completed" is the documented word; clients report "Successful" and
    // "Finished" for the same state.
    matches!(status, "Completed" | "Successful" | "Finished")
}

pub fn payment_pending(status: &str) -> bool {
    matches!(status, "Processing" | "Pending")
}

/// A BTC purchase or sale paid in fiat: a buy or sell valued in that fiat,
/// its fee apart. `sourceAmount` is the fiat paid, fee included (Binance's
/// example: 20 EUR = 19.80 at `price` + 0.20 fee), so a buy is valued at
/// `sourceAmount - totalFee`; a sale at `price` times the bitcoin, to the
/// cent, whichever way `sourceAmount` counts the fee.
pub fn payment_row(p: &Value, sell: bool, account: &str) -> Result<Option<Tx>, String> {
    if !is_btc(&text(p, "cryptoCurrency")) || !payment_counts(&text(p, "status")) {
        return Ok(None);
    }
    let order = text(p, "orderNo");
    let obtained = amount(p, "obtainAmount")?;
    let fee = amount(p, "totalFee").unwrap_or_default().abs();
    let kind = if sell { Kind::Sell } else { Kind::Buy };
    let mut t = row(
        format!("binance-payment-{order}"),
        millis(p, "createTime")?,
        kind,
        account,
        obtained,
    )?;
    let fiat = text(p, "fiatCurrency");
    let Some(code) = currency_code(&fiat) else {
        t.kind = if sell {
            Kind::Withdrawal
        } else {
            Kind::Deposit
        };
        t.note = Some(format!("paid in {fiat} on Binance"));
        return Ok(Some(t));
    };
    let value = if sell {
        (amount(p, "price")? * obtained).round_dp(2)
    } else {
        amount(p, "sourceAmount")? - fee
    };
    t.fiat_value = Some(value.abs());
    t.fee_fiat = fee;
    t.currency = Some(code);
    t.note = Some(text(p, "paymentMethod")).filter(|n| !n.is_empty());
    Ok(Some(t))
}

/// A Convert order that moved bitcoin: a buy or sell when the other side
/// is fiat, else bitcoin in or out "traded for" the other asset, as the
/// trade importers write it.
pub fn convert_row(c: &Value, account: &str) -> Result<Option<Tx>, String> {
    if text(c, "orderStatus") != "SUCCESS" {
        return Ok(None);
    }
    let (from, to) = (text(c, "fromAsset"), text(c, "toAsset"));
    let (incoming, bitcoin, other, other_amount) = if is_btc(&to) && !is_btc(&from) {
        (true, amount(c, "toAmount")?, from, amount(c, "fromAmount")?)
    } else if is_btc(&from) && !is_btc(&to) {
        (false, amount(c, "fromAmount")?, to, amount(c, "toAmount")?)
    } else {
        return Ok(None);
    };
    let mut t = row(
        format!("binance-convert-{}", text(c, "orderId")),
        millis(c, "createTime")?,
        Kind::Deposit,
        account,
        bitcoin,
    )?;
    match currency_code(&other).filter(|code| is_fiat(code)) {
        Some(code) => {
            t.kind = if incoming { Kind::Buy } else { Kind::Sell };
            t.fiat_value = Some(other_amount.abs());
            t.currency = Some(code);
        }
        None => {
            t.kind = if incoming {
                Kind::Deposit
            } else {
                Kind::Withdrawal
            };
            t.note = Some(format!("traded for {other} on Binance"));
        }
    }
    Ok(Some(t))
}

/// An asset dividend (airdrops, distributions, Simple Earn bonus rewards):
/// income, or, for the rare debit (`direction` -1), bitcoin out.
pub fn dividend_row(d: &Value, account: &str) -> Result<Option<Tx>, String> {
    if !is_btc(&text(d, "asset")) {
        return Ok(None);
    }
    let debit = text(d, "direction") == "-1";
    let mut t = row(
        format!("binance-dividend-{}", text(d, "id")),
        millis(d, "divTime")?,
        if debit {
            Kind::Withdrawal
        } else {
            Kind::Income
        },
        account,
        amount(d, "amount")?,
    )?;
    t.note = Some(text(d, "enInfo")).filter(|n| !n.is_empty());
    Ok(Some(t))
}

/// A Simple Earn flexible real-time reward: income. Binance gives these no
/// id; the time, product and type name the entry.
pub fn earn_row(r: &Value, account: &str) -> Result<Option<Tx>, String> {
    if !is_btc(&text(r, "asset")) {
        return Ok(None);
    }
    let ms = millis(r, "time")?;
    let mut t = row(
        format!(
            "binance-earn-{}-{ms}-{}",
            text(r, "type"),
            text(r, "projectId")
        ),
        ms,
        Kind::Income,
        account,
        amount(r, "rewards")?,
    )?;
    t.note = Some("Simple Earn flexible real-time rewards".into());
    Ok(Some(t))
}

/// Bitcoin swept into BNB as dust (`dribblet`): bitcoin out, traded for BNB.
pub fn dust_rows(log: &Value, account: &str) -> Result<Vec<Tx>, String> {
    let mut rows = Vec::new();
    for sweep in log["userAssetDribblets"].as_array().into_iter().flatten() {
        for d in sweep["userAssetDribbletDetails"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if !is_btc(&text(d, "fromAsset")) {
                continue;
            }
            let ms = millis(d, "operateTime").or_else(|_| millis(sweep, "operateTime"))?;
            let mut t = row(
                format!("binance-dust-{}", text(d, "transId")),
                ms,
                Kind::Withdrawal,
                account,
                amount(d, "amount")?,
            )?;
            t.note = Some("traded for BNB on Binance (dust)".into());
            rows.push(t);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::Sats;
    use serde_json::json;

    fn rows(format: &str, csv: &str) -> Vec<Tx> {
        super::super::adapter::rows_from_export(format, csv, "BN").expect("reads")
    }

    #[test]
    fn fills_read_as_the_trade_history_file_reads() {
        let fill = |id, symbol: &str, base, quote, entry: Value| Fill {
            id,
            time_ms: 1_704_448_800_123,
            symbol: symbol.into(),
            base,
            quote,
            entry,
        };
        let fills = [
            fill(
                1,
                "BTCEUR",
                "BTC",
                "EUR",
                json!({"price": "40000.00", "qty": "0.00100000", "quoteQty": "40.00",
                       "commission": "0.00000100", "commissionAsset": "BTC", "isBuyer": true}),
            ),
            fill(
                2,
                "ETHBTC",
                "ETH",
                "BTC",
                json!({"price": "0.05", "qty": "0.6", "quoteQty": "0.03000000",
                       "commission": "0.00003000", "commissionAsset": "BTC", "isBuyer": false}),
            ),
        ];
        let csv = trades_csv(&fills).expect("csv");
        assert!(csv.contains(
            "\"2024-01-05 10:00:00\",\"BTCEUR\",\"BUY\",\"40000.00\",\"0.00100000BTC\",\"40.00EUR\",\"0.00000100BTC\""
        ), "{csv}");
        let r = rows("binance-trades", &csv);
        assert_eq!(
            (r[0].kind, r[0].btc, r[0].fee_btc),
            (Kind::Buy, Sats(99_900), Sats(100))
        );
        assert_eq!(r[0].fiat_value, Some(Decimal::new(4000, 2)));
        // Selling ETH for bitcoin: the BTC commission comes off what arrives.
        assert_eq!(
            (r[1].kind, r[1].btc, r[1].fee_btc),
            (Kind::Deposit, Sats(2_997_000), Sats(3_000))
        );
        assert!(r.iter().all(|t| t.id.is_none()), "recognised by content");
    }

    #[test]
    fn deposits_and_withdrawals_carry_their_txid_and_fee() {
        let deposits = [
            json!({"id": "d-1", "amount": "0.50000000", "coin": "BTC", "network": "BTC",
                               "status": 1, "address": "bc1qexample", "txId": "aa11",
                               "insertTime": 1_704_448_800_000_i64}),
        ];
        let r = rows("binance-transfers", &deposits_csv(&deposits).expect("csv"));
        assert_eq!((r[0].kind, r[0].btc), (Kind::Deposit, Sats(50_000_000)));
        assert_eq!(
            (r[0].id.as_deref(), r[0].txid.as_deref()),
            (Some("aa11"), Some("aa11"))
        );
        let withdrawals = [
            json!({"id": "w-1", "amount": "0.1", "transactionFee": "0.0002",
                                  "coin": "BTC", "status": 6, "address": "bc1qother", "txId": "bb22",
                                  "applyTime": "2024-01-06 08:00:00", "network": "BTC"}),
        ];
        let r = rows(
            "binance-transfers",
            &withdrawals_csv(&withdrawals).expect("csv"),
        );
        assert_eq!(
            (r[0].kind, r[0].btc, r[0].fee_btc),
            (Kind::Withdrawal, Sats(10_000_000), Sats(20_000))
        );
        assert_eq!(r[0].time.to_string(), "2024-01-06T08:00:00Z");
        assert_eq!(apply_time_ms(&withdrawals[0]), Ok(1_704_528_000_000));
        assert!(deposit_counts(6) && !deposit_counts(0) && deposit_pending(0));
        assert!(withdrawal_counts(6) && !withdrawal_counts(1) && withdrawal_pending(4));
    }

    #[test]
    fn payments_converts_rewards_and_dust_become_rows_with_binances_ids() {
        let buy = json!({"orderNo": "p1", "sourceAmount": "20.0", "fiatCurrency": "EUR",
                         "obtainAmount": "0.0005", "cryptoCurrency": "BTC", "totalFee": "0.2",
                         "price": "39600", "status": "Completed", "paymentMethod": "Credit Card",
                         "createTime": 1_704_448_800_000_i64});
        let t = payment_row(&buy, false, "BN").expect("reads").expect("row");
        assert_eq!((t.kind, t.btc), (Kind::Buy, Sats(50_000)));
        assert_eq!(t.fiat_value, Some(Decimal::new(198, 1)));
        assert_eq!(t.fee_fiat, Decimal::new(2, 1));
        assert_eq!(t.id.as_deref(), Some("binance-payment-p1"));
        let mut failed = buy.clone();
        failed["status"] = json!("Failed");
        assert!(payment_row(&failed, false, "BN").expect("reads").is_none());
        let sale = payment_row(&buy, true, "BN").expect("reads").expect("row");
        assert_eq!(
            (sale.kind, sale.fiat_value),
            (Kind::Sell, Some(Decimal::new(1980, 2)))
        );

        let convert = json!({"quoteId": "q", "orderId": 933_256_278_426_274_426_i64, "orderStatus": "SUCCESS",
                             "fromAsset": "BTC", "fromAmount": "0.00054414", "toAsset": "USDT",
                             "toAmount": "20", "ratio": "36755", "createTime": 1_623_381_330_472_i64});
        let t = convert_row(&convert, "BN").expect("reads").expect("row");
        assert_eq!((t.kind, t.btc), (Kind::Withdrawal, Sats(54_414)));
        assert_eq!(t.id.as_deref(), Some("binance-convert-933256278426274426"));
        assert_eq!(t.note.as_deref(), Some("traded for USDT on Binance"));
        let mut euro = convert.clone();
        euro["fromAsset"] = json!("EUR");
        euro["fromAmount"] = json!("20.00");
        euro["toAsset"] = json!("BTC");
        euro["toAmount"] = json!("0.00054414");
        let t = convert_row(&euro, "BN").expect("reads").expect("row");
        assert_eq!(
            (t.kind, t.fiat_value, t.currency.as_deref()),
            (Kind::Buy, Some(Decimal::new(2000, 2)), Some("EUR"))
        );

        let dividend = json!({"id": 1_637_366_104_i64, "amount": "0.00001000", "asset": "BTC",
                              "divTime": 1_563_189_166_000_i64, "enInfo": "BTC distribution",
                              "tranId": 2_968_885_920_i64, "direction": 1});
        let t = dividend_row(&dividend, "BN").expect("reads").expect("row");
        assert_eq!((t.kind, t.btc), (Kind::Income, Sats(1_000)));
        assert_eq!(t.id.as_deref(), Some("binance-dividend-1637366104"));

        let reward = json!({"asset": "BTC", "rewards": "0.00000042", "projectId": "BTC001",
                            "type": "REALTIME", "time": 1_704_448_800_000_i64});
        let t = earn_row(&reward, "BN").expect("reads").expect("row");
        assert_eq!((t.kind, t.btc), (Kind::Income, Sats(42)));

        let dust = json!({"total": 1, "userAssetDribblets": [{"operateTime": 1_615_985_535_000_i64,
            "totalTransferedAmount": "0.001", "totalServiceChargeAmount": "0.00002", "transId": 45_178_372_831_i64,
            "userAssetDribbletDetails": [
                {"transId": 4_359_321, "serviceChargeAmount": "0.00001", "amount": "0.00000500",
                 "operateTime": 1_615_985_535_000_i64, "transferedAmount": "0.0005", "fromAsset": "BTC"},
                {"transId": 4_359_322, "serviceChargeAmount": "0.00001", "amount": "0.1",
                 "operateTime": 1_615_985_535_000_i64, "transferedAmount": "0.0005", "fromAsset": "ADA"}]}]});
        let t = dust_rows(&dust, "BN").expect("reads");
        assert_eq!(t.len(), 1);
        assert_eq!(
            (t[0].kind, t[0].btc, t[0].id.as_deref()),
            (Kind::Withdrawal, Sats(500), Some("binance-dust-4359321"))
        );
    }
}
