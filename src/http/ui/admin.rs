//! Settings (members, mail) and the audit log, for those whose role allows.
//! Each action checks the role on the server before it does anything.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::context::{Ui, ui};
use super::{layout, notice, render};
use crate::alerts::{SMTP_PASSWORD_SECRET, SmtpSecurity, SmtpSettings};
use crate::auth::{AuthError, Role, members};
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::store::{AuditEntry, StoreError, UserId, WorkspaceId};

fn forbidden() -> Response {
    super::error_page(StatusCode::FORBIDDEN, "Your role does not allow this.")
        .with_status(StatusCode::FORBIDDEN)
        .into_response()
}

pub(super) async fn settings_page(state: &AppState, ui: &Ui, error: Option<&str>) -> Response {
    match settings_content(state, ui, error).await {
        Ok(content) => {
            render(layout::page("Settings", Some("/settings"), ui, content)).into_response()
        }
        Err(err) => {
            tracing::error!(error = %err, "cannot render settings");
            super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

async fn settings_content(
    state: &AppState,
    ui: &Ui,
    error: Option<&str>,
) -> Result<Markup, StoreError> {
    let schema = state.store.schema_version().await?;
    let members = match (&ui.workspace, ui.can(Role::Admin)) {
        (Some((ws, _, _)), true) => state.store.members(*ws).await?,
        _ => Vec::new(),
    };
    let smtp = if ui.instance_admin {
        state.alerts.smtp_settings().await?
    } else {
        None
    };
    let smtp_last4 = if ui.instance_admin {
        state
            .store
            .secret(SMTP_PASSWORD_SECRET)
            .await?
            .map(|s| s.last4)
    } else {
        None
    };
    let chain = if ui.instance_admin {
        Some(super::chain_source::section(state, ui).await?)
    } else {
        None
    };
    let prices = if ui.instance_admin {
        Some(super::prices::section(state, ui).await?)
    } else {
        None
    };
    let integrations = if ui.can(Role::Admin) {
        Some(super::btcpay::section(state, ui).await?)
    } else {
        None
    };
    let invitations = super::invitations::sent_section(state, ui).await?;
    let csrf = &ui.csrf_token;
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| *r != Role::Owner || ui.can(Role::Owner))
        .collect();
    Ok(html! {
        h1 { "Settings" }
        p.lead { "This instance and who can use it." }
        (notice("error", error))
        section.card {
            h2 { "About this instance" }
            dl.facts {
                dt { "Version" } dd { (env!("CARGO_PKG_VERSION")) }
                dt { "Database schema" } dd { (schema) }
                dt { "API" } dd { a href="/api/docs/" { "Interactive documentation" } }
            }
        }
        @if ui.can(Role::Admin) {
            section.card {
                h2 { "Members" }
                div.table-wrap { table {
                    thead { tr { th { "User" } th { "Email" } th { "Role" } th {} } }
                    tbody {
                        @for m in &members {
                            tr {
                                td { (m.username) }
                                td { (m.email.clone().unwrap_or_default()) }
                                td { (m.role) }
                                td {
                                    @if m.role != Role::Owner || ui.can(Role::Owner) {
                                        form.inline method="post" action=(format!("/settings/members/{}", m.user_id)) {
                                            input type="hidden" name="csrf_token" value=(csrf);
                                            select name="role" aria-label="New role" {
                                                @for r in &grantable {
                                                    option value=(r.as_str()) selected[*r == m.role] { (r.as_str()) }
                                                }
                                                option value="remove" { "remove from workspace" }
                                            }
                                            button type="submit" { "Apply" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                } }
                (invitations)
                h3 { "Add a member" }
                p.muted { "Adding someone by name sends them an invitation: they join when they accept it, signed in." }
                form method="post" action="/settings/members" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    label { "Username" input name="username" required autocomplete="off"; }
                    label { "Role" select name="role" { @for r in &grantable { option value=(r.as_str()) { (r.as_str()) } } } }
                    @if ui.instance_admin {
                        label { "Initial password (only to create a new account)" input type="password" name="password" autocomplete="new-password"; }
                    }
                    button type="submit" { "Add member" }
                }
            }
        }
        @if ui.instance_admin {
            section.card {
                h2 { "Workspaces" }
                p.muted { "A workspace is a separate set of books, with its own members (a household, a business)." }
                form method="post" action="/settings/workspaces" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    label { "Name of a new workspace" input name="name" required maxlength="80"; }
                    button type="submit" { "Create workspace" }
                }
            }
            section.card {
                h2 { "Mail for security alerts" }
                form method="post" action="/settings/smtp" {
                    input type="hidden" name="csrf_token" value=(csrf);
                    label { "Server" input name="host" required value=(smtp.as_ref().map(|s| s.host.clone()).unwrap_or_default()); }
                    label { "Port" input name="port" type="number" min="1" max="65535" required value=(smtp.as_ref().map(|s| s.port).unwrap_or(587)); }
                    label { "Security"
                        select name="security" {
                            option value="starttls" selected[smtp.as_ref().is_none_or(|s| s.security == SmtpSecurity::Starttls)] { "STARTTLS (port 587)" }
                            option value="tls" selected[smtp.as_ref().is_some_and(|s| s.security == SmtpSecurity::Tls)] { "TLS (port 465)" }
                            option value="none" selected[smtp.as_ref().is_some_and(|s| s.security == SmtpSecurity::None)] { "none (local relay only)" }
                        }
                    }
                    label { "Username" input name="username" value=(smtp.as_ref().and_then(|s| s.username.clone()).unwrap_or_default()) autocomplete="off"; }
                    label {
                        "Password"
                        @if let Some(last4) = &smtp_last4 { " (stored, ends in " code { (last4) } "; leave empty to keep)" }
                        input type="password" name="password" autocomplete="new-password";
                    }
                    label { "From" input name="from" required value=(smtp.as_ref().map(|s| s.from.clone()).unwrap_or_default()) placeholder="Ledgersys <ledgersys@example.org>"; }
                    button type="submit" { "Save mail settings" }
                }
            }
        }
        @if let Some(chain) = chain { (chain) }
        @if let Some(integrations) = integrations { (integrations) }
        @if let Some(prices) = prices { (prices) }
    })
}

#[handler]
pub async fn settings_view(state: Data<&AppState>, req: &Request) -> Response {
    match ui(&state, req).await {
        Ok(ui) => settings_page(&state, &ui, None).await,
        Err(redirect) => redirect,
    }
}

#[derive(Deserialize)]
pub struct AddMemberForm {
    username: String,
    role: String,
    password: Option<String>,
}

#[handler]
pub async fn add_member(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<AddMemberForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, role)) = ui.workspace.clone() else {
        return forbidden();
    };
    let Ok(new_role) = form.role.parse::<Role>() else {
        return settings_page(&state, &ui, Some("Choose a role.")).await;
    };
    let addr = client_of(req).addr;
    let actor = actor_of(&ui, role, &addr);
    let added = members::add(
        &state.store,
        state.auth.hasher(),
        &actor,
        ws,
        form.username.trim(),
        new_role,
        form.password.as_deref(),
        None,
        crate::clock::now(),
    )
    .await;
    outcome(&state, &ui, added.map(|_| ())).await
}

#[derive(Deserialize)]
pub struct ChangeMemberForm {
    role: String,
}

#[handler]
pub async fn change_member(
    state: Data<&AppState>,
    req: &Request,
    Path(user_id): Path<i64>,
    Form(form): Form<ChangeMemberForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, role)) = ui.workspace.clone() else {
        return forbidden();
    };
    let new_role = match form.role.as_str() {
        "remove" => None,
        other => match other.parse::<Role>() {
            Ok(r) => Some(r),
            Err(e) => return settings_page(&state, &ui, Some(&e)).await,
        },
    };
    let addr = client_of(req).addr;
    let actor = actor_of(&ui, role, &addr);
    let now = crate::clock::now();
    let changed = members::set_role(&state.store, &actor, ws, UserId(user_id), new_role, now).await;
    outcome(&state, &ui, changed).await
}

fn actor_of<'a>(ui: &'a Ui, role: Role, addr: &'a str) -> members::Actor<'a> {
    members::Actor {
        user_id: ui.user_id,
        username: &ui.username,
        role,
        client_addr: addr,
    }
}

/// Back to the settings page, or the page again with what went wrong.
pub(super) async fn member_outcome(
    state: &AppState,
    ui: &Ui,
    result: Result<(), AuthError>,
) -> Response {
    outcome(state, ui, result).await
}

async fn outcome(state: &AppState, ui: &Ui, result: Result<(), AuthError>) -> Response {
    match result {
        Ok(()) => Redirect::see_other("/settings").into_response(),
        Err(AuthError::Forbidden(_)) => forbidden(),
        Err(err @ (AuthError::Store(_) | AuthError::Crypto(_))) => {
            tracing::error!(error = %err, "member change failed");
            settings_page(state, ui, Some("The change could not be saved.")).await
        }
        Err(err) => settings_page(state, ui, Some(&err.to_string())).await,
    }
}

#[derive(Deserialize)]
pub struct SmtpForm {
    host: String,
    port: u16,
    security: String,
    username: Option<String>,
    password: Option<String>,
    from: String,
}

#[handler]
pub async fn save_smtp(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<SmtpForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    if !ui.instance_admin {
        return forbidden();
    }
    let security = match form.security.as_str() {
        "tls" => SmtpSecurity::Tls,
        "none" => SmtpSecurity::None,
        _ => SmtpSecurity::Starttls,
    };
    let settings = SmtpSettings {
        host: form.host.trim().to_string(),
        port: form.port,
        security,
        username: form.username.filter(|u| !u.trim().is_empty()),
        from: form.from.trim().to_string(),
    };
    let password = form.password.filter(|p| !p.is_empty());
    let audit = AuditEntry::new(
        crate::clock::now(),
        Some(ui.user_id),
        &ui.username,
        "settings.smtp_changed",
    )
    .target(format!("{}:{}", settings.host, settings.port))
    .from_addr(client_of(req).addr)
    .detail(if password.is_some() {
        "password replaced"
    } else {
        "password kept"
    });
    match state
        .alerts
        .configure(&settings, password.as_deref(), &audit)
        .await
    {
        Ok(()) => Redirect::see_other("/settings").into_response(),
        Err(err) => settings_page(&state, &ui, Some(&err.to_string())).await,
    }
}

#[handler]
pub async fn audit_page(state: Data<&AppState>, req: &Request) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, name, _)), true) = (ui.workspace.clone(), ui.can(Role::Admin)) else {
        return forbidden();
    };
    let rows = match state.store.audit_log(Some(ws), 500).await {
        Ok(rows) => rows,
        Err(err) => {
            tracing::error!(error = %err, "cannot read the audit log");
            return super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                .into_response();
        }
    };
    let content = html! {
        h1 { "Audit log" }
        p.lead { "Everything that happened in " (name) ", newest first. Entries cannot be edited or deleted. "
            a href=(format!("/api/v1/workspaces/{ws}/audit.csv")) download { "Download as CSV" } }
        div.table-wrap {
            table {
                thead { tr { th { "When (UTC)" } th { "Who" } th { "What" } th { "Target" } th { "From" } th { "Detail" } } }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (crate::clock::rfc3339(r.at)) } td { (r.actor) } td { code { (r.action) } }
                            td { (r.target) } td { (r.client_addr) } td { (r.detail) }
                        }
                    }
                }
            }
        }
    };
    render(layout::page("Audit log", Some("/audit"), &ui, content)).into_response()
}

