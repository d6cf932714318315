//! Webhook ingestion channels: a channel is a URL (`POST /ingest/{channel}`) plus a key
//! that a provider (Twilio, Postmark, TimelinesAI, or anything speaking the generic JSON
//! schema) uses to push messages and calls. Payloads are parsed by pure functions into a
//! [`WebhookActivity`], checked against the user's blocklist, and stored as a `raw`
//! activity for the processing workers; the raw payload is kept with it.

mod activity;
mod blocklist;
mod key;
pub(crate) mod key_cache;
mod phone;
pub mod providers;
pub(crate) mod store;
pub(crate) mod webhook_group;
mod webhook_writer;

pub use activity::{Address, Participant, WebhookActivity};
pub use api::{Channel, Direction, ParticipantRole};
pub use blocklist::{BlockEntry, BlocklistEntry};
pub(crate) use key::random_secret;
pub use key::{IngestionKey, KeyHash};
pub use phone::PhoneNumber;
pub use store::{ChannelAuth, IngestOutcome, NewChannel};
pub use webhook_writer::WebhookWriter;

use crate::DomainError;

/// Who sends to a channel, which decides how its payloads are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelProvider {
    Generic,
    Twilio,
    Postmark,
    TimelinesAi,
}

impl ChannelProvider {
    pub const ALL: [ChannelProvider; 4] = [
        ChannelProvider::Generic,
        ChannelProvider::Twilio,
        ChannelProvider::Postmark,
        ChannelProvider::TimelinesAi,
    ];

    pub fn parse(value: &str) -> Result<Self, DomainError> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == value)
            .ok_or_else(|| DomainError::invalid("provider", format!("unknown provider {value:?}")))
    }

    /// The same source in the set of all providers (`accounts.provider`).
    pub fn provider(self) -> api::Provider {
        match self {
            ChannelProvider::Generic => api::Provider::Generic,
            ChannelProvider::Twilio => api::Provider::Twilio,
            ChannelProvider::Postmark => api::Provider::Postmark,
            ChannelProvider::TimelinesAi => api::Provider::TimelinesAi,
        }
    }

    /// The name stored in `ingestion_channels.provider` and `accounts.provider`.
    pub fn as_str(self) -> &'static str {
        self.provider().as_str()
    }

    /// The media type its webhooks arrive in.
    pub fn content_type(self) -> &'static str {
        match self {
            ChannelProvider::Twilio => "application/x-www-form-urlencoded",
            _ => "application/json",
        }
    }
}

/// What a channel falls back to when a payload does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelDefaults {
    pub channel: Channel,
    pub direction: Direction,
}

/// Why a webhook was refused. The HTTP layer maps each to its status.
#[derive(Debug, thiserror::Error)]
pub enum ChannelError {
    /// No key, a wrong key, or an unknown channel: indistinguishable on purpose.
    #[error("missing or invalid ingestion key")]
    Unauthorized,
    #[error("this channel is disabled")]
    Disabled,
    /// The payload does not parse; `field` names what is wrong.
    #[error("invalid payload: {field}: {message}")]
    InvalidPayload { field: String, message: String },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// The webhook writer stopped (the server is shutting down) before the webhook's
    /// group was stored.
    #[error("the webhook writer stopped before storing this webhook")]
    WriterStopped,
}

impl ChannelError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ChannelError::InvalidPayload {
            field: field.into(),
            message: message.into(),
        }
    }
}
