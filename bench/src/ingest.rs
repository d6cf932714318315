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
    let measured = crate::wrk::Load {
        url: &format!("{address}/ingest/{}", channel.id),
        script: &script,
        connections: scale.connections,
        seconds: scale.seconds,
    }
    .run()
    .await?;
    crate::statements::report(&server.sql, "webhooks").await?;
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from activities a join ingestion_channels c on c.account_id = a.account_id
         where c.id = $1",
    )
    .bind(channel.id)
    .fetch_one(&server.sql)
    .await?;
    let wrk = measured.report;
    Ok(WebhookRun {
        requests: wrk.requests,
        failed: wrk.failed,
        stored,
        seconds: wrk.seconds,
        p50_ms: wrk.p50_ms,
        p99_ms: wrk.p99_ms,
        cpu_ms_per_stored: crate::process::ms_each(
            measured.busy,
            usize::try_from(stored).unwrap_or(0),
        ),
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