#[derive(Deserialize)]
pub struct SwitchForm {
    workspace_id: i64,
}

/// Chooses the workspace the pages show, among the user's own.
#[handler]
pub async fn switch_workspace(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<SwitchForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let target = WorkspaceId(form.workspace_id);
    if !ui.workspaces.iter().any(|w| w.0 == target) {
        return forbidden();
    }
    match state
        .store
        .choose_session_workspace(&ui.token_hash, target)
        .await
    {
        Ok(()) => Redirect::see_other("/").into_response(),
        Err(err) => {
            tracing::error!(error = %err, "cannot switch workspace");
            super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Deserialize)]
pub struct NewWorkspaceForm {
    name: String,
}

/// Creates a workspace owned by the instance administrator and switches to it.
#[handler]
pub async fn create_workspace(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<NewWorkspaceForm>,
) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    if !ui.instance_admin {
        return forbidden();
    }
    let name = match members::workspace_name(&form.name) {
        Ok(name) => name,
        Err(err) => return settings_page(&state, &ui, Some(&err.to_string())).await,
    };
    let audit = AuditEntry::new(
        crate::clock::now(),
        Some(ui.user_id),
        &ui.username,
        "workspace.created",
    )
    .target(name)
    .from_addr(client_of(req).addr);
    let created = state
        .store
        .create_owned_workspace(name, ui.user_id, &audit)
        .await;
    match created {
        Ok(id) => {
            let _ = state
                .store
                .choose_session_workspace(&ui.token_hash, id)
                .await;
            Redirect::see_other("/settings").into_response()
        }
        Err(err) => settings_page(&state, &ui, Some(&err.to_string())).await,
    }
}
