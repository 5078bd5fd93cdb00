//! The pages of the shell. Sections that later work fills show an honest
//! empty state: what will be there, and that this build does not have it yet.

use maud::{Markup, html};
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Data, Html};

use super::{layout, render};
use crate::http::AppState;

fn empty_state(heading: &str, explanation: &str) -> Markup {
    html! {
        section.empty {
            h2 { (heading) }
            p { (explanation) }
        }
    }
}

fn section(path: &'static str, title: &str, lead: &str, empty: Markup) -> Html<String> {
    render(layout::page(
        title,
        Some(path),
        html! {
            h1 { (title) }
            p.lead { (lead) }
            (empty)
        },
    ))
}

#[handler]
pub fn dashboard() -> Html<String> {
    section(
        "/",
        "Dashboard",
        "Holdings, gains and income at a glance.",
        empty_state(
            "Your books are empty",
            "Once transactions are imported or wallets are watched, your holdings, \
             cost basis and this year's gains appear here. This build does not yet \
             import data.",
        ),
    )
}

#[handler]
pub fn transactions() -> Html<String> {
    section(
        "/transactions",
        "Transactions",
        "Every receive, send, trade and transfer, with its fiat value.",
        empty_state(
            "No transactions",
            "Imported and synced transactions will be listed here.",
        ),
    )
}

#[handler]
pub fn wallets() -> Html<String> {
    section(
        "/wallets",
        "Wallets & Accounts",
        "Watch-only wallets from your own node, and exchange accounts.",
        empty_state(
            "No wallets or accounts",
            "Ledgersys watches wallets by their public keys only; it never asks for a \
             private key or seed. Adding wallets is not available in this build yet.",
        ),
    )
}

#[handler]
pub fn imports() -> Html<String> {
    section(
        "/imports",
        "Imports",
        "Exchange and wallet CSV files, previewed before anything is stored.",
        empty_state(
            "No imports",
            "Importing files is not available in this build yet.",
        ),
    )
}

#[handler]
pub fn reports() -> Html<String> {
    section(
        "/reports",
        "Reports",
        "Capital gains, income and holdings, ready to file.",
        empty_state(
            "No reports",
            "Reports need transactions; none are recorded yet.",
        ),
    )
}

#[handler]
pub async fn settings(state: Data<&AppState>) -> Html<String> {
    let schema = match state.store.schema_version().await {
        Ok(version) => version.to_string(),
        Err(err) => {
            tracing::warn!(error = %err, "cannot read the schema version");
            "unavailable".to_string()
        }
    };
    render(layout::page(
        "Settings",
        Some("/settings"),
        html! {
            h1 { "Settings" }
            p.lead { "This instance and how it is run." }
            section.card {
                h2 { "About this instance" }
                dl.facts {
                    dt { "Version" } dd { (env!("CARGO_PKG_VERSION")) }
                    dt { "Database schema" } dd { (schema) }
                    dt { "API" } dd { a href="/api/docs/" { "Interactive documentation" } }
                }
            }
        },
    ))
}

pub fn error_body(status: StatusCode, title: &str, message: &str) -> Markup {
    html! {
        section.empty {
            p.status { (status.as_u16()) }
            h1 { (title) }
            p { (message) }
            p { a href="/" { "Back to the dashboard" } }
        }
    }
}
