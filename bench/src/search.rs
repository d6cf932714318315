//! Import and mail search against notmuch on the same mail: `--messages` synthetic
//! messages (the demo mailbox generator) uploaded to the real server as a Takeout mbox
//! and imported to the end (contacts and stats ready), and written as a Maildir that
//! `notmuch new` indexes; then 20 queries of different selectivity
//! (common and rare words, phrases, `from:` with and without a word, date ranges).
//! Rapport's figure is the first results page (20 hits, ranked, highlighted) through
//! the domain's search, as the page and the API call it; notmuch's is the first page
//! of `notmuch search --limit=20` as a user runs it (process start included).

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use domain::search::SearchQuery;
use domain::{Db, UserId};
use fakes::mailbox::{Mailbox, MailboxSpec, write_takeout_message};
use sqlx::PgPool;

use crate::child::{ServerProcess, free_port};
use crate::client::{User, fake_google, server_env, settle, wait_for_import, wait_until_processed};

use crate::contacts::Latency;

pub struct Scale {
    pub messages: usize,
    /// Timed runs of each query in Rapport (notmuch runs a tenth as many, at least 5).
    pub runs: usize,
}

/// The goal: every query's p99 under this.
const P99_GOAL_MS: f64 = 50.0;

struct Query {
    kind: &'static str,
    rapport: String,
    notmuch: Vec<String>,
}

struct Measured {
    query: Query,
    rapport: Latency,
    hits: usize,
    notmuch_p50: f64,
    notmuch_threads: usize,
}

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let dir = tempfile::tempdir()?;
    let spec = MailboxSpec::demo(scale.messages);
    let mbox = dir.path().join("takeout.mbox");
    let maildir = dir.path().join("maildir");
    write_mail(&spec, &mbox, &maildir)?;

    let sql = PgPool::connect(database_url).await?;
    let import = import_end_to_end(database_url, &spec, &mbox, &sql).await?;
    let user = import.user;
    eprintln!(
        "import: {} activities stored {:.1} s and processed {:.1} s after the upload began",
        import.activities, import.stored_seconds, import.seconds
    );
    sqlx::query("vacuum analyze activity_search")
        .execute(&sql)
        .await?;
    let indexed: i64 =
        sqlx::query_scalar("select count(*) from activity_search where user_id = $1")
            .bind(user.0)
            .fetch_one(&sql)
            .await?;

    let config = notmuch_config(dir.path(), &maildir, &spec.owner_email)?;
    let started = Instant::now();
    let new = Command::new("notmuch")
        .arg(format!("--config={}", config.display()))
        .args(["new", "--quiet"])
        .output()?;
    anyhow::ensure!(
        new.status.success(),
        "notmuch new failed: {}",
        String::from_utf8_lossy(&new.stderr)
    );
    let notmuch_new_s = started.elapsed().as_secs_f64();
    let import_ratio = import.seconds / notmuch_new_s;
    eprintln!("import: notmuch new {notmuch_new_s:.1} s (ratio {import_ratio:.2})");

    let db = Db::connect(database_url).await?;
    let queries = queries(&sql, user).await?;
    let scope = db.for_user(user);
    let mut measured = Vec::new();
    for query in queries {
        let parsed = SearchQuery::parse(&query.rapport)
            .map_err(|e| anyhow::anyhow!("{}: {e}", query.rapport))?;
        let mut hits = 0;
        for _ in 0..3 {
            hits = scope.search().page(&parsed, 1).await?.hits.len();
        }
        let mut times = Vec::with_capacity(scale.runs);
        for _ in 0..scale.runs {
            let started = Instant::now();
            scope.search().page(&parsed, 1).await?;
            times.push(started.elapsed());
        }
        let (notmuch_p50, notmuch_threads) =
            notmuch_search(&config, &query.notmuch, (scale.runs / 10).max(5))?;
        let rapport = Latency::of(times);
        println!(
            "{:<45} rapport p50 {:>6.1} ms p99 {:>6.1} ms ({hits} hits) | notmuch {:>6.1} ms ({notmuch_threads} threads)",
            query.rapport, rapport.p50, rapport.p99, notmuch_p50
        );
        measured.push(Measured {
            query,
            rapport,
            hits,
            notmuch_p50,
            notmuch_threads,
        });
    }
    db.close().await;
    sql.close().await;

    let max_p99 = measured.iter().map(|m| m.rapport.p99).fold(0.0, f64::max);
    let mut ratios: Vec<f64> = measured
        .iter()
        .map(|m| m.rapport.p50 / m.notmuch_p50)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let median_ratio = median(&ratios);
    let figures = BTreeMap::from([
        ("search.p99_ms.max".to_owned(), max_p99),
        ("search.vs_notmuch_median_ratio".to_owned(), median_ratio),
        ("import.mbox.e2e_s".to_owned(), import.seconds),
        ("import.notmuch_new_s".to_owned(), notmuch_new_s),
        ("import.vs_notmuch_ratio".to_owned(), import_ratio),
    ]);
    let mut table = String::from(
        "| query | kind | Rapport p50 | Rapport p99 | hits (page 1) | notmuch p50 | notmuch threads (page 1) | ratio |\n\
         |---|---|---|---|---|---|---|---|\n",
    );
    for m in &measured {
        table.push_str(&format!(
            "| `{}` | {} | {:.1} ms | {:.1} ms | {} | {:.1} ms | {} | {:.2} |\n",
            m.query.rapport.replace('|', "\\|"),
            m.query.kind,
            m.rapport.p50,
            m.rapport.p99,
            m.hits,
            m.notmuch_p50,
            m.notmuch_threads,
            m.rapport.p50 / m.notmuch_p50,
        ));
    }
    let markdown = format!(
        "{} synthetic messages (the demo mailbox generator). **Import end to end**: the \
         Takeout mbox uploaded to the real server (`POST /settings/import-mbox`, a `server \
         serve` child process with its default two job workers and two processors) until \
         the import job finished and no activity waits for processing (contacts and their \
         stats are written in the processing transaction): **{:.1} s** for {} activities \
         ({indexed} search entries; the import job itself ended after {:.1} s). The same messages written as a Maildir that `notmuch \
         new` (notmuch {}) indexed in **{notmuch_new_s:.1} s**: ratio **{import_ratio:.2}** \
         (goal at most 1.0). Each query: Rapport's first results page (20 hits, ranked among \
         the newest {} matches, highlighted) through the domain's search, {} runs after a \
         warm-up, one at a time; notmuch: `notmuch search --limit=20` (first page of \
         threads, newest first), {} runs, process start included. Ratio: Rapport's p50 / \
         notmuch's p50. Goals: every p99 under {P99_GOAL_MS} ms (max: **{max_p99:.1} ms**), \
         median ratio at most 1.0 (**{median_ratio:.2}**).\n\n{table}",
        scale.messages,
        import.seconds,
        import.activities,
        import.stored_seconds,
        notmuch_version(),
        domain::search::RANK_WINDOW,
        scale.runs,
        (scale.runs / 10).max(5),
    );
    Ok((figures, markdown))
}

