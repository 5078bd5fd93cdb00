//! Layered configuration: built-in defaults, then a TOML file, then
//! `LEDGERSYS_*` environment variables, then command-line flags. Each layer
//! overrides the one before, and every value remembers which layer set it so
//! `ledgersys config check` can explain itself.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_DATA_DIR: &str = "./ledgersys-data";
pub const CONFIG_ENV: &str = "LEDGERSYS_CONFIG";
/// The data key itself, base64; for deployments that inject secrets by
/// environment. Never read from the TOML file.
pub const SECRET_KEY_ENV: &str = "LEDGERSYS_SECRET_KEY";
/// When set, `ledgersys report` prints how long loading the books and
/// computing the report took, on standard error (for benchmarks).
pub const TIMINGS_ENV: &str = "LEDGERSYS_TIMINGS";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid: {message}")]
    Parse { path: PathBuf, message: String },
    #[error(
        "unknown environment variable {name}; Ledgersys reads only {known} (see docs/configuration.md)"
    )]
    UnknownEnv { name: String, known: String },
    #[error("{origin}: {message}")]
    Invalid { origin: Origin, message: String },
}

/// Where a configuration value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Default,
    File(PathBuf),
    Env(&'static str),
    Flag(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::File(path) => write!(f, "config file {}", path.display()),
            Origin::Env(name) => write!(f, "environment variable {name}"),
            Origin::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// One setting: its TOML key, environment variable, flag and default.
struct Setting {
    key: &'static str,
    env: &'static str,
    flag: Option<&'static str>,
    default: &'static str,
}

const SETTINGS: [Setting; 23] = [
    Setting {
        key: "data_dir",
        env: "LEDGERSYS_DATA_DIR",
        flag: Some("--data-dir"),
        default: DEFAULT_DATA_DIR,
    },
    Setting {
        key: "server.listen",
        env: "LEDGERSYS_LISTEN",
        flag: Some("--listen"),
        default: "127.0.0.1:8420",
    },
    Setting {
        key: "log.format",
        env: "LEDGERSYS_LOG_FORMAT",
        flag: Some("--log-format"),
        default: "human",
    },
    Setting {
        key: "log.level",
        env: "LEDGERSYS_LOG_LEVEL",
        flag: Some("--log-level"),
        default: "info",
    },
    Setting {
        key: "secret_key_file",
        env: "LEDGERSYS_SECRET_KEY_FILE",
        flag: None,
        default: "",
    },
    Setting {
        key: "session.idle_timeout",
        env: "LEDGERSYS_SESSION_IDLE_TIMEOUT",
        flag: None,
        default: "30m",
    },
    Setting {
        key: "session.lifetime",
        env: "LEDGERSYS_SESSION_LIFETIME",
        flag: None,
        default: "12h",
    },
    Setting {
        key: "import.max_upload_mb",
        env: "LEDGERSYS_IMPORT_MAX_UPLOAD_MB",
        flag: None,
        default: "50",
    },
    Setting {
        key: "tls.cert_file",
        env: "LEDGERSYS_TLS_CERT_FILE",
        flag: None,
        default: "",
    },
    Setting {
        key: "tls.key_file",
        env: "LEDGERSYS_TLS_KEY_FILE",
        flag: None,
        default: "",
    },
    Setting {
        key: "tls.acme_domains",
        env: "LEDGERSYS_TLS_ACME_DOMAINS",
        flag: None,
        default: "",
    },
    Setting {
        key: "tls.acme_directory",
        env: "LEDGERSYS_TLS_ACME_DIRECTORY",
        flag: None,
        default: crate::tls::LETS_ENCRYPT,
    },
    Setting {
        key: "tls.acme_contact",
        env: "LEDGERSYS_TLS_ACME_CONTACT",
        flag: None,
        default: "",
    },
    Setting {
        key: "tls.acme_ca_file",
        env: "LEDGERSYS_TLS_ACME_CA_FILE",
        flag: None,
        default: "",
    },
    Setting {
        key: "tls.http_listen",
        env: "LEDGERSYS_TLS_HTTP_LISTEN",
        flag: None,
        default: "",
    },
    Setting {
        key: "wallets.sync_interval",
        env: "LEDGERSYS_WALLETS_SYNC_INTERVAL",
        flag: None,
        default: "10m",
    },
    Setting {
        key: "exchanges.sync_interval",
        env: "LEDGERSYS_EXCHANGES_SYNC_INTERVAL",
        flag: None,
        default: "1h",
    },
    Setting {
        key: "exchanges.rate_budget",
        env: "LEDGERSYS_EXCHANGES_RATE_BUDGET",
        flag: None,
        default: "on",
    },
    Setting {
        key: "chain.electrum",
        env: "LEDGERSYS_CHAIN_ELECTRUM",
        flag: None,
        default: "",
    },
    Setting {
        key: "snapshot.interval",
        env: "LEDGERSYS_SNAPSHOT_INTERVAL",
        flag: None,
        default: "off",
    },
    Setting {
        key: "chain.cookie_dir",
        env: "LEDGERSYS_CHAIN_COOKIE_DIR",
        flag: None,
        default: "",
    },
    Setting {
        key: "btcpay.hint_url",
        env: "LEDGERSYS_BTCPAY_HINT_URL",
        flag: None,
        default: "",
    },
    Setting {
        key: "http.trusted_proxies",
        env: "LEDGERSYS_HTTP_TRUSTED_PROXIES",
        flag: None,
        default: "",
    },
];

#[derive(Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Explicit key file; `None` means the data directory's `secret.key`
    /// (or a systemd credential, see `crypto::KeySource`).
    pub secret_key_file: Option<PathBuf>,
    /// The data key from `LEDGERSYS_SECRET_KEY`, if set.
    pub secret_key: Option<String>,
    pub session_idle_seconds: i64,
    pub session_lifetime_seconds: i64,
    /// The largest file (request body) an import accepts.
    pub max_upload_bytes: usize,
    /// HTTPS: off, certificate files, or ACME.
    pub tls: crate::tls::TlsConfig,
    /// How often the server syncs every watched wallet; `None` is "off".
    pub wallet_sync_seconds: Option<i64>,
    /// How often the server syncs every exchange connection; `None` is "off".
    pub exchange_sync_seconds: Option<i64>,
    /// `false` only for a test server or a proxy without rate limits: the
    /// client-side budget that keeps keys from being locked out is skipped.
    pub exchange_rate_budget: bool,
    /// An Electrum server (HOST:PORT, plain TCP) the server sets as the chain
    /// source at every start: packages set it from the node's own apps.
    pub chain_electrum: Option<String>,
    /// How often the server writes `snapshot/ledgersys.sqlite3`; `None` is "off".
    pub snapshot_seconds: Option<i64>,
    /// The directories a Bitcoin Core cookie file may be read from.
    pub cookie_dirs: Vec<PathBuf>,
    /// A BTCPay Server the packages found beside Ledgersys, offered in the
    /// Settings page's connect forms.
    pub btcpay_hint_url: Option<String>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::http::forwarded::TrustedProxies,
    values: BTreeMap<&'static str, (String, Origin)>,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("secret_key", &self.secret_key.as_ref().map(|_| "redacted"))
            .finish_non_exhaustive()
    }
}

