//! Turning stored activities into contacts. Activities are claimed in small batches with
//! `FOR UPDATE SKIP LOCKED` under a lease ([`ActivityQueue`]); each one is planned by
//! pure rules ([`plan`]: who may become a contact, names, signature fields, company
//! domain) and applied in one transaction together with its completion ([`apply`]), so
//! an activity's effects land exactly once even when a worker dies mid-batch and another
//! takes its expired lease over.
//!
//! Which correspondents become contacts is the account's [`ContactPolicy`]. Decisions do
//! not depend on processing order: whether the user has written to an address is asked
//! of all stored mail, and creating a contact links every earlier participation of its
//! address and re-queues earlier activities from it so their names and signatures count.

pub mod apply;
mod colleagues;
mod duplicates;
mod events;
mod flush;
mod history;
mod load;
mod merge;
pub mod plan;
mod policy;
mod processor;
mod provenance;
mod queue;
mod retry;
mod state_events;
mod world;

use serde::{Deserialize, Serialize};

pub use events::RefreshContactsTouched;
pub use processor::{BatchOutcome, ContactsTouched, Processor, ProcessorOptions};
pub use provenance::{FieldSource, Provenance};
pub(crate) use queue::wake_after_commit;
pub use queue::{ActivityQueue, ClaimedActivity, MAX_ATTEMPTS};
pub use state_events::StateChanges;

/// The channel `NOTIFY` uses when activities become claimable.
pub const CHANNEL: &str = "rapport_activities";

/// Which correspondents of an account become contacts. Known contacts are always linked,
/// whatever the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactPolicy {
    /// People the user has written to (To, Cc or Bcc of the user's own mail).
    #[default]
    Sent,
    /// Everyone mail was exchanged with.
    Everyone,
    /// No new contacts from mail.
    Nobody,
}

impl ContactPolicy {
    pub const ALL: [ContactPolicy; 3] = [Self::Sent, Self::Everyone, Self::Nobody];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Everyone => "everyone",
            Self::Nobody => "nobody",
        }
    }

    pub fn parse(value: &str) -> Result<Self, crate::DomainError> {
        match value {
            "sent" => Ok(Self::Sent),
            "everyone" => Ok(Self::Everyone),
            "nobody" => Ok(Self::Nobody),
            _ => Err(crate::DomainError::invalid(
                "contact policy",
                "choose sent, everyone or nobody",
            )),
        }
    }

    /// What the Settings select shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Sent => "People I have written to",
            Self::Everyone => "Everyone I exchange mail with",
            Self::Nobody => "Nobody (only link mail to existing contacts)",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcessingError {
    /// The activity's lease expired or passed to another worker; its effects were
    /// rolled back and the new holder will process it.
    #[error("lease on activity {0} was lost")]
    LeaseLost(uuid::Uuid),
    #[error("account not found")]
    AccountNotFound,
    #[error("stored data is invalid: {0}")]
    Invalid(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl ProcessingError {
    /// Postgres aborted the transaction to break a deadlock or a serialization
    /// conflict with another transaction: nothing is wrong with the activity, and
    /// running it again succeeds.
    pub fn is_transient_conflict(&self) -> bool {
        matches!(self, Self::Database(sqlx::Error::Database(e))
            if matches!(e.code().as_deref(), Some("40P01" | "40001")))
    }
}

impl From<ProcessingError> for crate::DomainError {
    fn from(e: ProcessingError) -> Self {
        match e {
            ProcessingError::AccountNotFound => crate::DomainError::NotFound("account"),
            ProcessingError::Database(e) => crate::DomainError::Database(e),
            other => crate::DomainError::invalid("activity", other.to_string()),
        }
    }
}
