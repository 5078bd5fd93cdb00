//! Start-up and serving: the data directory, the store, the keys, the socket.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use poem::Server;
use poem::listener::{Acceptor, BoxAcceptor, TcpAcceptor};

use crate::config::Config;
use crate::datadir::{DataDir, DataDirError};
use crate::store::{Store, StoreError};

/// How long in-flight requests may take to finish after a shutdown signal.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] crate::crypto::keys::KeyError),
    #[error("cannot prepare first-run setup: {0}")]
    Setup(#[from] crate::auth::AuthError),
    #[error(
        "cannot listen on {addr}: {source}; choose another address with --listen or LEDGERSYS_LISTEN"
    )]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot prepare the directory for uploads waiting to be imported: {0}")]
    Pending(std::io::Error),
    #[error(transparent)]
    Tls(#[from] crate::tls::serve::TlsError),
    #[error("chain.electrum: {0}")]
    ChainSource(String),
    #[error("the server stopped with an error: {0}")]
    Serve(std::io::Error),
}

/// A started appliance: data directory locked, database migrated, socket
/// bound. Nothing is answered until [`Appliance::run`].
pub struct Appliance {
    data_dir: DataDir,
    store: Store,
    auth: crate::auth::Auth,
    alerts: crate::alerts::Alerts,
    prices: crate::prices::service::Service,
    btcpay: crate::btcpay::Service,
    pending_imports: crate::http::ui::pending::PendingImports,
    /// BTCPay integrations to sweep as soon as the server runs.
    sweep_at_start: Vec<i64>,
    acceptor: BoxAcceptor,
    redirect: Option<(TcpAcceptor, crate::tls::redirect::Redirect)>,
    secure: bool,
    url: String,
    started: Instant,
    max_upload_bytes: usize,
    wallet_syncs: crate::sources::chain::service::SyncService,
    wallet_sync_every: Option<std::time::Duration>,
    snapshot_every: Option<std::time::Duration>,
    exchanges: std::sync::Arc<crate::sources::exchanges::service::Exchanges>,
    exchange_sync_every: Option<std::time::Duration>,
    cookie_dirs: std::sync::Arc<[std::path::PathBuf]>,
    trusted_proxies: crate::http::forwarded::TrustedProxies,
    btcpay_hint_url: Option<String>,
}

impl Appliance {
    pub async fn open(
        config: &Config,
        listener: tokio::net::TcpListener,
    ) -> Result<Self, StartError> {
        let started = Instant::now();
        let data_dir = DataDir::open(&config.data_dir)?;
        let store = Store::open(data_dir.path()).await?;
        let now = crate::clock::now();
        let source = crate::crypto::keys::key_source(config, data_dir.path());
        let keys = crate::crypto::keys::open(&store, &source, now).await?;
        let alerts = crate::alerts::Alerts::new(store.clone(), keys.secrets.clone());
        let prices = crate::prices::service::Service::new(store.clone(), keys.secrets.clone());
        let btcpay = crate::btcpay::Service::new(store.clone(), keys.secrets.clone());
        let pending_imports = crate::http::ui::pending::PendingImports::open(data_dir.path())
            .map_err(StartError::Pending)?;
        if let Some(host_port) = &config.chain_electrum {
            chain_source_from_config(&store, host_port).await?;
        }
        let sweep_at_start = store
            .btcpay_integrations()
            .await?
            .into_iter()
            .map(|i| i.id)
            .collect();
        let lifetimes = crate::auth::session::Lifetimes {
            idle_seconds: config.session_idle_seconds,
            absolute_seconds: config.session_lifetime_seconds,
        };
        store
            .delete_expired_sessions(
                now - lifetimes.idle_seconds,
                now - lifetimes.absolute_seconds,
            )
            .await?;
        let auth =
            crate::auth::Auth::new(store.clone(), alerts.clone(), keys.session_key, lifetimes);
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
        let acceptor = TcpAcceptor::from_tokio(listener).map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
        tracing::debug!(local = ?acceptor.local_addr(), "socket ready");
        let https = crate::tls::start(&config.tls, acceptor, addr, &store, &keys.secrets).await?;
        let url = https.url;
        if let Some(token) = crate::auth::setup::setup_token(&store).await? {
            tracing::warn!(
                "No account exists yet. Open {url}setup and enter this one-time setup token: {token} \
                 (also shown by `ledgersys admin setup-token`)"
            );
        }
        let wallet_syncs =
            crate::sources::chain::service::SyncService::new(store.clone(), keys.secrets.clone());
        let exchanges = std::sync::Arc::new(
            crate::sources::exchanges::service::Exchanges::new(store.clone(), keys.secrets.clone())
                .without_rate_budget(!config.exchange_rate_budget)
                .with_alerts(alerts.clone()),
        );
        Ok(Appliance {
            data_dir,
            store,
            auth,
            alerts,
            prices,
            btcpay,
            pending_imports,
            sweep_at_start,
            acceptor: https.acceptor,
            redirect: https.redirect,
            secure: config.tls.enabled(),
            url,
            started,
            max_upload_bytes: config.max_upload_bytes,
            wallet_syncs,
            cookie_dirs: config.cookie_dirs.clone().into(),
            trusted_proxies: config.trusted_proxies.clone(),
            btcpay_hint_url: config.btcpay_hint_url.clone(),
            wallet_sync_every: config
                .wallet_sync_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map(std::time::Duration::from_secs),
            snapshot_every: config
                .snapshot_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map(std::time::Duration::from_secs),
            exchanges,
            exchange_sync_every: config
                .exchange_sync_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map(std::time::Duration::from_secs),
        })
    }

