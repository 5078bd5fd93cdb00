//! The account page: email, password, API tokens, security alerts.

use maud::{Markup, html};
use poem::http::{StatusCode, header};
use poem::web::{Data, Form, Path, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::context::{Ui, ui};
use super::{layout, notice, render};
use crate::auth::expiry::token_expiry;
use crate::auth::{AuthError, Caller, Role, Via, members};
use crate::http::AppState;
use crate::http::auth::{cleared_cookie, client_of};
use crate::store::{AuditEntry, TokenId};

#[derive(Deserialize, Default)]
pub struct Flash {
    done: Option<String>,
}

/// Fixed messages, chosen by code, so nothing from the URL is echoed.
fn flash_text(code: Option<&str>) -> Option<&'static str> {
    match code? {
        "email" => Some("Your email address is saved."),
        "revoked" => Some("The token is revoked."),
        "read" => Some("Alerts marked read."),
        "joined" => Some("You joined the workspace; switch to it from the menu."),
        "declined" => Some("The invitation is declined."),
        _ => None,
    }
}

/// The page's visitor as the caller of an account operation.
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

async fn render_page(
    state: &AppState,
    ui: &Ui,
    message: Option<&str>,
    error: Option<&str>,
    new_token: Option<&str>,
) -> Response {
    let content = match content(state, ui, message, error, new_token).await {
        Ok(content) => content,
        Err(err) => {
            tracing::error!(error = %err, "cannot render the account page");
            return super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                .into_response();
        }
    };
    render(layout::page("Account", Some("/account"), ui, content)).into_response()
}

