//! Databases for tests: one throwaway cluster per test process, and a fresh, migrated
//! database per test cloned from a template, so tests run in parallel without seeing
//! each other's rows. Used by the domain's and the server's integration tests and by
//! the evals.

use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection};
use tokio::sync::{Mutex, OnceCell};

use crate::{EmbeddedOptions, EmbeddedPgError, EmbeddedPostgres};

const TEMPLATE_DB: &str = "rapport_template";

pub struct TestDatabases {
    pg: EmbeddedPostgres,
    /// Postgres refuses to clone a template that another clone is reading.
    cloning: Mutex<()>,
}

impl TestDatabases {
    /// A throwaway cluster whose template database has `migrations` applied.
    pub async fn start(migrations: &Migrator) -> Result<Self, EmbeddedPgError> {
        let data_dir =
            std::env::temp_dir().join(format!("rapport-test-pg-{}", uuid::Uuid::new_v4()));
        let pg = EmbeddedPostgres::start(EmbeddedOptions {
            data_dir,
            ephemeral: true,
        })
        .await?;
        pg.ensure_database(TEMPLATE_DB).await?;
        let mut template = PgConnection::connect(&pg.url(TEMPLATE_DB)).await?;
        migrations
            .run(&mut template)
            .await
            .map_err(|error| EmbeddedPgError::Command {
                action: "migrating the test template".into(),
                detail: error.to_string(),
            })?;
        template.close().await?;
        Ok(Self {
            pg,
            cloning: Mutex::new(()),
        })
    }

    /// The URL of a new database with every migration applied and no rows.
    pub async fn fresh_url(&self) -> Result<String, EmbeddedPgError> {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let _one_at_a_time = self.cloning.lock().await;
        let mut admin = PgConnection::connect(&self.pg.url("postgres")).await?;
        sqlx::query(&format!("create database {name} template {TEMPLATE_DB}"))
            .execute(&mut admin)
            .await?;
        admin.close().await?;
        Ok(self.pg.url(&name))
    }
}

static SHARED: OnceCell<TestDatabases> = OnceCell::const_new();

/// A fresh database from this test process's cluster, which starts on first use (its
/// template migrated with `migrations`, e.g. `domain::db::MIGRATOR`) and is stopped and
/// removed by its watchdog when the process exits.
pub async fn fresh_database_url(migrations: &Migrator) -> String {
    let databases = SHARED
        .get_or_init(|| async {
            TestDatabases::start(migrations)
                .await
                .expect("start the test PostgreSQL cluster")
        })
        .await;
    databases.fresh_url().await.expect("create a test database")
}
