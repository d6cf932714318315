//! Test data: a fresh database per test, users and accounts.

use domain::{Db, UserId};
use embedded_pg::test_databases::fresh_database_url;
use uuid::Uuid;

/// A new, migrated, empty database.
pub async fn fresh_db() -> Db {
    Db::connect(&fresh_database_url(&domain::db::MIGRATOR).await)
        .await
        .expect("connect")
}

pub async fn user(db: &Db, email: &str) -> UserId {
    let id: Uuid = sqlx::query_scalar("insert into users (google_subject, email) values (gen_random_uuid()::text, $1) returning id")
        .bind(email)
        .fetch_one(db.pool())
        .await
        .expect("insert user");
    UserId(id)
}

/// A Gmail account of `user` whose address is `address`.
pub async fn gmail_account(db: &Db, user: UserId, address: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'google', $2) returning id",
    )
    .bind(user.0)
    .bind(address)
    .fetch_one(db.pool())
    .await
    .expect("insert account")
}