/// Values given on the command line; `None` leaves them to earlier layers.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
}

type Layer = BTreeMap<&'static str, String>;

impl Config {
    /// Resolves the configuration from an optional file, the given environment
    /// and the flags. The environment is passed in so tests need not mutate
    /// the process's own.
    pub fn load(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
        flags: Overrides,
    ) -> Result<Config, ConfigError> {
        let mut values: BTreeMap<&'static str, (String, Origin)> = SETTINGS
            .iter()
            .map(|s| (s.key, (s.default.to_string(), Origin::Default)))
            .collect();
        if let Some(path) = file {
            for (key, value) in read_file(path)? {
                values.insert(key, (value, Origin::File(path.to_path_buf())));
            }
        }
        for (key, value) in read_env(env)? {
            values.insert(key, (value, Origin::Env(setting(key).env)));
        }
        for (key, value) in flag_layer(flags) {
            let flag = setting(key).flag.unwrap_or("");
            values.insert(key, (value, Origin::Flag(flag)));
        }
        let secret_key = env.get(SECRET_KEY_ENV).cloned();
        build(values, secret_key)
    }

    /// Each setting with its value and origin, for `config check`.
    pub fn describe(&self) -> Vec<(&'static str, String, Origin)> {
        let mut rows: Vec<_> = SETTINGS
            .iter()
            .map(|s| {
                let (value, origin) = self.values[s.key].clone();
                (s.key, value, origin)
            })
            .collect();
        if self.secret_key.is_some() {
            rows.push((
                "secret_key",
                "(set, not shown)".into(),
                Origin::Env(SECRET_KEY_ENV),
            ));
        }
        rows
    }
}

fn setting(key: &str) -> &'static Setting {
    SETTINGS
        .iter()
        .find(|s| s.key == key)
        .unwrap_or(&SETTINGS[0])
}

