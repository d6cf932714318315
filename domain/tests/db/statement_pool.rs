//! The pool for single statements: connections kept between statements, closed when a
//! statement was dropped half-way, kept after an error Postgres reported.

use std::time::Duration;

use crate::helpers::fresh_db;

/// The server process ids of the statements' connections, one statement at a time.
async fn backend_pids(db: &domain::Db, statements: usize) -> Vec<i32> {
    let mut pids = Vec::new();
    for _ in 0..statements {
        pids.push(
            sqlx::query_scalar::<_, i32>("select pg_backend_pid()")
                .fetch_one(db.statements())
                .await
                .expect("pid"),
        );
    }
    pids
}

#[tokio::test]
async fn one_statement_after_another_reuses_one_connection() {
    let db = fresh_db().await;
    let pids = backend_pids(&db, 10).await;
    assert!(pids.iter().all(|pid| *pid == pids[0]), "{pids:?}");
}

#[tokio::test]
async fn a_statement_dropped_half_way_closes_its_connection_and_the_next_works() {
    let db = fresh_db().await;
    let [before] = backend_pids(&db, 1).await[..] else {
        unreachable!()
    };
    let slow = sqlx::query("select pg_sleep(5)").execute(db.statements());
    assert!(
        tokio::time::timeout(Duration::from_millis(200), slow)
            .await
            .is_err(),
        "the sleep was cut off"
    );
    let [after] = backend_pids(&db, 1).await[..] else {
        unreachable!()
    };
    assert_ne!(
        before, after,
        "a new connection, not the one left mid-statement"
    );
    let answer: i32 = sqlx::query_scalar("select 41 + 1")
        .fetch_one(db.statements())
        .await
        .expect("answer");
    assert_eq!(answer, 42);
}

#[tokio::test]
async fn an_error_from_postgres_keeps_the_connection_in_step() {
    let db = fresh_db().await;
    let [before] = backend_pids(&db, 1).await[..] else {
        unreachable!()
    };
    let error = sqlx::query("select 1 / 0")
        .execute(db.statements())
        .await
        .expect_err("division by zero");
    assert!(
        matches!(error, sqlx::Error::Database(_)),
        "reported by Postgres: {error}"
    );
    // Rows of a statement read in full, and the next answer is its own.
    let rows: Vec<i32> = sqlx::query_scalar("select generate_series(1, 3)")
        .fetch_all(db.statements())
        .await
        .expect("rows");
    assert_eq!(rows, [1, 2, 3]);
    let [after] = backend_pids(&db, 1).await[..] else {
        unreachable!()
    };
    assert_eq!(before, after, "the same connection");
}

#[tokio::test]
async fn concurrent_statements_each_get_a_connection_of_their_own() {
    let db = fresh_db().await;
    // Eight statements in flight at once: each holds its connection while it sleeps.
    let rendezvous = (0..8).map(|_| {
        sqlx::query_scalar::<_, i32>("select pg_backend_pid() from (select pg_sleep(0.2)) wait")
            .fetch_one(db.statements())
    });
    let mut pids = futures::future::try_join_all(rendezvous)
        .await
        .expect("pids");
    pids.sort_unstable();
    pids.dedup();
    assert_eq!(pids.len(), 8, "eight connections at once");
}
