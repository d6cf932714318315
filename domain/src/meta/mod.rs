//! Messenger and Instagram through Meta's Graph API, polled (no webhooks): connected
//! Pages ([`integration`]), the poll that stores conversations and their messages as
//! activities ([`poll`], [`store`]), the AI sales agent that answers customers from the
//! catalog and takes orders ([`agent`]), sending through the Send API with the intent
//! recorded first ([`send`]), the catalog and orders ([`catalog`]), and the jobs that
//! run them on the lease queue ([`jobs`]).

pub mod agent;
pub mod catalog;
pub mod conversations;
pub mod graph;
pub mod integration;
pub mod jobs;
pub mod poll;
pub mod send;
pub mod store;
pub mod types;

use std::time::Duration;

use crate::Db;
use crate::ask::model::ModelConfig;
use crate::crypto::SecretBox;

pub use graph::{GraphApi, GraphError, HttpGraph};
pub use integration::{Integration, IntegrationSummary, MetaConnect};
pub use jobs::{MetaPollJob, MetaReplyJob, enqueue_meta_polls};
pub use poll::{PollOutcome, PollReport};

/// The settings of polling and of the agent.
#[derive(Debug, Clone)]
pub struct MetaOptions {
    /// How often each integration is polled.
    pub poll_every: Duration,
    /// Items per Graph request.
    pub page_size: u32,
    /// How long the agent stays quiet after a person replied.
    pub pause_after_human: chrono::Duration,
    /// How long polls wait after a throttling code (4, 17, 32, 613).
    pub backoff: chrono::Duration,
    /// Usage (percent of a Graph limit) from which requests are spaced out.
    pub slow_down_at: u32,
    pub slow_down_pause: Duration,
}

impl Default for MetaOptions {
    fn default() -> Self {
        Self {
            poll_every: Duration::from_secs(10),
            page_size: 25,
            pause_after_human: chrono::Duration::minutes(30),
            backoff: chrono::Duration::minutes(2),
            slow_down_at: 75,
            slow_down_pause: Duration::from_secs(2),
        }
    }
}

/// Why a poll, a turn or a send failed.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("integration or conversation not found")]
    NotFound,
    #[error(transparent)]
    Graph(GraphError),
    #[error("the model failed: {0}")]
    Model(#[from] crate::ask::model::ModelError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Domain(#[from] crate::DomainError),
}

impl MetaError {
    /// Worth running again later: Graph or the model being unreachable, or a database
    /// hiccup.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Graph(e) => !e.is_expired_token(),
            Self::Model(_) | Self::Database(_) => true,
            Self::NotFound | Self::Domain(_) => false,
        }
    }
}

/// Polls Pages and runs the agent; shared by the workers.
pub struct MetaService<G> {
    pub(crate) db: Db,
    pub(crate) graph: G,
    pub(crate) secrets: SecretBox,
    pub(crate) model: Option<ModelConfig>,
    pub(crate) options: MetaOptions,
}

impl<G: GraphApi> MetaService<G> {
    pub fn new(
        db: Db,
        graph: G,
        secrets: SecretBox,
        model: Option<ModelConfig>,
        options: MetaOptions,
    ) -> Self {
        Self {
            db,
            graph,
            secrets,
            model,
            options,
        }
    }

    pub fn options(&self) -> &MetaOptions {
        &self.options
    }

    /// Whether the agent can be switched on: it needs a model.
    pub fn model_configured(&self) -> bool {
        self.model.is_some()
    }
}
