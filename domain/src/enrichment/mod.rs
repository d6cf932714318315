//! Enrichment: providers fill in what mail does not say about a contact (role, company
//! facts, location, social profiles, recent posts), each value kept with its source and
//! date. One [`Source`] trait for every provider; [`Enricher`] runs a contact's lookups
//! concurrently (per-provider timeouts, token buckets, `Retry-After`, daily budgets),
//! stores each answer in `enrichments` and its values in `enrichment_values`, and then
//! sets the contact's fields by the provenance rules: a user's edit always wins, a
//! signature outranks a provider, a provider outranks a header, and among providers the
//! most confident value wins unless the user picked another.
//!
//! The `contact-enrichment` job ([`EnrichContact`]) runs it; contacts become due when
//! created, merged into, or when a result expires ([`enqueue_due`]).

mod about;
mod apply;
pub mod clearbit;
mod config;
mod http;
mod job;
pub mod own_data;
pub mod pdl;
mod posts;
mod run;
mod settings;
mod store;
pub mod x;

use std::time::Duration;

use api::enrichment::{EnrichedField, EnrichmentProvider};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use uuid::Uuid;

use crate::UserId;

pub use config::{ApiAccess, BadSetting, EnrichmentConfig};
pub use job::{EnrichContact, enqueue_due};
pub use posts::RecentPost;
pub use run::{Enricher, RunSummary};
pub use settings::EnrichmentSettings;

/// What a provider looks a contact up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// The contact itself (the user's own data); the key is the contact's id.
    Contact,
    /// Each of the contact's email addresses.
    Email,
    /// Each registrable domain of the contact's non-free-mail addresses.
    Domain,
    /// The contact's X handle (from a signature, an edit or another provider).
    XHandle,
}

/// One lookup: whose contact, and the key the provider's [`Need`] asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub user: UserId,
    pub contact_id: Uuid,
    pub key: String,
}

/// A value for one field, with the provider's confidence (0..1).
#[derive(Debug, Clone, PartialEq)]
pub struct FoundField {
    pub field: EnrichedField,
    pub value: String,
    pub confidence: f32,
}

impl FoundField {
    pub fn new(field: EnrichedField, value: impl Into<String>, confidence: f32) -> Self {
        Self {
            field,
            value: value.into(),
            confidence: confidence.clamp(0.0, 1.0),
        }
    }
}

/// A post from the contact's X account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: String,
    pub handle: String,
    pub text: String,
    pub posted_at: DateTime<Utc>,
}

/// What a lookup returned.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Found {
        fields: Vec<FoundField>,
        posts: Vec<Post>,
        raw: serde_json::Value,
    },
    NotFound {
        raw: serde_json::Value,
    },
    /// Queued by the provider: ask again after `retry_after`.
    Pending {
        retry_after: Duration,
        raw: serde_json::Value,
    },
}

/// Why a lookup failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("rate limited; retry after {} s", retry_after.as_secs())]
    RateLimited { retry_after: Duration },
    #[error("HTTP {status}: {message}")]
    Http { status: u16, message: String },
    #[error("request failed: {0}")]
    Transport(#[source] reqwest::Error),
    #[error("unexpected answer: {0}")]
    Decode(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// A provider of enriched fields. Implementations are the user's own data
/// ([`own_data`]) and HTTP clients with a configurable base URL ([`pdl`],
/// [`clearbit`], [`x`]), whose fakes live in `fakes::enrichment`.
pub trait Source: Send + Sync {
    fn provider(&self) -> EnrichmentProvider;
    fn needs(&self) -> Need;
    fn enrich<'a>(&'a self, lookup: &'a Lookup) -> BoxFuture<'a, Result<Outcome, ProviderError>>;
}
