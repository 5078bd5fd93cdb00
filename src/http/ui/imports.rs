//! The Imports page: upload a file, see exactly what it holds (the format
//! it was read as, the rows, what is skipped and why, or every problem with
//! its line), confirm, and only then store it.

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Multipart, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;

use super::books::rows_table_upto;
use super::context::{Ui, ui};
use super::pending::Pending;
use super::{layout, notice, render};
use crate::auth::Role;
use crate::http::AppState;
use crate::ledger::Tx;
use crate::sources::generic::LineError;
use crate::sources::import::{self, ImportError, Target};
use crate::store::WorkspaceId;

const PREVIEW_ROWS: usize = 100;

fn page(ui: &Ui, content: Markup) -> Response {
    render(layout::page("Imports", Some("/imports"), ui, content)).into_response()
}

fn rows_table(rows: &[Tx]) -> Markup {
    rows_table_upto(rows, PREVIEW_ROWS)
}

fn upload_form(ui: &Ui, format: &str) -> Markup {
    html! {
        form.card method="post" action="/imports/preview" enctype="multipart/form-data" {
            input type="hidden" name="csrf_token" value=(ui.csrf_token);
            label { "File: an exchange or wallet export, or the generic CSV format" input type="file" name="file" accept=".csv,text/csv,text/plain" required; }
            (format_select(format))
            label { "Time zone of timestamps without an offset" input name="timezone" value="UTC"; }
            button type="submit" { "Check the file" }
        }
    }
}

fn format_select(format: &str) -> Markup {
    html! {
        label { "Format"
            select name="format" {
                option value="auto" selected[format == "auto"] { "Recognise it from the header" }
                @for f in crate::sources::format::FORMATS {
                    option value=(f.name) selected[format == f.name] { (f.label) }
                }
            }
        }
    }
}

/// Reads the same upload again with another format or time zone: no need
/// to upload it again.
fn recheck_form(ui: &Ui, token: &str, format: &str, timezone: &str) -> Markup {
    html! {
        form.card method="post" action="/imports/recheck" {
            h2 { "Not the right format?" }
            p.muted { "Choose the format (or the time zone) and check the same file again; there is no need to upload it again." }
            input type="hidden" name="csrf_token" value=(ui.csrf_token);
            input type="hidden" name="token" value=(token);
            (format_select(format))
            label { "Time zone of timestamps without an offset" input name="timezone" value=(timezone); }
            button type="submit" { "Check again" }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    added: Option<u64>,
    present: Option<u64>,
    /// Rows counted once with another source's copy of the same entry.
    once: Option<u64>,
}

#[handler]
pub async fn imports(state: Data<&AppState>, req: &Request, Query(done): Query<Done>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some((ws, _, _)) = ui.workspace.clone() else {
        return page(
            &ui,
            html! { h1 { "Imports" } p { "You belong to no workspace." } },
        );
    };
    let history = state.store.recent_imports(ws, 20).await.unwrap_or_default();
    let message = match (done.added, done.present) {
        (Some(a), Some(p)) => Some(match done.once.unwrap_or(0) {
            0 => format!("Imported {a} new rows; {p} were already present."),
            1 => format!(
                "Imported {a} new rows; {p} were already present. One of them is an entry already in the books from another source (same account, type, amount and time): it counts once, and the Review page lists it."
            ),
            once => format!(
                "Imported {a} new rows; {p} were already present. {once} of them are entries already in the books from another source (same account, type, amount and time): each counts once, and the Review page lists them."
            ),
        }),
        _ => None,
    };
    page(
        &ui,
        html! {
            h1 { "Imports" }
            p.lead { "Files are checked first: you see every row, or every problem with its line, before anything is stored." }
            (notice("ok", message.as_deref()))
            @if ui.can(Role::Accountant) { (upload_form(&ui, "auto")) } @else { p.muted { "Your role can read, not import." } }
            section.card {
                h2 { "Recent imports" }
                @if history.is_empty() { p.muted { "None yet." } } @else {
                    div.table-wrap { table {
                        thead { tr { th { "When (UTC)" } th { "File" } th { "Added" } th { "Already present" } th { "By" } } }
                        tbody {
                            @for i in &history {
                                tr { td { (crate::clock::rfc3339(i.imported_at)) } td { (i.file_name) } td.num { (i.rows_added) } td.num { (i.rows_present) } td { (i.actor) } }
                            }
                        }
                    } }
                }
            }
        },
    )
}

/// The preview's answer when the file cannot be read as asked: every
/// problem with its line, and (when the upload is kept) a way to read it
/// another way.
fn refused(ui: &Ui, file_name: &str, errors: &[LineError], again: Option<Markup>) -> Response {
    let content = html! {
        h1 { "Imports" }
        section.card {
            h2 { "The file " (file_name) " was not imported" }
            p { "Fix these lines and try again; nothing was stored." }
            ul.problems { @for e in errors { li { "Line " (e.line) ": " (e.message) } } }
        }
        @if let Some(again) = again { (again) }
        (upload_form(ui, "auto"))
    };
    let mut resp = page(ui, content);
    resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
    resp
}

fn forbidden() -> Response {
    super::error_page(StatusCode::FORBIDDEN, "Your role does not allow importing.")
        .with_status(StatusCode::FORBIDDEN)
        .into_response()
}

fn gone() -> Response {
    super::error_page(
        StatusCode::GONE,
        "This check has expired or was already used; upload the file again.",
    )
    .with_status(StatusCode::GONE)
    .into_response()
}

/// The workspace of an accountant (or more), who may import.
fn importer(ui: &Ui) -> Option<WorkspaceId> {
    match (ui.workspace.clone(), ui.can(Role::Accountant)) {
        (Some((ws, _, _)), true) => Some(ws),
        _ => None,
    }
}

/// Uploading a file: it is kept (see `pending`) and previewed.
#[handler]
pub async fn preview(state: Data<&AppState>, req: &Request, mut form: Multipart) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some(ws) = importer(&ui) else {
        return forbidden();
    };
    let (mut file_name, mut bytes, mut timezone, mut format) = (
        String::from("upload.csv"),
        Vec::new(),
        String::from("UTC"),
        String::from("auto"),
    );
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("file") => {
                file_name = field.file_name().unwrap_or("upload.csv").to_string();
                bytes = field.bytes().await.unwrap_or_default();
            }
            Some("timezone") => {
                timezone = field.text().await.unwrap_or_default().trim().to_string()
            }
            Some("format") => format = field.text().await.unwrap_or_default().trim().to_string(),
            _ => {}
        }
    }
    let pending = Pending {
        user: ui.user_id,
        workspace: ws,
        file_name,
        created: crate::clock::now(),
        format: format.clone(),
        timezone: timezone.clone(),
    };
    let token = match state.pending_imports.put(pending.clone(), &bytes) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "cannot keep an upload for its preview");
            return super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                .into_response();
        }
    };
    show(&state, &ui, &token, &pending, &bytes, &format, &timezone).await
}