fn build(
    values: BTreeMap<&'static str, (String, Origin)>,
    secret_key: Option<String>,
) -> Result<Config, ConfigError> {
    let get = |key: &str| values[key].0.clone();
    let invalid = |key: &str, message: String| ConfigError::Invalid {
        origin: values[key].1.clone(),
        message,
    };

    let listen_text = get("server.listen");
    let listen = listen_text.parse::<SocketAddr>().map_err(|_| {
        invalid(
            "server.listen",
            format!("listen address {listen_text:?} is not IP:PORT (for example 127.0.0.1:8420, or 0.0.0.0:8420 for every interface)"),
        )
    })?;
    let log_format = match get("log.format").to_ascii_lowercase().as_str() {
        "human" => LogFormat::Human,
        "json" => LogFormat::Json,
        other => {
            return Err(invalid(
                "log.format",
                format!("log format {other:?} is not \"human\" or \"json\""),
            ));
        }
    };
    let log_level = get("log.level");
    if !valid_log_filter(&log_level) {
        return Err(invalid(
            "log.level",
            format!(
                "log level {log_level:?} is not one of error, warn, info, debug, trace (or a filter such as \"info,ledgersys=debug\")"
            ),
        ));
    }
    let data_dir = PathBuf::from(get("data_dir"));
    if data_dir.as_os_str().is_empty() {
        return Err(invalid(
            "data_dir",
            "the data directory must not be empty".into(),
        ));
    }
    let secret_key_file = Some(get("secret_key_file"))
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let duration = |key: &str| {
        parse_duration(&get(key)).ok_or_else(|| {
            invalid(
                key,
                format!("{:?} is not a duration such as 90s, 30m or 12h", get(key)),
            )
        })
    };
    let session_idle_seconds = duration("session.idle_timeout")?;
    let session_lifetime_seconds = duration("session.lifetime")?;
    let max_upload_bytes = get("import.max_upload_mb")
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|mb| (1..=4096).contains(mb))
        .map(|mb| mb * 1024 * 1024)
        .ok_or_else(|| {
            invalid(
                "import.max_upload_mb",
                format!(
                    "{:?} is not a whole number of megabytes from 1 to 4096",
                    get("import.max_upload_mb")
                ),
            )
        })?;
    let tls = crate::tls::TlsConfig::from_settings(&get)
        .map_err(|(key, message)| invalid(key, message))?;
    let wallet_sync_seconds = match get("wallets.sync_interval").trim() {
        "off" | "0" => None,
        _ => Some(duration("wallets.sync_interval").map_err(|_| {
            invalid(
                "wallets.sync_interval",
                format!(
                    "{:?} is not a duration such as 10m or 1h, or \"off\"",
                    get("wallets.sync_interval")
                ),
            )
        })?),
    };
    let exchange_sync_seconds = match get("exchanges.sync_interval").trim() {
        "off" | "0" => None,
        _ => Some(duration("exchanges.sync_interval").map_err(|_| {
            invalid(
                "exchanges.sync_interval",
                format!(
                    "{:?} is not a duration such as 1h or 6h, or \"off\"",
                    get("exchanges.sync_interval")
                ),
            )
        })?),
    };
    let exchange_rate_budget = match get("exchanges.rate_budget").trim() {
        "on" => true,
        "off" => false,
        other => {
            return Err(invalid(
                "exchanges.rate_budget",
                format!("{other:?} is not \"on\" or \"off\""),
            ));
        }
    };
    let chain_electrum = Some(get("chain.electrum").trim().to_string()).filter(|s| !s.is_empty());
    let snapshot_seconds = match get("snapshot.interval").trim() {
        "off" | "0" => None,
        _ => Some(duration("snapshot.interval").map_err(|_| {
            invalid(
                "snapshot.interval",
                format!(
                    "{:?} is not a duration such as 30m or 1h, or \"off\"",
                    get("snapshot.interval")
                ),
            )
        })?),
    };
    let cookie_dirs = match get("chain.cookie_dir").trim() {
        "" => crate::sources::chain::cookie::default_dirs(std::env::home_dir().as_deref()),
        list => list
            .split(':')
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .collect(),
    };
    let trusted_proxies =
        crate::http::forwarded::TrustedProxies::parse(&get("http.trusted_proxies"))
            .map_err(|message| invalid("http.trusted_proxies", message))?;
    let btcpay_hint_url = match get("btcpay.hint_url").trim() {
        "" => None,
        url => Some(
            crate::outbound::http_base(url, "the BTCPay address")
                .map_err(|message| invalid("btcpay.hint_url", message))?,
        ),
    };
    Ok(Config {
        btcpay_hint_url,
        trusted_proxies,
        chain_electrum,
        snapshot_seconds,
        cookie_dirs,
        tls,
        data_dir,
        listen,
        log_format,
        log_level,
        secret_key_file,
        secret_key,
        session_idle_seconds,
        session_lifetime_seconds,
        max_upload_bytes,
        wallet_sync_seconds,
        exchange_sync_seconds,
        exchange_rate_budget,
        values,
    })
}

