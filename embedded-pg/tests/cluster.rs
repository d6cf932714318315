use std::os::unix::fs::PermissionsExt;

use embedded_pg::{EmbeddedOptions, EmbeddedPostgres};
use sqlx::PgPool;

/// Rapport's schema, so the test checks a real migration run and restart.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[tokio::test]
async fn a_cluster_keeps_its_data_across_restarts() {
    let root = tempfile::Builder::new()
        .prefix("rapport-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let options = EmbeddedOptions {
        data_dir: root.path().join("postgres"),
        ephemeral: false,
    };

    let pg = EmbeddedPostgres::start(options.clone()).await.unwrap();
    pg.ensure_database("app").await.unwrap();
    pg.ensure_database("app")
        .await
        .expect("creating an existing database is a no-op");
    let db = PgPool::connect(&pg.url("app")).await.unwrap();
    MIGRATOR.run(&db).await.unwrap();
    sqlx::query(
        "insert into users (google_subject, email) values ('sub-kept', 'kept@example.com')",
    )
    .execute(&db)
    .await
    .unwrap();
    db.close().await;
    let first_port = pg.port();
    pg.stop().await.unwrap();
    assert!(
        !root.path().join("postgres/postmaster.pid").exists(),
        "stopped cleanly"
    );

    let pg = EmbeddedPostgres::start(options).await.unwrap();
    let db = PgPool::connect(&pg.url("app")).await.unwrap();
    let emails: Vec<String> = sqlx::query_scalar("select email from users")
        .fetch_all(&db)
        .await
        .unwrap();
    assert_eq!(emails, ["kept@example.com"]);
    // Names are searched case-insensitively in every script, and sorted by code point.
    let (folded, first): (String, String) = sqlx::query_as(
        "select lower('ÅSA ŁUKASZ Zoë'), min(n) from unnest(array['b', 'Å', 'a']) as t(n)",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(folded, "åsa łukasz zoë");
    assert_eq!(first, "a");
    MIGRATOR.run(&db).await.expect("migrations are idempotent");
    db.close().await;
    assert!(pg.port() > 0 && first_port > 0);
    pg.stop().await.unwrap();
}

#[tokio::test]
async fn the_password_is_required() {
    let root = tempfile::Builder::new()
        .prefix("rapport-embedded-")
        .tempdir()
        .unwrap();
    std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let pg = EmbeddedPostgres::start(EmbeddedOptions {
        data_dir: root.path().join("pg"),
        ephemeral: true,
    })
    .await
    .unwrap();
    let wrong = format!("postgres://rapport:wrong@127.0.0.1:{}/postgres", pg.port());
    assert!(
        PgPool::connect(&wrong).await.is_err(),
        "a wrong password is refused"
    );
    assert!(PgPool::connect(&pg.url("postgres")).await.is_ok());
    let dir = pg.data_dir().to_path_buf();
    pg.stop().await.unwrap();
    assert!(
        !dir.exists(),
        "an ephemeral cluster is removed when stopped"
    );
}