struct Imported {
    user: UserId,
    /// Until contacts and stats are ready.
    seconds: f64,
    /// Until the import job finished (processing runs alongside).
    stored_seconds: f64,
    activities: i64,
}

/// The mbox through the product's path: a signed-in user uploads it to the server, whose
/// workers import it while its processors build contacts and stats. Timed from the
/// upload's first byte until nothing is left to process. The server is stopped after.
async fn import_end_to_end(
    database_url: &str,
    spec: &MailboxSpec,
    mbox: &Path,
    sql: &PgPool,
) -> anyhow::Result<Imported> {
    // The Google account signed in with holds a few messages of its own.
    let google = fake_google(&[("Bench Owner", &spec.owner_email, 20, spec.seed + 1)]).await?;
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let address = format!("http://127.0.0.1:{port}");
    let mut env = server_env(database_url, data.path(), google.base_url(), port);
    let room = (std::fs::metadata(mbox)?.len() * 3 + (1 << 30)).to_string();
    env.insert("RAPPORT_MAX_MBOX_BYTES".to_owned(), room.clone());
    env.insert("RAPPORT_STORAGE_QUOTA_BYTES".to_owned(), room);
    let mut server = ServerProcess::start("serve", "server", &env, data.path())?;
    server
        .wait_healthy(&address, Duration::from_secs(60))
        .await?;
    let (owner, id) = User::sign_in_with_id(&address, &spec.owner_email, sql).await?;
    settle(sql, Duration::from_secs(120)).await?;

    let started = Instant::now();
    let (status, answer) = owner.upload_mbox(mbox).await?;
    anyhow::ensure!(status == 202, "the upload answered {status}: {answer}");
    wait_for_import(sql, &mut server, Duration::from_secs(3600)).await?;
    let stored_seconds = started.elapsed().as_secs_f64();
    // Enrichment lookups the new contacts queued run on; they are not what is timed.
    wait_until_processed(sql, &mut server, Duration::from_secs(3600)).await?;
    let seconds = started.elapsed().as_secs_f64();
    server.stop(Duration::from_secs(30)).await?;
    let activities = sqlx::query_scalar(
        "select count(*) from activities a join accounts c on c.id = a.account_id
         where a.user_id = $1 and c.provider = 'mbox'",
    )
    .bind(id)
    .fetch_one(sql)
    .await?;
    Ok(Imported {
        user: UserId(id),
        seconds,
        stored_seconds,
        activities,
    })
}

fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0,
    }
}

