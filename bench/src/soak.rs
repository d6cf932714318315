//! `bench soak`: a bounded run of everything at once. The real `server serve` (no workers
//! inside) and one `server worker` process (2 workers) run as children on 127.0.0.1
//! against a fake Google in this process. Two users sign in over HTTP and, for the whole
//! run, each has concurrent loops of webhooks (unique external ids, some retried), new
//! Gmail mail plus "Sync now", file and mbox uploads, Ask questions and page loads. The
//! worker is SIGKILLed and restarted at a third and two thirds of the run, each time
//! while a full resync runs and activities are mid-processing. Afterwards,
//! once processing has settled (a bounded poll), it checks with SQL that every accepted
//! webhook, every Gmail message and every uploaded file or mbox message is stored
//! exactly once, that no answer to one user held the other's marker, that no request
//! failed with a 5xx, and that the server's and worker's RSS (sampled every second)
//! stayed within a budget above idle.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::pages::channels::CreateChannel;
use app::pages::contacts::CreateContact;
use app::pages::settings::RequestSync;
use fakes::google::sign_in::{OAuthClient, access_token};
use fakes::google::{Control, NewMessage, RunningFakeGoogle};
use reqwest::multipart::{Form, Part};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::child::{RssSampler, ServerProcess, free_port, idle_rss_mib};
use crate::client::{CLIENT_ID, CLIENT_SECRET, User, fake_google, server_env};
use crate::results::ChecksFailed;

pub struct Scale {
    pub seconds: u64,
    /// Largest RSS growth above idle allowed for the server and for the worker.
    pub rss_budget_mib: f64,
}

/// One of the two users: who they are and the marker every piece of their data carries.
struct Person {
    name: &'static str,
    email: &'static str,
    marker: &'static str,
    messages: usize,
    seed: u64,
}

static PEOPLE: [Person; 2] = [
    Person {
        name: "Avery Soak",
        email: "avery.soak@example.com",
        marker: "qzsoakalpha",
        messages: 300,
        seed: 11,
    },
    Person {
        name: "Blake Soak",
        email: "blake.soak@example.com",
        marker: "qzsoakbravo",
        messages: 200,
        seed: 12,
    },
];

/// What one user's loops did.
#[derive(Default)]
struct Tally {
    requests: u64,
    webhooks_posted: u64,
    webhooks_retried: u64,
    webhooks_rate_limited: u64,
    webhook_ids: HashSet<String>,
    mail_appended: u64,
    syncs_requested: u64,
    files_accepted: u64,
    mbox_uploads_accepted: u64,
    mbox_subjects: Vec<String>,
    uploads_refused_busy: u64,
    asks: u64,
    pages: u64,
    server_errors: Vec<String>,
    other_failures: Vec<String>,
    leaks: Vec<String>,
    /// Answers that held this user's own marker: the leak check is not vacuous.
    own_marker_seen: u64,
}

/// A signed-in user, their resources and the other user's marker to look out for.
struct Session {
    user: User,
    me: &'static Person,
    other_marker: &'static str,
    channels: Vec<(Uuid, String)>,
    contact: Uuid,
    other_contact: Uuid,
    google_account: Uuid,
    id: Uuid,
    tally: Mutex<Tally>,
}

impl Session {
    fn tally(&self) -> std::sync::MutexGuard<'_, Tally> {
        self.tally.lock().expect("tally")
    }

    /// Checks one answer: counts it, and records a 5xx or the other user's marker.
    fn saw(&self, what: &str, status: u16, body: &str) {
        let mut tally = self.tally();
        tally.requests += 1;
        if status >= 500 {
            tally
                .server_errors
                .push(format!("{what}: {status} {}", first(body)));
        }
        if body.contains(self.other_marker) {
            tally.leaks.push(format!("{what} ({status})"));
        }
        if body.contains(self.me.marker) {
            tally.own_marker_seen += 1;
        }
    }

    fn failed(&self, what: &str, error: impl std::fmt::Display) {
        self.tally().other_failures.push(format!("{what}: {error}"));
    }

    /// An answer checked by [`Session::saw`], or `None` (recorded) when none came.
    fn answered(&self, what: &str, sent: anyhow::Result<(u16, String)>) -> Option<(u16, String)> {
        match sent {
            Ok((status, body)) => {
                self.saw(what, status, &body);
                Some((status, body))
            }
            Err(e) => {
                self.failed(what, e);
                None
            }
        }
    }

    /// An answer the loop did not expect; a 5xx is already counted by [`Session::saw`].
    fn unexpected(&self, what: &str, status: u16, body: &str) {
        if status < 500 {
            self.failed(what, format!("{status} {}", first(body)));
        }
    }
}

