//! The `prices` table: BTC prices per currency, day or hour, with their
//! source.

use rust_decimal::Decimal;

use super::audit::AuditEntry;
use super::{Store, StoreError};
use crate::prices::{Point, Resolution};

/// 6 values a row: well under SQLite's limit of 32,766 bound values.
const ROWS_PER_STATEMENT: usize = 1000;

/// How much of a currency the table holds at one resolution.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow, serde::Serialize)]
pub struct Coverage {
    pub currency: String,
    pub resolution: String,
    pub count: i64,
    pub first: i64,
    pub last: i64,
    pub sources: String,
}

fn decimal(text: &str) -> Result<Decimal, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Invalid(format!("a stored price {text:?} is not a decimal")))
}

impl Store {
    /// Stores prices in one transaction. A user's own file replaces what is
    /// there (`replace`); a source only fills what is missing, so the first
    /// source in the user's order wins. Returns how many rows changed.
    pub async fn put_prices(
        &self,
        points: &[Point],
        source: &str,
        replace: bool,
        now: i64,
        audit: Option<&AuditEntry>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for batch in points.chunks(ROWS_PER_STATEMENT) {
            let mut insert = sqlx::QueryBuilder::<sqlx::Sqlite>::new(
                "INSERT INTO prices (currency, resolution, at, price, source, stored_at) ",
            );
            insert.push_values(batch, |mut values, p| {
                values
                    .push_bind(p.currency.clone())
                    .push_bind(p.resolution.as_str())
                    .push_bind(p.at)
                    .push_bind(p.price.to_string())
                    .push_bind(source)
                    .push_bind(now);
            });
            if replace {
                // Only a different price counts as a change: importing the
                // same file twice changes nothing.
                insert.push(
                    " ON CONFLICT (currency, resolution, at) DO UPDATE SET price = excluded.price, \
                     source = excluded.source, stored_at = excluded.stored_at \
                     WHERE prices.price <> excluded.price OR prices.source <> excluded.source",
                );
            } else {
                insert.push(" ON CONFLICT (currency, resolution, at) DO NOTHING");
            }
            changed += insert.build().execute(&mut *tx).await?.rows_affected();
        }
        if let Some(audit) = audit {
            audit
                .clone()
                .detail(format!("{changed} of {} prices stored", points.len()))
                .insert(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// One stored price and its source.
    pub async fn price(
        &self,
        currency: &str,
        resolution: Resolution,
        at: i64,
    ) -> Result<Option<(Decimal, String)>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT price, source FROM prices WHERE currency = ? AND resolution = ? AND at = ?",
        )
        .bind(currency)
        .bind(resolution.as_str())
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(p, s)| Ok((decimal(&p)?, s))).transpose()
    }

    /// Every price of a currency, as one JSON array built by SQLite (fast
    /// for tens of thousands of rows, as for transactions).
    pub async fn prices_of(&self, currency: &str) -> Result<Vec<Point>, StoreError> {
        let json: String = sqlx::query_scalar(
            "SELECT COALESCE(json_group_array(json_array(resolution, at, price)), '[]') \
             FROM prices WHERE currency = ?",
        )
        .bind(currency)
        .fetch_one(&self.pool)
        .await?;
        let rows: Vec<(String, i64, String)> = serde_json::from_str(&json)
            .map_err(|e| StoreError::Invalid(format!("stored prices do not read back: {e}")))?;
        rows.into_iter()
            .map(|(resolution, at, price)| {
                Ok(Point {
                    currency: currency.to_string(),
                    resolution: Resolution::parse(&resolution)
                        .ok_or_else(|| StoreError::Invalid("a stored resolution".into()))?,
                    at,
                    price: decimal(&price)?,
                })
            })
            .collect()
    }

    /// The days (UTC midnights) in `[from, to]` that have a daily price.
    pub async fn price_days(
        &self,
        currency: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT at FROM prices WHERE currency = ? AND resolution = 'day' AND at BETWEEN ? AND ? \
             ORDER BY at",
        )
        .bind(currency)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The days (UTC midnights) in `[from, to]` with at least one hourly
    /// price for an hour within them (a price at instant t closes the hour
    /// before t, so midnight belongs to the day that ends there).
    pub async fn price_hour_days(
        &self,
        currency: &str,
        from: i64,
        to: i64,
    ) -> Result<Vec<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT (at - 1) - ((at - 1) % 86400) AS day FROM prices \
             WHERE currency = ? AND resolution = 'hour' AND at > ? AND at <= ? ORDER BY day",
        )
        .bind(currency)
        .bind(from)
        .bind(to + 86_400)
        .fetch_all(&self.pool)
        .await?)
    }

    /// What the table holds, per currency and resolution.
    pub async fn price_coverage(&self) -> Result<Vec<Coverage>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT currency, resolution, COUNT(*) AS count, MIN(at) AS first, MAX(at) AS last, \
             group_concat(DISTINCT source) AS sources FROM prices \
             GROUP BY currency, resolution ORDER BY currency, resolution",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[tokio::test]
    async fn a_source_fills_gaps_and_a_user_file_replaces() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).await.expect("open");
        let d = jiff::civil::date(2021, 1, 1);
        let first = [Point::day("USD", d, Decimal::new(2900012, 2))];
        assert_eq!(
            store
                .put_prices(&first, "kraken", false, 1, None)
                .await
                .expect("put"),
            1
        );
        let other = [Point::day("USD", d, Decimal::from(1))];
        assert_eq!(
            store
                .put_prices(&other, "coinbase", false, 2, None)
                .await
                .expect("put"),
            0
        );
        let at = crate::prices::day_start(d);
        assert_eq!(
            store.price("USD", Resolution::Day, at).await.expect("get"),
            Some((Decimal::new(2900012, 2), "kraken".into()))
        );
        assert_eq!(
            store
                .put_prices(&other, "file", true, 3, None)
                .await
                .expect("put"),
            1
        );
        assert_eq!(
            store
                .put_prices(&other, "file", true, 4, None)
                .await
                .expect("put"),
            0
        );
        assert_eq!(store.prices_of("USD").await.expect("all"), other.to_vec());
        assert_eq!(
            store.price_days("USD", at, at).await.expect("days"),
            vec![at]
        );
        let coverage = store.price_coverage().await.expect("coverage");
        assert_eq!(coverage[0].count, 1);
        assert_eq!(coverage[0].sources, "file");
        store.close().await;
    }
}
