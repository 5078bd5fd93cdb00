//! The Wallets page: the workspace's watched wallets with their sync (a
//! "Sync now" button and the running sync's progress), and adding a wallet
//! in two steps: check it (its first receive addresses are shown, nothing is
//! stored), then confirm. A refused input is never put back into the form.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use maud::{Markup, html};
use poem::http::StatusCode;
use poem::web::{Data, Form, Multipart, Path, Query, Redirect};
use poem::{IntoResponse, Request, Response, handler};
use serde::Deserialize;
use zeroize::Zeroizing;

use super::context::{Ui, ui};
use super::{layout, notice, render};
use crate::auth::Role;
use crate::http::AppState;
use crate::sources::chain::add::{self, AddError, Kind, Prepared};
use crate::store::{AuditEntry, UserId, WorkspaceId};

/// A checked wallet waits this long for its confirmation.
const PENDING_SECONDS: i64 = 3600;

/// Wallets checked and waiting for the user to confirm. Only the public
/// descriptors (or addresses) the check produced are kept, never the input.
#[derive(Clone, Default)]
pub struct PendingWallets(Arc<Mutex<HashMap<String, Pending>>>);

struct Pending {
    user: UserId,
    workspace: WorkspaceId,
    name: String,
    gap_limit: u32,
    birthday: Option<u32>,
    prepared: Prepared,
    created: i64,
}

impl PendingWallets {
    fn put(&self, pending: Pending) -> Option<String> {
        let token = crate::crypto::random_token().ok()?;
        let mut map = self.0.lock().ok()?;
        map.retain(|_, p| pending.created - p.created < PENDING_SECONDS);
        map.insert(token.clone(), pending);
        Some(token)
    }

    fn take(&self, token: &str, user: UserId, workspace: WorkspaceId, now: i64) -> Option<Pending> {
        let mut map = self.0.lock().ok()?;
        let ok = map.get(token).is_some_and(|p| {
            p.user == user && p.workspace == workspace && now - p.created < PENDING_SECONDS
        });
        if ok { map.remove(token) } else { None }
    }
}

const TITLE: &str = "Wallets & Accounts";

fn page(ui: &Ui, content: Markup) -> Response {
    render(layout::page(TITLE, Some("/wallets"), ui, content)).into_response()
}

/// What the add form shows again after a refusal: everything but the input.
#[derive(Default)]
struct Refill {
    name: String,
    kind: String,
    gap_limit: String,
    birthday: String,
}

fn add_form(ui: &Ui, refill: &Refill) -> Markup {
    let kinds = [
        (
            "xpub",
            "Extended public key (xpub, ypub, zpub, tpub, upub, vpub)",
        ),
        ("descriptor", "Output descriptor (single key or multisig)"),
        ("export", "Wallet export file (Sparrow, Specter, Coldcard)"),
        ("addresses", "Address list, one a line"),
    ];
    let gap = if refill.gap_limit.is_empty() {
        "20"
    } else {
        refill.gap_limit.as_str()
    };
    html! {
        form.card #add-wallet method="post" action="/wallets/preview" enctype="multipart/form-data" {
            h2 { "Add a wallet" }
            p.muted { "Public keys only. Ledgersys refuses private keys and seed words and never stores, logs or shows them." }
            input type="hidden" name="csrf_token" value=(ui.csrf_token);
            label { "Name" input name="name" required maxlength="100" value=(refill.name); }
            label { "What you have"
                select name="kind" {
                    @for (value, label) in kinds {
                        option value=(value) selected[refill.kind == value] { (label) }
                    }
                }
            }
            label { "Key, descriptor or addresses"
                textarea name="input" rows="4" autocomplete="off" spellcheck="false" {}
            }
            label { "Or a file (an export, or an address list)" input type="file" name="file"; }
            label { "Gap limit" input name="gap_limit" type="number" min="1" max=(add::MAX_GAP_LIMIT) value=(gap); }
            label { "Birthday: block height of the first transaction (optional)" input name="birthday" type="number" min="0" value=(refill.birthday); }
            button type="submit" { "Check the wallet" }
        }
    }
}

#[derive(Deserialize, Default)]
pub struct Done {
    added: Option<String>,
    /// Set when the added wallet's first sync started.
    started: Option<String>,
    syncing: Option<String>,
    labels: Option<u64>,
    classified: Option<u64>,
}

