//! The instance's chain source, for instance administrators: the user's own
//! node or server, never a public one. Secrets are never returned: the
//! Bitcoin Core RPC password shows as its last four characters.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};
use zeroize::Zeroizing;

use super::Tag;
use super::policy::Access;
use crate::http::AppState;
use crate::http::auth::client_of;
use crate::http::error::{ApiError, body};
use crate::sources::chain::source_settings::{self, Fields, SourceError, Who};
use crate::sources::chain::sync::{ChainSource, CoreAuth};

/// The configured chain source, without secrets.
#[derive(Debug, Object, Default)]
pub struct ChainSourceView {
    pub configured: bool,
    /// `esplora`, `electrum` or `core_rpc`.
    pub kind: Option<String>,
    /// Esplora's or Bitcoin Core's URL.
    pub url: Option<String>,
    /// The Electrum server.
    pub host_port: Option<String>,
    pub tls: Option<bool>,
    /// The pinned SHA-256 of the Electrum server's certificate.
    pub cert_sha256: Option<String>,
    /// How Bitcoin Core is signed in to: `cookie` or `user`.
    pub core_auth: Option<String>,
    pub cookie_file: Option<String>,
    pub rpc_user: Option<String>,
    /// The stored RPC password's last four characters.
    pub password_last4: Option<String>,
    /// RFC 3339, UTC: when the last sync failed, if the last one did.
    pub last_failure_at: Option<String>,
    /// Why the last sync failed.
    pub last_failure: Option<String>,
}

/// A chain source to use from now on. Which fields are needed depends on
/// `kind`.
/// No `Debug`: the password must not end up in a log line.
#[derive(Object)]
pub struct ChainSourceUpdate {
    /// `esplora`, `electrum` or `core_rpc`.
    pub kind: String,
    /// Esplora's API base URL, or Bitcoin Core's RPC URL (http://).
    pub url: Option<String>,
    /// The Electrum server, HOST:PORT.
    pub host_port: Option<String>,
    /// Speak TLS to the Electrum server.
    pub tls: Option<bool>,
    /// The Electrum server's own certificate (PEM), pinned by its SHA-256.
    pub tls_cert_pem: Option<String>,
    /// Or that SHA-256 itself, in hex.
    pub tls_cert_sha256: Option<String>,
    /// Bitcoin Core's cookie file, a path on this server.
    pub cookie_file: Option<String>,
    pub rpc_user: Option<String>,
    /// Stored sealed, never returned.
    #[oai(write_only)]
    pub rpc_password: Option<String>,
}

pub fn source_error(e: SourceError) -> ApiError {
    match e {
        SourceError::Invalid { code, message } => ApiError::Unprocessable(body(code, message)),
        SourceError::Store(e) => e.into(),
        e @ SourceError::Secret(_) => ApiError::internal(e),
    }
}

/// The view of what is stored, shared with the Settings page.
pub async fn view(state: &AppState) -> Result<ChainSourceView, crate::store::StoreError> {
    let failure = crate::sources::chain::status::last_failure(&state.store).await?;
    let mut view = ChainSourceView {
        last_failure_at: failure.as_ref().map(|f| crate::clock::rfc3339(f.at)),
        last_failure: failure.map(|f| f.message),
        ..ChainSourceView::default()
    };
    let Some((source, last4)) = source_settings::current(&state.store).await? else {
        return Ok(view);
    };
    view.configured = true;
    view.password_last4 = last4;
    match source {
        ChainSource::Esplora { url } => {
            view.kind = Some("esplora".into());
            view.url = Some(url);
        }
        ChainSource::Electrum {
            host_port,
            tls,
            cert_sha256,
        } => {
            view.kind = Some("electrum".into());
            view.host_port = Some(host_port);
            view.tls = Some(tls);
            view.cert_sha256 = cert_sha256;
        }
        ChainSource::CoreRpc { url, auth } => {
            view.kind = Some("core_rpc".into());
            view.url = Some(url);
            match auth {
                CoreAuth::Cookie { path } => {
                    view.core_auth = Some("cookie".into());
                    view.cookie_file = Some(path);
                }
                CoreAuth::User { user } => {
                    view.core_auth = Some("user".into());
                    view.rpc_user = Some(user);
                }
            }
        }
    }
    Ok(view)
}

pub struct ChainSourceApi;

#[OpenApi(tag = "Tag::Instance")]
impl ChainSourceApi {
    /// The chain source wallets are synced from, without secrets, and the
    /// last failed sync if the last one failed.
    #[oai(
        path = "/instance/chain-source",
        method = "get",
        operation_id = "get_chain_source"
    )]
    async fn get(&self, state: Data<&AppState>) -> Result<Json<ChainSourceView>, ApiError> {
        Ok(Json(view(&state).await?))
    }

    /// Sets the chain source: the user's own Esplora, Electrum server or
    /// Bitcoin Core, never a public one. Bad input is refused with 422 and
    /// a code (`invalid_kind`, `missing_field`, `invalid_url`,
    /// `invalid_host_port`, `invalid_certificate`, `unreadable_cookie`,
    /// `invalid_user`, `no_password`), changing nothing.
    #[oai(
        path = "/instance/chain-source",
        method = "put",
        operation_id = "set_chain_source"
    )]
    async fn set(
        &self,
        state: Data<&AppState>,
        access: Data<&Access>,
        req: &Request,
        update: Json<ChainSourceUpdate>,
    ) -> Result<Json<ChainSourceView>, ApiError> {
        let caller = access.caller()?;
        let update = update.0;
        let fields = Fields {
            kind: update.kind,
            url: update.url,
            host_port: update.host_port,
            tls: update.tls.unwrap_or(false),
            cert_pem: update.tls_cert_pem,
            cert_sha256: update.tls_cert_sha256,
            cookie_file: update.cookie_file,
            rpc_user: update.rpc_user,
            rpc_password: update.rpc_password.map(Zeroizing::new),
        };
        let checked = fields
            .into_input(&state.cookie_dirs)
            .and_then(source_settings::check)
            .map_err(source_error)?;
        let from = client_of(req).addr;
        let who = Who {
            user: Some(caller.user_id),
            name: &caller.username,
            from: &from,
        };
        source_settings::save(
            &state.store,
            Some(state.wallet_syncs.secrets()),
            &checked,
            &who,
        )
        .await
        .map_err(source_error)?;
        Ok(Json(view(&state).await?))
    }
}
