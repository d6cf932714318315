//! Configuration from environment variables (and a `.env` file, loaded by `main`).
//! `.env.example` documents every setting; keep the two in step.

use std::net::SocketAddr;
use std::path::PathBuf;

use domain::ask::model::ModelConfig;
use domain::limits::LimitSettings;
use domain::mail::mbox::MboxLimits;

use crate::workers::WorkerSettings;

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

/// Which Google Rapport talks to.
#[derive(Clone, PartialEq, Eq)]
pub enum GoogleSettings {
    /// Real Google, or any server speaking its protocols under `api_base`.
    Configured {
        client_id: String,
        client_secret: String,
        api_base: Option<String>,
    },
    /// No credentials: a fake Google runs in-process with a generated mailbox.
    Demo { messages: usize },
}

impl std::fmt::Debug for GoogleSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Configured {
                client_id,
                api_base,
                ..
            } => f
                .debug_struct("Configured")
                .field("client_id", client_id)
                .field("client_secret", &"<redacted>")
                .field("api_base", api_base)
                .finish(),
            Self::Demo { messages } => f.debug_struct("Demo").field("messages", messages).finish(),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    /// Where the web server listens.
    pub addr: SocketAddr,
    /// How browsers reach Rapport (redirect URI, secure cookies); defaults to http://{addr}.
    pub public_url: Option<String>,
    /// An external database; when absent Rapport runs its own cluster in `data_dir`.
    pub database_url: Option<String>,
    /// Where Rapport keeps its embedded database, key file and other local state.
    pub data_dir: PathBuf,
    /// The site cargo-leptos built (wasm, JS, CSS, assets).
    pub site_root: PathBuf,
    pub google: GoogleSettings,
    /// OAuth redirect URI; defaults to {public_url}/auth/google/callback.
    pub google_redirect_uri: Option<String>,
    /// Base64 of 32 bytes for token encryption; defaults to a key file in `data_dir`.
    pub encryption_key: Option<String>,
    pub log_format: LogFormat,
    pub workers: WorkerSettings,
    /// Largest mbox file accepted by the Settings upload.
    pub max_mbox_bytes: u64,
    /// Largest webhook body accepted by `POST /ingest/{channel}`.
    pub max_webhook_bytes: usize,
    /// Largest file accepted by a contact's file upload.
    pub max_file_bytes: u64,
    /// Most files one upload request may carry.
    pub max_upload_files: usize,
    /// What one user may keep: stored files plus mbox uploads waiting to be imported.
    pub storage_quota_bytes: u64,
    /// Uploads (files or mbox) one user may run at the same time.
    pub uploads_per_user: usize,
    /// Largest message and line the mbox reader keeps; past them a message is skipped.
    pub mbox_limits: MboxLimits,
    /// Events older than this many days are deleted; 0 keeps them forever.
    pub event_retention_days: u32,
    /// The language model Ask Rapport uses (`OPENAI_*`); `None` runs the offline engine.
    pub model: Option<ModelConfig>,
    /// Demo mode: how often a simulated Messenger / Instagram customer writes
    /// (`RAPPORT_DEMO_CUSTOMERS_SECS`, 0 for never).
    pub demo_customers_every: Option<std::time::Duration>,
    /// Model calls per user, webhooks per channel and open streams (429 past them).
    pub limits: LimitSettings,
    /// Where call recordings are fetched from, their size cap, the transcription model.
    pub recordings: crate::recordings::RecordingSettings,
    /// Enrichment providers and their limits (`RAPPORT_ENRICH_*`, `PDL_*`, `CLEARBIT_*`, `X_*`).
    pub enrichment: domain::enrichment::EnrichmentConfig,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("public_url", &self.public_url)
            .field("database_url", &self.database_url.as_ref().map(|_| "<set>"))
            .field("data_dir", &self.data_dir)
            .field("site_root", &self.site_root)
            .field("google", &self.google)
            .field("google_redirect_uri", &self.google_redirect_uri)
            .field(
                "encryption_key",
                &self.encryption_key.as_ref().map(|_| "<set>"),
            )
            .field("log_format", &self.log_format)
            .field("workers", &self.workers)
            .field("limits", &self.limits)
            .field("recordings", &self.recordings)
            .field("enrichment", &self.enrichment)
            // The API key stays out of logs.
            .field(
                "model",
                &self
                    .model
                    .as_ref()
                    .map(|m| format!("{} at {}", m.model, m.base_url)),
            )
            .finish()
    }
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
        let google = match (lookup("GOOGLE_CLIENT_ID"), lookup("GOOGLE_CLIENT_SECRET")) {
            (Some(client_id), Some(client_secret)) => GoogleSettings::Configured {
                client_id,
                client_secret,
                api_base: lookup("GOOGLE_API_BASE"),
            },
            (None, None) => {
                let text = get("RAPPORT_DEMO_MESSAGES", "3000");
                let messages = text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (100..=1_000_000).contains(n))
                    .ok_or_else(|| {
                        invalid(
                            "RAPPORT_DEMO_MESSAGES",
                            &text,
                            "expected 100 to 1000000".into(),
                        )
                    })?;
                GoogleSettings::Demo { messages }
            }
            (Some(_), None) => {
                return Err(invalid(
                    "GOOGLE_CLIENT_SECRET",
                    "",
                    "set it together with GOOGLE_CLIENT_ID".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(
                    "GOOGLE_CLIENT_ID",
                    "",
                    "set it together with GOOGLE_CLIENT_SECRET".into(),
                ));
            }
        };
        let number = |name: &'static str, default: &str, range: std::ops::RangeInclusive<u64>| {
            let text = get(name, default);
            text.parse::<u64>()
                .ok()
                .filter(|n| range.contains(n))
                .ok_or_else(|| {
                    invalid(
                        name,
                        &text,
                        format!(
                            "expected a number from {} to {}",
                            range.start(),
                            range.end()
                        ),
                    )
                })
        };
        let workers = WorkerSettings {
            workers: number("RAPPORT_WORKERS", "2", 0..=64)? as usize,
            sync_every: std::time::Duration::from_secs(number(
                "RAPPORT_SYNC_INTERVAL_SECS",
                "60",
                5..=86_400,
            )?),
            calendar_every: std::time::Duration::from_secs(number(
                "RAPPORT_CALDAV_POLL_SECS",
                "60",
                5..=86_400,
            )?),
            jmap_every: std::time::Duration::from_secs(number(
                "RAPPORT_FASTMAIL_POLL_SECS",
                "60",
                5..=86_400,
            )?),
            lease: std::time::Duration::from_secs(number(
                "RAPPORT_JOB_LEASE_SECS",
                "60",
                2..=3600,
            )?),
            processing_lease: std::time::Duration::from_secs(number(
                "RAPPORT_PROCESSING_LEASE_SECS",
                "120",
                2..=3600,
            )?),
            processing_pause: std::time::Duration::from_millis(number(
                "RAPPORT_TEST_PROCESSING_PAUSE_MS",
                "0",
                0..=60_000,
            )?),
        };
        let max_mbox_bytes = number("RAPPORT_MAX_MBOX_BYTES", "8589934592", 1024..=(1 << 40))?;
        // Postmark posts inbound mail of up to 35 MB with attachments inline.
        let max_webhook_bytes = usize::try_from(number(
            "RAPPORT_MAX_WEBHOOK_BYTES",
            "41943040",
            1024..=(1 << 30),
        )?)
        .unwrap_or(usize::MAX);
        let max_file_bytes = number("RAPPORT_MAX_FILE_BYTES", "52428800", 1024..=(1 << 40))?;
        let max_upload_files = number("RAPPORT_MAX_UPLOAD_FILES", "20", 1..=1000)? as usize;
        let storage_quota_bytes = number(
            "RAPPORT_STORAGE_QUOTA_BYTES",
            "5368709120",
            1024..=(1 << 50),
        )?;
        let uploads_per_user = number("RAPPORT_UPLOADS_PER_USER", "2", 1..=100)? as usize;
        let mbox_limits = MboxLimits {
            max_message_bytes: number(
                "RAPPORT_MBOX_MAX_MESSAGE_BYTES",
                "52428800",
                1024..=(1 << 34),
            )?,
            max_line_bytes: number("RAPPORT_MBOX_MAX_LINE_BYTES", "1048576", 256..=(1 << 30))?,
        };
        let event_retention_days =
            u32::try_from(number("RAPPORT_EVENT_RETENTION_DAYS", "365", 0..=36_500)?)
                .unwrap_or(u32::MAX);
        let defaults = LimitSettings::default();
        let limits = LimitSettings {
            model_calls_per_minute: u32::try_from(number(
                "RAPPORT_MODEL_CALLS_PER_MINUTE",
                &defaults.model_calls_per_minute.to_string(),
                0..=100_000,
            )?)
            .unwrap_or(u32::MAX),
            webhooks_per_minute: u32::try_from(number(
                "RAPPORT_WEBHOOKS_PER_MINUTE",
                &defaults.webhooks_per_minute.to_string(),
                0..=1_000_000,
            )?)
            .unwrap_or(u32::MAX),
            streams_per_user: usize::try_from(number(
                "RAPPORT_MAX_STREAMS_PER_USER",
                &defaults.streams_per_user.to_string(),
                1..=1000,
            )?)
            .unwrap_or(usize::MAX),
            streams_total: usize::try_from(number(
                "RAPPORT_MAX_STREAMS",
                &defaults.streams_total.to_string(),
                1..=1_000_000,
            )?)
            .unwrap_or(usize::MAX),
        };
        let public_url =
            lookup("RAPPORT_PUBLIC_URL").map(|url| url.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return Err(invalid(
                "RAPPORT_PUBLIC_URL",
                url,
                "expected an http:// or https:// URL".into(),
            ));
        }
        let recordings = crate::recordings::RecordingSettings {
            twilio_api_base: get(
                "RAPPORT_TWILIO_API_BASE",
                domain::calls::RecordingsContext::TWILIO_API_BASE,
            ),
            max_bytes: number("RAPPORT_RECORDING_MAX_BYTES", "52428800", 1024..=(1 << 40))?,
            allow_private_hosts: lookup("RAPPORT_RECORDINGS_ALLOW_PRIVATE_HOSTS").as_deref()
                == Some("true"),
            transcription_model: get(
                "OPENAI_TRANSCRIPTION_MODEL",
                domain::calls::TranscriptionContext::DEFAULT_MODEL,
            ),
        };
        Ok(Self {
            addr,
            public_url,
            database_url: lookup("DATABASE_URL"),
            data_dir: PathBuf::from(get("RAPPORT_DATA_DIR", ".data")),
            site_root: PathBuf::from(get("RAPPORT_SITE_ROOT", "target/site")),
            google,
            google_redirect_uri: lookup("GOOGLE_REDIRECT_URI"),
            encryption_key: lookup("RAPPORT_ENCRYPTION_KEY"),
            log_format,
            workers,
            max_mbox_bytes,
            max_webhook_bytes,
            max_file_bytes,
            max_upload_files,
            storage_quota_bytes,
            uploads_per_user,
            mbox_limits,
            event_retention_days,
            model: ModelConfig::from_env(&lookup),
            demo_customers_every: match number("RAPPORT_DEMO_CUSTOMERS_SECS", "150", 0..=86_400)? {
                0 => None,
                secs => Some(std::time::Duration::from_secs(secs)),
            },
            limits,
            recordings,
            enrichment: domain::enrichment::EnrichmentConfig::from_env(&lookup)
                .map_err(|e| invalid(e.name, &e.value, e.expected.into()))?,
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
    fn defaults_need_no_configuration_and_mean_demo_mode() {
        let config = config(&[]).unwrap();
        assert_eq!(config.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(config.database_url, None);
        assert_eq!(config.data_dir, PathBuf::from(".data"));
        assert_eq!(config.log_format, LogFormat::Text);
        assert_eq!(config.google, GoogleSettings::Demo { messages: 3000 });
        assert_eq!(config.workers.workers, 2);
        assert_eq!(config.workers.sync_every.as_secs(), 60);
        assert_eq!(config.workers.calendar_every.as_secs(), 60);
        assert_eq!(config.workers.jmap_every.as_secs(), 60);
        assert_eq!(config.workers.lease.as_secs(), 60);
        assert_eq!(config.max_mbox_bytes, 8 << 30);
        assert_eq!(config.max_file_bytes, 50 << 20);
        assert_eq!(config.max_upload_files, 20);
        assert_eq!(config.storage_quota_bytes, 5 << 30);
        assert_eq!(config.uploads_per_user, 2);
        assert_eq!(config.mbox_limits, MboxLimits::default());
        assert_eq!(config.mbox_limits.max_message_bytes, 50 << 20);
        assert_eq!(config.mbox_limits.max_line_bytes, 1 << 20);
        assert_eq!(config.max_webhook_bytes, 40 << 20);
        assert_eq!(config.event_retention_days, 365);
        assert_eq!(config.limits, LimitSettings::default());
        assert_eq!(config.limits.model_calls_per_minute, 20);
        assert_eq!(
            config.model, None,
            "no OPENAI_* settings: the offline engine"
        );
    }

    #[test]
    fn openai_settings_configure_the_model_and_the_key_stays_out_of_logs() {
        let config = config(&[
            ("OPENAI_API_KEY", "sk-s3cret"),
            ("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1"),
            ("OPENAI_MODEL", "llama3"),
        ])
        .unwrap();
        let model = config.model.as_ref().expect("a model is configured");
        assert_eq!(
            (model.base_url.as_str(), model.model.as_str()),
            ("http://127.0.0.1:8080/v1", "llama3")
        );
        let logged = format!("{config:?}");
        assert!(
            logged.contains("llama3") && !logged.contains("sk-s3cret"),
            "{logged}"
        );
    }

    #[test]
    fn google_credentials_switch_to_real_google() {
        let config = config(&[
            ("GOOGLE_CLIENT_ID", "id"),
            ("GOOGLE_CLIENT_SECRET", "s3cret"),
        ])
        .unwrap();
        assert!(
            matches!(config.google, GoogleSettings::Configured { ref client_id, api_base: None, .. } if client_id == "id")
        );
        assert!(
            !format!("{config:?}").contains("s3cret"),
            "secrets stay out of logs"
        );
        assert!(
            self::config(&[("GOOGLE_CLIENT_ID", "id")]).is_err(),
            "half a credential is an error"
        );
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
        assert!(config(&[("RAPPORT_DEMO_MESSAGES", "5")]).is_err());
        assert!(config(&[("RAPPORT_PUBLIC_URL", "ftp://x")]).is_err());
        let err = config(&[("RAPPORT_WORKERS", "lots")]).unwrap_err();
        assert!(
            err.to_string().contains("expected a number from 0 to 64"),
            "{err}"
        );
    }
}
