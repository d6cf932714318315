//! Test data: a fresh database per test; users, accounts, contacts and emails (from
//! `fixtures.rs`, which the server's API tests share); waiting for background work.

use domain::Db;
use embedded_pg::test_databases::fresh_database_url;

pub use crate::fixtures::{TestUser, gmail_account, user, wait_until};

/// A new, migrated, empty database.
pub async fn fresh_db() -> Db {
    Db::connect(&fresh_database_url(&domain::db::MIGRATOR).await)
        .await
        .expect("connect")
}
