//! Contacts list and contact page latency at scale: one user with 100,000 contacts and
//! 1,000,000 emails (seeded with `generate_series`), the real server over real HTTP,
//! several clients at once.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use domain::{Db, UserId};
use sqlx::PgPool;
use uuid::Uuid;

pub struct Scale {
    pub contacts: i64,
    pub activities: i64,
    pub requests: usize,
    pub concurrency: usize,
}

/// Clients of the crowded list measurement.
const CROWD: usize = 16;
/// How long the crowded measurement runs, in seconds.
const CROWD_SECONDS: u64 = 20;
/// The goal for the list's p99 with [`CROWD`] clients.
const LIST_P99_GOAL_MS: f64 = 25.0;

/// The demo account the bench signs in as (the in-process fake Google's first mailbox).
const DEMO_EMAIL: &str = "alex.morgan@brightwater-labs.com";

/// Seeds, serves, measures; returns the figures and the RESULTS.md section.
pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let server = crate::serve::start(database_url).await?;
    let (address, db) = (server.address.clone(), server.db.clone());

    let (signed_in, user) =
        crate::client::User::sign_in_with_id(&address, DEMO_EMAIL, &server.sql).await?;
    let client = &signed_in.client;
    let seeded = Instant::now();
    let contact_ids = seed(&db, &server.sql, UserId(user), scale).await?;
    let seed_secs = seeded.elapsed().as_secs_f64();
    eprintln!("seeded in {seed_secs:.0} s");

    let lists = list_urls();
    let pages: Vec<String> = contact_ids
        .iter()
        .map(|id| format!("/contacts/{id}"))
        .collect();
    // Warm the pool, the plan cache and Postgres's buffers.
    measure(
        client,
        &address,
        &lists,
        scale.requests / 10,
        scale.concurrency,
    )
    .await?;
    measure(
        client,
        &address,
        &pages,
        scale.requests / 10,
        scale.concurrency,
    )
    .await?;
    crate::statements::report(&server.sql, "warm-up").await?;
    let list = measure(client, &address, &lists, scale.requests, scale.concurrency).await?;
    crate::statements::report(&server.sql, "contacts list").await?;
    let page = measure(client, &address, &pages, scale.requests, scale.concurrency).await?;
    crate::statements::report(&server.sql, "contact page").await?;
    // The goal's load: as many clients as a busy team's browsers, from wrk (a client in
    // its own process, as light as a client can be: the machine's two cores are the
    // server's and PostgreSQL's).
    let script = server.data.path().join("contacts.lua");
    std::fs::write(&script, list_script(&lists, &signed_in.cookie_header()))?;
    let crowded = crate::wrk::Load {
        url: &address,
        script: &script,
        connections: CROWD,
        seconds: CROWD_SECONDS,
    }
    .run()
    .await?;
    anyhow::ensure!(
        crowded.report.failed == 0,
        "{} list requests of {} failed",
        crowded.report.failed,
        crowded.report.requests
    );
    // Machine CPU per page (server, Postgres, wrk and the kernel): the figure the crowded
    // latency follows once both cores are busy, and far steadier than it.
    let cpu_ms_per_page = crate::process::ms_each(
        crowded.busy,
        usize::try_from(crowded.report.requests).unwrap_or(0),
    );
    let crowded = crowded.report;
    crate::statements::report(&server.sql, "contacts list, crowded").await?;

    let figures = BTreeMap::from([
        ("contacts.list.p50_ms".to_owned(), list.p50),
        ("contacts.list.p99_ms".to_owned(), list.p99),
        ("contacts.page.p50_ms".to_owned(), page.p50),
        ("contacts.page.p99_ms".to_owned(), page.p99),
        ("contacts.seed_s".to_owned(), seed_secs),
        (format!("contacts.list.p50_ms_{CROWD}"), crowded.p50_ms),
        (format!("contacts.list.p99_ms_{CROWD}"), crowded.p99_ms),
        (
            format!("contacts.list.cpu_ms_per_page_{CROWD}"),
            cpu_ms_per_page,
        ),
    ]);
    let markdown = format!(
        "One user with {} contacts and {} emails; {} requests per kind from {} concurrent \
         clients over HTTP to the real server (release build), after a warm-up. Times are \
         the full request as the client sees it on 127.0.0.1.\n\n\
         | request | p50 | p99 | max |\n|---|---|---|---|\n\
         | contacts list (mixed search, filters, sorts, pages) | {:.1} ms | {:.1} ms | {:.1} ms |\n\
         | contact page | {:.1} ms | {:.1} ms | {:.1} ms |\n\
         | contacts list, {CROWD} clients at once (wrk, {} s, {} requests) | {:.1} ms | {:.1} ms | {:.1} ms |\n\n\
         With {CROWD} clients (`wrk -t2 -c{CROWD}`, the same list URLs in turn, signed in with \
         the session cookie) the machine spent {cpu_ms_per_page:.2} ms of CPU per list page \
         (all processes and the kernel, from /proc/stat).\n\n\
         Goal: the list's p99 under {LIST_P99_GOAL_MS} ms with {CROWD} clients. Seeding (generate_series, then stats for every contact): {seed_secs:.0} s.\n",
        scale.contacts,
        scale.activities,
        scale.requests,
        scale.concurrency,
        list.p50,
        list.p99,
        list.max,
        page.p50,
        page.p99,
        page.max,
        CROWD_SECONDS,
        crowded.requests,
        crowded.p50_ms,
        crowded.p99_ms,
        crowded.max_ms,
    );
    Ok((figures, markdown))
}

