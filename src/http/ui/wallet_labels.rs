//! BIP-329 labels on the Wallets page: upload a label file, download the
//! workspace's labels and notes.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Multipart, Redirect};
use poem::{IntoResponse, Request, Response, handler};

use super::context::{Ui, ui};
use crate::auth::Role;
use crate::http::AppState;
use crate::review::Actor;
use crate::sources::chain::label_book::{self, LabelError};

pub fn card(ui: &Ui) -> Markup {
    html! {
        section.card #labels {
            h2 { "Labels (BIP-329)" }
            p.muted {
                "Labels exported by Sparrow, BTCPay or Bitcoin Core become the notes of the transactions they name. "
                "A label beginning with income, gift, spend, payment or purchase also classifies a deposit or "
                "withdrawal still waiting for review."
            }
            @if ui.can(Role::Accountant) {
                form method="post" action="/wallets/labels" enctype="multipart/form-data" {
                    input type="hidden" name="csrf_token" value=(ui.csrf_token);
                    label { "Label file (JSONL)" input type="file" name="file" accept=".jsonl,.json,.txt,application/json" required; }
                    button type="submit" { "Import labels" }
                }
            }
            p { a href="/wallets/labels.jsonl" download { "Download labels and notes" } }
        }
    }
}

#[handler]
pub async fn import(state: Data<&AppState>, req: &Request, mut form: Multipart) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return super::error_page(StatusCode::FORBIDDEN, "Your role does not allow importing.")
            .with_status(StatusCode::FORBIDDEN)
            .into_response();
    };
    let mut bytes = Vec::new();
    while let Ok(Some(field)) = form.next_field().await {
        if field.name() == Some("file") {
            bytes = field.bytes().await.unwrap_or_default();
        }
    }
    let actor = Actor {
        name: &ui.username,
        id: Some(ui.user_id),
        now: crate::clock::now(),
    };
    match label_book::import(&state.store, ws, &bytes, &actor).await {
        Ok(done) => Redirect::see_other(format!(
            "/wallets?labels={}&classified={}",
            done.labels, done.classified
        ))
        .into_response(),
        Err(LabelError::Store(e)) => {
            tracing::error!(error = %e, "importing labels failed");
            super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The import failed; nothing was stored.",
            )
            .into_response()
        }
        Err(e) => {
            let message = match &e {
                LabelError::Lines(lines) => {
                    let named: Vec<String> = lines
                        .iter()
                        .take(50)
                        .map(|l| format!("line {}: {}", l.line, l.message))
                        .collect();
                    format!("Nothing was stored. {}", named.join("; "))
                }
                other => other.to_string(),
            };
            let mut resp = super::wallets::refused(&state, &ui, &message).await;
            resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
            resp
        }
    }
}

#[handler]
pub async fn export(state: Data<&AppState>, req: &Request) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return super::error_page(StatusCode::FORBIDDEN, "You belong to no workspace.")
            .with_status(StatusCode::FORBIDDEN)
            .into_response();
    };
    match label_book::export(&state.store, ws).await {
        Ok(text) => Response::builder()
            .content_type("application/jsonl; charset=utf-8")
            .header(
                "Content-Disposition",
                format!("attachment; filename=\"ledgersys-workspace-{ws}-labels.jsonl\""),
            )
            .body(text),
        Err(e) => {
            tracing::error!(error = %e, "exporting labels failed");
            super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}
