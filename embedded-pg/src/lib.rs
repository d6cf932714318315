//! Infrastructure, not domain: the PostgreSQL that `make run` starts by itself
//! ([`EmbeddedPostgres`]) and the per-test databases the integration tests and evals use
//! ([`test_databases`]). Nothing here knows Rapport's schema: the migrations are passed in.

mod cluster;
pub mod test_databases;

pub use cluster::{EmbeddedOptions, EmbeddedPgError, EmbeddedPostgres, cluster_running};
