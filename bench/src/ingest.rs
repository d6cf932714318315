//! Webhook ingest and activity processing throughput.
//!
//! Webhooks: `wrk` posts generic-JSON webhooks with unique provider ids to the real server
//! on 127.0.0.1 for a fixed time; "accepted" counts activities durably stored (read back
//! from PostgreSQL afterwards), not responses. Processing: the demo mailbox stored raw,
//! then 1, 2 and 4 activity processors (the server's, with the stats refresh hook) work
//! until nothing is left, each on a fresh database.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use domain::channels::{Channel, ChannelDefaults, ChannelProvider, Direction, NewChannel};
use domain::ingest::{IncomingEmail, IngestFilter};
use domain::jobs::WorkerId;
use domain::processing::{Processor, ProcessorOptions, RefreshContactsTouched};
use domain::{Db, UserId};
use fakes::mailbox::{Mailbox, MailboxSpec};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub struct Scale {
    /// How long wrk posts webhooks.
    pub seconds: u64,
    /// wrk's open connections.
    pub connections: usize,
    /// Messages in the mailbox each processing run works through.
    pub messages: usize,
    /// Activities per processing claim.
    pub batch: i64,
}

pub async fn run(
    new_db: impl AsyncFn() -> anyhow::Result<String>,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let webhooks = webhooks(&new_db().await?, scale).await?;
    let mut figures = BTreeMap::from([
        (
            "ingest.webhook.accepted_per_sec".to_owned(),
            webhooks.stored as f64 / webhooks.seconds,
        ),
        ("ingest.webhook.p50_ms".to_owned(), webhooks.p50_ms),
        ("ingest.webhook.p99_ms".to_owned(), webhooks.p99_ms),
        (
            "ingest.webhook.cpu_ms_per_stored".to_owned(),
            webhooks.cpu_ms_per_stored,
        ),
    ]);
    let mut markdown = format!(
        "Webhooks: `wrk -t2 -c{connections} -d{seconds}s` posting generic-JSON webhooks (unique \
         `external_id` each) to `POST /ingest/{{channel}}` of the real server (release build, \
         no processors running) on 127.0.0.1; stored = activities read back from PostgreSQL \
         afterwards (fsync on); CPU = the machine's busy time (all processes and the kernel) \
         while wrk ran, per stored webhook.\n\n\
         | requests | answered 202 | stored | stored/s | p50 | p99 | CPU per webhook |\n\
         |---|---|---|---|---|---|---|\n\
         | {requests} | {accepted} | {stored} | {rate:.0} | {p50:.1} ms | {p99:.1} ms | {cpu:.2} ms |\n\n",
        connections = scale.connections,
        seconds = scale.seconds,
        requests = webhooks.requests,
        accepted = webhooks.requests - webhooks.failed,
        stored = webhooks.stored,
        rate = webhooks.stored as f64 / webhooks.seconds,
        p50 = webhooks.p50_ms,
        p99 = webhooks.p99_ms,
        cpu = webhooks.cpu_ms_per_stored,
    );
    markdown.push_str(&format!(
        "Processing: the demo mailbox ({} messages) stored raw, then N activity processors \
         (contact matching and creation, signature extraction, stats refresh; {} activities \
         per claim) in one process until no activity is raw or processing; a fresh database \
         per run.\n\n\
         | processors | messages | seconds | messages/s | activities processed (with re-queues) |\n\
         |---|---|---|---|---|\n",
        scale.messages, scale.batch
    ));
    for workers in [1, 2, 4] {
        let run = processing(&new_db().await?, scale, workers).await?;
        let rate = run.messages as f64 / run.seconds;
        eprintln!("processing with {workers}: {rate:.0} messages/s");
        figures.insert(format!("processing.per_sec.workers_{workers}"), rate);
        markdown.push_str(&format!(
            "| {workers} | {} | {:.1} | {rate:.0} | {} |\n",
            run.messages, run.seconds, run.processed
        ));
    }
    Ok((figures, markdown))
}

struct WebhookRun {
    requests: u64,
    failed: u64,
    stored: i64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
    /// The machine's busy CPU time (server, PostgreSQL, wrk, kernel) per stored webhook:
    /// steadier than the rate on a shared machine, whose disk and neighbours vary.
    cpu_ms_per_stored: f64,
}

