//! The unified inbox at scale: one user with 1,000,000 emails (the contacts bench's
//! mail: half inbound, a fifth of those unread, two fifths already done), the real
//! server over real HTTP. Measures the inbox's server function for the first page and
//! for keyset pages deep into the mail (cursors at 10,000 to 250,000 rows back), the
//! filtered first pages (unread, a channel), search, and the server-rendered `/inbox`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::pages::inbox::ListInbox;
use domain::inbox::Cursor;
use leptos::server_fn::ServerFn;
use sqlx::PgPool;
use uuid::Uuid;

use crate::contacts::{Latency, measure};

pub struct Scale {
    pub contacts: i64,
    pub activities: i64,
    pub requests: usize,
    pub concurrency: usize,
}

/// The demo account the bench signs in as (the in-process fake Google's first mailbox).
const DEMO_EMAIL: &str = "alex.morgan@brightwater-labs.com";

/// How far back the deep pages start, in inbox rows.
const DEPTHS: [i64; 5] = [10_000, 50_000, 100_000, 200_000, 250_000];

/// One request's form: channels, unread, search, cursor.
type Form = [(&'static str, String); 4];

fn form(channels: &str, unread: bool, q: &str, cursor: &str) -> Form {
    [
        ("channels", channels.to_owned()),
        ("unread", unread.to_string()),
        ("q", q.to_owned()),
        ("cursor", cursor.to_owned()),
    ]
}

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let server = crate::serve::start(database_url).await?;
    let address = server.address.clone();
    let (signed_in, user) =
        crate::client::User::sign_in_with_id(&address, DEMO_EMAIL, &server.sql).await?;
    let client = signed_in.client;
    let seeded = Instant::now();
    let open = seed(&server.sql, user, scale).await?;
    let seed_secs = seeded.elapsed().as_secs_f64();
    eprintln!("seeded in {seed_secs:.0} s; {open} rows in the inbox");

    let mut pages = vec![form("", false, "", "")];
    // A quick run (fewer emails) measures the depths it has a full page at.
    for depth in DEPTHS.into_iter().filter(|d| *d + 50 <= open) {
        pages.push(form(
            "",
            false,
            "",
            &cursor_at(&server.sql, user, depth).await?,
        ));
    }
    let filtered = vec![
        form("", true, "", ""),
        form("email", false, "", ""),
        form("email,whatsapp,sms", true, "", ""),
    ];
    let searches = vec![
        form("", false, "subject 4242", ""),
        form("", false, "p777@company", ""),
        form("", false, "snippet", ""),
    ];
    check_pages(&client, &address, &pages).await?;

    // Warm the pool, the plan cache and Postgres's buffers.
    post(
        &client,
        &address,
        &pages,
        scale.requests / 10,
        scale.concurrency,
    )
    .await?;
    let page = post(&client, &address, &pages, scale.requests, scale.concurrency).await?;
    let filter = post(
        &client,
        &address,
        &filtered,
        scale.requests / 2,
        scale.concurrency,
    )
    .await?;
    let search = post(
        &client,
        &address,
        &searches,
        scale.requests / 10,
        scale.concurrency,
    )
    .await?;
    let view_path = vec!["/inbox".to_owned()];
    measure(&client, &address, &view_path, scale.requests / 10, 1).await?;
    let view = measure(
        &client,
        &address,
        &view_path,
        scale.requests / 2,
        scale.concurrency,
    )
    .await?;
    let index_scans: i64 = sqlx::query_scalar(
        "select idx_scan from pg_stat_user_indexes where indexrelname = 'activities_inbox'",
    )
    .fetch_one(&server.sql)
    .await?;

    let figures = BTreeMap::from([
        ("inbox.page.p50_ms".to_owned(), page.p50),
        ("inbox.page.p99_ms".to_owned(), page.p99),
        ("inbox.filtered.p50_ms".to_owned(), filter.p50),
        ("inbox.filtered.p99_ms".to_owned(), filter.p99),
        ("inbox.search.p50_ms".to_owned(), search.p50),
        ("inbox.search.p99_ms".to_owned(), search.p99),
        ("inbox.view.p50_ms".to_owned(), view.p50),
        ("inbox.view.p99_ms".to_owned(), view.p99),
        ("inbox.seed_s".to_owned(), seed_secs),
    ]);
    let row = |name: &str, l: &Latency| {
        format!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |\n",
            l.p50, l.p99, l.max
        )
    };
    let markdown = format!(
        "One user with {} emails ({open} in the inbox: inbound, not done; a fifth of \
         the inbound unread); requests from {} concurrent clients over HTTP to the real \
         server (release build), after a warm-up, on a 2-core machine shared with other \
         work while it ran. Pages are the inbox's server function (`list_inbox`, 50 \
         rows): the first page and keyset pages {} rows back, {} requests. Target: \
         page p99 under 25 ms. The `activities_inbox` partial index served {index_scans} \
         scans.\n\n\
         | request | p50 | p99 | max |\n|---|---|---|---|\n{}{}{}{}\n\
         Seeding (generate_series, the contacts bench's mail, then read and done \
         states): {seed_secs:.0} s.\n",
        scale.activities,
        scale.concurrency,
        DEPTHS.map(|d| d.to_string()).join(", "),
        scale.requests,
        row("first page and deep cursor pages", &page),
        row("filtered first pages (unread, channels)", &filter),
        row("search (subject, sender address, snippet)", &search),
        row("`GET /inbox` (server-rendered page)", &view),
    );
    Ok((figures, markdown))
}

