//! Gmail full sync against the fake Google (a separate `fake-google` process, so this
//! process's CPU and memory are the sync's own) into a durable embedded PostgreSQL
//! (fsync on), with the production limiter when the quota is on; and a Takeout mbox
//! import. Figures: messages per minute and % of the per-user quota ceiling (quota on),
//! messages per second, CPU per message and peak RSS (quota off), mbox messages/second.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use domain::gmail::{HttpGmail, Limiters, QuotaConfig, StaticTokens};
use domain::sync::{GmailSync, SyncOptions};
use domain::{Db, UserId};
use fakes::google::sign_in::{OAuthClient, access_token};
use fakes::mailbox::{Mailbox, MailboxSpec, write_takeout_message};
use sqlx::PgPool;
use uuid::Uuid;

use crate::process::{cpu_time, peak_rss_mib, reset_peak_memory};

/// Gmail's per-user quota is 250 units/s and a messages.get costs 5 units: at most 50
/// messages a second, 3,000 a minute, before listing costs anything.
pub const CEILING_PER_MINUTE: f64 = 3_000.0;

pub struct Scenario {
    pub messages: usize,
    pub quota: bool,
}

pub struct SyncFigures {
    pub messages: u64,
    pub seconds: f64,
    pub per_minute: f64,
    pub per_second: f64,
    pub cpu_ms_per_message: f64,
    pub peak_rss_mib: f64,
}

/// A `fake-google` child process serving one generated mailbox.
struct FakeGoogleProcess {
    child: Child,
    base_url: String,
}

impl FakeGoogleProcess {
    fn start(messages: usize, quota: bool) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?.with_file_name("fake-google");
        let mut command = Command::new(&exe);
        command
            .args(["--port", "0", "--messages", &messages.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if !quota {
            command.arg("--no-quota");
        }
        let mut child = command.spawn().map_err(|e| {
            anyhow::anyhow!(
                "cannot start {} (build it with `cargo build --release -p fakes`): {e}",
                exe.display()
            )
        })?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped stdout")).read_line(&mut line)?;
        let base_url = line.trim().to_owned();
        anyhow::ensure!(base_url.starts_with("http"), "fake-google said {line:?}");
        Ok(Self { child, base_url })
    }
}

impl Drop for FakeGoogleProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub async fn full_sync(db_url: &str, scenario: &Scenario) -> anyhow::Result<SyncFigures> {
    let google = FakeGoogleProcess::start(scenario.messages, scenario.quota)?;
    let db = Db::connect(db_url).await?;
    let sql = PgPool::connect(db_url).await?;
    let spec = MailboxSpec::demo(scenario.messages);
    let user = insert_user(&sql, &spec.owner_email).await?;
    let account: Uuid = sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id, display_name) values ($1, 'google', $2, $2) returning id",
    )
    .bind(user.0)
    .bind(&spec.owner_email)
    .fetch_one(&sql)
    .await?;
    let tokens = Arc::new(StaticTokens::new());
    let demo_client = OAuthClient {
        client_id: "rapport-demo-client",
        client_secret: "rapport-demo-secret",
    };
    let token = access_token(&google.base_url, &demo_client, &spec.owner_email)
        .await
        .map_err(|e| anyhow::anyhow!("signing in to the fake: {e}"))?;
    tokens.set(account, token);
    let quota = if scenario.quota {
        QuotaConfig::default()
    } else {
        QuotaConfig::unlimited(32)
    };
    let api = HttpGmail::new(
        HttpGmail::<StaticTokens>::default_client(),
        &google.base_url,
        tokens,
    );
    let sync = GmailSync::new(
        db.clone(),
        Arc::new(api),
        Arc::new(Limiters::new(quota)),
        SyncOptions::default(),
    );

    reset_peak_memory();
    let cpu_before = cpu_time();
    let started = Instant::now();
    let throughput = sync.measure_full_sync(user, account).await?;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_time().saturating_sub(cpu_before);
    let missing: i64 = sqlx::query_scalar(
        "select coalesce((sync_state -> 'reconcile' ->> 'missing')::bigint, -1) from accounts where id = $1",
    )
    .bind(account)
    .fetch_one(&sql)
    .await?;
    anyhow::ensure!(
        missing == 0,
        "reconciliation reports {missing} missing messages"
    );
    db.close().await;
    sql.close().await;
    let messages = throughput.messages;
    Ok(SyncFigures {
        messages,
        seconds,
        per_minute: messages as f64 * 60.0 / seconds,
        per_second: messages as f64 / seconds,
        cpu_ms_per_message: cpu.as_secs_f64() * 1000.0 / messages.max(1) as f64,
        peak_rss_mib: peak_rss_mib(),
    })
}

pub struct ImportFigures {
    pub messages: u64,
    pub file_mib: f64,
    pub seconds: f64,
    pub per_second: f64,
    pub peak_rss_mib: f64,
}

