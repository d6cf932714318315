//! Domain tests against a real PostgreSQL.

mod channels;
mod contacts;
mod helpers;
mod ingest;
mod jobs;
mod notes;
mod processing;
mod sync;
