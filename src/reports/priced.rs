//! Loading a workspace's book for a report: the imported rows with the
//! user's decisions laid over them, manual prices applied, then rows that
//! still lack a fiat value valued from the price table. Rows the table
//! cannot value keep no value, and the engines report them as "missing
//! price": the report is then incomplete, never valued at zero.

use crate::ledger::Tx;
use crate::ledger::review::Book;
use crate::prices::{book::PriceBook, settings, valuation};
use crate::store::{Store, StoreError, WorkspaceId};

use super::{Engine, Options};

/// The workspace's book, valued in the report's currency where needed.
pub async fn book(store: &Store, ws: WorkspaceId, o: &Options) -> Result<Book, StoreError> {
    let mut book = crate::review::load(store, ws).await?.book;
    book.partial_accounts = store
        .exchange_connections_in(ws)
        .await?
        .into_iter()
        .filter(|c| !c.complete)
        .map(|c| c.name)
        .collect();
    let overrides = store.price_overrides(ws).await?;
    valuation::apply_overrides(&mut book.rows, &overrides);
    // Bad options are reported by the report itself.
    let Ok(engine) = Engine::from_options(o) else {
        return Ok(book);
    };
    value(store, &mut book.rows, engine.currency()).await?;
    Ok(book)
}

async fn value(store: &Store, rows: &mut [Tx], currency: &str) -> Result<(), StoreError> {
    if !rows.iter().any(valuation::needs_value) {
        return Ok(());
    }
    let prices = PriceBook::new(store.prices_of(currency).await?);
    let rule = settings::load(store).await?.rule();
    let valued = valuation::value_rows(rows, currency, &rule, &prices);
    valuation::apply(rows, currency, &valued);
    Ok(())
}

/// The rows of the book (by index) that need a market value which neither
/// a manual price nor the table, in the currency set for review, can give:
/// the review queue's "missing price" items.
pub async fn missing_prices(
    store: &Store,
    ws: WorkspaceId,
    book: &Book,
) -> Result<Vec<usize>, StoreError> {
    let mut rows = book.rows.clone();
    let overrides = store.price_overrides(ws).await?;
    valuation::apply_overrides(&mut rows, &overrides);
    if !rows.iter().any(valuation::needs_value) {
        return Ok(Vec::new());
    }
    let s = settings::load(store).await?;
    let prices = PriceBook::new(store.prices_of(&s.currency).await?);
    Ok(
        valuation::value_rows(&rows, &s.currency, &s.rule(), &prices)
            .into_iter()
            .filter(|(_, v)| v.is_err())
            .map(|(i, _)| i)
            .collect(),
    )
}
