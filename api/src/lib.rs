//! What the server and the browser agree on. The closed sets ([`Channel`],
//! [`ActivityState`], [`AccountStatus`], [`Provider`], [`Direction`], [`LedgerOutcome`])
//! are enums written once: the database stores their snake_case names (`text` columns with `check`
//! constraints), serde uses the same names, and nothing compares those strings in Rust.
//! Everything that happens is an [`Event`] of one [`EventKind`] (see [`events`]).
//! The request/response types of server functions live beside them, so the UI and the
//! domain use one definition.
//!
//! This crate compiles to wasm: sqlx support is behind the `sqlx` feature, which only the
//! server side enables.

mod closed_set;
pub mod events;
mod kinds;
mod text;

pub mod ask;
pub mod calendars;
pub mod calls;
pub mod channels;
pub mod contacts;
pub mod conversations;
pub mod enrichment;
pub mod inbox;
pub mod interactions;
pub mod links;
pub mod mail;
pub mod meta;
pub mod notes;
pub mod notices;
pub mod reminders;
pub mod search;
pub mod session;
pub mod settings;
pub mod shop;
pub mod timeline;

pub use closed_set::{ClosedSet, UnknownValue};
pub use events::{Delivery, Event, EventKind};
pub use kinds::{
    AccountStatus, ActivityState, AddressKind, AuthorKind, Channel, Direction, JobState,
    LedgerOutcome, ParticipantRole, Provider,
};
pub use text::capitalize;
