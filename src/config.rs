//! Layered configuration: built-in defaults, then a TOML file, then
//! `LEDGERSYS_*` environment variables, then command-line flags. Each layer
//! overrides the one before, and every value remembers which layer set it so
//! `ledgersys config check` can explain itself.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub const DEFAULT_DATA_DIR: &str = "./ledgersys-data";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8420";
pub const CONFIG_ENV: &str = "LEDGERSYS_CONFIG";

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub log_format: LogFormat,
    pub log_level: String,
    /// Where each value came from, keyed by its TOML name.
    pub origins: BTreeMap<&'static str, Origin>,
}

/// One layer's worth of settings; `None` leaves the value to an earlier layer.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<String>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
}

/// The TOML file's shape. Unknown keys are refused so a typo never silently
/// falls back to a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    #[serde(default)]
    server: FileServer,
    #[serde(default)]
    log: FileLog,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileServer {
    listen: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLog {
    format: Option<LogFormat>,
    level: Option<String>,
}

/// Each setting: its TOML key, its environment variable and its flag.
const KEYS: [(&str, &str, &str); 4] = [
    ("data_dir", "LEDGERSYS_DATA_DIR", "--data-dir"),
    ("server.listen", "LEDGERSYS_LISTEN", "--listen"),
    ("log.format", "LEDGERSYS_LOG_FORMAT", "--log-format"),
    ("log.level", "LEDGERSYS_LOG_LEVEL", "--log-level"),
];

impl Config {
    /// Resolves the configuration from an optional file, the given environment
    /// and the flags. The environment is passed in so tests need not mutate
    /// the process's own.
    pub fn load(
        file: Option<&Path>,
        env: &BTreeMap<String, String>,
        flags: Overrides,
    ) -> Result<Config, ConfigError> {
        let file_layer = match file {
            Some(path) => Some((read_file(path)?, Origin::File(path.to_path_buf()))),
            None => None,
        };
        let env_layer = read_env(env)?;

        let mut resolved = Resolver::default();
        if let Some((layer, origin)) = file_layer {
            resolved.apply(layer, |_| origin.clone());
        }
        resolved.apply(env_layer, |key| Origin::Env(lookup(key).1));
        resolved.apply(flags, |key| Origin::Flag(lookup(key).2));
        resolved.finish()
    }

    /// Each setting with its value and origin, for `config check`.
    pub fn describe(&self) -> Vec<(&'static str, String, Origin)> {
        let values = [
            self.data_dir.display().to_string(),
            self.listen.to_string(),
            format!("{:?}", self.log_format).to_lowercase(),
            self.log_level.clone(),
        ];
        KEYS.iter()
            .zip(values)
            .map(|((key, _, _), value)| {
                let origin = self.origins.get(key).cloned().unwrap_or(Origin::Default);
                (*key, value, origin)
            })
            .collect()
    }
}

fn lookup(key: &str) -> (&'static str, &'static str, &'static str) {
    KEYS.iter()
        .copied()
        .find(|(name, _, _)| *name == key)
        .unwrap_or(KEYS[0])
}

#[derive(Default)]
struct Resolver {
    layers: Overrides,
    origins: BTreeMap<&'static str, Origin>,
}

impl Resolver {
    fn apply(&mut self, layer: Overrides, origin: impl Fn(&str) -> Origin) {
        let mut set = |key: &'static str, present: bool| {
            if present {
                self.origins.insert(key, origin(key));
            }
        };
        set("data_dir", layer.data_dir.is_some());
        set("server.listen", layer.listen.is_some());
        set("log.format", layer.log_format.is_some());
        set("log.level", layer.log_level.is_some());
        let acc = &mut self.layers;
        acc.data_dir = layer.data_dir.or(acc.data_dir.take());
        acc.listen = layer.listen.or(acc.listen.take());
        acc.log_format = layer.log_format.or(acc.log_format.take());
        acc.log_level = layer.log_level.or(acc.log_level.take());
    }

    fn origin(&self, key: &'static str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }

    fn finish(self) -> Result<Config, ConfigError> {
        let listen_text = self
            .layers
            .listen
            .clone()
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = listen_text
            .parse::<SocketAddr>()
            .map_err(|_| ConfigError::Invalid {
                origin: self.origin("server.listen"),
                message: format!(
                    "listen address {listen_text:?} is not IP:PORT (for example 127.0.0.1:8420, or 0.0.0.0:8420 for every interface)"
                ),
            })?;
        let log_level = self
            .layers
            .log_level
            .clone()
            .unwrap_or_else(|| "info".into());
        if !valid_log_filter(&log_level) {
            return Err(ConfigError::Invalid {
                origin: self.origin("log.level"),
                message: format!(
                    "log level {log_level:?} is not one of error, warn, info, debug, trace (or a filter such as \"ledgersys=debug\")"
                ),
            });
        }
        let data_dir = self
            .layers
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        if data_dir.as_os_str().is_empty() {
            return Err(ConfigError::Invalid {
                origin: self.origin("data_dir"),
                message: "the data directory must not be empty".into(),
            });
        }
        Ok(Config {
            data_dir,
            listen,
            log_format: self.layers.log_format.unwrap_or(LogFormat::Human),
            log_level,
            origins: self.origins,
        })
    }
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

fn read_file(path: &Path) -> Result<Overrides, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let file: FileConfig = toml::from_str(&text).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: err.message().to_string(),
    })?;
    Ok(Overrides {
        data_dir: file.data_dir,
        listen: file.server.listen,
        log_format: file.log.format,
        log_level: file.log.level,
    })
}