/// The list views people use: default, each sort, search, filters, later pages.
fn list_urls() -> Vec<String> {
    let mut urls = vec![
        "/contacts".to_owned(),
        "/contacts?sort=recent".to_owned(),
        "/contacts?sort=emails".to_owned(),
        "/contacts?sort=name".to_owned(),
        "/contacts?unanswered=1".to_owned(),
        "/contacts?tag=investor".to_owned(),
        "/contacts?q=company17".to_owned(),
        "/contacts?q=ab&sort=recent".to_owned(),
        "/contacts?from=2026-01-01&to=2026-06-30".to_owned(),
    ];
    for page in [2, 5, 20] {
        urls.push(format!("/contacts?page={page}"));
    }
    for name in ["anna", "lee", "p4242@"] {
        urls.push(format!("/contacts?q={name}"));
    }
    urls
}

/// wrk's Lua script: `paths` in turn, each of wrk's threads from its own place in them,
/// with the signed-in user's cookie.
fn list_script(paths: &[String], cookie: &str) -> String {
    let paths: Vec<String> = paths.iter().map(|p| format!("{p:?}")).collect();
    format!(
        r#"local paths = {{ {} }}
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("turn", threads * 7)
end
wrk.headers["Cookie"] = {cookie:?}
function request()
  turn = turn + 1
  return wrk.format("GET", paths[turn % #paths + 1])
end
"#,
        paths.join(", ")
    )
}

/// The mail of [`seed_mail`], then every contact's stats. Returns a sample of contact
/// ids for the page requests.
async fn seed(db: &Db, pool: &PgPool, user: UserId, scale: &Scale) -> anyhow::Result<Vec<Uuid>> {
    seed_mail(pool, user.0, scale.contacts, scale.activities).await?;
    domain::contacts::stats::recompute_all(db.for_user(user)).await?;
    // Recomputing every contact's stats rewrote every row; autovacuum would set the
    // visibility map again within a minute, which the list's index-only scans rely on.
    sqlx::query("vacuum analyze contact_stats")
        .execute(pool)
        .await?;
    let sample: Vec<Uuid> =
        sqlx::query_scalar("select id from bench_contacts where n % ($1::int8 / 500) = 0")
            .bind(scale.contacts)
            .fetch_all(pool)
            .await?;
    sqlx::query("drop table bench_contacts")
        .execute(pool)
        .await?;
    Ok(sample)
}

/// Companies, `contacts` contacts with one email each, and `activities` emails in
/// threads of four spread over two years (alternating in and out; a tenth of the
/// threads with a few busy contacts), each with its sender or recipient; then `vacuum
/// analyze`. Leaves the `bench_contacts` table (`n`, `id`) for the caller to sample and
/// drop. The inbox bench seeds the same mail.
pub(crate) async fn seed_mail(
    pool: &PgPool,
    user: Uuid,
    contacts: i64,
    activities: i64,
) -> anyhow::Result<()> {
    let account: Uuid = sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'mbox', 'bench') returning id",
    )
    .bind(user)
    .fetch_one(pool)
    .await?;
    let statements = [
        "insert into companies (user_id, domain, name)
         select $1, 'company' || g || '.example', 'Company ' || g from generate_series(1, 5000) g",
        "create unlogged table bench_contacts as
         select g as n, gen_random_uuid() as id from generate_series(1, $2::int8) g",
        "insert into contacts (id, user_id, display_name, title, company_id, tags)
         select b.id, $1,
                initcap(substr(md5(b.n::text), 1, 5)) || ' ' || initcap(substr(md5((b.n * 7)::text), 1, 7)),
                case when b.n % 3 = 0 then 'Engineer' end,
                co.id,
                case when b.n % 50 = 0 then array['investor'] else '{}' end
         from bench_contacts b
         left join companies co on co.user_id = $1 and co.domain = 'company' || (b.n % 5000 + 1) || '.example'",
        "insert into contact_identities (user_id, contact_id, kind, value, source)
         select $1, id, 'email', 'p' || n || '@company' || (n % 5000 + 1) || '.example', 'header'
         from bench_contacts",
    ];
    for sql in statements {
        let query = sqlx::query(sql).bind(user);
        let query = if sql.contains("$2") {
            query.bind(contacts)
        } else {
            query
        };
        query.execute(pool).await?;
    }
    // Thread t (four emails, alternating in and out) belongs to contact
    // (t * 7919) mod contacts, or for one thread in ten to one of the first 200.
    sqlx::query(
        "insert into activities (user_id, account_id, external_id, channel, direction, occurred_at,
                                 thread_key, subject, snippet, state)
         select $1, $2, 'bench-' || g, 'email',
                case when g % 2 = 0 then 'inbound' else 'outbound' end,
                now() - ((g / 4) % 730 + 1) * interval '1 day' + (g % 4) * interval '3 hours',
                'thread-' || (g / 4), 'Subject ' || (g / 4), 'A short snippet of the email', 'completed'
         from generate_series(0, $3::int8 - 1) g",
    )
    .bind(user)
    .bind(account)
    .bind(activities)
    .execute(pool)
    .await?;
    sqlx::query(
        "insert into activity_participants (user_id, activity_id, role, address_kind, address, contact_id, occurred_at)
         select $1, a.id, case when a.direction = 'inbound' then 'from' else 'to' end, 'email',
                'p' || b.n || '@company' || (b.n % 5000 + 1) || '.example', b.id, a.occurred_at
         from activities a
         cross join lateral (select (split_part(a.thread_key, '-', 2))::int8 as t) thread
         join bench_contacts b on b.n = case when thread.t % 10 = 0 then thread.t % 200 + 1
                                             else (thread.t * 7919) % $2 + 1 end
         where a.user_id = $1 and a.account_id = $3",
    )
    .bind(user)
    .bind(contacts)
    .bind(account)
    .execute(pool)
    .await?;
    sqlx::query("vacuum analyze").execute(pool).await?;
    Ok(())
}

pub(crate) struct Latency {
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) max: f64,
}

/// `requests` GETs cycling through `paths`, from `concurrency` clients at once.
pub(crate) async fn measure(
    client: &reqwest::Client,
    address: &str,
    paths: &[String],
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<Latency> {
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let client = client.clone();
        let urls: Vec<String> = (worker..requests)
            .step_by(concurrency)
            .map(|i| format!("{address}{}", paths[i % paths.len()]))
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(urls.len());
            for url in urls {
                let started = Instant::now();
                let response = client.get(&url).send().await?;
                let status = response.status();
                response.bytes().await?;
                anyhow::ensure!(status.is_success(), "{url} answered {status}");
                times.push(started.elapsed());
            }
            anyhow::Ok(times)
        }));
    }
    let mut times: Vec<Duration> = Vec::with_capacity(requests);
    for task in tasks {
        times.extend(task.await??);
    }
    Ok(Latency::of(times))
}

impl Latency {
    /// The percentiles of `times`, in milliseconds.
    pub(crate) fn of(mut times: Vec<Duration>) -> Self {
        times.sort();
        let at = |q: f64| {
            times
                .get(((times.len() as f64 * q).ceil() as usize).saturating_sub(1))
                .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        Self {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
        }
    }
}