async fn content(
    state: &AppState,
    ui: &Ui,
    message: Option<&str>,
    error: Option<&str>,
    new_token: Option<&str>,
) -> Result<Markup, crate::store::StoreError> {
    let email = state
        .store
        .user(ui.user_id)
        .await?
        .and_then(|u| u.email)
        .unwrap_or_default();
    let alerts = state.store.alerts(ui.user_id, 50).await?;
    let tokens = match &ui.workspace {
        Some((ws, _, _)) => state
            .store
            .tokens(*ws)
            .await?
            .into_iter()
            .filter(|t| t.user_id == ui.user_id)
            .collect(),
        None => Vec::new(),
    };
    let invitations = super::invitations::received_section(state, ui).await?;
    let csrf = &ui.csrf_token;
    let now = crate::clock::now();
    Ok(html! {
        h1 { "Account" }
        p.lead { "Signed in as " strong { (ui.username) } "." }
        (notice("ok", message))
        (notice("error", error))
        @if let Some(token) = new_token {
            section.card.token-once {
                h2 { "Your new API token" }
                p { "Copy it now: it is shown this once and stored only as a hash." }
                pre.secret { (token) }
            }
        }
        (invitations)
        section.card #alerts {
            h2 { "Security alerts" }
            @if alerts.is_empty() {
                p.muted { "No alerts." }
            } @else {
                ul.alerts-list {
                    @for a in &alerts {
                        li class=(if a.read_at.is_none() { "unread" } else { "" }) {
                            time { (crate::clock::rfc3339(a.at)) } " · " strong { (a.kind) }
                            p { (a.message) }
                        }
                    }
                }
                form method="post" action="/account/alerts/read" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    button type="submit" { "Mark all read" }
                }
            }
        }
        section.card {
            h2 { "Email for alerts" }
            form method="post" action="/account/email" {
                input type="hidden" name="csrf_token" value=(csrf);
                label { "Email" input type="email" name="email" value=(email) autocomplete="email"; }
                button type="submit" { "Save" }
            }
        }
        section.card {
            h2 { "Change password" }
            p.muted { "Every session ends when the password changes, this one included. Your API tokens are revoked too, in every workspace, unless you untick the box: whoever knew the old password may have made one." }
            form method="post" action="/account/password" {
                input type="hidden" name="csrf_token" value=(csrf);
                label { "Current password" input type="password" name="current_password" required autocomplete="current-password"; }
                label { "New password" input type="password" name="new_password" required minlength="12" autocomplete="new-password"; }
                label { input type="checkbox" name="revoke_api_tokens" value="on" checked; " Also sign out my API tokens" }
                button type="submit" { "Change password" }
            }
        }
        @if let Some((_, name, role)) = &ui.workspace {
            section.card {
                h2 { "API tokens for " (name) }
                p.muted { "For scripts: send as " code { "Authorization: Bearer …" } ". A token can have at most your role (" (role) ")." }
                @if !tokens.is_empty() {
                    div.table-wrap { table {
                        thead { tr { th { "Name" } th { "Role" } th { "Ends in" } th { "Last used" } th { "Expires" } th {} } }
                        tbody {
                            @for t in &tokens {
                                tr {
                                    td { (t.name) } td { (t.role) } td { code { (t.last4) } }
                                    td { (t.last_used_at.map(crate::clock::rfc3339).unwrap_or_else(|| "never".into())) }
                                    td { (t.expires_at.map(crate::clock::rfc3339).unwrap_or_else(|| "never".into())) }
                                    td {
                                        @if t.revoked_at.is_some() { "revoked" }
                                        @else if t.expires_at.is_some_and(|at| at <= now) { "expired" } @else {
                                            form method="post" action=(format!("/account/tokens/{}/revoke", t.id)) {
                                                input type="hidden" name="csrf_token" value=(csrf);
                                                button type="submit" { "Revoke" }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    } }
                }
                form method="post" action="/account/tokens" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    label { "Name" input name="name" required maxlength="100"; }
                    label { "Role"
                        select name="role" {
                            @for r in Role::ALL.iter().filter(|r| role.allows(**r)) {
                                option value=(r.as_str()) { (r.as_str()) }
                            }
                        }
                    }
                    label { "Expires after (days; empty: never)" input type="number" name="expires_in_days" min="1" max="3650" inputmode="numeric"; }
                    label { "Or expires after this day" input type="date" name="expires_on"; }
                    button type="submit" { "Create token" }
                }
            }
        }
    })
}

/// The account page with an error, for actions handled elsewhere.
pub(super) async fn page_with_error(state: &AppState, ui: &Ui, error: &str) -> Response {
    render_page(state, ui, None, Some(error), None).await
}

#[handler]
pub async fn page(state: Data<&AppState>, req: &Request, Query(flash): Query<Flash>) -> Response {
    match ui(&state, req).await {
        Ok(ui) => render_page(&state, &ui, flash_text(flash.done.as_deref()), None, None).await,
        Err(redirect) => redirect,
    }
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
}

#[handler]
pub async fn set_email(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<EmailForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let email = form.email.trim();
    if !email.is_empty() && email.parse::<lettre::Address>().is_err() {
        return render_page(
            &state,
            &ui,
            None,
            Some("That is not an email address."),
            None,
        )
        .await;
    }
    let audit = AuditEntry::new(
        crate::clock::now(),
        Some(ui.user_id),
        &ui.username,
        "user.email_changed",
    )
    .target(&ui.username)
    .from_addr(client_of(req).addr);
    let email = (!email.is_empty()).then_some(email);
    match state.store.set_email(ui.user_id, email, &audit).await {
        Ok(()) => Redirect::see_other("/account?done=email").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot save the email address");
            render_page(
                &state,
                &ui,
                None,
                Some("The address could not be saved."),
                None,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    /// A ticked checkbox sends "on"; an unticked one sends nothing.
    revoke_api_tokens: Option<String>,
}

#[handler]
pub async fn change_password(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<PasswordForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let result = state
        .auth
        .change_password(
            &caller_of(&ui),
            &form.current_password,
            &form.new_password,
            form.revoke_api_tokens.is_some(),
            &client_of(req),
            crate::clock::now(),
        )
        .await;
    match result {
        Ok(()) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, "/login")
            .header(header::SET_COOKIE, cleared_cookie(state.secure_cookies))
            .finish(),
        Err(err @ (AuthError::WrongCurrentPassword | AuthError::WeakPassword(_))) => {
            render_page(&state, &ui, None, Some(&err.to_string()), None).await
        }
        Err(err) => {
            tracing::error!(error = %err, "password change failed");
            render_page(
                &state,
                &ui,
                None,
                Some("The password could not be changed."),
                None,
            )
            .await
        }
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    name: String,
    role: String,
    #[serde(default)]
    expires_in_days: String,
    #[serde(default)]
    expires_on: String,
}

#[handler]
pub async fn create_token(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<TokenForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, my_role)), Ok(role)) = (ui.workspace.clone(), form.role.parse::<Role>())
    else {
        return render_page(
            &state,
            &ui,
            None,
            Some("Choose a role for the token."),
            None,
        )
        .await;
    };
    let now = crate::clock::now();
    let days = form.expires_in_days.trim();
    let expires = match days.parse::<i64>() {
        Ok(days) => token_expiry(Some(days), Some(&form.expires_on), now),
        Err(_) if days.is_empty() => token_expiry(None, Some(&form.expires_on), now),
        Err(_) => Err("The expiry is a whole number of days.".into()),
    };
    let expires_at = match expires {
        Ok(at) => at,
        Err(message) => return render_page(&state, &ui, None, Some(&message), None).await,
    };
    match state
        .auth
        .create_token(
            &caller_of(&ui),
            ws,
            my_role,
            &form.name,
            role,
            expires_at,
            now,
        )
        .await
    {
        Ok(created) => render_page(&state, &ui, None, None, Some(&created.token)).await,
        Err(
            err @ (AuthError::Forbidden(_)
            | AuthError::Invalid(_)
            | AuthError::Store(crate::store::StoreError::Text(_))),
        ) => render_page(&state, &ui, None, Some(&err.to_string()), None).await,
        Err(err) => {
            tracing::error!(error = %err, "token creation failed");
            render_page(
                &state,
                &ui,
                None,
                Some("The token could not be created."),
                None,
            )
            .await
        }
    }
}

#[handler]
pub async fn revoke_token(
    state: Data<&AppState>,
    req: &Request,
    Path(token_id): Path<i64>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, role)) = ui.workspace.clone() else {
        return render_page(&state, &ui, None, Some("You belong to no workspace."), None).await;
    };
    let addr = client_of(req).addr;
    let actor = members::Actor {
        user_id: ui.user_id,
        username: &ui.username,
        role,
        client_addr: &addr,
    };
    let now = crate::clock::now();
    match members::revoke_token(&state.store, &actor, ws, TokenId(token_id), now).await {
        Ok(()) => Redirect::see_other("/account?done=revoked").into_response(),
        Err(err @ (AuthError::NotFound(_) | AuthError::Forbidden(_))) => {
            render_page(&state, &ui, None, Some(&err.to_string()), None).await
        }
        Err(err) => {
            tracing::error!(error = %err, "token revocation failed");
            let message = "The token could not be revoked.";
            render_page(&state, &ui, None, Some(message), None).await
        }
    }
}

#[handler]
pub async fn mark_read(state: Data<&AppState>, req: &Request) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    match state
        .store
        .mark_alerts_read(ui.user_id, crate::clock::now())
        .await
    {
        Ok(()) => Redirect::see_other("/account?done=read#alerts").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot mark alerts read");
            render_page(
                &state,
                &ui,
                None,
                Some("Alerts could not be updated."),
                None,
            )
            .await
        }
    }
}