/// `90s`, `30m`, `12h` or `7d` as seconds; at least one second.
fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let unit = text.chars().last()?;
    let scale = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let number: i64 = text[..text.len() - 1].parse().ok()?;
    (number > 0).then(|| number.checked_mul(scale)).flatten()
}

/// A level (`info`) or comma-separated `target=level` directives.
fn valid_log_filter(filter: &str) -> bool {
    const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];
    let is_level = |s: &str| LEVELS.contains(&s.trim().to_ascii_lowercase().as_str());
    filter
        .split(',')
        .all(|directive| match directive.split_once('=') {
            None => is_level(directive),
            Some((target, level)) => {
                !target.trim().is_empty()
                    && target
                        .trim()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
                    && is_level(level)
            }
        })
}

fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let parse_error = |message: String| ConfigError::Parse {
        path: path.to_path_buf(),
        message,
    };
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| parse_error(e.message().to_string()))?;
    let mut layer = Layer::new();
    let mut pending: Vec<(String, toml::Value)> = table.into_iter().collect();
    while let Some((name, value)) = pending.pop() {
        if let toml::Value::Table(inner) = value {
            pending.extend(inner.into_iter().map(|(k, v)| (format!("{name}.{k}"), v)));
            continue;
        }
        let Some(known) = SETTINGS.iter().find(|s| s.key == name) else {
            let keys: Vec<&str> = SETTINGS.iter().map(|s| s.key).collect();
            return Err(parse_error(format!(
                "unknown key `{name}`; known keys are {}",
                keys.join(", ")
            )));
        };
        let text = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(i) => i.to_string(),
            other => {
                return Err(parse_error(format!(
                    "`{name}` must be a string, not {}",
                    other.type_str()
                )));
            }
        };
        layer.insert(known.key, text);
    }
    Ok(layer)
}

fn read_env(env: &BTreeMap<String, String>) -> Result<Layer, ConfigError> {
    let mut layer = Layer::new();
    for (name, value) in env
        .iter()
        .filter(|(name, _)| name.starts_with("LEDGERSYS_"))
    {
        if name == CONFIG_ENV || name == SECRET_KEY_ENV || name == TIMINGS_ENV {
            continue;
        }
        let Some(known) = SETTINGS.iter().find(|s| s.env == name) else {
            let known: Vec<&str> = SETTINGS
                .iter()
                .map(|s| s.env)
                .chain([CONFIG_ENV, SECRET_KEY_ENV, TIMINGS_ENV])
                .collect();
            return Err(ConfigError::UnknownEnv {
                name: name.clone(),
                known: known.join(", "),
            });
        };
        layer.insert(known.key, value.clone());
    }
    Ok(layer)
}