async fn webhooks(database_url: &str, scale: &Scale) -> anyhow::Result<WebhookRun> {
    let server = crate::serve::start(database_url).await?;
    let (address, db) = (server.address.clone(), server.db.clone());

    let (user, _) = owner(&server.sql, "bench@example.com").await?;
    let (channel, key) = db
        .for_user(user)
        .channels()
        .create(&NewChannel {
            name: "Bench".to_owned(),
            provider: ChannelProvider::Generic,
            defaults: ChannelDefaults {
                channel: Channel::Sms,
                direction: Direction::Inbound,
            },
        })
        .await?;
    let script = server.data.path().join("webhook.lua");
    std::fs::write(&script, wrk_script(key.expose()))?;
    let busy = crate::process::MachineBusy::start();
    let output = tokio::process::Command::new("wrk")
        .args(["-t2", &format!("-c{}", scale.connections)])
        .arg(format!("-d{}s", scale.seconds))
        .args(["--timeout", "10s", "--latency", "-s"])
        .arg(&script)
        .arg(format!("{address}/ingest/{}", channel.id))
        .output()
        .await
        .map_err(|e| anyhow::anyhow!("running wrk ({e}); `make bench` installs it with apt"))?;
    let busy = busy.elapsed();
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    anyhow::ensure!(output.status.success(), "wrk failed: {report}");
    eprintln!("{report}");
    crate::statements::report(&server.sql, "webhooks").await?;
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from activities a join ingestion_channels c on c.account_id = a.account_id
         where c.id = $1",
    )
    .bind(channel.id)
    .fetch_one(&server.sql)
    .await?;
    let wrk = WrkReport::parse(&report)?;
    Ok(WebhookRun {
        requests: wrk.requests,
        failed: wrk.failed,
        stored,
        seconds: wrk.seconds,
        p50_ms: wrk.p50_ms,
        p99_ms: wrk.p99_ms,
        cpu_ms_per_stored: crate::process::ms_each(busy, usize::try_from(stored).unwrap_or(0)),
    })
}

/// Each request a new provider id (thread number and counter), so none is a retry.
fn wrk_script(key: &str) -> String {
    format!(
        r#"local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {key}"
function request()
  counter = counter + 1
  local body = string.format('{{"external_id":"bench-%d-%d","from":{{"email":"person%d@customers.example","name":"Person %d"}},"to":[{{"email":"bench@example.com"}}],"text":"Order %d is ready for pickup."}}', tid, counter, counter % 5000, counter % 5000, counter)
  return wrk.format(nil, nil, nil, body)
end
"#
    )
}

#[derive(Debug, PartialEq)]
struct WrkReport {
    requests: u64,
    failed: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl WrkReport {
    /// Reads wrk 4's text report ("N requests in 20.00s", "Non-2xx or 3xx responses: N",
    /// and the `--latency` percentile lines).
    fn parse(report: &str) -> anyhow::Result<Self> {
        let mut parsed = WrkReport {
            requests: 0,
            failed: 0,
            seconds: 0.0,
            p50_ms: 0.0,
            p99_ms: 0.0,
        };
        for line in report.lines().map(str::trim) {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [n, "requests", "in", time, ..] => {
                    parsed.requests = n.parse()?;
                    parsed.seconds = duration_ms(time.trim_end_matches(','))? / 1000.0;
                }
                ["Non-2xx", "or", "3xx", "responses:", n] => parsed.failed += n.parse::<u64>()?,
                ["Socket", "errors:", ..] => {
                    let errors: u64 = words
                        .iter()
                        .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                        .sum();
                    parsed.failed += errors;
                }
                ["50%", time] => parsed.p50_ms = duration_ms(time)?,
                ["99%", time] => parsed.p99_ms = duration_ms(time)?,
                _ => {}
            }
        }
        anyhow::ensure!(
            parsed.requests > 0 && parsed.seconds > 0.0 && parsed.p99_ms > 0.0,
            "could not read wrk's report:\n{report}"
        );
        Ok(parsed)
    }
}

/// wrk's durations: `850.00us`, `12.34ms`, `1.20s`, `2.00m`.
fn duration_ms(text: &str) -> anyhow::Result<f64> {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| anyhow::anyhow!("no unit in {text:?}"))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        other => anyhow::bail!("unknown unit {other:?} in {text:?}"),
    })
}

