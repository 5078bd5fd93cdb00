//! A ledger row: one movement of bitcoin, in the vocabulary of the generic
//! CSV format (`docs/generic-csv.md`).

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use rust_decimal::Decimal;

use super::Sats;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Buy,
    Income,
    GiftIn,
    Deposit,
    Transfer,
    Sell,
    Spend,
    GiftOut,
    GiftSpouse,
    Fee,
    Withdrawal,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Buy,
        Kind::Income,
        Kind::GiftIn,
        Kind::Deposit,
        Kind::Transfer,
        Kind::Sell,
        Kind::Spend,
        Kind::GiftOut,
        Kind::GiftSpouse,
        Kind::Fee,
        Kind::Withdrawal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Buy => "buy",
            Kind::Income => "income",
            Kind::GiftIn => "gift_in",
            Kind::Deposit => "deposit",
            Kind::Transfer => "transfer",
            Kind::Sell => "sell",
            Kind::Spend => "spend",
            Kind::GiftOut => "gift_out",
            Kind::GiftSpouse => "gift_spouse",
            Kind::Fee => "fee",
            Kind::Withdrawal => "withdrawal",
        }
    }

    /// Bitcoin comes into the account.
    pub fn is_inflow(self) -> bool {
        matches!(
            self,
            Kind::Buy | Kind::Income | Kind::GiftIn | Kind::Deposit
        )
    }

    /// The row needs a fiat value to be valued (others may look it up).
    pub fn requires_fiat_value(self) -> bool {
        matches!(self, Kind::Buy | Kind::Sell | Kind::GiftIn)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Kind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let name = s.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown type {s:?}; use one of {}", names.join(", "))
            })
    }
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tx {
    /// The source's own id, unique per account; makes re-imports no-ops.
    pub id: Option<String>,
    pub time: Timestamp,
    pub kind: Kind,
    pub account: String,
    /// Always positive, except for `fee` rows where it is zero.
    pub btc: Sats,
    pub fee_btc: Sats,
    /// Fiat value of `btc`, excluding fees.
    pub fiat_value: Option<Decimal>,
    pub currency: Option<String>,
    pub fee_fiat: Decimal,
    pub to_account: Option<String>,
    pub txid: Option<String>,
    pub note: Option<String>,
}

impl Tx {
    /// A total order on row content, so that results never depend on the
    /// order rows were imported in: time first, then inflows before outflows
    /// within the same instant, then every remaining field.
    pub fn order_key(&self) -> impl Ord + '_ {
        (
            self.time,
            !self.kind.is_inflow(),
            self.kind,
            &self.account,
            &self.id,
            self.btc,
            self.fee_btc,
            self.fiat_value,
            self.fee_fiat,
            &self.to_account,
            &self.txid,
        )
    }

    /// Fiat value per satoshi implied by the row, if it has one.
    pub fn price_per_sat(&self) -> Option<Decimal> {
        let value = self.fiat_value?;
        (self.btc.0 > 0).then(|| value / Decimal::from(self.btc.0))
    }
}
