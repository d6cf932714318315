//! Planner statistics kept up with bulk loads (`domain::db::statistics`).

use std::time::Duration;

use domain::db::statistics::analyze_changed_tables;

use crate::helpers::{fresh_db, wait_until};

#[tokio::test]
async fn a_table_that_grew_is_analyzed_once_until_it_grows_again() {
    let db = fresh_db().await;
    // Autovacuum would analyze it too, sooner or later: here only the keeper may.
    sqlx::query("alter table users set (autovacuum_enabled = false)")
        .execute(db.pool())
        .await
        .unwrap();
    let planned_rows = async || -> f32 {
        sqlx::query_scalar("select reltuples from pg_class where oid = 'users'::regclass")
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    assert!(planned_rows().await < 1.0, "a new table has no statistics");
    sqlx::query(
        "insert into users (google_subject, email)
         select 'subject-' || n, 'user' || n || '@example.com' from generate_series(1, 3000) n",
    )
    .execute(db.pool())
    .await
    .unwrap();
    // The server's activity statistics arrive shortly after the commit.
    let analyzed = wait_until(
        "the insert to be counted and analyzed",
        Duration::from_secs(30),
        async || {
            let analyzed = analyze_changed_tables(&db).await.unwrap();
            if analyzed.iter().any(|t| t == "users") {
                Ok(analyzed)
            } else {
                Err(analyzed)
            }
        },
    )
    .await;
    assert!(!analyzed.iter().any(|t| t == "activities"), "{analyzed:?}");
    assert!(planned_rows().await >= 3000.0);
    let again = analyze_changed_tables(&db).await.unwrap();
    assert!(!again.iter().any(|t| t == "users"), "{again:?}");
}
