//! HTTP: the JSON API, the web UI and the probes. Handlers are thin: they
//! extract input, call one function of a domain or store module, and map the
//! result.

pub mod allow;
pub mod api;
pub mod assets;
pub mod auth;
pub mod error;
pub mod forwarded;
mod headers;
mod health;
mod limit;
pub mod ui;

use std::time::Instant;

use poem::middleware::Compression;
use poem::{Endpoint, EndpointExt, IntoResponse, Route, get};

use crate::alerts::Alerts;
use crate::auth::Auth;
use crate::store::Store;

pub use headers::CONTENT_SECURITY_POLICY;

/// The largest imported file unless configured (`import.max_upload_mb`).
pub const MAX_REQUEST_BYTES: usize = 50 * 1024 * 1024;

/// What every handler may reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: Auth,
    pub alerts: Alerts,
    /// Cookies get `Secure` and the `__Host-` prefix when served over TLS.
    pub secure_cookies: bool,
    pub pending_imports: ui::pending::PendingImports,
    /// Wallets checked on the Wallets page, waiting for confirmation.
    pub pending_wallets: ui::wallets::PendingWallets,
    /// The largest request body: an imported file.
    pub max_upload_bytes: usize,
    pub prices: crate::prices::service::Service,
    pub btcpay: crate::btcpay::Service,
    pub wallet_syncs: crate::sources::chain::service::SyncService,
    pub exchanges: std::sync::Arc<crate::sources::exchanges::service::Exchanges>,
    /// Where a Bitcoin Core cookie file may be read from (`chain.cookie_dir`).
    pub cookie_dirs: std::sync::Arc<[std::path::PathBuf]>,
    /// Reverse proxies whose `X-Forwarded-For` is believed (`http.trusted_proxies`).
    pub trusted_proxies: std::sync::Arc<forwarded::TrustedProxies>,
    /// The BTCPay Server the package found (`btcpay.hint_url`), if any.
    pub btcpay_hint_url: Option<String>,
    pub started: Instant,
}

/// The whole application as one endpoint.
pub fn app(state: AppState) -> impl Endpoint + use<> {
    let api = api::service();
    let document = api::document::with_nullable_options(&api.spec());
    let spec = poem::endpoint::make_sync(move |_| {
        document
            .clone()
            .with_content_type("application/json; charset=utf-8")
            .into_response()
    });
    let max_upload = state.max_upload_bytes;
    let docs = api::docs(&api);
    let (ui, mut allow) = ui::routes().into_parts();
    allow.add_openapi(&api.spec(), "/api/v1");
    for path in ["/api/openapi.json", "/healthz", "/readyz", "/assets/*name"] {
        allow.add(path, &[poem::http::Method::GET]);
    }
    Route::new()
        .nest("/api/v1", api.with(api::policy::Enforce))
        .at("/api/openapi.json", spec)
        // Only static content is compressed: compressing pages that carry a
        // CSRF token next to reflected input would open the door to
        // BREACH-style guessing over TLS.
        .nest("/api/docs", docs.with(Compression::new()))
        .at("/healthz", get(health::healthz))
        .at("/readyz", get(health::readyz))
        .at("/assets/*name", get(assets::serve).with(Compression::new()))
        .nest("/", ui)
        .with(auth::Authenticate)
        .data(state)
        .with(limit::LimitBody {
            upload_cap: max_upload,
        })
        .with(error::ShapeErrors)
        .with(allow::AddAllow(std::sync::Arc::new(allow)))
        .with(headers::SecurityHeaders)
}
