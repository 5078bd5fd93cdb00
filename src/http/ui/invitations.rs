//! Invitations on the pages: the admins' pending list with a cancel button
//! (a section of Settings), and the invitee's list with accept and decline
//! (a section of Account). Every button is a CSRF-protected form.

use maud::{Markup, html};
use poem::web::{Data, Path, Redirect};
use poem::{IntoResponse, Request, Response, handler};

use super::context::{Ui, ui};
use crate::auth::{AuthError, Caller, Role, Via, invitations, members};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::store::StoreError;

/// The pending invitations of the visitor's workspace, for admins.
pub(super) async fn sent_section(state: &AppState, ui: &Ui) -> Result<Markup, StoreError> {
    let Some((ws, _, _)) = &ui.workspace else {
        return Ok(html! {});
    };
    if !ui.can(Role::Admin) {
        return Ok(html! {});
    }
    let pending = state.store.workspace_invitations(*ws).await?;
    let csrf = &ui.csrf_token;
    Ok(html! {
        h3 { "Pending invitations" }
        @if pending.is_empty() {
            p.muted { "None." }
        } @else {
            ul.plain {
                @for i in &pending {
                    li {
                        strong { (i.username) } " as " (i.role) ", invited "
                        time { (crate::clock::rfc3339(i.created_at)) }
                        form.inline method="post" action=(format!("/settings/invitations/{}/cancel", i.id)) {
                            input type="hidden" name="csrf_token" value=(csrf);
                            button type="submit" { "Cancel" }
                        }
                    }
                }
            }
        }
    })
}

/// The invitations waiting for the visitor's answer.
pub(super) async fn received_section(state: &AppState, ui: &Ui) -> Result<Markup, StoreError> {
    let pending = state.store.invitations_for(ui.user_id).await?;
    if pending.is_empty() {
        return Ok(html! {});
    }
    let csrf = &ui.csrf_token;
    Ok(html! {
        section.card #invitations {
            h2 { "Invitations" }
            p.muted { "You join a workspace only if you accept." }
            ul.plain {
                @for i in &pending {
                    li {
                        p {
                            strong { (i.workspace_name) } " as " (i.role)
                            @if let Some(by) = &i.invited_by { ", from " (by) }
                        }
                        form.inline method="post" action=(format!("/account/invitations/{}/accept", i.id)) {
                            input type="hidden" name="csrf_token" value=(csrf);
                            button type="submit" { "Accept" }
                        }
                        form.inline method="post" action=(format!("/account/invitations/{}/decline", i.id)) {
                            input type="hidden" name="csrf_token" value=(csrf);
                            button type="submit" { "Decline" }
                        }
                    }
                }
            }
        }
    })
}

fn caller_of(ui: &Ui) -> Caller {
    Caller {
        user_id: ui.user_id,
        username: ui.username.clone(),
        via: Via::Session {
            token_hash: ui.token_hash.clone(),
            csrf_token: ui.csrf_token.clone(),
        },
    }
}

async fn answered(
    state: &AppState,
    ui: &Ui,
    result: Result<(), AuthError>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::see_other(format!("/account?done={done}")).into_response(),
        Err(err @ (AuthError::NotFound(_) | AuthError::Forbidden(_))) => {
            super::account::page_with_error(state, ui, &err.to_string()).await
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot answer an invitation");
            super::account::page_with_error(state, ui, "The invitation could not be answered.")
                .await
        }
    }
}

#[handler]
pub async fn accept(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let addr = client_of(req).addr;
    let now = crate::clock::now();
    let result = invitations::accept(&state.store, &caller_of(&ui), id, &addr, now).await;
    answered(&state, &ui, result, "joined").await
}

#[handler]
pub async fn decline(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let addr = client_of(req).addr;
    let now = crate::clock::now();
    let result = invitations::decline(&state.store, &caller_of(&ui), id, &addr, now).await;
    answered(&state, &ui, result, "declined").await
}

#[handler]
pub async fn cancel(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, role)) = ui.workspace.clone() else {
        return super::admin::member_outcome(&state, &ui, Err(AuthError::Forbidden(String::new())))
            .await;
    };
    let addr = client_of(req).addr;
    let actor = members::Actor {
        user_id: ui.user_id,
        username: &ui.username,
        role,
        client_addr: &addr,
    };
    let now = crate::clock::now();
    let result = invitations::cancel(&state.store, &actor, ws, id, now).await;
    super::admin::member_outcome(&state, &ui, result).await
}
