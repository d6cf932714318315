//! Logged interactions: a visit, a call, a meeting... the user records on a contact or a
//! company. Each one is written in one transaction with
//!
//! - its timeline activity ([`activity`]): a completed `meeting` (or `call`) activity
//!   with the contact as participant, so it shows on the timeline, counts in the
//!   contact's stats and last interaction, and never enters the inbox; archiving hides
//!   it (the activity is marked deleted), deleting removes it;
//! - its calendar event ([`calendar`]): see the sync rules there, each attempt logged in
//!   `calendar_sync_log`.

pub mod activity;
pub mod calendar;
mod store;

pub use calendar::{CALENDAR_WINDOW_DAYS, SyncOutcome};
pub use store::Interaction;

use uuid::Uuid;

use crate::DomainError;

/// What an interaction is logged on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoggedOn {
    Contact(Uuid),
    Company(Uuid),
}

impl From<api::interactions::FieldError> for DomainError {
    fn from(error: api::interactions::FieldError) -> Self {
        DomainError::invalid(error.field, error.message)
    }
}
