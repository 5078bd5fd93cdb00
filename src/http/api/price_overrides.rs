//! Manual prices for single rows, named by account and source id. Each
//! change is audited with the price before and after.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use super::members::scope;
use super::policy::Access;
use super::{Done, Tag};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::store::AuditEntry;

#[derive(Debug, Object)]
pub struct PriceOverride {
    pub account: String,
    /// The row's source id (the `id` column of its import).
    pub id: String,
    /// Price of one BTC, a decimal string; `null` removes the override.
    pub price: Option<String>,
    /// ISO 4217 code; required with a price.
    pub currency: Option<String>,
}

pub struct PriceOverridesApi;

#[OpenApi(tag = "Tag::Books")]
impl PriceOverridesApi {
    /// The rows valued at a manual price in this workspace.
    #[oai(
        path = "/workspaces/:workspace_id/price-overrides",
        method = "get",
        operation_id = "list_price_overrides"
    )]
    async fn list(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
    ) -> Result<Json<Vec<PriceOverride>>, ApiError> {
        let (ws, _) = scope(&access)?;
        Ok(Json(
            state
                .store
                .price_overrides(ws)
                .await?
                .into_iter()
                .map(|o| PriceOverride {
                    account: o.account,
                    id: o.id,
                    price: Some(o.price.to_string()),
                    currency: Some(o.currency),
                })
                .collect(),
        ))
    }

    /// Sets or removes the manual price of one row; reports use it instead
    /// of the table or the row's own value.
    #[oai(
        path = "/workspaces/:workspace_id/price-overrides",
        method = "put",
        operation_id = "set_price_override"
    )]
    async fn set(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        #[oai(name = "workspace_id")] _workspace: Path<i64>,
        update: Json<PriceOverride>,
    ) -> Result<Done, ApiError> {
        let (ws, _) = scope(&access)?;
        let caller = access.caller()?;
        let invalid = |m: String| ApiError::Unprocessable(body("invalid", m));
        let u = update.0;
        let price = match (&u.price, &u.currency) {
            (None, _) => None,
            (Some(p), Some(c)) => Some((
                crate::prices::positive_price(p)
                    .ok_or_else(|| invalid(format!("price {p:?} is not a positive decimal")))?,
                crate::prices::currency_code(c).map_err(invalid)?,
            )),
            (Some(_), None) => return Err(invalid("a price needs its currency".into())),
        };
        let audit = AuditEntry::new(
            crate::clock::now(),
            Some(caller.user_id),
            &caller.username,
            "transaction.price_overridden",
        )
        .from_addr(client_of(req).addr);
        let found = state
            .store
            .set_price_override(
                ws,
                &u.account,
                &u.id,
                price.as_ref().map(|(p, c)| (*p, c.as_str())),
                &audit,
            )
            .await?;
        if !found {
            return Err(ApiError::not_found(format!(
                "no row with id {:?} in account {:?}",
                u.id, u.account
            )));
        }
        Ok(Done::NoContent)
    }
}
