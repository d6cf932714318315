//! The Rapport server: wires configuration, the database (embedded or external), the
//! Leptos app and the HTTP routes together. `main.rs` is a thin CLI over this.

mod admission;
pub mod agent;
pub mod api_v1;
mod ask;
mod auth;
mod calendar_feed;
pub mod config;
mod demo;
mod demo_calls;
mod demo_meta;
pub mod events;
mod files;
mod health;
pub mod import;
mod ingest;
mod live;
mod mail;
mod middleware;
pub mod recordings;
mod search_api;
mod session_store;
mod startup;
mod streaming;
pub mod telemetry;
pub mod workers;

pub use startup::{Application, run_workers};
