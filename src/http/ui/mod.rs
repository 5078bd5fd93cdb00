//! The web UI: server-rendered pages. Templates are maud macros, checked at
//! compile time and escaping every interpolated value.

mod layout;
mod pages;

use maud::Markup;
use poem::http::StatusCode;
use poem::web::Html;
use poem::{Route, get};

pub fn routes() -> Route {
    Route::new()
        .at("/", get(pages::dashboard))
        .at("/transactions", get(pages::transactions))
        .at("/wallets", get(pages::wallets))
        .at("/imports", get(pages::imports))
        .at("/reports", get(pages::reports))
        .at("/settings", get(pages::settings))
}

/// The page for an error outside the API.
pub fn error_page(status: StatusCode, message: &str) -> Html<String> {
    let title = status.canonical_reason().unwrap_or("Error");
    render(layout::page(
        title,
        None,
        pages::error_body(status, title, message),
    ))
}

fn render(markup: Markup) -> Html<String> {
    Html(markup.into_string())
}
