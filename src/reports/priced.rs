//! Loading a workspace's rows for a report: manual price overrides first,
//! then rows that came without a fiat value valued from the price table. Rows the table cannot value keep
//! no value, and the engines report them as "missing price": the report is
//! then incomplete, never valued at zero.

use crate::ledger::Tx;
use crate::prices::{book::PriceBook, settings, valuation};
use crate::store::{Store, StoreError, WorkspaceId};

use super::{Engine, Options};

/// The workspace's rows, valued in the report's currency where needed.
pub async fn rows(store: &Store, ws: WorkspaceId, o: &Options) -> Result<Vec<Tx>, StoreError> {
    let mut rows = store.transactions(ws).await?;
    let overrides = store.price_overrides(ws).await?;
    valuation::apply_overrides(&mut rows, &overrides);
    // Bad options are reported by the report itself.
    let Ok(engine) = Engine::from_options(o) else {
        return Ok(rows);
    };
    if !rows.iter().any(valuation::needs_value) {
        return Ok(rows);
    }
    let currency = engine.currency().to_string();
    let book = PriceBook::new(store.prices_of(&currency).await?);
    let rule = settings::load(store).await?.rule();
    let valued = valuation::value_rows(&rows, &currency, &rule, &book);
    valuation::apply(&mut rows, &currency, &valued);
    Ok(rows)
}

/// Rows that need a market value which neither a manual price nor the table
/// (in the currency set for review) can give: the review queue's "missing
/// price" items.
pub async fn missing_prices(store: &Store, ws: WorkspaceId) -> Result<Vec<Tx>, StoreError> {
    let mut rows = store.transactions(ws).await?;
    let overrides = store.price_overrides(ws).await?;
    valuation::apply_overrides(&mut rows, &overrides);
    if !rows.iter().any(valuation::needs_value) {
        return Ok(Vec::new());
    }
    let s = settings::load(store).await?;
    let book = PriceBook::new(store.prices_of(&s.currency).await?);
    Ok(valuation::value_rows(&rows, &s.currency, &s.rule(), &book)
        .into_iter()
        .filter(|(_, v)| v.is_err())
        .filter_map(|(i, _)| rows.get(i).cloned())
        .collect())
}
