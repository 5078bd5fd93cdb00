//! Tax engines: pure functions from ledger rows and settings to disposals,
//! income and holdings, every figure traceable to the rows and lots it came
//! from. No I/O, no async, no clock.

pub mod au;
pub mod ca;
pub mod de;
pub mod lots;
pub mod summary;
pub mod uk;
pub mod us;

/// How a network fee paid in bitcoin on a transfer between one's own
/// accounts is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeePolicy {
    /// A disposal of the fee's bitcoin at market value.
    Disposal,
    /// The fee's bitcoin leaves with its basis; no gain or loss.
    NonTaxable,
    /// The fee's basis moves onto the coins that remain.
    AddToBasis,
}

impl std::str::FromStr for FeePolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disposal" => Ok(FeePolicy::Disposal),
            "non-taxable" => Ok(FeePolicy::NonTaxable),
            "add-to-basis" => Ok(FeePolicy::AddToBasis),
            other => Err(format!(
                "unknown transfer fee policy {other:?}; use disposal, non-taxable or add-to-basis"
            )),
        }
    }
}

/// Decimal places kept when a fiat amount is split in proportion to
/// satoshis. Splits are rounded here, and the remainder is always computed by
/// subtraction, so totals are conserved exactly; reports round to the minor
/// unit once, at the end.
pub const SPLIT_PLACES: u32 = 12;

/// `total × part / whole`, to [`SPLIT_PLACES`], rounded half to even.
pub fn split(total: rust_decimal::Decimal, part: i64, whole: i64) -> rust_decimal::Decimal {
    if whole == 0 {
        return rust_decimal::Decimal::ZERO;
    }
    if part == whole {
        return total;
    }
    split_exact(total, part, whole).unwrap_or_else(|| {
        (total * rust_decimal::Decimal::from(part) / rust_decimal::Decimal::from(whole))
            .round_dp_with_strategy(
                SPLIT_PLACES,
                rust_decimal::RoundingStrategy::MidpointNearestEven,
            )
    })
}

/// The same split in 128-bit integers, exact before the one rounding: the
/// engines' hottest arithmetic, and several times faster than decimal
/// division. `None` when the numbers would not fit (then the decimal path,
/// which is exact for the amounts bitcoin histories have, takes over).
fn split_exact(
    total: rust_decimal::Decimal,
    part: i64,
    whole: i64,
) -> Option<rust_decimal::Decimal> {
    let scale = total.scale();
    if scale > SPLIT_PLACES || whole <= 0 {
        return None;
    }
    let scaled = total
        .mantissa()
        .checked_mul(10i128.pow(SPLIT_PLACES - scale))?;
    let numerator = scaled.checked_mul(i128::from(part))?;
    let whole = i128::from(whole);
    let (mut quotient, remainder) = (numerator / whole, numerator % whole);
    // Half to even, on the exact remainder.
    let twice = remainder.unsigned_abs() * 2;
    let away = match twice.cmp(&whole.unsigned_abs()) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Equal => quotient % 2 != 0,
        std::cmp::Ordering::Less => false,
    };
    if away {
        quotient += if numerator < 0 { -1 } else { 1 };
    }
    rust_decimal::Decimal::try_from_i128_with_scale(quotient, SPLIT_PLACES).ok()
}

/// Something the engine could not resolve; the report is incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Index of the ledger row.
    pub row: usize,
    pub message: String,
}

#[cfg(test)]
mod tests;
