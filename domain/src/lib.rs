//! Rapport's domain layer. No web framework here: the UI (`app`) and the binary (`server`)
//! call into this crate, and every read or write of user-owned data goes through a
//! [`db::UserScope`], which is where user scoping lives.

pub mod accounts;
pub mod activities;
pub mod api_tokens;
pub mod ask;
pub mod caldav;
pub mod calendar;
pub mod calls;
pub mod channels;
pub mod contacts;
pub mod crypto;
pub mod db;
pub mod email;
pub mod enrichment;
pub mod error;
pub mod events;
pub mod extract;
pub mod files;
pub mod gmail;
pub mod google;
pub mod inbox;
pub mod ingest;
pub mod interactions;
pub mod jmap;
pub mod jobs;
pub mod limits;
pub mod mail;
pub mod meta;
pub mod notes;
pub mod processing;
pub mod reminders;
pub mod search;
pub mod settings;
pub mod summaries;
pub mod sync;
pub mod threads;
pub mod timeline;
pub mod users;
pub mod zone;

pub use db::{Db, UserScope};
pub use email::EmailAddress;
pub use error::DomainError;
pub use users::UserId;
