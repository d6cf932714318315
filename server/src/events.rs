//! Events kept by the server: retention (old events deleted every hour) and
//! `server export-events --user EMAIL [--since DATE]`, which writes a user's events to
//! stdout as JSON Lines (one [`domain::events::ExportedEvent`] per line, oldest first).

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use domain::Db;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::import::open_database;

pub const EXPORT_USAGE: &str = "usage: server export-events --user EMAIL [--since DATE]";

/// Deletes events older than `days` (none when 0) now and every hour until `stop`.
pub fn spawn_retention(db: &Db, days: u32, stop: CancellationToken) {
    if days == 0 {
        return;
    }
    let db = db.clone();
    tokio::spawn(async move {
        let mut hourly = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = hourly.tick() => {}
            }
            let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
            match db.delete_events_before(cutoff).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, days, "deleted old events"),
                Err(error) => tracing::warn!(%error, "could not delete old events"),
            }
        }
    });
}

#[derive(Debug, PartialEq, Eq)]
pub struct ExportCommand {
    pub user: String,
    pub since: Option<DateTime<Utc>>,
}

impl ExportCommand {
    /// `--user EMAIL` and optionally `--since` a date (`2026-01-31`, from its start in
    /// UTC) or an RFC 3339 time.
    pub fn parse(args: &[String]) -> anyhow::Result<Self> {
        let (mut user, mut since) = (None, None);
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--user" => user = args.next().cloned(),
                "--since" => {
                    let text = args
                        .next()
                        .ok_or_else(|| anyhow::anyhow!("--since needs a date\n{EXPORT_USAGE}"))?;
                    since = Some(parse_since(text)?);
                }
                other => anyhow::bail!("unexpected argument {other:?}\n{EXPORT_USAGE}"),
            }
        }
        let user =
            user.ok_or_else(|| anyhow::anyhow!("whose events? give --user EMAIL\n{EXPORT_USAGE}"))?;
        Ok(Self {
            user: user.trim().to_lowercase(),
            since,
        })
    }
}

fn parse_since(text: &str) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            anyhow::anyhow!("--since {text:?}: expected a date (2026-01-31) or an RFC 3339 time")
        })
}

/// `server export-events`: the user's events as JSON Lines on stdout; the count on stderr.
pub async fn export_events_command(config: Config, args: &[String]) -> anyhow::Result<()> {
    let command = ExportCommand::parse(args)?;
    let (db, embedded) = open_database(&config, "stop the server and run this again").await?;
    let result = export(&db, &command).await;
    db.close().await;
    if let Some(pg) = embedded {
        pg.stop().await?;
    }
    let written = result?;
    eprintln!("exported {written} events of {}", command.user);
    Ok(())
}

async fn export(db: &Db, command: &ExportCommand) -> anyhow::Result<u64> {
    let user = crate::import::command_line_user(db, &command.user).await?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = db
        .for_user(user)
        .events()
        .export_events(command.since, &mut out)
        .await?;
    std::io::Write::flush(&mut out)?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn export_arguments_parse_dates_and_times() {
        let command = ExportCommand::parse(&args(&[
            "--user",
            " Ada@Example.com",
            "--since",
            "2026-01-31",
        ]))
        .unwrap();
        assert_eq!(command.user, "ada@example.com");
        assert_eq!(
            command.since.unwrap().to_rfc3339(),
            "2026-01-31T00:00:00+00:00"
        );
        let command = ExportCommand::parse(&args(&[
            "--since",
            "2026-01-31T12:00:00+02:00",
            "--user",
            "a@b.c",
        ]))
        .unwrap();
        assert_eq!(
            command.since.unwrap().to_rfc3339(),
            "2026-01-31T10:00:00+00:00"
        );
        assert!(ExportCommand::parse(&args(&["--since", "2026-01-31"])).is_err());
        assert!(ExportCommand::parse(&args(&["--user", "a@b.c", "--since", "yesterday"])).is_err());
        assert!(ExportCommand::parse(&args(&["--user", "a@b.c", "extra"])).is_err());
    }
}