fn read_env(env: &BTreeMap<String, String>) -> Result<Overrides, ConfigError> {
    let mut layer = Overrides::default();
    for (name, value) in env
        .iter()
        .filter(|(name, _)| name.starts_with("LEDGERSYS_"))
    {
        let key = KEYS.iter().find(|(_, var, _)| var == name).map(|k| k.0);
        match key {
            Some("data_dir") => layer.data_dir = Some(PathBuf::from(value)),
            Some("server.listen") => layer.listen = Some(value.clone()),
            Some("log.format") => {
                let format = match value.to_ascii_lowercase().as_str() {
                    "human" => LogFormat::Human,
                    "json" => LogFormat::Json,
                    _ => {
                        return Err(ConfigError::Invalid {
                            origin: Origin::Env("LEDGERSYS_LOG_FORMAT"),
                            message: format!("log format {value:?} is not \"human\" or \"json\""),
                        });
                    }
                };
                layer.log_format = Some(format);
            }
            Some(_) => layer.log_level = Some(value.clone()),
            None if name == CONFIG_ENV => {}
            None => {
                let known: Vec<&str> = KEYS.iter().map(|k| k.1).chain([CONFIG_ENV]).collect();
                return Err(ConfigError::UnknownEnv {
                    name: name.clone(),
                    known: known.join(", "),
                });
            }
        }
    }
    Ok(layer)
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

    #[test]
    fn defaults_serve_a_first_time_user() {
        let config = Config::load(None, &env(&[]), Overrides::default()).expect("config");
        assert_eq!(config.data_dir, PathBuf::from("./ledgersys-data"));
        assert_eq!(config.listen.to_string(), "127.0.0.1:8420");
        assert_eq!(config.log_format, LogFormat::Human);
        assert!(
            config
                .describe()
                .iter()
                .all(|(_, _, o)| *o == Origin::Default)
        );
    }

    #[test]
    fn each_layer_overrides_the_one_before() {
        let file = write(
            "data_dir = \"/from/file\"\n[server]\nlisten = \"127.0.0.1:1\"\n[log]\nformat = \"json\"\nlevel = \"debug\"\n",
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
        let origins: BTreeMap<_, _> = config
            .describe()
            .into_iter()
            .map(|(key, _, origin)| (key, origin))
            .collect();
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
        assert!(err.to_string().contains("unknown field `lisen`"), "{err}");
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
}
