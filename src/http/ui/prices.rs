//! The Prices section of Settings: the valuation rule, the sources in the
//! order they are asked, the CoinGecko key (last four shown), what the table
//! holds, and a "fill gaps" button with its progress and per-range outcome.
//! Instance administrators only, checked on the server for every action.

use maud::{Markup, html};
use poem::web::{Data, Form, Redirect};
use poem::{IntoResponse, Request, Response, handler};

use super::context::{Ui, ui};
use crate::http::AppState;
use crate::http::api::prices::{fill_scope, status};
use crate::http::auth::client_of;
use crate::prices::settings::{self, PriceSettings, SOURCE_NAMES, SourceSetting};
use crate::prices::valuation::Method;
use crate::store::{AuditEntry, StoreError};

/// The section, for the Settings page.
pub async fn section(state: &AppState, ui: &Ui) -> Result<Markup, StoreError> {
    let stored = settings::load(&state.store).await?;
    let coverage = state.store.price_coverage().await?;
    let last4 = state.prices.coingecko_last4().await?;
    let job = status(&state.prices.job());
    let csrf = &ui.csrf_token;
    let day = |at: i64| crate::prices::utc_day(at).to_string();
    Ok(html! {
        section.card id="prices" {
            h2 { "Prices" }
            p.muted {
                "Ledgersys keeps its own BTC price table and fills it in bulk ranges, so no request "
                "reveals a date, amount or address. Rows without a fiat value are valued from it; "
                "a day the table lacks is a missing price, never zero."
            }
            form method="post" action="/settings/prices" {
                input type="hidden" name="csrf_token" value=(csrf);
                label { "Valuation rule"
                    select name="rule" {
                        option value="day_close" selected[stored.rule == Method::DayClose] { "close of the day in my time zone" }
                        option value="nearest_hour" selected[stored.rule == Method::NearestHour] { "nearest hourly price" }
                    }
                }
                label { "Time zone" input name="timezone" required value=(stored.timezone) placeholder="Europe/Berlin"; }
                label { "Currency the review queue checks" input name="currency" required maxlength="3" value=(stored.currency); }
                table {
                    thead { tr { th { "Order" } th { "Source" } th { "Use" } th { "Address (empty: public)" } } }
                    tbody {
                        @for (i, s) in stored.sources.iter().enumerate() {
                            tr {
                                td { input type="number" min="1" max="9" name=(format!("position.{}", s.name)) value=(i + 1) aria-label=(format!("Position of {}", s.name)); }
                                td { (s.name) }
                                td { input type="checkbox" name=(format!("enabled.{}", s.name)) checked[s.enabled] aria-label=(format!("Use {}", s.name)); }
                                td { input name=(format!("url.{}", s.name)) value=(s.base_url.clone().unwrap_or_default()) placeholder=(if s.name == "mempool" { "http://mempool.local" } else { "" }); }
                            }
                        }
                    }
                }
                label { input type="checkbox" name="coingecko_pro" checked[stored.coingecko_pro]; " The CoinGecko key is for the paid API" }
                button type="submit" { "Save price settings" }
            }
            form method="post" action="/settings/prices/coingecko-key" {
                input type="hidden" name="csrf_token" value=(csrf);
                label {
                    "CoinGecko API key"
                    @if let Some(last4) = &last4 { " (stored, ends in " code { (last4) } ")" }
                    input type="password" name="key" required autocomplete="off";
                }
                button type="submit" { "Save key" }
            }
            h3 { "What the table holds" }
            @if coverage.is_empty() {
                p.muted { "No prices yet: fill gaps, or import a price file with " code { "ledgersys prices import" } "." }
            } @else {
                table {
                    thead { tr { th { "Currency" } th { "Resolution" } th { "Prices" } th { "From" } th { "To" } th { "Sources" } } }
                    tbody {
                        @for c in &coverage {
                            tr { td { (c.currency) } td { (c.resolution) } td { (c.count) } td { (day(c.first)) } td { (day(c.last)) } td { (c.sources) } }
                        }
                    }
                }
            }
            h3 { "Fill gaps" }
            form method="post" action="/settings/prices/fill" {
                input type="hidden" name="csrf_token" value=(csrf);
                label { "Currency (empty: all seven)" input name="currency" maxlength="3"; }
                label { "From" input name="from" type="date" value=(crate::prices::FIRST_DAY.to_string()); }
                button type="submit" disabled[job.running] { "Fill gaps" }
            }
            div.fill data-running=(job.running) data-poll="/api/v1/instance/prices/fill" {
                @if job.running || job.planned > 0 {
                    progress max=(job.planned.max(1)) value=(job.done) { (job.done) " of " (job.planned) }
                    p.fill-status role="status" {
                        @if job.running { "Filling: " (job.current) " (" (job.done) " of " (job.planned) " requests)" }
                        @else { "Last fill finished: " (job.done) " requests." }
                    }
                }
                @for note in &job.notes { p.muted { (note) } }
                @if let Some(error) = &job.error { p class="notice error" { (error) } }
                @if !job.ranges.is_empty() {
                    table {
                        thead { tr { th { "Source" } th { "Currency" } th { "Days" } th { "Outcome" } } }
                        tbody {
                            @for r in &job.ranges {
                                tr class=(format!("outcome-{}", r.outcome)) {
                                    td { (r.source) } td { (r.currency) } td { (r.from) " – " (r.to) }
                                    td {
                                        (r.outcome)
                                        @if let Some(n) = r.stored { ", " (n) " stored" }
                                        @if let Some(n) = r.missing_days { ", " (n) " days missing" }
                                        @if let Some(reason) = &r.reason { ": " (reason) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    })
}

fn forbidden() -> Response {
    super::error_page(
        poem::http::StatusCode::FORBIDDEN,
        "Only instance administrators manage prices.",
    )
    .with_status(poem::http::StatusCode::FORBIDDEN)
    .into_response()
}

async fn admin(state: &AppState, req: &Request) -> Result<Ui, Response> {
    let ui = ui(state, req).await?;
    if ui.instance_admin {
        Ok(ui)
    } else {
        Err(forbidden())
    }
}

fn back() -> Response {
    Redirect::see_other("/settings#prices").into_response()
}

fn failed(message: &str) -> Response {
    super::error_page(poem::http::StatusCode::UNPROCESSABLE_ENTITY, message)
        .with_status(poem::http::StatusCode::UNPROCESSABLE_ENTITY)
        .into_response()
}

/// The settings from the form: sources ordered by their position field.
fn from_form(fields: &[(String, String)]) -> Result<PriceSettings, String> {
    let get = |k: &str| fields.iter().find(|(f, _)| f == k).map(|(_, v)| v.trim());
    let mut sources: Vec<(i64, usize, SourceSetting)> = SOURCE_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let position = get(&format!("position.{name}"))
                .and_then(|p| p.parse().ok())
                .unwrap_or(i as i64 + 1);
            let setting = SourceSetting {
                name: (*name).into(),
                enabled: get(&format!("enabled.{name}")).is_some(),
                base_url: get(&format!("url.{name}"))
                    .filter(|u| !u.is_empty())
                    .map(String::from),
            };
            (position, i, setting)
        })
        .collect();
    sources.sort_by_key(|(position, i, _)| (*position, *i));
    let settings = PriceSettings {
        rule: get("rule").unwrap_or("day_close").parse()?,
        timezone: get("timezone").unwrap_or("UTC").to_string(),
        sources: sources.into_iter().map(|(_, _, s)| s).collect(),
        coingecko_pro: get("coingecko_pro").is_some(),
        currency: crate::prices::currency_code(get("currency").unwrap_or("USD"))?,
    };
    settings.validate()?;
    Ok(settings)
}

fn entry(ui: &Ui, req: &Request, action: &'static str) -> AuditEntry {
    AuditEntry::new(crate::clock::now(), Some(ui.user_id), &ui.username, action)
        .from_addr(client_of(req).addr)
}

#[handler]
pub async fn save(
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let ui = match admin(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    let settings = match from_form(&fields) {
        Ok(s) => s,
        Err(message) => return failed(&message),
    };
    let audit = entry(&ui, req, "settings.prices_changed")
        .detail(format!("{:?} in {}", settings.rule, settings.timezone));
    match settings::save(&state.store, &settings, &audit).await {
        Ok(()) => back(),
        Err(err) => {
            tracing::error!(error = %err, "cannot save price settings");
            failed("the settings could not be saved; the server log has the details")
        }
    }
}

#[derive(serde::Deserialize)]
pub struct KeyForm {
    key: String,
}

#[handler]
pub async fn save_key(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<KeyForm>,
) -> Response {
    let ui = match admin(&state, req).await {
        Ok(ui) => ui,
        Err(r) => return r,
    };
    let audit =
        entry(&ui, req, "settings.coingecko_key_set").target(settings::COINGECKO_KEY_SECRET);
    match state.prices.set_coingecko_key(&form.key, &audit).await {
        Ok(_) => back(),
        Err(err) => failed(&err.to_string()),
    }
}

#[derive(serde::Deserialize)]
pub struct FillForm {
    currency: Option<String>,
    from: Option<String>,
}

#[handler]
pub async fn fill(state: Data<&AppState>, req: &Request, Form(form): Form<FillForm>) -> Response {
    if let Err(r) = admin(&state, req).await {
        return r;
    }
    let currencies: Vec<String> = form
        .currency
        .into_iter()
        .filter(|c| !c.trim().is_empty())
        .collect();
    let from = form
        .from
        .unwrap_or_else(|| crate::prices::FIRST_DAY.to_string());
    let (currencies, from) = match fill_scope(&currencies, &from) {
        Ok(scope) => scope,
        Err(message) => return failed(&message),
    };
    match state.prices.start(currencies, from, crate::clock::now()) {
        Ok(()) => back(),
        Err(err) => failed(&err.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_orders_sources_by_position() {
        let f = |k: &str, v: &str| (k.to_string(), v.to_string());
        let settings = from_form(&[
            f("rule", "nearest_hour"),
            f("timezone", "Europe/Berlin"),
            f("position.kraken", "1"),
            f("enabled.kraken", "on"),
            f("position.mempool", "5"),
            f("url.mempool", "http://mempool.local"),
        ])
        .expect("valid");
        assert_eq!(settings.rule, Method::NearestHour);
        assert_eq!(settings.sources[0].name, "kraken");
        assert!(settings.sources[0].enabled);
        let mempool = settings
            .sources
            .iter()
            .find(|s| s.name == "mempool")
            .expect("mempool");
        assert!(!mempool.enabled);
        assert_eq!(mempool.base_url.as_deref(), Some("http://mempool.local"));
        assert!(from_form(&[f("timezone", "Nowhere/City")]).is_err());
    }
}