#[handler]
pub async fn wallets(state: Data<&AppState>, req: &Request, Query(done): Query<Done>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let message = match (&done.added, &done.syncing, done.labels) {
        (Some(name), ..) if done.started.is_some() => Some(format!(
            "Added wallet {name}; its first sync (a full scan) has started."
        )),
        (Some(name), ..) => Some(format!(
            "Added wallet {name}. No chain source is set, so it was not synced: an instance \
             administrator sets your own node or server under Settings, then sync it."
        )),
        (_, Some(name), _) => Some(format!("Syncing {name}.")),
        (.., Some(labels)) => Some(format!(
            "Imported {labels} labels; {} transactions classified by their label.",
            done.classified.unwrap_or(0)
        )),
        _ => None,
    };
    list_page(&state, &ui, message.as_deref(), None, &Refill::default()).await
}

async fn list_page(
    state: &AppState,
    ui: &Ui,
    ok: Option<&str>,
    error: Option<&str>,
    refill: &Refill,
) -> Response {
    let (listed, ws) = match &ui.workspace {
        Some((ws, _, _)) => (state.store.wallets_in(*ws).await.unwrap_or_default(), *ws),
        None => (Vec::new(), WorkspaceId(0)),
    };
    let can_change = ui.can(Role::Accountant);
    // A failed sync is said plainly: the balances below are then stale.
    let failure = crate::sources::chain::status::last_failure(&state.store)
        .await
        .ok()
        .flatten();
    let no_source = matches!(
        crate::sources::chain::sync::source(&state.store).await,
        Err(crate::sources::chain::sync::SyncError::NoSource)
    );
    page(
        ui,
        html! {
            h1 { (TITLE) }
            p.lead {
                "Watch-only wallets from your own node. Exchange accounts read over their APIs are under "
                a href="/exchanges" { "Exchanges" } "."
            }
            (notice("ok", ok))
            (notice("error", error))
            @if no_source {
                p.notice #no-chain-source {
                    strong { "No chain source is set: wallets cannot be synced yet. " }
                    @if ui.instance_admin {
                        "Set your own node or server under " a href="/settings#chain-source" { "Settings" } "."
                    } @else {
                        "An instance administrator sets your own node or server under Settings."
                    }
                }
            }
            @if let Some(failure) = &failure {
                p class="notice error" role="alert" {
                    strong { "Chain source unreachable. " }
                    @if listed.iter().any(|w| w.name == failure.wallet) {
                        "The last sync of " (failure.wallet) " failed at "
                    } @else {
                        "The last sync failed at "
                    }
                    (crate::clock::rfc3339(failure.at)) ": " (failure.message)
                    ". Balances are from the last sync that worked; nothing was asked of any other server."
                }
            }
            @if listed.is_empty() {
                section.empty {
                    h2 { "No wallets yet" }
                    p { "Ledgersys watches wallets by their public keys only; it never asks for a \
                         private key or seed. Add one below or with `ledgersys wallet add`." }
                }
            } @else {
                table {
                    thead { tr { th { "Wallet" } th { "Network" } th { "Balance (sat)" } th { "Transactions" } th { "Last sync" } th { "Sync" } } }
                    tbody {
                        @for w in &listed {
                            @let status = state.wallet_syncs.status(w.id);
                            @let running = status.as_ref().is_some_and(|s| s.running);
                            tr {
                                td { (w.name) }
                                td { (w.network) }
                                td.num { (w.balance_sat) }
                                td.num { (w.transactions) }
                                td { (w.last_sync.map(crate::clock::rfc3339).unwrap_or_else(|| "never".into())) }
                                td {
                                    div.wallet-sync data-running=(running) data-poll=(format!("/api/v1/workspaces/{ws}/wallets/{}/sync", w.id)) {
                                        p.sync-status role="status" {
                                            @match &status {
                                                Some(s) if s.running => { "Syncing (" (s.phase) "): " (s.scripts_scanned) " addresses scanned, " (s.transactions_found) " transactions found" }
                                                Some(s) if s.error.is_some() => { "Last sync failed: " (s.error.clone().unwrap_or_default()) }
                                                Some(s) => { "Last sync: " (s.scripts_scanned) " addresses scanned, " (s.transactions_found) " transactions, " (s.rows_added.unwrap_or(0)) " new rows" }
                                                None => {}
                                            }
                                        }
                                    }
                                    @if can_change {
                                        form method="post" action=(format!("/wallets/{}/sync", w.id)) {
                                            input type="hidden" name="csrf_token" value=(ui.csrf_token);
                                            button type="submit" disabled[running] { "Sync now" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if can_change { (add_form(ui, refill)) }
            (super::wallet_labels::card(ui))
        },
    )
}

/// The page with an error notice above it.
pub async fn refused(state: &AppState, ui: &Ui, message: &str) -> Response {
    list_page(state, ui, None, Some(message), &Refill::default()).await
}

/// Reads the add form; the input (text or file) is wiped when dropped.
async fn read_form(mut form: Multipart) -> (Refill, Zeroizing<Vec<u8>>) {
    let mut refill = Refill::default();
    let mut text = Zeroizing::new(Vec::new());
    let mut file = Zeroizing::new(Vec::new());
    while let Ok(Some(field)) = form.next_field().await {
        match field.name() {
            Some("name") => refill.name = field.text().await.unwrap_or_default(),
            Some("kind") => refill.kind = field.text().await.unwrap_or_default(),
            Some("gap_limit") => refill.gap_limit = field.text().await.unwrap_or_default(),
            Some("birthday") => refill.birthday = field.text().await.unwrap_or_default(),
            Some("input") => text = Zeroizing::new(field.bytes().await.unwrap_or_default()),
            Some("file") => file = Zeroizing::new(field.bytes().await.unwrap_or_default()),
            _ => {}
        }
    }
    let input = if text.iter().all(u8::is_ascii_whitespace) {
        // A key is pasted, not uploaded: a file left at the first choice
        // is a wallet export.
        if refill.kind == "xpub" && !file.is_empty() {
            refill.kind = "export".into();
        }
        file
    } else {
        text
    };
    (refill, input)
}

fn forbidden() -> Response {
    super::error_page(
        StatusCode::FORBIDDEN,
        "Your role does not allow changing wallets.",
    )
    .with_status(StatusCode::FORBIDDEN)
    .into_response()
}

#[handler]
pub async fn preview(state: Data<&AppState>, req: &Request, form: Multipart) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return forbidden();
    };
    let (mut refill, input) = read_form(form).await;
    if let Err(refused) = crate::text::Field::Name.check("the wallet name", refill.name.trim()) {
        // Never shown back, not even in the name field.
        refill.name.clear();
        let message = refused.to_string();
        let mut resp = list_page(&state, &ui, None, Some(&message), &refill).await;
        resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
        return resp;
    }
    let checked = checked_settings(&refill).and_then(|(gap_limit, birthday)| {
        let kind = Kind::parse(refill.kind.trim())
            .ok_or_else(|| AddError::Invalid("choose what you have".into()))?;
        if input.iter().all(u8::is_ascii_whitespace) {
            return Err(AddError::Invalid(
                "paste a key, descriptor or addresses, or choose a file".into(),
            ));
        }
        let prepared = add::prepare_bytes(kind, input.to_vec())?;
        Ok((prepared, gap_limit, birthday))
    });
    drop(input);
    let (prepared, gap_limit, birthday) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            let mut resp = list_page(&state, &ui, None, Some(&e.to_string()), &refill).await;
            resp.set_status(StatusCode::UNPROCESSABLE_ENTITY);
            return resp;
        }
    };
    let shown = prepared.shown.clone();
    let network = prepared.network.clone();
    let name = refill.name.trim().to_string();
    let pending = Pending {
        user: ui.user_id,
        workspace: ws,
        name: name.clone(),
        gap_limit,
        birthday: birthday.or(prepared.birthday),
        prepared,
        created: crate::clock::now(),
    };
    let Some(token) = state.pending_wallets.put(pending) else {
        return super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            .into_response();
    };
    page(
        &ui,
        html! {
            h1 { (TITLE) }
            section.card #wallet-preview {
                h2 { "Is this the right wallet?" }
                p { "Compare these receive addresses of " strong { (name) } " (" (network) ") with your wallet or hardware device before saving." }
                ol.addresses start="0" {
                    @for a in &shown { li { code { (a) } } }
                }
                form method="post" action="/wallets/add" {
                    input type="hidden" name="csrf_token" value=(ui.csrf_token);
                    input type="hidden" name="token" value=(token);
                    button type="submit" { "Save this wallet" }
                }
                p { a href="/wallets" { "Not it: start again" } }
            }
        },
    )
}

fn checked_settings(refill: &Refill) -> Result<(u32, Option<u32>), AddError> {
    let gap = refill.gap_limit.trim();
    let gap_limit = if gap.is_empty() {
        20
    } else {
        gap.parse::<u32>()
            .ok()
            .filter(|g| (1..=add::MAX_GAP_LIMIT).contains(g))
            .ok_or_else(|| {
                AddError::Invalid(format!("the gap limit is from 1 to {}", add::MAX_GAP_LIMIT))
            })?
    };
    let birthday = refill.birthday.trim();
    let birthday = if birthday.is_empty() {
        None
    } else {
        Some(birthday.parse::<u32>().map_err(|_| {
            AddError::Invalid("the birthday is a block height, a whole number".into())
        })?)
    };
    if refill.name.trim().is_empty() {
        return Err(AddError::Invalid("give the wallet a name".into()));
    }
    Ok((gap_limit, birthday))
}

#[derive(Deserialize)]
pub struct Confirm {
    token: String,
}

#[handler]
pub async fn confirm(state: Data<&AppState>, req: &Request, Form(form): Form<Confirm>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return forbidden();
    };
    let now = crate::clock::now();
    let Some(pending) = state.pending_wallets.take(&form.token, ui.user_id, ws, now) else {
        return super::error_page(
            StatusCode::GONE,
            "This check has expired or was already used; check the wallet again.",
        )
        .with_status(StatusCode::GONE)
        .into_response();
    };
    let settings = add::Settings {
        name: &pending.name,
        gap_limit: pending.gap_limit,
        birthday: pending.birthday,
    };
    let audit = AuditEntry::new(now, Some(ui.user_id), &ui.username, "wallet.added")
        .from_addr(crate::http::auth::client_of(req).addr);
    match add::save(&state.store, ws, &pending.prepared, &settings, &audit).await {
        Ok(id) => {
            let started =
                match crate::http::api::wallets::first_sync(&state, id, &ui.username).await {
                    Ok((started, _)) => started,
                    Err(e) => {
                        tracing::error!(error = %e, "starting a wallet's first sync failed");
                        false
                    }
                };
            Redirect::see_other(format!(
                "/wallets?added={}{}",
                form_urlencoded::byte_serialize(pending.name.as_bytes()).collect::<String>(),
                if started { "&started=1" } else { "" }
            ))
            .into_response()
        }
        Err(AddError::Store(e)) => {
            tracing::error!(error = %e, "adding a wallet failed");
            super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
        Err(e) => {
            let refill = Refill {
                name: pending.name.clone(),
                ..Refill::default()
            };
            let mut resp = list_page(&state, &ui, None, Some(&e.to_string()), &refill).await;
            resp.set_status(StatusCode::CONFLICT);
            resp
        }
    }
}

#[handler]
pub async fn sync(state: Data<&AppState>, req: &Request, Path(id): Path<i64>) -> Response {
    let ui = match ui(&state, req).await {
        Ok(ui) => ui,
        Err(redirect) => return redirect,
    };
    let (Some((ws, _, _)), true) = (ui.workspace.clone(), ui.can(Role::Accountant)) else {
        return forbidden();
    };
    let wallet = match state.store.wallet(id).await {
        Ok(Some(w)) if w.workspace_id == ws => w,
        _ => {
            return super::error_page(StatusCode::NOT_FOUND, "No such wallet in this workspace.")
                .with_status(StatusCode::NOT_FOUND)
                .into_response();
        }
    };
    let name = wallet.name.clone();
    use crate::http::api::wallets::{NotStarted, try_start};
    match try_start(&state, wallet, &ui.username).await {
        Ok(()) => Redirect::see_other(format!(
            "/wallets?syncing={}",
            form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
        ))
        .into_response(),
        Err(NotStarted::Store(e)) => {
            tracing::error!(error = %e, "starting a wallet sync failed");
            super::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
        Err(e) => {
            let status = match e {
                NotStarted::Running(_) => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let mut resp =
                list_page(&state, &ui, None, Some(&e.to_string()), &Refill::default()).await;
            resp.set_status(status);
            resp
        }
    }
}
