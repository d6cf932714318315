//! AI summaries of activities, when a model is configured (`OPENAI_*`, see
//! [`crate::ask::model::ModelConfig`]). Summarising is a step after processing, not part
//! of it: the [`Summariser`] claims completed activities on its own lease in
//! `activity_summaries`, calls the model with no transaction open and no row locked, and
//! stores the summary (with the model's name and the tokens it reported). A failed call
//! (timeout, rate limit, server error) is recorded and retried with backoff a few times;
//! the activity itself stays completed either way. Without a model configured no
//! summariser runs, so nothing is stored and no call is made.

mod prompt;
mod queue;
mod source;
mod summariser;

pub use prompt::{
    MAX_INPUT_CHARS, MAX_SUMMARY_CHARS, MAX_SUMMARY_TOKENS, SYSTEM_PROMPT, SummarySource,
    clean_summary, user_message,
};
pub use queue::{ClaimedSummary, MAX_SUMMARY_ATTEMPTS, SummaryQueue};
pub use summariser::{SummariesOutcome, Summariser, SummariserOptions};

use crate::ask::model::ModelError;

#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The lease expired and the summary passed to another worker; nothing was stored.
    #[error("lease on the summary of activity {0} was lost")]
    LeaseLost(uuid::Uuid),
    #[error("the activity has no text to summarise")]
    NoText,
    #[error("the model returned an empty summary")]
    EmptyReply,
    #[error(transparent)]
    Model(#[from] ModelError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}
