//! Planner statistics that keep up with bulk loads. Autovacuum analyzes a table once a
//! tenth of it changed, but it looks only every `autovacuum_naptime` (a minute by
//! default): a first import into a new database grows the tables from nothing for that
//! long while the planner still takes them for empty, and processing ran at a fifth of
//! its speed (a 20,000-message import processed in 87 s instead of 16 s;
//! bench/RESULTS.md). Every few seconds the tables that changed by a fifth since their
//! last analyze, and by at least a thousand rows, are analyzed.

use std::time::Duration;

use crate::Db;

/// How often the tables are looked at.
pub const CHECK_EVERY: Duration = Duration::from_secs(5);
/// Rows changed since the last analyze, at least.
const MIN_CHANGED: i64 = 1_000;
/// ... and at least this share of the table's rows.
const MIN_SHARE: f64 = 0.2;

/// Analyzes this schema's tables that grew or changed enough since their last analyze;
/// returns their names.
pub async fn analyze_changed_tables(db: &Db) -> Result<Vec<String>, sqlx::Error> {
    let changed = sqlx::query_scalar!(
        r#"select relname as "table!" from pg_stat_user_tables
           where schemaname = current_schema() and n_mod_since_analyze >= $1
             and n_mod_since_analyze > $2::float8 * n_live_tup
           order by relname"#,
        MIN_CHANGED,
        MIN_SHARE,
    )
    .fetch_all(db.pool())
    .await?;
    for table in &changed {
        // A name from the catalog, quoted as an identifier.
        let statement = format!("analyze \"{}\"", table.replace('"', "\"\""));
        sqlx::query(&statement).execute(db.pool()).await?;
    }
    Ok(changed)
}
