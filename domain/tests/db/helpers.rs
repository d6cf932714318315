//! Test data: a fresh database per test; users, accounts, contacts and emails (from
//! `fixtures.rs`, which the server's API tests share); waiting for background work.

use domain::Db;
use embedded_pg::test_databases::fresh_database_url;
use uuid::Uuid;

pub use crate::fixtures::{TestUser, gmail_account, user, wait_until};

/// A new, migrated, empty database.
pub async fn fresh_db() -> Db {
    Db::connect(&fresh_database_url(&domain::db::MIGRATOR).await)
        .await
        .expect("connect")
}

/// The activities' search documents, one line per lexeme: activity, lexeme, how often,
/// weights. Word positions are left out: they follow the order participants are read in.
pub async fn search_documents(db: &Db, activities: &[Uuid]) -> Vec<String> {
    sqlx::query_scalar::<_, Vec<String>>(
        "select array_agg(l order by l) from (
           select s.activity_id::text || ' ' || d.lexeme || ' '
                  || coalesce(cardinality(d.positions), 0) || ' '
                  || coalesce(array_to_string(array(select w from unnest(d.weights) w order by w), ''), '') as l
           from activity_search s, unnest(s.doc) d
           where s.activity_id = any($1)) x",
    )
    .bind(activities)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

/// The documents as the triggers build them for a writer that leaves them to the
/// triggers: rebuilt by hiding and showing each activity again.
pub async fn documents_the_triggers_build(db: &Db, activities: &[Uuid]) -> Vec<String> {
    for state in ["now()", "null"] {
        sqlx::query(&format!(
            "update activities set dismissed_at = {state} where id = any($1)"
        ))
        .bind(activities)
        .execute(db.pool())
        .await
        .unwrap();
    }
    search_documents(db, activities).await
}
