//! The section pages. Sections that later work fills show an honest empty
//! state: what will be there, and that this build does not have it yet.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{IntoResponse, Request, Response, handler};

use super::context::ui;
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

async fn section(
    state: &AppState,
    req: &Request,
    path: &'static str,
    title: &str,
    lead: &str,
    empty: Markup,
) -> Response {
    let ui = match ui(state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    render(layout::page(
        title,
        Some(path),
        &ui,
        html! {
            h1 { (title) }
            p.lead { (lead) }
            (empty)
        },
    ))
    .into_response()
}

#[handler]
pub async fn dashboard(state: Data<&AppState>, req: &Request) -> Response {
    let empty = empty_state(
        "Your books are empty",
        "Once transactions are imported or wallets are watched, your holdings, \
         cost basis and this year's gains appear here. This build does not yet \
         import data.",
    );
    section(
        &state,
        req,
        "/",
        "Dashboard",
        "Holdings, gains and income at a glance.",
        empty,
    )
    .await
}

/// RFC 9116: where to report a vulnerability.
#[handler]
pub fn security_txt() -> Response {
    let expires = crate::clock::rfc3339(crate::clock::now() + 180 * 86_400);
    let body = format!(
        "Contact: mailto:support@ledgersys.live\n\
         Expires: {expires}\n\
         Preferred-Languages: en\n\
         Policy: https://github.com/ledgersys/ledgersys/blob/main/SECURITY.md\n"
    );
    Response::builder()
        .content_type("text/plain; charset=utf-8")
        .body(body)
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