struct ProcessingRun {
    messages: usize,
    processed: i64,
    seconds: f64,
}

async fn processing(
    database_url: &str,
    scale: &Scale,
    workers: usize,
) -> anyhow::Result<ProcessingRun> {
    let db = Db::connect(database_url).await?;
    let sql = PgPool::connect(database_url).await?;
    let spec = MailboxSpec::demo(scale.messages);
    let (user, account) = owner(&sql, &spec.owner_email).await?;
    let emails: Vec<IncomingEmail> = Mailbox::generate(&spec)
        .messages()
        .map(IncomingEmail::from)
        .collect();
    let scope = db.for_user(user);
    for batch in emails.chunks(500) {
        scope
            .mail()
            .store_emails(account, batch, &IngestFilter::default())
            .await?;
    }
    sqlx::query("vacuum analyze").execute(&sql).await?;
    crate::statements::report(&sql, "storing the mailbox").await?;

    let stop = CancellationToken::new();
    let started = Instant::now();
    let tasks: Vec<_> = (0..workers)
        .map(|n| {
            let processor = Processor::new(
                &db,
                WorkerId::new(format!("bench-{n}")),
                ProcessorOptions {
                    batch: scale.batch,
                    ..ProcessorOptions::default()
                },
            );
            let hook = RefreshContactsTouched::new(&db);
            tokio::spawn(processor.run(stop.clone(), hook))
        })
        .collect();
    // The server's workers analyze the tables an import grows every few seconds
    // (`domain::db::statistics`); these processors get the same.
    let statistics = tokio::spawn({
        let (db, stop) = (db.clone(), stop.clone());
        async move {
            while !stop.is_cancelled() {
                domain::db::statistics::analyze_changed_tables(&db).await?;
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(domain::db::statistics::CHECK_EVERY) => {}
                }
            }
            anyhow::Ok(())
        }
    });
    // Counting the waiting activities reads the table (20 ms at 20,000); looked at
    // more often, the bench took a tenth of the machine from what it measures.
    while crate::client::activities_waiting(&sql).await? > 0 {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    crate::statements::report(&sql, &format!("processing with {workers}")).await?;
    stop.cancel();
    for task in tasks {
        task.await??;
    }
    statistics.await??;
    let (stored, failed, processed): (i64, i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where state <> 'completed'), coalesce(sum(attempts), 0)
         from activities",
    )
    .fetch_one(&sql)
    .await?;
    anyhow::ensure!(failed == 0, "{failed} activities were not completed");
    db.close().await;
    sql.close().await;
    Ok(ProcessingRun {
        messages: usize::try_from(stored)?,
        processed,
        seconds,
    })
}

async fn owner(sql: &PgPool, email: &str) -> anyhow::Result<(UserId, Uuid)> {
    let user: Uuid = sqlx::query_scalar(
        "insert into users (google_subject, email) values ($1, $1) returning id",
    )
    .bind(email)
    .fetch_one(sql)
    .await?;
    let account: Uuid = sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'google', $2) returning id",
    )
    .bind(user)
    .bind(email)
    .fetch_one(sql)
    .await?;
    Ok((UserId(user), account))
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 10s test @ http://127.0.0.1:40000/ingest/x
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    2.20ms  40.00ms   80.00%
    Req/Sec     1.00k   100.00     1.20k    70.00%
  Latency Distribution
     50%    3.50ms
     75%    4.80ms
     90%    6.90ms
     99%   12.34ms
  19876 requests in 10.01s, 4.00MB read
  Socket errors: connect 0, read 0, write 0, timeout 2
  Non-2xx or 3xx responses: 3
Requests/sec:   1985.61
Transfer/sec:    409.00KB
";

    #[test]
    fn reads_wrk_reports() {
        assert_eq!(
            WrkReport::parse(REPORT).unwrap(),
            WrkReport {
                requests: 19876,
                failed: 5,
                seconds: 10.01,
                p50_ms: 3.5,
                p99_ms: 12.34,
            }
        );
        assert!(WrkReport::parse("wrk: connection refused").is_err());
    }

    #[test]
    fn reads_wrk_durations() {
        assert_eq!(duration_ms("850.00us").unwrap(), 0.85);
        assert_eq!(duration_ms("1.20s").unwrap(), 1200.0);
        assert!(duration_ms("12").is_err());
    }
}
