//! Fastmail / JMAP first sync against a real Cyrus IMAP on 127.0.0.1 (`test-servers`),
//! next to a minimal raw JMAP client fetching the same messages from the same server in
//! the same run: `Email/query` + `Email/get` (the same properties and body values) in
//! pages of 50, as many in flight as the sync uses, nothing stored. The raw client runs
//! before and after the sync (it stamps nothing, so both see every message); the faster
//! run is the reference. Target: the first sync at >= 80% of the raw rate.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use domain::crypto::SecretBox;
use domain::jmap::{EMAIL_PROPERTIES, FastmailConnect, HttpJmap, JmapSync, JmapSyncOptions, PAGE};
use domain::{Db, UserId};
use futures::future::try_join_all;
use serde_json::{Value, json};
use test_servers::cyrus::{Cyrus, CyrusUser};

pub struct Scale {
    pub messages: usize,
}

/// One in ten messages is sent mail (from the owner); the rest come from 500 people
/// at 40 companies.
fn message(n: usize) -> (bool, Vec<u8>) {
    let sent = n.is_multiple_of(10);
    let owner = "Ann Bench <bench@mail.example>".to_owned();
    let person = format!("Person {0} <p{0}@corp{1}.example>", n % 500, n % 40);
    let (from, to) = if sent {
        (owner, person)
    } else {
        (person, owner)
    };
    let raw = format!(
        "From: {from}\r\nTo: {to}\r\nSubject: Plan {}\r\nMessage-ID: <bench-{n}@mail.example>\r\n\
         Date: Mon, 1 Dec 2025 {:02}:{:02}:{:02} +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hello,\r\n\r\nThis is message {n} about the quarterly plan. Let us meet on Tuesday.\r\n\r\n\
         Best,\r\n{from}\r\n",
        n / 3,
        (n / 3600) % 24,
        (n / 60) % 60,
        n % 60,
    );
    (sent, raw.into_bytes())
}

async fn seed(cyrus: &Cyrus, user: &CyrusUser, messages: usize) -> anyhow::Result<()> {
    let (mut inbox, mut sent) = (Vec::new(), Vec::new());
    for n in 0..messages {
        let (is_sent, raw) = message(n);
        if is_sent { &mut sent } else { &mut inbox }.push(raw);
    }
    cyrus.append(user, "INBOX", &inbox, &["\\Seen"]).await?;
    cyrus.append(user, "Sent", &sent, &["\\Seen"]).await?;
    Ok(())
}