fn flag_layer(flags: Overrides) -> Layer {
    let mut layer = Layer::new();
    if let Some(dir) = flags.data_dir {
        layer.insert("data_dir", dir.display().to_string());
    }
    if let Some(listen) = flags.listen {
        layer.insert("server.listen", listen);
    }
    if let Some(format) = flags.log_format {
        let text = match format {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        };
        layer.insert("log.format", text.to_string());
    }
    if let Some(level) = flags.log_level {
        layer.insert("log.level", level);
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), text).expect("write config");
        file
    }

    fn origins(config: &Config) -> BTreeMap<&'static str, Origin> {
        config
            .describe()
            .into_iter()
            .map(|(key, _, origin)| (key, origin))
            .collect()
    }

    #[test]
    fn defaults_serve_a_first_time_user() {
        let config = Config::load(None, &env(&[]), Overrides::default()).expect("config");
        assert_eq!(config.data_dir, PathBuf::from("./ledgersys-data"));
        assert_eq!(config.listen.to_string(), "127.0.0.1:8420");
        assert_eq!(config.log_format, LogFormat::Human);
        assert_eq!(config.session_idle_seconds, 1800);
        assert_eq!(config.session_lifetime_seconds, 43_200);
        assert_eq!(config.secret_key_file, None);
        assert!(origins(&config).values().all(|o| *o == Origin::Default));
    }

    #[test]
    fn the_wallet_sync_interval_is_a_duration_or_off() {
        let config = Config::load(None, &env(&[]), Overrides::default()).expect("config");
        assert_eq!(config.wallet_sync_seconds, Some(600));
        let hourly = env(&[("LEDGERSYS_WALLETS_SYNC_INTERVAL", "1h")]);
        let config = Config::load(None, &hourly, Overrides::default()).expect("config");
        assert_eq!(config.wallet_sync_seconds, Some(3600));
        let off = env(&[("LEDGERSYS_WALLETS_SYNC_INTERVAL", "off")]);
        let config = Config::load(None, &off, Overrides::default()).expect("config");
        assert_eq!(config.wallet_sync_seconds, None);
        let bad = env(&[("LEDGERSYS_WALLETS_SYNC_INTERVAL", "soon")]);
        let err = Config::load(None, &bad, Overrides::default()).expect_err("refused");
        assert!(err.to_string().contains("\"off\""), "{err}");
    }

    #[test]
    fn each_layer_overrides_the_one_before() {
        let file = write(
            "data_dir = \"/from/file\"\n[server]\nlisten = \"127.0.0.1:1\"\n[log]\nformat = \"json\"\nlevel = \"debug\"\n[session]\nidle_timeout = \"5m\"\n",
        );
        let env = env(&[
            ("LEDGERSYS_LISTEN", "127.0.0.1:2"),
            ("LEDGERSYS_LOG_LEVEL", "warn"),
        ]);
        let flags = Overrides {
            log_level: Some("error".into()),
            ..Overrides::default()
        };
        let config = Config::load(Some(file.path()), &env, flags).expect("config");
        assert_eq!(config.data_dir, PathBuf::from("/from/file"));
        assert_eq!(config.listen.to_string(), "127.0.0.1:2");
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.log_level, "error");
        assert_eq!(config.session_idle_seconds, 300);
        let origins = origins(&config);
        assert_eq!(origins["data_dir"], Origin::File(file.path().to_path_buf()));
        assert_eq!(origins["server.listen"], Origin::Env("LEDGERSYS_LISTEN"));
        assert_eq!(
            origins["log.format"],
            Origin::File(file.path().to_path_buf())
        );
        assert_eq!(origins["log.level"], Origin::Flag("--log-level"));
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let file = write("[server]\nlisen = \"127.0.0.1:1\"\n");
        let err = Config::load(Some(file.path()), &env(&[]), Overrides::default())
            .expect_err("typo must fail");
        assert!(
            err.to_string().contains("unknown key `server.lisen`"),
            "{err}"
        );
        assert!(err.to_string().contains("server.listen"), "{err}");
    }

    #[test]
    fn unknown_environment_variables_are_refused() {
        let err = Config::load(
            None,
            &env(&[("LEDGERSYS_LISTN", "x")]),
            Overrides::default(),
        )
        .expect_err("typo must fail");
        assert!(err.to_string().contains("LEDGERSYS_LISTN"), "{err}");
        assert!(err.to_string().contains("LEDGERSYS_LISTEN"), "{err}");
    }

    #[test]
    fn a_bad_listen_address_names_its_origin() {
        let err = Config::load(
            None,
            &env(&[("LEDGERSYS_LISTEN", "localhost")]),
            Overrides::default(),
        )
        .expect_err("not an address");
        let text = err.to_string();
        assert!(
            text.starts_with("environment variable LEDGERSYS_LISTEN"),
            "{text}"
        );
        assert!(text.contains("IP:PORT"), "{text}");
    }

    #[test]
    fn a_bad_log_level_is_refused() {
        let flags = Overrides {
            log_level: Some("loud!!".into()),
            ..Overrides::default()
        };
        let err = Config::load(None, &env(&[]), flags).expect_err("bad level");
        assert!(err.to_string().contains("flag --log-level"), "{err}");
        for good in ["debug", "WARN", "info,ledgersys=trace", "poem::server=off"] {
            assert!(valid_log_filter(good), "{good}");
        }
        for bad in ["", "verbose", "ledgersys=", "=info", "a b=info"] {
            assert!(!valid_log_filter(bad), "{bad}");
        }
    }

    #[test]
    fn durations_take_a_unit() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("30m"), Some(1800));
        assert_eq!(parse_duration("12h"), Some(43_200));
        assert_eq!(parse_duration("2d"), Some(172_800));
        for bad in ["30", "0m", "-5m", "m", "ten minutes"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_secret_key_is_never_shown() {
        let config = Config::load(
            None,
            &env(&[(SECRET_KEY_ENV, "c2VjcmV0LWtleS1tYXRlcmlhbA==")]),
            Overrides::default(),
        )
        .expect("config");
        assert!(config.secret_key.is_some());
        let shown = format!("{config:?} {:?}", config.describe());
        assert!(!shown.contains("c2VjcmV0"), "{shown}");
    }
}