    /// The URL this appliance serves.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Serves until `shutdown` resolves, then lets in-flight requests finish.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), StartError> {
        let state = crate::http::AppState {
            store: self.store.clone(),
            auth: self.auth,
            alerts: self.alerts,
            secure_cookies: self.secure,
            pending_imports: self.pending_imports,
            pending_wallets: Default::default(),
            prices: self.prices,
            max_upload_bytes: self.max_upload_bytes,
            btcpay: self.btcpay.clone(),
            wallet_syncs: self.wallet_syncs.clone(),
            exchanges: self.exchanges.clone(),
            cookie_dirs: self.cookie_dirs.clone(),
            trusted_proxies: std::sync::Arc::new(self.trusted_proxies),
            btcpay_hint_url: self.btcpay_hint_url,
            started: self.started,
        };
        tracing::info!(
            url = %self.url,
            data_dir = %self.data_dir.path().display(),
            ready_ms = self.started.elapsed().as_millis() as u64,
            "Ledgersys is ready"
        );
        let sweeper = tokio::spawn(crate::btcpay::sweep_periodically(
            self.btcpay.clone(),
            self.sweep_at_start,
        ));
        let syncer = tokio::spawn(crate::sources::chain::service::sync_periodically(
            self.wallet_syncs,
            self.wallet_sync_every,
        ));
        let exchange_syncer = tokio::spawn(crate::sources::exchanges::service::sync_periodically(
            self.exchanges.clone(),
            self.exchange_sync_every,
        ));
        let snapshots = tokio::spawn(crate::snapshot::periodically(
            self.store.clone(),
            self.data_dir.path().to_path_buf(),
            self.snapshot_every,
        ));
        // The plain-HTTP side stops with the main server.
        let (stopping, stop) = tokio::sync::watch::channel(false);
        let redirect = self.redirect.map(|(acceptor, endpoint)| {
            let mut stop = stop.clone();
            tokio::spawn(
                Server::new_with_acceptor(acceptor)
                    .name("ledgersys-redirect")
                    .run_with_graceful_shutdown(
                        endpoint,
                        async move {
                            let _ = stop.changed().await;
                        },
                        Some(Duration::from_secs(5)),
                    ),
            )
        });
        let shutdown = async move {
            shutdown.await;
            let _ = stopping.send(true);
        };
        let result = Server::new_with_acceptor(self.acceptor)
            .name("ledgersys")
            .run_with_graceful_shutdown(crate::http::app(state), shutdown, Some(SHUTDOWN_GRACE))
            .await;
        if let Some(redirect) = redirect {
            let _ = redirect.await;
        }
        sweeper.abort();
        syncer.abort();
        exchange_syncer.abort();
        snapshots.abort();
        self.store.close().await;
        tracing::info!("Ledgersys stopped");
        result.map_err(StartError::Serve)
    }
}

/// Sets the Electrum server named by `chain.electrum` as the chain source,
/// through the same check as every other way of setting it; audited only
/// when it changes, so a restart writes nothing.
async fn chain_source_from_config(store: &Store, host_port: &str) -> Result<(), StartError> {
    use crate::sources::chain::source_settings::{Input, Who, check, current, save};
    let checked = check(Input::Electrum {
        host_port: host_port.to_string(),
        tls: false,
        cert: None,
    })
    .map_err(|e| StartError::ChainSource(e.to_string()))?;
    let stored = current(store).await?;
    if stored.as_ref().map(|(source, _)| source) == Some(&checked.source) {
        return Ok(());
    }
    let who = Who {
        user: None,
        name: "configuration",
        from: "",
    };
    save(store, None, &checked, &who)
        .await
        .map_err(|e| StartError::ChainSource(e.to_string()))?;
    tracing::info!(source = %checked.source, "chain source set from chain.electrum");
    Ok(())
}

/// Opens the appliance on `listener` and serves until `shutdown` resolves.
pub async fn run(
    config: &Config,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()>,
) -> Result<(), StartError> {
    Appliance::open(config, listener).await?.run(shutdown).await
}

/// Binds the configured address, with an error that says what to do.
pub fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener, StartError> {
    let listen_error = |source| StartError::Listen { addr, source };
    let std_listener = std::net::TcpListener::bind(addr).map_err(listen_error)?;
    std_listener.set_nonblocking(true).map_err(listen_error)?;
    tokio::net::TcpListener::from_std(std_listener).map_err(listen_error)
}