/// The raw client: every message of Inbox and Sent, pages of 50, `in_flight` at once.
async fn raw_fetch(
    cyrus: &Cyrus,
    user: &CyrusUser,
    in_flight: usize,
) -> anyhow::Result<(usize, f64)> {
    let client = reqwest::Client::new();
    let url = cyrus.session_url();
    let call = async |calls: Value| -> anyhow::Result<Value> {
        let response = client
            .post(&url)
            .basic_auth(&user.name, Some(&user.password))
            .json(&json!({
                "using": ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
                "methodCalls": calls,
            }))
            .send()
            .await?
            .error_for_status()?;
        Ok(response.json().await?)
    };
    let started = Instant::now();
    let boxes =
        call(json!([["Mailbox/get", {"accountId": user.name, "properties": ["role"]}, "m"]]))
            .await?;
    let ids: Vec<String> = boxes["methodResponses"][0][1]["list"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("Mailbox/get: {boxes}"))?
        .iter()
        .filter(|m| matches!(m["role"].as_str(), Some("inbox" | "sent")))
        .filter_map(|m| m["id"].as_str().map(str::to_owned))
        .collect();
    let mut fetched = 0;
    for mailbox in ids {
        let mut position = 0;
        loop {
            let pages = try_join_all((0..in_flight).map(|i| {
                let calls = json!([
                    ["Email/query", {"accountId": user.name, "filter": {"inMailbox": mailbox},
                      "sort": [{"property": "receivedAt", "isAscending": true}],
                      "position": position + i * PAGE, "limit": PAGE}, "q"],
                    ["Email/get", {"accountId": user.name,
                      "#ids": {"resultOf": "q", "name": "Email/query", "path": "/ids"},
                      "properties": EMAIL_PROPERTIES, "fetchTextBodyValues": true,
                      "fetchHTMLBodyValues": true}, "g"],
                ]);
                call(calls)
            }))
            .await?;
            let got: usize = pages
                .iter()
                .map(|p| {
                    p["methodResponses"][1][1]["list"]
                        .as_array()
                        .map_or(0, Vec::len)
                })
                .sum();
            fetched += got;
            position += in_flight * PAGE;
            if got < in_flight * PAGE {
                break;
            }
        }
    }
    Ok((fetched, started.elapsed().as_secs_f64()))
}

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let cyrus = Cyrus::start().await?;
    let mail = cyrus.add_user("bench", "bench-password").await?;
    let seeding = Instant::now();
    seed(&cyrus, &mail, scale.messages).await?;
    let seed_seconds = seeding.elapsed().as_secs_f64();
    eprintln!(
        "jmap: seeded {} messages in {seed_seconds:.1} s",
        scale.messages
    );
    let options = JmapSyncOptions::default();

    let (raw_count, raw_before) = raw_fetch(&cyrus, &mail, options.in_flight).await?;
    anyhow::ensure!(
        raw_count == scale.messages,
        "the raw client fetched {raw_count} of {}",
        scale.messages
    );

    let db = Db::connect(database_url).await?;
    let sql = sqlx::PgPool::connect(database_url).await?;
    let user: uuid::Uuid = sqlx::query_scalar(
        "insert into users (google_subject, email) values ('bench-jmap', 'bench@mail.example') returning id",
    )
    .fetch_one(&sql)
    .await?;
    sql.close().await;
    let user = UserId(user);
    let secrets = SecretBox::from_base64(&format!("{}=", "A".repeat(43)))?;
    let form = FastmailConnect::parse(&cyrus.session_url(), "", &mail.name, &mail.password)?;
    let account = db
        .for_user(user)
        .accounts()
        .connect_fastmail(&HttpJmap::default(), &form, &secrets)
        .await?;
    let sync = JmapSync::new(
        db.clone(),
        Arc::new(HttpJmap::default()),
        secrets,
        options.clone(),
    );
    let started = Instant::now();
    let report = sync.poll(user, account).await?;
    let sync_seconds = started.elapsed().as_secs_f64();
    eprintln!("jmap: first sync {} in {sync_seconds:.1} s", report.stored);
    anyhow::ensure!(
        report.stored == scale.messages && report.stamped == scale.messages,
        "the first sync stored {} and stamped {} of {}",
        report.stored,
        report.stamped,
        scale.messages
    );
    // After the sync every message carries `$crm_done`; the raw client does not filter
    // on it, so it fetches them all again.
    let (_, raw_after) = raw_fetch(&cyrus, &mail, options.in_flight).await?;
    db.close().await;

    let raw_seconds = raw_before.min(raw_after);
    let n = scale.messages as f64;
    let (sync_rate, raw_rate) = (n / sync_seconds, n / raw_seconds);
    let figures = BTreeMap::from([
        ("jmap.first_sync.msgs_per_sec".to_owned(), sync_rate),
        ("jmap.raw_fetch.msgs_per_sec".to_owned(), raw_rate),
    ]);
    let markdown = format!(
        "{} messages (9 in 10 in Inbox, 1 in 10 in Sent, plain text) seeded over IMAP into a \
         Cyrus IMAP 3.6 on 127.0.0.1 ({seed_seconds:.1} s). Rapport's first sync (`JmapSync::poll`: \
         each mailbox's unstamped ids listed by `Email/query` a window at a time, the next \
         while the last pages of one are fetched, and `Email/get` pages of {PAGE}, {} always \
         in flight, rounds stored through the ingest path into a durable \
         embedded PostgreSQL two at a time, and stamped `$crm_done` by `Email/set` as they \
         commit, all three at once) \
         against a minimal raw JMAP client fetching the same messages with the same \
         properties, pages and concurrency and storing nothing (best of a run before and \
         after the sync). Cyrus, PostgreSQL and Rapport share the machine's cores. Target: \
         first sync >= 80% of raw.\n\n\
         | client | wall time | messages/s |\n|---|---:|---:|\n\
         | raw fetch | {raw_seconds:.1} s | {raw_rate:.0} |\n\
         | Rapport first sync | {sync_seconds:.1} s | {sync_rate:.0} |\n\n\
         First sync at {:.0}% of the raw rate.\n",
        scale.messages,
        options.in_flight,
        sync_rate / raw_rate * 100.0,
    );
    Ok((figures, markdown))
}
