//! Integration tests: a real PostgreSQL (one embedded cluster per test run, a fresh
//! database per test), the real server on a random port, real HTTP.

mod ask;
mod auth;
mod calendar;
mod calls;
mod contact_policy;
mod contacts;
mod conversations;
mod errors;
mod events;
mod fastmail;
mod files;
// The test-data builders and `wait_until`, shared with the domain tests.
#[path = "../../../domain/tests/db/fixtures.rs"]
mod fixtures;
mod headers;
mod health;
mod helpers;
mod hydration;
mod import;
mod inbox;
mod ingest;
mod interactions;
mod lifecycle;
mod live;
mod meta;
mod notes_api;
mod pages;
mod reading;
mod reminders;
mod search;
mod shop;
mod summaries;
mod sync;
mod timeline;
mod uploads;
mod worker_crash;