/// The contacts bench's mail, then a fifth of the inbound mail unread and two fifths
/// done. Returns the rows left in the inbox.
async fn seed(pool: &PgPool, user: Uuid, scale: &Scale) -> anyhow::Result<i64> {
    crate::contacts::seed_mail(pool, user, scale.contacts, scale.activities).await?;
    sqlx::query("drop table bench_contacts")
        .execute(pool)
        .await?;
    sqlx::query(
        "update activities set
           labels = case when right(external_id, 1) = '0' then '{INBOX,UNREAD}'::text[] else '{INBOX}' end,
           done_at = case when right(external_id, 1) in ('2', '4') then now() end
         where user_id = $1 and direction = 'inbound'",
    )
    .bind(user)
    .execute(pool)
    .await?;
    sqlx::query("vacuum analyze activities")
        .execute(pool)
        .await?;
    Ok(sqlx::query_scalar(
        "select count(*) from activities
         where user_id = $1 and direction = 'inbound' and done_at is null",
    )
    .bind(user)
    .fetch_one(pool)
    .await?)
}

/// The cursor that starts a page `depth` rows into the inbox.
async fn cursor_at(pool: &PgPool, user: Uuid, depth: i64) -> anyhow::Result<String> {
    let (occurred_at, id) = sqlx::query_as(
        "select occurred_at, id from activities
         where user_id = $1 and done_at is null and dismissed_at is null and deleted_at is null
           and (direction = 'inbound' or channel = 'meeting')
         order by occurred_at desc, id desc offset $2 limit 1",
    )
    .bind(user)
    .bind(depth - 1)
    .fetch_one(pool)
    .await?;
    Ok(Cursor { occurred_at, id }.to_string())
}

/// Every measured page answers 50 rows.
async fn check_pages(
    client: &reqwest::Client,
    address: &str,
    forms: &[Form],
) -> anyhow::Result<()> {
    for form in forms {
        let page: api::inbox::InboxPage = send(client, address, form).await?.json().await?;
        anyhow::ensure!(
            page.items.len() == api::inbox::PAGE_SIZE && page.next.is_some(),
            "a page of {} rows for {form:?}",
            page.items.len()
        );
    }
    Ok(())
}

async fn send(
    client: &reqwest::Client,
    address: &str,
    form: &Form,
) -> anyhow::Result<reqwest::Response> {
    let response = client
        .post(format!("{address}{}", ListInbox::PATH))
        .header("origin", address)
        .header("accept", "application/json")
        .form(form)
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "list_inbox answered {}",
        response.status()
    );
    Ok(response)
}

/// `requests` calls of the inbox's server function cycling through `forms`, from
/// `concurrency` clients at once.
async fn post(
    client: &reqwest::Client,
    address: &str,
    forms: &[Form],
    requests: usize,
    concurrency: usize,
) -> anyhow::Result<Latency> {
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (client, address) = (client.clone(), address.to_owned());
        let mine: Vec<Form> = (worker..requests)
            .step_by(concurrency)
            .map(|i| forms[i % forms.len()].clone())
            .collect();
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(mine.len());
            for form in mine {
                let started = Instant::now();
                send(&client, &address, &form).await?.bytes().await?;
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
