//! The web UI: server-rendered pages. Templates are maud macros, checked at
//! compile time and escaping every interpolated value. Every page but
//! setup and sign-in needs a session; every action checks the role it needs
//! on the server, whatever the page showed.

mod account;
mod admin;
pub mod books;
mod btcpay;
pub mod btcpay_authorize;
mod btcpay_manage;
mod chain_source;
mod context;
pub mod exchanges;
pub mod imports;
mod invitations;
mod layout;
mod login;
mod pages;
pub mod pending;
mod prices;
mod printable;
mod review;
mod wallet_labels;
pub mod wallets;

use super::allow::{Routes, get, post};
use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Html;

pub fn routes() -> Routes {
    Routes::new()
        .at("/", get(pages::dashboard))
        .at("/transactions", get(books::transactions_page))
        .at("/wallets", get(wallets::wallets))
        .at("/wallets/preview", post(wallets::preview))
        .at("/wallets/add", post(wallets::confirm))
        .at("/wallets/:wallet_id/sync", post(wallets::sync))
        .at("/wallets/labels", post(wallet_labels::import))
        .at("/wallets/labels.jsonl", get(wallet_labels::export))
        .at("/exchanges", get(exchanges::exchanges).post(exchanges::add))
        .at("/exchanges/:id/sync", post(exchanges::sync))
        .at("/exchanges/:id/remove", post(exchanges::remove))
        .at("/imports", get(imports::imports))
        .at("/imports/preview", post(imports::preview))
        .at("/imports/recheck", post(imports::recheck))
        .at("/imports/commit", post(imports::commit))
        .at("/reports", get(books::reports_page))
        .at("/reports/print", get(printable::print))
        .at("/reports/trail", get(printable::trail))
        .at("/review", get(review::page))
        .at("/review/decide", post(review::decide))
        .at("/review/undo", post(review::undo))
        .at("/review/lots", get(review::pick_lots))
        .at("/settings", get(admin::settings_view))
        .at("/settings/members", post(admin::add_member))
        .at("/settings/members/:user_id", post(admin::change_member))
        .at(
            "/settings/invitations/:id/cancel",
            post(invitations::cancel),
        )
        .at("/settings/smtp", post(admin::save_smtp))
        .at("/settings/chain-source", post(chain_source::save))
        .at("/settings/prices", post(prices::save))
        .at("/settings/prices/coingecko-key", post(prices::save_key))
        .at("/settings/prices/fill", post(prices::fill))
        .at("/settings/workspaces", post(admin::create_workspace))
        .at("/settings/btcpay", post(btcpay::connect))
        .at("/settings/btcpay/sweep", post(btcpay::sweep))
        .at("/settings/btcpay/:id/remove", post(btcpay_manage::remove))
        .at("/settings/btcpay/:id/key", post(btcpay_manage::replace_key))
        .at(
            "/settings/btcpay/:id/secret",
            post(btcpay_manage::replace_secret),
        )
        .at("/settings/btcpay/authorize", post(btcpay_authorize::start))
        .at(btcpay_authorize::CALLBACK, post(btcpay_authorize::callback))
        .at("/workspace", post(admin::switch_workspace))
        .at("/audit", get(admin::audit_page))
        .at("/account", get(account::page))
        .at("/account/email", post(account::set_email))
        .at("/account/password", post(account::change_password))
        .at("/account/tokens", post(account::create_token))
        .at(
            "/account/tokens/:token_id/revoke",
            post(account::revoke_token),
        )
        .at("/account/alerts/read", post(account::mark_read))
        .at("/account/invitations/:id/accept", post(invitations::accept))
        .at(
            "/account/invitations/:id/decline",
            post(invitations::decline),
        )
        .at("/setup", get(login::setup_page).post(login::setup_submit))
        .at("/login", get(login::login_page).post(login::login_submit))
        .at("/logout", post(login::logout))
        .at("/.well-known/security.txt", get(pages::security_txt))
}

/// The page for an error outside the API.
pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let title = status.canonical_reason().unwrap_or("Error");
    render(layout::bare(
        title,
        pages::error_body(status, title, message),
    ))
}

fn render(markup: Markup) -> Html<String> {
    Html(markup.into_string())
}

/// A notice above a form: what went wrong, or what just happened.
fn notice(kind: &str, text: Option<&str>) -> Markup {
    html! {
        @if let Some(text) = text {
            p class={ "notice " (kind) } role="status" { (text) }
        }
    }
}