/// Writes `messages` synthetic messages as a Takeout mbox, then imports it.
pub async fn mbox_import(db_url: &str, messages: usize) -> anyhow::Result<ImportFigures> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("All mail Including Spam and Trash.mbox");
    let spec = MailboxSpec::demo(messages);
    let mailbox = Mailbox::generate(&spec);
    let mut file_bytes = 0_u64;
    {
        let mut out = BufWriter::new(std::fs::File::create(&path)?);
        for message in mailbox.messages() {
            file_bytes += write_takeout_message(&mut out, &message)?;
        }
        std::io::Write::flush(&mut out)?;
    }
    drop(mailbox);
    let db = Db::connect(db_url).await?;
    let sql = PgPool::connect(db_url).await?;
    let user = insert_user(&sql, &spec.owner_email).await?;
    sql.close().await;
    reset_peak_memory();
    let started = Instant::now();
    let report = db
        .for_user(user)
        .sync()
        .import_mbox(&path, "takeout", Default::default())
        .await?;
    let seconds = started.elapsed().as_secs_f64();
    db.close().await;
    anyhow::ensure!(
        report.read == messages as u64,
        "read {} of {messages}",
        report.read
    );
    Ok(ImportFigures {
        messages: report.read,
        file_mib: file_bytes as f64 / 1024.0 / 1024.0,
        seconds,
        per_second: report.read as f64 / seconds,
        peak_rss_mib: peak_rss_mib(),
    })
}

async fn insert_user(sql: &PgPool, email: &str) -> anyhow::Result<UserId> {
    let id: Uuid = sqlx::query_scalar(
        "insert into users (google_subject, email) values (gen_random_uuid()::text, $1) returning id",
    )
    .bind(email)
    .fetch_one(sql)
    .await?;
    Ok(UserId(id))
}

/// Runs every sync scenario and the import; returns flat keys and a Markdown section.
pub async fn run(
    new_db: impl AsyncFn() -> anyhow::Result<String>,
    sizes: &[usize],
    mbox_messages: usize,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let mut figures = BTreeMap::new();
    let mut table = String::from(
        "| Full sync | Messages | Wall time | Messages/min | Messages/s | % of quota ceiling | CPU per message | Peak RSS |\n|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    let (mut best_quota_on, mut best_quota_off, mut peak) =
        (None::<SyncFigures>, None::<SyncFigures>, 0.0_f64);
    for quota in [true, false] {
        for &messages in sizes {
            let db_url = new_db().await?;
            let f = full_sync(&db_url, &Scenario { messages, quota }).await?;
            eprintln!(
                "sync quota {}: {} messages in {:.1} s ({:.0}/min)",
                if quota { "on" } else { "off" },
                f.messages,
                f.seconds,
                f.per_minute
            );
            table.push_str(&format!(
                "| quota {} | {} | {:.1} s | {:.0} | {:.1} | {} | {:.2} ms | {:.0} MiB |\n",
                if quota { "on" } else { "off" },
                f.messages,
                f.seconds,
                f.per_minute,
                f.per_second,
                if quota {
                    format!("{:.1}%", f.per_minute / CEILING_PER_MINUTE * 100.0)
                } else {
                    "n/a".into()
                },
                f.cpu_ms_per_message,
                f.peak_rss_mib,
            ));
            peak = peak.max(f.peak_rss_mib);
            // The largest run of each kind is the headline figure.
            let slot = if quota {
                &mut best_quota_on
            } else {
                &mut best_quota_off
            };
            if slot.as_ref().is_none_or(|b| f.messages >= b.messages) {
                *slot = Some(f);
            }
        }
    }
    if let Some(on) = &best_quota_on {
        figures.insert("sync.quota_on.msgs_per_min".into(), on.per_minute);
        figures.insert(
            "sync.quota_on.pct_of_ceiling".into(),
            on.per_minute / CEILING_PER_MINUTE * 100.0,
        );
    }
    if let Some(off) = &best_quota_off {
        figures.insert("sync.quota_off.msgs_per_sec".into(), off.per_second);
        figures.insert(
            "sync.quota_off.cpu_ms_per_msg".into(),
            off.cpu_ms_per_message,
        );
    }
    figures.insert("sync.peak_rss_mb".into(), peak);

    let db_url = new_db().await?;
    let import = mbox_import(&db_url, mbox_messages).await?;
    eprintln!(
        "mbox import: {} messages in {:.1} s",
        import.messages, import.seconds
    );
    figures.insert("import.mbox.msgs_per_sec".into(), import.per_second);
    let markdown = format!(
        "{table}\nThe ceiling is Gmail's per-user quota: 250 units/s at 5 units per `messages.get` = 3,000 messages/min. \
         Quota on uses the production limiter against a fake that enforces the same quota (429 + Retry-After when exceeded); \
         quota off lifts both. Each run is a full sync of a fresh account (list, fetch `format=raw`, parse, store, reconcile: \
         reconciliation reported 0 missing in every run) into PostgreSQL with fsync on; the fake Google is a separate process, \
         so CPU and RSS are the sync's own (bench process).\n\n\
         | Takeout import | Messages | File | Wall time | Messages/s | Peak RSS |\n|---|---:|---:|---:|---:|---:|\n\
         | mbox | {} | {:.0} MiB | {:.1} s | {:.0} | {:.0} MiB |\n",
        import.messages, import.file_mib, import.seconds, import.per_second, import.peak_rss_mib,
    );
    Ok((figures, markdown))
}
