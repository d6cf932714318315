//! Databases for tests: one throwaway cluster per test process, and a fresh, migrated
//! database per test cloned from a template, so tests run in parallel without seeing
//! each other's rows. Used by the domain's and the server's integration tests.

use tokio::sync::{Mutex, OnceCell};

use super::embedded::{EmbeddedOptions, EmbeddedPgError, EmbeddedPostgres};
use crate::Db;

const TEMPLATE_DB: &str = "rapport_template";

pub struct TestDatabases {
    pg: EmbeddedPostgres,
    /// Postgres refuses to clone a template that another clone is reading.
    cloning: Mutex<()>,
}

impl TestDatabases {
    pub async fn start() -> Result<Self, EmbeddedPgError> {
        let data_dir =
            std::env::temp_dir().join(format!("rapport-test-pg-{}", uuid::Uuid::new_v4()));
        let pg = EmbeddedPostgres::start(EmbeddedOptions {
            data_dir,
            ephemeral: true,
        })
        .await?;
        pg.ensure_database(TEMPLATE_DB).await?;
        let template = Db::connect(&pg.url(TEMPLATE_DB))
            .await
            .map_err(setup_error)?;
        template.migrate().await.map_err(setup_error)?;
        template.pool().close().await;
        Ok(Self {
            pg,
            cloning: Mutex::new(()),
        })
    }

    /// The URL of a new database with every migration applied and no rows.
    pub async fn fresh_url(&self) -> Result<String, EmbeddedPgError> {
        let name = format!("test_{}", uuid::Uuid::new_v4().simple());
        let _one_at_a_time = self.cloning.lock().await;
        let admin = Db::connect(&self.pg.url("postgres"))
            .await
            .map_err(setup_error)?;
        sqlx::query(&format!("create database {name} template {TEMPLATE_DB}"))
            .execute(admin.pool())
            .await?;
        admin.pool().close().await;
        Ok(self.pg.url(&name))
    }
}

fn setup_error(error: crate::DomainError) -> EmbeddedPgError {
    EmbeddedPgError::Command {
        action: "preparing the test template".into(),
        detail: error.to_string(),
    }
}

static SHARED: OnceCell<TestDatabases> = OnceCell::const_new();

/// A fresh database from this test process's cluster, which starts on first use and is
/// stopped and removed by its watchdog when the process exits.
pub async fn fresh_database_url() -> String {
    let databases = SHARED
        .get_or_init(|| async {
            TestDatabases::start()
                .await
                .expect("start the test PostgreSQL cluster")
        })
        .await;
    databases.fresh_url().await.expect("create a test database")
}
