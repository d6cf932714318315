//! Where Postgres spent a benchmark's time: with `BENCH_STATEMENTS=N` set, the cluster
//! loads `pg_stat_statements` and each measured phase that reports prints its N
//! statements with the most execution time to stderr (for the notes in RESULTS.md).
//! Off by default: the extension's bookkeeping is not what users run.

use embedded_pg::{EmbeddedOptions, EmbeddedPgError, EmbeddedPostgres};
use sqlx::PgPool;

/// How many statements to print, if profiling was asked for.
pub fn wanted() -> Option<i64> {
    std::env::var("BENCH_STATEMENTS").ok()?.parse().ok()
}

/// Restarts the cluster with `pg_stat_statements` loaded when profiling was asked for.
pub async fn prepare(
    pg: EmbeddedPostgres,
    options: EmbeddedOptions,
) -> anyhow::Result<EmbeddedPostgres> {
    if wanted().is_none() {
        return Ok(pg);
    }
    let sql = PgPool::connect(&pg.url("postgres")).await?;
    sqlx::query("alter system set shared_preload_libraries = 'pg_stat_statements'")
        .execute(&sql)
        .await?;
    sql.close().await;
    pg.stop().await?;
    let pg = EmbeddedPostgres::start(options)
        .await
        .map_err(|e: EmbeddedPgError| anyhow::anyhow!(e))?;
    // Known only once the library is loaded.
    let sql = PgPool::connect(&pg.url("postgres")).await?;
    sqlx::query("alter system set pg_stat_statements.track_planning = on")
        .execute(&sql)
        .await?;
    sqlx::query("select pg_reload_conf()").execute(&sql).await?;
    sql.close().await;
    Ok(pg)
}

/// Adds the extension to a new database when profiling.
pub async fn install(url: &str) -> anyhow::Result<()> {
    if wanted().is_some() {
        let sql = PgPool::connect(url).await?;
        sqlx::query("create extension if not exists pg_stat_statements")
            .execute(&sql)
            .await?;
        sql.close().await;
    }
    Ok(())
}

/// Prints the phase's heaviest statements (of this database), then starts counting anew.
pub async fn report(sql: &PgPool, phase: &str) -> anyhow::Result<()> {
    let Some(top) = wanted() else {
        return Ok(());
    };
    let rows: Vec<(i64, f64, f64, f64, i64, String)> = sqlx::query_as(
        "select s.calls, s.total_exec_time, s.total_plan_time, s.mean_exec_time, s.rows,
                left(regexp_replace(s.query, '\\s+', ' ', 'g'), 160)
         from pg_stat_statements s join pg_database d on d.oid = s.dbid
         where d.datname = current_database()
         order by s.total_exec_time + s.total_plan_time desc limit $1",
    )
    .bind(top)
    .fetch_all(sql)
    .await?;
    eprintln!("-- {phase}: calls, exec ms, plan ms, mean ms, rows, statement");
    for (calls, exec, plan, mean, rows, query) in rows {
        eprintln!("{calls:>8} {exec:>10.1} {plan:>8.1} {mean:>8.3} {rows:>9}  {query}");
    }
    sqlx::query("select pg_stat_statements_reset()")
        .execute(sql)
        .await?;
    Ok(())
}
