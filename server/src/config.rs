//! Configuration from environment variables (and a `.env` file, loaded by `main`).
//! `.env.example` documents every setting; keep the two in step.

use std::net::SocketAddr;
use std::path::PathBuf;

use domain::EmailAddress;

#[derive(Debug, thiserror::Error)]
#[error("invalid {name}={value:?}: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// Where the web server listens.
    pub addr: SocketAddr,
    /// An external database; when absent Rapport runs its own cluster in `data_dir`.
    pub database_url: Option<String>,
    /// Where Rapport keeps its embedded database and other local state.
    pub data_dir: PathBuf,
    /// The site cargo-leptos built (wasm, JS, CSS, assets).
    pub site_root: PathBuf,
    /// The local owner account, used until Google sign-in is configured.
    pub owner_email: EmailAddress,
    pub owner_name: String,
    pub log_format: LogFormat,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get =
            |name: &'static str, default: &str| lookup(name).unwrap_or_else(|| default.to_owned());
        let invalid = |name: &'static str, value: &str, reason: String| ConfigError {
            name,
            value: value.to_owned(),
            reason,
        };

        let addr_text = get("RAPPORT_ADDR", "127.0.0.1:3000");
        let addr = addr_text.parse().map_err(|e: std::net::AddrParseError| {
            invalid("RAPPORT_ADDR", &addr_text, e.to_string())
        })?;
        let owner_text = get("RAPPORT_OWNER_EMAIL", "owner@rapport.localhost");
        let owner_email = EmailAddress::parse(&owner_text)
            .map_err(|e| invalid("RAPPORT_OWNER_EMAIL", &owner_text, e.to_string()))?;
        let log_text = get("RAPPORT_LOG_FORMAT", "text");
        let log_format = match log_text.as_str() {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            _ => {
                return Err(invalid(
                    "RAPPORT_LOG_FORMAT",
                    &log_text,
                    "expected text or json".into(),
                ));
            }
        };
        Ok(Self {
            addr,
            database_url: lookup("DATABASE_URL"),
            data_dir: PathBuf::from(get("RAPPORT_DATA_DIR", ".data")),
            site_root: PathBuf::from(get("RAPPORT_SITE_ROOT", "target/site")),
            owner_email,
            owner_name: get("RAPPORT_OWNER_NAME", "Rapport Owner"),
            log_format,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_need_no_configuration() {
        let config = config(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, None);
        assert_eq!(config.data_dir, PathBuf::from(".data"));
        assert_eq!(config.log_format, LogFormat::Text);
    }

    #[test]
    fn invalid_values_name_the_setting() {
        let err = config(&[("RAPPORT_ADDR", "nowhere")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid RAPPORT_ADDR=\"nowhere\""),
            "{err}"
        );
        let err = config(&[("RAPPORT_LOG_FORMAT", "xml")]).unwrap_err();
        assert!(err.to_string().contains("expected text or json"), "{err}");
        assert!(config(&[("RAPPORT_OWNER_EMAIL", "nobody")]).is_err());
    }

    #[test]
    fn explicit_values_win() {
        let config = config(&[
            ("DATABASE_URL", "postgres://x/y"),
            ("RAPPORT_LOG_FORMAT", "json"),
        ])
        .unwrap();
        assert_eq!(config.database_url.as_deref(), Some("postgres://x/y"));
        assert_eq!(config.log_format, LogFormat::Json);
    }
}
