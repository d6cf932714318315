//! One embedded PostgreSQL per test binary; each test gets a fresh database cloned from
//! a migrated template, so tests run in parallel without seeing each other's rows.

use domain::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use domain::{Db, UserId};
use tokio::sync::{Mutex, OnceCell};
use uuid::Uuid;

const TEMPLATE_DB: &str = "rapport_template";

static CLUSTER: OnceCell<EmbeddedPostgres> = OnceCell::const_new();
static CREATE_DB: Mutex<()> = Mutex::const_new(());

async fn cluster() -> &'static EmbeddedPostgres {
    CLUSTER
        .get_or_init(|| async {
            let data_dir =
                std::env::temp_dir().join(format!("rapport-domain-pg-{}", Uuid::new_v4()));
            let pg = EmbeddedPostgres::start(EmbeddedOptions {
                data_dir,
                ephemeral: true,
            })
            .await
            .expect("start the test PostgreSQL cluster");
            pg.ensure_database(TEMPLATE_DB)
                .await
                .expect("create the template database");
            let db = Db::connect(&pg.url(TEMPLATE_DB))
                .await
                .expect("connect to the template");
            db.migrate().await.expect("migrate the template database");
            db.pool().close().await;
            pg
        })
        .await
}

/// A new, migrated, empty database.
pub async fn fresh_db() -> Db {
    let pg = cluster().await;
    let name = format!("test_{}", Uuid::new_v4().simple());
    {
        let _serialized = CREATE_DB.lock().await;
        let admin = Db::connect(&pg.url("postgres"))
            .await
            .expect("connect as admin");
        sqlx::query(&format!("create database {name} template {TEMPLATE_DB}"))
            .execute(admin.pool())
            .await
            .expect("create test database");
        admin.pool().close().await;
    }
    Db::connect(&pg.url(&name)).await.expect("connect")
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