/// The status and body of a sent request.
async fn read(sent: reqwest::Result<reqwest::Response>) -> anyhow::Result<(u16, String)> {
    let response = sent?;
    let status = response.status().as_u16();
    Ok((status, response.text().await.unwrap_or_default()))
}

fn first(text: &str) -> String {
    text.chars().take(200).collect()
}

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let google = fake_google(
        &PEOPLE
            .each_ref()
            .map(|p| (p.name, p.email, p.messages, p.seed)),
    )
    .await?;
    let data = tempfile::tempdir()?;
    let port = free_port()?;
    let address = format!("http://127.0.0.1:{port}");
    let mut env = server_env(database_url, data.path(), google.base_url(), port);
    env.extend(
        [
            ("RAPPORT_SYNC_INTERVAL_SECS", "10"),
            // A killed worker's jobs and claims come back quickly.
            ("RAPPORT_JOB_LEASE_SECS", "5"),
            ("RAPPORT_PROCESSING_LEASE_SECS", "10"),
            // Each processed activity's transaction stays open 20 ms (a test setting), so
            // a kill finds activities mid-processing.
            ("RAPPORT_TEST_PROCESSING_PAUSE_MS", "20"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let mut server_env = env.clone();
    server_env.insert("RAPPORT_WORKERS".into(), "0".into());
    let mut worker_env = env;
    worker_env.insert("RAPPORT_WORKERS".into(), "2".into());

    let mut server = ServerProcess::start("serve", "server", &server_env, data.path())?;
    server
        .wait_healthy(&address, Duration::from_secs(60))
        .await?;
    let mut worker = ServerProcess::start("worker", "worker", &worker_env, data.path())?;
    let server_rss = RssSampler::start(server.pid(), Duration::from_secs(1));
    let worker_rss = RssSampler::start(worker.pid(), Duration::from_secs(1));
    let sql = PgPool::connect(database_url).await?;

    // Sign in both, give each two channels and a contact, and let the first syncs end.
    let mut users = Vec::new();
    for person in &PEOPLE {
        users.push(User::sign_in(&address, person.email).await?);
    }
    let mut sessions = Vec::new();
    let mut contacts = Vec::new();
    for (user, person) in users.iter().zip(&PEOPLE) {
        let (status, body) = user
            .server_fn::<CreateContact>(&[
                ("name", &format!("Pat Contact {}", person.marker)),
                ("email", &format!("pat.{}@example.com", person.marker)),
            ])
            .await?;
        anyhow::ensure!(status == 200, "create contact: {status} {body}");
        contacts.push(serde_json::from_str::<Uuid>(&body)?);
    }
    for (i, (user, person)) in users.into_iter().zip(&PEOPLE).enumerate() {
        let mut channels = Vec::new();
        for kind in ["sms", "email"] {
            let (status, body) = user
                .server_fn::<CreateChannel>(&[
                    ("name", &format!("soak {kind} {}", person.marker)),
                    ("provider", "generic"),
                    ("default_channel", kind),
                    ("default_direction", "inbound"),
                ])
                .await?;
            anyhow::ensure!(status == 200, "create channel: {status} {body}");
            let issued: serde_json::Value = serde_json::from_str(&body)?;
            channels.push((
                issued["channel_id"].as_str().unwrap_or_default().parse()?,
                issued["key"].as_str().unwrap_or_default().to_owned(),
            ));
        }
        let (id, google_account): (Uuid, Uuid) = sqlx::query_as(
            "select u.id, a.id from users u join accounts a on a.user_id = u.id
             where u.email = $1 and a.provider = 'google'",
        )
        .bind(person.email)
        .fetch_one(&sql)
        .await?;
        sessions.push(Arc::new(Session {
            user,
            me: person,
            other_marker: PEOPLE[1 - i].marker,
            channels,
            contact: contacts[i],
            other_contact: contacts[1 - i],
            google_account,
            id,
            tally: Mutex::default(),
        }));
    }
    let settle_started = Instant::now();
    settle(&sql, &google, &mut worker, Duration::from_secs(300)).await?;
    eprintln!(
        "soak: signed in, first syncs settled in {:.1} s",
        settle_started.elapsed().as_secs_f64()
    );
    let server_idle = idle_rss_mib(server.pid(), 12).await;
    let worker_idle = idle_rss_mib(worker.pid(), 12).await;
    server_rss.reset();
    worker_rss.reset();
    eprintln!("soak: idle RSS server {server_idle:.1} MiB, worker {worker_idle:.1} MiB");

    // The load.
    let stop = CancellationToken::new();
    let mut loops = tokio::task::JoinSet::new();
    for session in &sessions {
        let control = google.control();
        let s = session.clone();
        let st = stop.clone();
        loops.spawn(async move { webhooks(&s, &st).await });
        let s = session.clone();
        let st = stop.clone();
        loops.spawn(async move { gmail(&s, &control, &st).await });
        let s = session.clone();
        let st = stop.clone();
        loops.spawn(async move { uploads(&s, &st).await });
        let s = session.clone();
        let st = stop.clone();
        loops.spawn(async move { asks(&s, &st).await });
        let s = session.clone();
        let st = stop.clone();
        loops.spawn(async move { pages(&s, &st).await });
    }
    let started = Instant::now();
    let run_for = Duration::from_secs(scale.seconds);
    let mut kills = Vec::new();
    for k in 1..=2_u32 {
        tokio::time::sleep_until((started + run_for * k / 3).into()).await;
        server.ensure_running()?;
        worker.ensure_running()?;
        // Kill it busy: a full resync of one user's Gmail running and activities being
        // processed (or whatever of that a bounded wait saw).
        let s = &sessions[(k as usize - 1) % sessions.len()];
        let (status, body) = s
            .user
            .server_fn::<RequestSync>(&[
                ("account_id", &s.google_account.to_string()),
                ("full", "true"),
            ])
            .await?;
        s.saw("full resync", status, &body);
        let (syncing, processing) = wait_busy(&sql, Duration::from_secs(15)).await?;
        worker.kill().await?;
        let at = started.elapsed().as_secs_f64();
        kills.push(format!(
            "{at:.0} s (sync job running: {syncing}, activities processing: {processing})"
        ));
        eprintln!(
            "soak: worker SIGKILLed at {at:.0} s (sync running: {syncing}, processing: {processing}); restarting"
        );
        // Time must pass here: the worker stays dead for a moment while load goes on.
        tokio::time::sleep(Duration::from_secs(1)).await;
        worker = ServerProcess::start("worker", "worker", &worker_env, data.path())?;
        worker_rss.follow(worker.pid());
    }
    tokio::time::sleep_until((started + run_for).into()).await;
    stop.cancel();
    while let Some(done) = loops.join_next().await {
        done?;
    }
    let load_seconds = started.elapsed().as_secs_f64();
    eprintln!("soak: load stopped after {load_seconds:.0} s; settling");

    // Settle: a last "Sync now" for each, then wait for everything to be processed.
    for s in &sessions {
        let (status, body) = s
            .user
            .server_fn::<RequestSync>(&[("account_id", &s.google_account.to_string())])
            .await?;
        s.saw("final sync request", status, &body);
    }
    let settle_started = Instant::now();
    let settled = settle(&sql, &google, &mut worker, Duration::from_secs(600)).await;
    let settle_seconds = settle_started.elapsed().as_secs_f64();
    server.ensure_running()?;
    let server_stats = server_rss.stats();
    let worker_stats = worker_rss.stats();
    server_rss.stop();
    worker_rss.stop();

    // The checks.
    let mut problems = Vec::new();
    if let Err(e) = &settled {
        problems.push(format!("processing did not settle: {e}"));
    }
    let mut figures = BTreeMap::new();
    let mut rows = String::new();
    let (mut total_webhooks, mut total_mail, mut total_files, mut total_requests) = (0, 0, 0, 0);
    for s in &sessions {
        let check = check_user(&sql, &google, s).await?;
        problems.extend(check.problems.iter().cloned());
        let tally = s.tally();
        problems.extend(tally.leaks.iter().map(|l| {
            format!(
                "{}'s answer to {l} held {}'s marker",
                s.me.email, s.other_marker
            )
        }));
        problems.extend(
            tally
                .server_errors
                .iter()
                .map(|e| format!("{}: {e}", s.me.email)),
        );
        if tally.own_marker_seen == 0 {
            problems.push(format!(
                "{}: no answer showed the user's own marker, so the leak check proves nothing",
                s.me.email
            ));
        }
        total_webhooks += tally.webhook_ids.len();
        total_mail += check.gmail_listed;
        total_files += tally.files_accepted;
        total_requests += tally.requests;
        rows.push_str(&format!(
            "| {} | {} of {} posted ({} retries, {} rate-limited) | {} listed ({} appended, {} Sync now) | {} files, {} mbox ({} messages); {} busy (429) | {} | {} | {} ({} with the own marker) | {} | {} |\n",
            s.me.email,
            tally.webhook_ids.len(),
            tally.webhooks_posted,
            tally.webhooks_retried,
            tally.webhooks_rate_limited,
            check.gmail_listed,
            tally.mail_appended,
            tally.syncs_requested,
            tally.files_accepted,
            tally.mbox_uploads_accepted,
            tally.mbox_subjects.len(),
            tally.uploads_refused_busy,
            tally.asks,
            tally.pages,
            tally.requests,
            tally.own_marker_seen,
            tally.leaks.len(),
            tally.other_failures.len(),
        ));
        for f in tally.other_failures.iter().take(5) {
            eprintln!("soak: {}: {f}", s.me.email);
        }
    }
    let server_growth = server_stats.max_mib - server_idle;
    let worker_growth = worker_stats.max_mib - worker_idle;
    if server_growth > scale.rss_budget_mib {
        problems.push(format!(
            "server RSS rose {server_growth:.0} MiB above idle (budget {} MiB)",
            scale.rss_budget_mib
        ));
    }
    if worker_growth > scale.rss_budget_mib {
        problems.push(format!(
            "worker RSS rose {worker_growth:.0} MiB above idle (budget {} MiB)",
            scale.rss_budget_mib
        ));
    }
    let leaks: usize = sessions.iter().map(|s| s.tally().leaks.len()).sum();
    let server_errors: usize = sessions.iter().map(|s| s.tally().server_errors.len()).sum();
    let dead: i64 = sqlx::query_scalar("select count(*) from activities where state = 'dead'")
        .fetch_one(&sql)
        .await?;
    let dead_jobs: i64 = sqlx::query_scalar("select count(*) from jobs where state = 'dead'")
        .fetch_one(&sql)
        .await?;
    // Evidence that the kills interrupted work that was then taken over and redone.
    let (activities_reclaimed, jobs_reclaimed): (i64, i64) = sqlx::query_as(
        "select (select count(*) from activities where attempts > 1),
                (select count(*) from jobs where attempts > 1)",
    )
    .fetch_one(&sql)
    .await?;
    for (key, value) in [
        (
            "soak_activities_claimed_more_than_once",
            activities_reclaimed as f64,
        ),
        ("soak_jobs_claimed_more_than_once", jobs_reclaimed as f64),
        ("soak_seconds", load_seconds),
        ("soak_settle_seconds", settle_seconds),
        ("soak_requests", total_requests as f64),
        ("soak_webhooks_accepted", total_webhooks as f64),
        ("soak_gmail_messages", total_mail as f64),
        ("soak_files_accepted", total_files as f64),
        ("soak_worker_kills", kills.len() as f64),
        ("soak_isolation_leaks", leaks as f64),
        ("soak_server_errors", server_errors as f64),
        ("soak_dead_activities", dead as f64),
        ("soak_dead_jobs", dead_jobs as f64),
        ("soak_server_rss_idle_mib", server_idle),
        ("soak_server_rss_max_mib", server_stats.max_mib),
        ("soak_server_rss_end_mib", server_stats.last_mib),
        ("soak_worker_rss_idle_mib", worker_idle),
        ("soak_worker_rss_max_mib", worker_stats.max_mib),
        ("soak_worker_rss_end_mib", worker_stats.last_mib),
        ("soak_checks_failed", problems.len() as f64),
    ] {
        figures.insert(key.to_owned(), value);
    }
    let verdict = if problems.is_empty() {
        "All checks passed.".to_owned()
    } else {
        format!(
            "**{} checks failed:**\n\n{}",
            problems.len(),
            problems
                .iter()
                .take(20)
                .map(|p| format!("- {p}\n"))
                .collect::<String>()
        )
    };
    let markdown = format!(
        "{load_seconds:.0} s of load from two users signed in over HTTP against the real \
         `server serve` (no workers inside) and one `server worker` process (2 workers), \
         SIGKILLed and restarted at {kills}; a fake Google in the bench process; every \
         count below was checked with SQL after processing settled ({settle_seconds:.1} s): \
         each accepted webhook (by external id), each message Gmail lists, each uploaded \
         file and each mbox message stored exactly once; no answer to one user held the \
         other's marker.\n\n\
         | user | webhooks accepted | Gmail messages | uploads | Ask | pages | requests | leaks | other failures |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|\n{rows}\n\
         | process | idle RSS | max RSS | end RSS | max above idle |\n|---|---:|---:|---:|---:|\n\
         | server | {server_idle:.0} MiB | {:.0} MiB | {:.0} MiB | {server_growth:.0} MiB |\n\
         | worker | {worker_idle:.0} MiB | {:.0} MiB | {:.0} MiB | {worker_growth:.0} MiB |\n\n\
         RSS sampled every second ({} samples for the server); budget {} MiB above idle. \
         Dead activities: {dead}, dead jobs: {dead_jobs}, 5xx answers: {server_errors}. \
         Claimed more than once (a killed worker's claim taken over after its lease, or a retry): \
         {activities_reclaimed} activities, {jobs_reclaimed} jobs.\n\n{verdict}\n",
        server_stats.max_mib,
        server_stats.last_mib,
        worker_stats.max_mib,
        worker_stats.last_mib,
        server_stats.samples,
        scale.rss_budget_mib,
        kills = kills.join(" and "),
    );
    worker.stop(Duration::from_secs(20)).await?;
    server.stop(Duration::from_secs(20)).await?;
    sql.close().await;
    println!("{markdown}");
    ChecksFailed::unless_empty(problems, figures, markdown)
}

/// Waits (bounded) until Gmail's every listed message is stored or filtered, no activity
/// waits for processing and no job is due or running.
async fn settle(
    sql: &PgPool,
    google: &RunningFakeGoogle,
    worker: &mut ServerProcess,
    timeout: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        worker.ensure_running()?;
        let mut missing = 0;
        for p in &PEOPLE {
            let listed = gmail_ids(google, p.email).await?;
            let known: HashSet<String> = sqlx::query_scalar(
                "select l.external_id from sync_ledger l join accounts a on a.id = l.account_id
                 join users u on u.id = a.user_id
                 where u.email = $1 and a.provider = 'google' and l.outcome in ('imported', 'filtered')",
            )
            .bind(p.email)
            .fetch_all(sql)
            .await?
            .into_iter()
            .collect();
            missing += listed.iter().filter(|id| !known.contains(*id)).count();
        }
        let (jobs, activities): (i64, i64) = sqlx::query_as(
            "select (select count(*) from jobs where state = 'running' or (state = 'queued' and run_at <= now())),
                    (select count(*) from activities where state in ('raw', 'processing'))",
        )
        .fetch_one(sql)
        .await?;
        if missing == 0 && jobs == 0 && activities == 0 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < timeout,
            "after {timeout:?}: {missing} Gmail messages not in the ledger, {jobs} jobs due or running, {activities} activities waiting"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Polls (bounded) until a Gmail sync job is running and an activity is being processed;
/// says which of the two it saw.
async fn wait_busy(sql: &PgPool, timeout: Duration) -> anyhow::Result<(bool, bool)> {
    let started = Instant::now();
    loop {
        let seen: (bool, bool) = sqlx::query_as(
            "select exists(select 1 from jobs where kind = 'gmail.sync' and state = 'running'),
                    exists(select 1 from activities where state = 'processing')",
        )
        .fetch_one(sql)
        .await?;
        if (seen.0 && seen.1) || started.elapsed() >= timeout {
            return Ok(seen);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every message id Gmail lists for `email` (SPAM and TRASH excluded, as the sync does).
async fn gmail_ids(google: &RunningFakeGoogle, email: &str) -> anyhow::Result<Vec<String>> {
    let client = OAuthClient {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
    };
    let token = access_token(google.base_url(), &client, email)
        .await
        .map_err(|e| anyhow::anyhow!("a token for {email}: {e}"))?;
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    let mut page: Option<String> = None;
    loop {
        let mut request = http
            .get(format!("{}/gmail/v1/users/me/messages", google.base_url()))
            .bearer_auth(&token)
            .query(&[("maxResults", "500")]);
        if let Some(p) = &page {
            request = request.query(&[("pageToken", p)]);
        }
        let body: serde_json::Value = request.send().await?.error_for_status()?.json().await?;
        ids.extend(
            body["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|m| m["id"].as_str().map(str::to_owned)),
        );
        match body["nextPageToken"].as_str() {
            Some(next) => page = Some(next.to_owned()),
            None => return Ok(ids),
        }
    }
}

struct UserCheck {
    gmail_listed: usize,
    problems: Vec<String>,
}

/// Exactly-once and isolation checks for one user, with SQL.
async fn check_user(
    sql: &PgPool,
    google: &RunningFakeGoogle,
    s: &Session,
) -> anyhow::Result<UserCheck> {
    let who = s.me.email;
    let mut problems = Vec::new();
    let (webhook_ids, mbox_subjects, files_accepted) = {
        let t = s.tally();
        (
            t.webhook_ids.clone(),
            t.mbox_subjects.clone(),
            t.files_accepted,
        )
    };
    // Webhooks: every accepted external id stored exactly once.
    let stored: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "select ac.external_id, count(*) from activities ac join accounts a on a.id = ac.account_id
         where ac.user_id = $1 and a.external_id like 'channel:%' group by ac.external_id",
    )
    .bind(s.id)
    .fetch_all(sql)
    .await?
    .into_iter()
    .collect();
    let lost = webhook_ids
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .count();
    let twice = stored.values().filter(|&&n| n > 1).count();
    if lost > 0 || twice > 0 {
        problems.push(format!(
            "{who}: of {} accepted webhooks, {lost} not stored and {twice} stored more than once",
            webhook_ids.len()
        ));
    }
    // Gmail: every listed message stored once (or filtered by the ledger), none twice.
    let listed = gmail_ids(google, who).await?;
    let activities: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "select external_id, count(*) from activities where account_id = $1 group by external_id",
    )
    .bind(s.google_account)
    .fetch_all(sql)
    .await?
    .into_iter()
    .collect();
    let filtered: HashSet<String> = sqlx::query_scalar(
        "select external_id from sync_ledger where account_id = $1 and outcome = 'filtered'",
    )
    .bind(s.google_account)
    .fetch_all(sql)
    .await?
    .into_iter()
    .collect();
    let missing = listed
        .iter()
        .filter(|id| !activities.contains_key(*id) && !filtered.contains(*id))
        .count();
    let twice = activities.values().filter(|&&n| n > 1).count();
    if missing > 0 || twice > 0 {
        problems.push(format!(
            "{who}: of {} Gmail messages, {missing} not stored and {twice} stored more than once",
            listed.len()
        ));
    }
    // Uploads: one file activity per accepted upload; each mbox message once.
    let files: i64 = sqlx::query_scalar(
        "select count(*) from activities where user_id = $1 and channel = 'file'",
    )
    .bind(s.id)
    .fetch_one(sql)
    .await?;
    if files != files_accepted as i64 {
        problems.push(format!(
            "{who}: {files_accepted} file uploads accepted, {files} file activities stored"
        ));
    }
    let mbox: HashMap<String, i64> = sqlx::query_as::<_, (String, i64)>(
        "select ac.subject, count(*) from activities ac join accounts a on a.id = ac.account_id
         where ac.user_id = $1 and a.provider = 'mbox' and ac.subject is not null group by ac.subject",
    )
    .bind(s.id)
    .fetch_all(sql)
    .await?
    .into_iter()
    .collect();
    let wrong = mbox_subjects
        .iter()
        .filter(|subject| mbox.get(*subject) != Some(&1))
        .count();
    if wrong > 0 {
        problems.push(format!(
            "{who}: {wrong} of {} uploaded mbox messages not stored exactly once",
            mbox_subjects.len()
        ));
    }
    // Isolation in the rows themselves: none of this user's holds the other's marker.
    let pattern = format!("%{}%", s.other_marker);
    let foreign: i64 = sqlx::query_scalar(
        "select (select count(*) from activities where user_id = $1
                   and (subject ilike $2 or body_text ilike $2 or raw_payload::text ilike $2))
              + (select count(*) from contacts where user_id = $1 and display_name ilike $2)",
    )
    .bind(s.id)
    .bind(&pattern)
    .fetch_one(sql)
    .await?;
    if foreign > 0 {
        problems.push(format!(
            "{who}: {foreign} rows hold the other user's marker"
        ));
    }
    Ok(UserCheck {
        gmail_listed: listed.len(),
        problems,
    })
}

/// Generic-JSON webhooks to both of the user's channels, each with a new external id;
/// every tenth repeats an accepted one (a provider's retry), which must not duplicate.
async fn webhooks(s: &Session, stop: &CancellationToken) {
    let marker = s.me.marker;
    let mut n = 0_u64;
    let mut accepted: Vec<(usize, String)> = Vec::new();
    while !stop.is_cancelled() {
        n += 1;
        let (channel, id) = match accepted.get((n as usize * 7) % accepted.len().max(1)) {
            Some(again) if n.is_multiple_of(10) => again.clone(),
            _ => ((n % 2) as usize, format!("soak-{marker}-{n}")),
        };
        let retry = id != format!("soak-{marker}-{n}");
        let person = n % 40;
        let from = if channel == 0 {
            serde_json::json!({"phone": format!("+1415555{:04}", 1000 + person), "name": format!("Caller {person} {marker}")})
        } else {
            serde_json::json!({"email": format!("writer{person}.{marker}@example.com"), "name": format!("Writer {person} {marker}")})
        };
        let payload = serde_json::json!({
            "external_id": id,
            "from": from,
            "to": {"email": s.me.email},
            "subject": format!("soak {marker} {n}"),
            "text": format!("soak webhook {marker} {n}"),
        });
        let (channel_id, key) = &s.channels[channel];
        let sent = s
            .user
            .client
            .post(format!("{}/ingest/{channel_id}", s.user.address))
            .bearer_auth(key)
            .json(&payload)
            .send()
            .await;
        if let Some((status, body)) = s.answered("webhook", read(sent).await) {
            let mut tally = s.tally();
            tally.webhooks_posted += 1;
            if (200..300).contains(&status) {
                if retry {
                    tally.webhooks_retried += 1;
                } else {
                    tally.webhook_ids.insert(id.clone());
                    accepted.push((channel, id));
                }
            } else if status == 429 {
                tally.webhooks_rate_limited += 1;
            } else {
                drop(tally);
                s.unexpected("webhook", status, &body);
            }
        }
        pause(stop, Duration::from_millis(100)).await;
    }
}

/// New mail in the user's fake Gmail every 2 s, and "Sync now" every 15 s (the worker's
/// scheduler also syncs every 10 s).
async fn gmail(s: &Session, control: &Control, stop: &CancellationToken) {
    let marker = s.me.marker;
    let mut n = 0_u64;
    while !stop.is_cancelled() {
        n += 1;
        let raw = format!(
            "From: Mailer {k} {marker} <mailer{k}.{marker}@example.com>\r\nTo: {owner}\r\n\
             Subject: soak mail {marker} {n}\r\nMessage-ID: <soak-mail-{marker}-{n}@bench.example>\r\n\
             Date: {date}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsoak mail {marker} {n}\r\n",
            k = n % 25,
            owner = s.me.email,
            date = chrono::Utc::now().to_rfc2822(),
        );
        match control.append(s.me.email, NewMessage::Raw(raw.into_bytes()), &["INBOX"]) {
            Ok(_) => s.tally().mail_appended += 1,
            Err(e) => s.failed("append mail", e),
        }
        if n.is_multiple_of(8) {
            let sent = s
                .user
                .server_fn::<RequestSync>(&[("account_id", &s.google_account.to_string())])
                .await;
            match s.answered("sync now", sent) {
                Some((200, _)) => s.tally().syncs_requested += 1,
                Some((status, body)) => s.unexpected("sync now", status, &body),
                None => {}
            }
        }
        pause(stop, Duration::from_secs(2)).await;
    }
}

/// A small file to the user's contact every 1.5 s; every tenth round a three-message
/// mbox to Settings -> Import mail instead.
async fn uploads(s: &Session, stop: &CancellationToken) {
    let marker = s.me.marker;
    let mut n = 0_u64;
    while !stop.is_cancelled() {
        n += 1;
        if n.is_multiple_of(10) {
            let subjects: Vec<String> = (0..3)
                .map(|i| format!("soak mbox {marker} {n}-{i}"))
                .collect();
            let mut mbox = String::new();
            for (i, subject) in subjects.iter().enumerate() {
                mbox.push_str(&format!(
                    "From someone@example.com Thu Jan 02 03:04:05 +0000 2025\n\
                     From: Old Friend {i} {marker} <old{i}.{marker}@example.com>\nTo: {owner}\n\
                     Subject: {subject}\nMessage-ID: <soak-mbox-{marker}-{n}-{i}@bench.example>\n\
                     Date: Thu, 2 Jan 2025 03:04:05 +0000\n\nan old message {marker}\n\n",
                    owner = s.me.email,
                ));
            }
            let form = Form::new().part(
                "file",
                Part::bytes(mbox.into_bytes()).file_name(format!("soak {n}.mbox")),
            );
            let sent = s
                .user
                .client
                .post(format!("{}/settings/import-mbox", s.user.address))
                .header("origin", &s.user.address)
                .header("accept", "application/json")
                .multipart(form)
                .send()
                .await;
            match s.answered("mbox upload", read(sent).await) {
                Some((202, _)) => {
                    let mut tally = s.tally();
                    tally.mbox_uploads_accepted += 1;
                    tally.mbox_subjects.extend(subjects);
                }
                Some((429, _)) => s.tally().uploads_refused_busy += 1,
                Some((status, body)) => s.unexpected("mbox upload", status, &body),
                None => {}
            }
        } else {
            let content = format!("soak file {marker} {n} {}\n", Uuid::new_v4()).repeat(64);
            let part = Part::bytes(content.into_bytes())
                .file_name(format!("soak-{marker}-{n}.txt"))
                .mime_str("text/plain")
                .expect("a valid media type");
            let sent = s
                .user
                .client
                .post(format!(
                    "{}/api/contacts/{}/files",
                    s.user.address, s.contact
                ))
                .header("origin", &s.user.address)
                .multipart(Form::new().part("file", part))
                .send()
                .await;
            match s.answered("file upload", read(sent).await) {
                Some((201, _)) => s.tally().files_accepted += 1,
                Some((429, _)) => s.tally().uploads_refused_busy += 1,
                Some((status, body)) => s.unexpected("file upload", status, &body),
                None => {}
            }
        }
        pause(stop, Duration::from_millis(1500)).await;
    }
}

/// An Ask question every 3 s (the offline engine), its whole streamed answer read.
async fn asks(s: &Session, stop: &CancellationToken) {
    let questions = [
        "who haven't I replied to this week?".to_owned(),
        "who emailed me the most this month?".to_owned(),
        format!("what did Pat Contact {} send me?", s.me.marker),
        "who are my strongest relationships?".to_owned(),
        "when did I last hear from Writer 3?".to_owned(),
    ];
    let mut n = 0;
    while !stop.is_cancelled() {
        let question = &questions[n % questions.len()];
        n += 1;
        let sent = s
            .user
            .client
            .post(format!("{}/api/ask", s.user.address))
            .header("origin", &s.user.address)
            .json(&serde_json::json!({ "question": question }))
            .send()
            .await;
        if let Some((status, body)) = s.answered("ask", read(sent).await) {
            if status == 200 && body.contains("event: ") {
                s.tally().asks += 1;
            } else {
                s.unexpected("ask", status, &body);
            }
        }
        pause(stop, Duration::from_secs(3)).await;
    }
}

/// Page loads, one after another: the user's pages (200 showing their name) and the
/// other user's contact (404).
async fn pages(s: &Session, stop: &CancellationToken) {
    let paths = [
        ("/contacts".to_owned(), 200),
        (format!("/contacts/{}", s.contact), 200),
        ("/timeline".to_owned(), 200),
        ("/settings".to_owned(), 200),
        ("/ask".to_owned(), 200),
        ("/contacts?q=Writer".to_owned(), 200),
        ("/settings/channels".to_owned(), 200),
        (format!("/contacts/{}", s.other_contact), 404),
    ];
    let mut n = 0;
    while !stop.is_cancelled() {
        let (path, expected) = &paths[n % paths.len()];
        n += 1;
        if let Some((status, body)) = s.answered(path, s.user.get(path).await) {
            let shows_me = *expected != 200 || body.contains(s.me.name);
            if status == *expected && shows_me {
                s.tally().pages += 1;
            } else if status < 500 {
                s.failed(
                    path,
                    format!("{status} (expected {expected}, shows the user: {shows_me})"),
                );
            }
        }
        pause(stop, Duration::from_millis(200)).await;
    }
}

/// Waits `period` unless the run stops first.
async fn pause(stop: &CancellationToken, period: Duration) {
    tokio::select! {
        () = stop.cancelled() => {}
        () = tokio::time::sleep(period) => {}
    }
}
