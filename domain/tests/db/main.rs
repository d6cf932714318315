//! Domain tests against a real PostgreSQL.

mod ask;
mod ask_model;
mod caldav;
mod calendar_feed;
mod channels;
mod contacts;
mod enrichment;
mod events;
mod fixtures;
mod helpers;
mod ingest;
mod interactions;
mod jmap;
mod jobs;
mod notes;
mod processing;
mod processing_batches;
mod reminders;
mod search;
mod secrets;
mod summaries;
mod sync;
mod threads;
mod write_back;
