//! The real server, in this process, for the benchmarks that measure it over HTTP.

use domain::Db;
use server::Application;
use server::config::Config;
use sqlx::PgPool;

/// A server answering on 127.0.0.1 until the process ends (no background workers, a
/// small demo mailbox). Keep it for as long as the server runs: it owns the data folder.
pub struct Running {
    pub address: String,
    pub db: Db,
    /// A pool of the bench's own, for seeding and checking rows with plain SQL.
    pub sql: PgPool,
    pub data: tempfile::TempDir,
}

pub async fn start(database_url: &str) -> anyhow::Result<Running> {
    let data = tempfile::tempdir()?;
    let vars = std::collections::HashMap::from([
        ("RAPPORT_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", database_url.to_owned()),
        (
            "RAPPORT_DATA_DIR",
            data.path().to_string_lossy().into_owned(),
        ),
        ("RAPPORT_WORKERS", "0".to_owned()),
        ("RAPPORT_DEMO_MESSAGES", "100".to_owned()),
        // The per-channel limit (a few thousand a minute) would measure the limiter, not
        // the store: the ingest benchmark posts tens of thousands to one channel.
        ("RAPPORT_WEBHOOKS_PER_MINUTE", "1000000".to_owned()),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned())?;
    let app = Application::build(config).await?;
    let address = format!("http://{}", app.local_addr());
    let db = app.db().clone();
    let sql = PgPool::connect(database_url).await?;
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    Ok(Running {
        address,
        db,
        sql,
        data,
    })
}
