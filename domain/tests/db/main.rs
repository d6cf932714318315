//! Domain tests against a real PostgreSQL.

mod channels;
mod helpers;
mod ingest;
mod jobs;
mod sync;