#[derive(Deserialize)]
pub struct Recheck {
    token: String,
    format: String,
    timezone: String,
}

/// The same upload, read with the format and time zone the user chose.
#[handler]
pub async fn recheck(state: Data<&AppState>, req: &Request, Form(form): Form<Recheck>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some(ws) = importer(&ui) else {
        return forbidden();
    };
    let now = crate::clock::now();
    let Some((pending, bytes)) = state.pending_imports.get(&form.token, ui.user_id, ws, now) else {
        return gone();
    };
    let (format, timezone) = (form.format.trim(), form.timezone.trim());
    show(&state, &ui, &form.token, &pending, &bytes, format, timezone).await
}

/// The preview of a kept upload read as `format` in `timezone`.
async fn show(
    state: &AppState,
    ui: &Ui,
    token: &str,
    pending: &Pending,
    bytes: &[u8],
    format: &str,
    timezone: &str,
) -> Response {
    let file_name = &pending.file_name;
    let request = import::Request {
        file_name,
        bytes,
        workspace: Target::Id(pending.workspace),
        account: None,
        format,
        timezone,
        dry_run: true,
        actor: &ui.username,
        actor_id: Some(ui.user_id),
        now: crate::clock::now(),
    };
    let again = |shown: &str| recheck_form(ui, token, shown, timezone);
    let report = match import::import(&state.store, &request).await {
        Ok(report) => report,
        Err(ImportError::Refused(errors)) => {
            return refused(ui, file_name, &errors, Some(again(format)));
        }
        Err(err) => {
            let errors = [LineError {
                line: 0,
                message: err.to_string(),
            }];
            return refused(ui, file_name, &errors, Some(again(format)));
        }
    };
    // The import reads the upload as this preview did (detected formats
    // by name, so a later detection cannot differ).
    state
        .pending_imports
        .read_as(token, report.format.name, timezone);
    let rows = report.rows;
    page(
        ui,
        html! {
            h1 { "Imports" }
            section.card {
                h2 { (file_name) ": " (rows.len()) " rows" }
                p { "Read as " strong { (report.format.label) }
                    @if format == "auto" { " (recognised from its header)" }
                    ". Times without an offset are read in " (timezone) "." }
                p { "Check the rows below. "
                    @if report.present > 0 { (report.present) " of them were imported before and will be left alone. " }
                    @if !report.skipped.is_empty() { (report.skipped.len()) " lines are skipped, listed below." } }
                form method="post" action="/imports/commit" {
                    input type="hidden" name="csrf_token" value=(ui.csrf_token);
                    input type="hidden" name="token" value=(token);
                    button type="submit" { "Import " (rows.len()) " rows" }
                }
            }
            (rows_table(&rows))
            @if !report.skipped.is_empty() {
                section.card {
                    h2 { "Skipped: " (report.skipped.len()) }
                    ul.problems { @for s in report.skipped.iter().take(PREVIEW_ROWS) { li { "Line " (s.line) ": " (s.reason) } } }
                }
            }
            (again(report.format.name))
        },
    )
}

#[derive(Deserialize)]
pub struct Commit {
    token: String,
}

#[handler]
pub async fn commit(state: Data<&AppState>, req: &Request, Form(form): Form<Commit>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let Some(ws) = importer(&ui) else {
        return forbidden();
    };
    let now = crate::clock::now();
    let Some((pending, bytes)) = state.pending_imports.get(&form.token, ui.user_id, ws, now) else {
        return gone();
    };
    let request = import::Request {
        file_name: &pending.file_name,
        bytes: &bytes,
        workspace: Target::Id(ws),
        account: None,
        format: &pending.format,
        timezone: &pending.timezone,
        dry_run: false,
        actor: &ui.username,
        actor_id: Some(ui.user_id),
        now,
    };
    let result = import::import(&state.store, &request).await;
    // Stored or refused, the upload has served.
    state.pending_imports.remove(&form.token);
    match result {
        Ok(report) => {
            let done = report
                .imported
                .map(|i| (i.added, i.present))
                .unwrap_or_default();
            let once = match report.counted_once {
                0 => String::new(),
                n => format!("&once={n}"),
            };
            Redirect::see_other(format!(
                "/imports?added={}&present={}{once}",
                done.0, done.1
            ))
            .into_response()
        }
        Err(ImportError::Refused(errors)) => refused(&ui, &pending.file_name, &errors, None),
        Err(err) => {
            tracing::error!(error = %err, "import failed");
            super::error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The import failed; nothing was stored.",
            )
            .into_response()
        }
    }
}
