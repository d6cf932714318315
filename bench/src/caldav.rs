//! A calendar poll that finds nothing changed: Radicale (from `target/radicale-venv`)
//! with one calendar of 200 events, connected and polled once; then many polls with the
//! same ctag, each of which must make exactly one request (a Depth-0 PROPFIND) and
//! write nothing but the poll time.

use std::collections::BTreeMap;
use std::time::Instant;

use chrono::{Duration, Utc};
use domain::Db;
use domain::caldav::{CalDavCredentials, HttpCalDav, PollOutcome, poll_calendar};
use domain::crypto::SecretBox;
use test_servers::radicale::{Radicale, RadicaleUser};

pub struct Scale {
    pub events: usize,
    pub polls: usize,
}

pub async fn run(
    database_url: &str,
    scale: &Scale,
) -> anyhow::Result<(BTreeMap<String, f64>, String)> {
    let user = RadicaleUser {
        name: "bench".into(),
        password: "bench-app-password".into(),
    };
    let radicale = Radicale::start(std::slice::from_ref(&user)).await?;
    let path = radicale.make_calendar(&user, "work", "Work").await?;
    let now = Utc::now();
    for i in 0..scale.events {
        let start = now + Duration::hours(i as i64 * 7 - 500);
        let stamp = |t: chrono::DateTime<Utc>| t.format("%Y%m%dT%H%M%SZ").to_string();
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:e{i}@bench\r\n\
             DTSTAMP:20261101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Meeting {i}\r\n\
             ORGANIZER:mailto:bench@example.com\r\nATTENDEE:mailto:p{}@example.org\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            stamp(start),
            stamp(start + Duration::minutes(30)),
            i % 40,
        );
        radicale
            .put_event(&user, &path, &format!("e{i}"), &ics)
            .await?;
    }

    let db = Db::connect(database_url).await?;
    // The bench's own connection makes the user, as sign-in would.
    let sql = sqlx::PgPool::connect(database_url).await?;
    let owner: uuid::Uuid = sqlx::query_scalar(
        "insert into users (google_subject, email) values ('bench', 'bench@example.com') returning id",
    )
    .fetch_one(&sql)
    .await?;
    sql.close().await;
    let scope = db.for_user(domain::UserId(owner));
    let credentials = CalDavCredentials::new(&radicale.url(), &user.name, &user.password)?;
    let client = HttpCalDav::new(HttpCalDav::default_client(), credentials.clone());
    let secrets = SecretBox::from_base64(&format!("{}=", "A".repeat(43)))?;
    scope
        .accounts()
        .connect_caldav(&client, &credentials, std::slice::from_ref(&path), &secrets)
        .await?;
    let calendar = scope.calendars().list().await?[0].id;
    let first = poll_calendar(scope.calendars(), &client, calendar, now).await?;
    anyhow::ensure!(
        matches!(first, PollOutcome::Synced { fetched, .. } if fetched == scale.events),
        "the first poll fetched {first:?}, not {} objects",
        scale.events
    );

    let mut times = Vec::with_capacity(scale.polls);
    for _ in 0..scale.polls {
        let started = Instant::now();
        let outcome = poll_calendar(scope.calendars(), &client, calendar, now).await?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            outcome == PollOutcome::Unchanged,
            "a no-op poll did {outcome:?}"
        );
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    db.close().await;
    let figures = BTreeMap::from([("caldav.noop_poll_ms".to_owned(), median)]);
    let markdown = format!(
        "A poll of an unchanged calendar (Radicale 3.9 on 127.0.0.1, {} events in the \
         window, already stored): one Depth-0 PROPFIND for getctag/sync-token, compared \
         with the stored ones, and the poll time written. {} polls one after another.\n\n\
         | poll | median | p99 | max |\n|---|---|---|---|\n\
         | unchanged ctag | {median:.2} ms | {p99:.2} ms | {:.2} ms |\n",
        scale.events,
        scale.polls,
        times[times.len() - 1],
    );
    Ok((figures, markdown))
}