/// The mailbox as one Takeout mbox and as a Maildir (one file per message, LF endings).
fn write_mail(spec: &MailboxSpec, mbox: &Path, maildir: &Path) -> anyhow::Result<()> {
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub))?;
    }
    let mailbox = Mailbox::generate(spec);
    let mut out = BufWriter::new(std::fs::File::create(mbox)?);
    for message in mailbox.messages() {
        write_takeout_message(&mut out, &message)?;
        let lf: Vec<u8> = message
            .raw
            .iter()
            .enumerate()
            .filter(|&(i, b)| !(*b == b'\r' && message.raw.get(i + 1) == Some(&b'\n')))
            .map(|(_, b)| *b)
            .collect();
        std::fs::write(
            maildir
                .join("cur")
                .join(format!("{}.bench:2,S", message.id)),
            lf,
        )?;
    }
    out.flush()?;
    Ok(())
}

fn notmuch_config(dir: &Path, maildir: &Path, owner: &str) -> anyhow::Result<std::path::PathBuf> {
    let path = dir.join("notmuch-config");
    std::fs::write(
        &path,
        format!(
            "[database]\npath={}\n\n[user]\nname=Bench\nprimary_email={owner}\n\n\
             [new]\ntags=inbox;\nignore=\n\n[search]\nexclude_tags=\n\n\
             [maildir]\nsynchronize_flags=false\n",
            maildir.display()
        ),
    )?;
    Ok(path)
}

fn notmuch_version() -> String {
    Command::new("notmuch")
        .arg("--version")
        .output()
        .ok()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .trim()
                .trim_start_matches("notmuch ")
                .to_owned()
        })
        .unwrap_or_else(|| "?".into())
}

/// The median wall time of `runs` runs of `notmuch search --limit=20 terms`, and the
/// threads it printed.
fn notmuch_search(config: &Path, terms: &[String], runs: usize) -> anyhow::Result<(f64, usize)> {
    let once = || -> anyhow::Result<(Duration, usize)> {
        let started = Instant::now();
        let out = Command::new("notmuch")
            .arg(format!("--config={}", config.display()))
            .args(["search", "--limit=20"])
            .args(terms)
            .output()?;
        let took = started.elapsed();
        anyhow::ensure!(
            out.status.success(),
            "notmuch search {terms:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Ok((
            took,
            out.stdout
                .split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .count(),
        ))
    };
    let (_, threads) = once()?;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        times.push(once()?.0);
    }
    Ok((Latency::of(times).p50, threads))
}

/// Twenty queries: common, mid and rare words, phrases, a frequent and a rare sender
/// (with and without a word), and a month (with and without a word). Senders and the
/// month come from the imported mail, so every query has something to find.
async fn queries(sql: &PgPool, user: UserId) -> anyhow::Result<Vec<Query>> {
    let sender = |order: &'static str| {
        let statement = format!(
            "select address from activity_participants
             where user_id = $1 and role = 'from'
             group by address having count(*) >= 3
             order by count(*) {order}, address limit 1"
        );
        async move {
            sqlx::query_scalar::<_, String>(&statement)
                .bind(user.0)
                .fetch_one(sql)
                .await
        }
    };
    let frequent = sender("desc").await?;
    let rare = sender("asc").await?;
    let middle: DateTime<Utc> = sqlx::query_scalar(
        "select percentile_disc(0.5) within group (order by occurred_at)
         from activity_search where user_id = $1",
    )
    .bind(user.0)
    .fetch_one(sql)
    .await?;
    let month = NaiveDate::from_ymd_opt(middle.year(), middle.month(), 1).expect("a month");
    let next = month + Months::new(1);
    let last = next.pred_opt().expect("a day");

    let word = |kind, w: &str| Query {
        kind,
        rapport: w.to_owned(),
        notmuch: vec![w.to_owned()],
    };
    let phrase = |w: &str| Query {
        kind: "phrase",
        rapport: format!("\"{w}\""),
        notmuch: vec![format!("\"{w}\"")],
    };
    let from = |kind, address: &str, w: Option<&str>| Query {
        kind,
        rapport: format!(
            "from:{address}{}",
            w.map(|w| format!(" {w}")).unwrap_or_default()
        ),
        notmuch: std::iter::once(format!("from:{address}"))
            .chain(w.map(str::to_owned))
            .collect(),
    };
    let range = |w: Option<&str>| Query {
        kind: "date range",
        rapport: format!(
            "after:{month} before:{next}{}",
            w.map(|w| format!(" {w}")).unwrap_or_default()
        ),
        notmuch: std::iter::once(format!("date:{month}..{last}"))
            .chain(w.map(str::to_owned))
            .collect(),
    };
    Ok(vec![
        word("common word", "update"),
        word("common word", "thanks"),
        word("common word", "week"),
        word("common word", "team"),
        word("mid word", "proposal"),
        word("mid word", "invoice"),
        word("mid word", "pilot"),
        word("mid word", "migration"),
        word("rare word", "lisbon"),
        word("rare word", "liability"),
        word("rare word", "countersigned"),
        word("rare word", "snag"),
        phrase("phased rollout"),
        phrase("speaking slot"),
        phrase("action items"),
        from("from: + word", &frequent, Some("thanks")),
        from("from: + word", &frequent, Some("invoice")),
        from("from: (rare sender)", &rare, None),
        range(None),
        range(Some("proposal")),
    ])
}
