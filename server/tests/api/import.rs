//! Google Takeout import: the Settings upload (streamed, validated, imported by a job)
//! and the `server import-mbox` command.

use fakes::mailbox::{Mailbox, MailboxSpec, write_takeout_message};
use reqwest::multipart::{Form, Part};

use crate::helpers::{
    ALEX, BACKGROUND, Browser, SAM, TestApp, spawn_app, spawn_app_with, wait_until,
};

const ONLY_IN_TAKEOUT: &str = "From: Kim Lee <kim@lee-design.example>\r\nTo: alex.morgan@brightwater-labs.com\r\nSubject: only in the takeout\r\nMessage-ID: <takeout-only@lee-design.example>\r\nDate: Thu, 2 Jan 2025 03:04:05 +0000\r\n\r\nHi Alex, an old note.\r\n";

/// The first `n` messages of Alex's test mailbox (which Gmail also has) plus one that
/// only the export has, as Takeout writes them.
fn takeout_bytes(n: usize) -> Vec<u8> {
    let mailbox = Mailbox::generate(&MailboxSpec::demo(120));
    let mut out = Vec::new();
    for message in mailbox.messages().take(n) {
        write_takeout_message(&mut out, &message).unwrap();
    }
    out.extend_from_slice(b"From 1@xxx Thu Jan 02 03:04:05 +0000 2025\n");
    out.extend_from_slice(ONLY_IN_TAKEOUT.as_bytes());
    out.extend_from_slice(b"\n");
    out
}

async fn upload(
    browser: &Browser,
    bytes: Vec<u8>,
    file_name: &str,
    accept: &str,
) -> reqwest::Response {
    let form = Form::new().part("file", Part::bytes(bytes).file_name(file_name.to_owned()));
    browser
        .client
        .post(format!("{}/settings/import-mbox", browser.address))
        .header("origin", &browser.address)
        .header("accept", accept)
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

async fn job_count(app: &TestApp, state: &str) -> i64 {
    sqlx::query_scalar("select count(*) from jobs where kind = 'mbox.import' and state = $1")
        .bind(state)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

fn uploads_left(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.join("imports")).map_or(0, |d| d.count())
}

#[tokio::test]
async fn an_uploaded_takeout_is_imported_in_the_background_without_gmail_duplicates() {
    let app = spawn_app_with(1, &[]).await;
    let alex = app.sign_in(ALEX).await;
    app.wait_for_gmail_syncs(1).await;

    let response = upload(
        &alex,
        takeout_bytes(40),
        "All mail.mbox",
        "application/json",
    )
    .await;
    assert_eq!(response.status(), 202);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["name"], "All mail");
    wait_until(
        "the import job to succeed",
        BACKGROUND,
        async || match job_count(&app, "succeeded").await {
            1 => Ok(()),
            n => Err(format!("{n} succeeded")),
        },
    )
    .await;

    let (stored_once, duplicates_across): (i64, i64) = sqlx::query_as(
        "select
           (select count(*) from activities a join accounts ac on ac.id = a.account_id
             where ac.provider = 'mbox' and a.headers ->> 'message_id' = 'takeout-only@lee-design.example'),
           (select count(*) from activities m join accounts mc on mc.id = m.account_id and mc.provider = 'mbox'
             join activities g on g.headers ->> 'message_id' = m.headers ->> 'message_id'
             join accounts gc on gc.id = g.account_id and gc.provider = 'google')",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(stored_once, 1, "mail only in the export is imported");
    assert_eq!(
        duplicates_across, 0,
        "mail Gmail already gave us is not stored twice"
    );
    let skipped: i64 =
        sqlx::query_scalar("select count(*) from sync_ledger where rule = 'duplicate-message-id'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(
        skipped > 20,
        "the overlap is recorded as skipped ({skipped})"
    );
    assert_eq!(uploads_left(&app), 0, "the upload is deleted once imported");
    let announced: i64 =
        sqlx::query_scalar("select count(*) from events where kind = 'import.finished'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(announced, 1);

    let (_, settings) = alex.get_html("/settings").await;
    let card = settings
        .split("<article")
        .find(|card| card.contains("Mail import"))
        .expect("the import is listed with the accounts");
    assert!(card.contains("All mail"), "{card}");
    assert!(
        card.contains("1 imported") && card.contains("filtered"),
        "{card}"
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_with_the_reason_and_leave_nothing_behind() {
    let app = spawn_app_with(0, &[("RAPPORT_MAX_MBOX_BYTES", "4096")]).await;
    let alex = app.sign_in(ALEX).await;

    let pdf = upload(
        &alex,
        b"%PDF-1.7\n%binary".to_vec(),
        "notes.pdf",
        "application/json",
    )
    .await;
    assert_eq!(pdf.status(), 422);
    let error: serde_json::Value = pdf.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("not an mbox"),
        "{error}"
    );

    let big = upload(&alex, takeout_bytes(40), "big.mbox", "application/json").await;
    assert_eq!(big.status(), 413);
    let error: serde_json::Value = big.json().await.unwrap();
    assert!(error["error"].as_str().unwrap().contains("4096"), "{error}");

    let empty = upload(&alex, Vec::new(), "empty.mbox", "application/json").await;
    assert_eq!(empty.status(), 400);

    let no_file = alex
        .client
        .post(format!("{}/settings/import-mbox", app.address))
        .header("origin", &app.address)
        .multipart(Form::new().text("name", "nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), 400);

    // A browser form post comes back to Settings with the reason on the page.
    let form = upload(&alex, b"Received: nope\r\n".to_vec(), "x.mbox", "text/html").await;
    assert_eq!(form.status(), 303);
    let location = form.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with("/settings?import_error="),
        "{location}"
    );
    let (_, html) = alex.get_html(&location).await;
    assert!(html.contains("Upload refused"), "{html}");
    assert!(html.contains("this is not an mbox file"), "{html}");

    // Other sites cannot post uploads for the user; signed-out visitors are sent away.
    let cross_site = alex
        .client
        .post(format!("{}/settings/import-mbox", app.address))
        .header("origin", "https://evil.example")
        .multipart(Form::new().part("file", Part::bytes(takeout_bytes(1)).file_name("a.mbox")))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let anonymous = upload(
        &app.anonymous,
        takeout_bytes(1),
        "a.mbox",
        "application/json",
    )
    .await;
    assert_eq!(anonymous.status(), 303);

    assert_eq!(uploads_left(&app), 0, "refused uploads are not kept");
    let jobs: i64 = sqlx::query_scalar("select count(*) from jobs where kind = 'mbox.import'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(jobs, 0, "nothing was queued");

    // A good upload within the limit is accepted.
    let ok = upload(&alex, takeout_bytes(0), "small.mbox", "text/html").await;
    assert_eq!(ok.status(), 303);
    assert_eq!(
        ok.headers()["location"].to_str().unwrap(),
        "/settings?import=queued#import"
    );
    assert_eq!(job_count(&app, "queued").await, 1);
}

#[tokio::test]
async fn the_import_command_imports_a_file_for_a_signed_in_user() {
    let app = spawn_app().await;
    app.sign_in(ALEX).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("takeout.mbox");
    std::fs::write(&file, takeout_bytes(10)).unwrap();

    let run = |args: Vec<String>| {
        let url = app.database_url.clone();
        async move {
            tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
                .arg("import-mbox")
                .args(args)
                .env("DATABASE_URL", url)
                .env("RUST_LOG", "warn")
                .output()
                .await
                .expect("run server import-mbox")
        }
    };
    let path = file.to_string_lossy().into_owned();
    let output = run(vec![
        path.clone(),
        "--user".into(),
        "Alex.Morgan@brightwater-labs.com".into(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("11 messages read"), "{stdout}");
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from activities a join accounts ac on ac.id = a.account_id
         where ac.provider = 'mbox' and ac.display_name = 'takeout'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(
        stored >= 9,
        "imported into the 'takeout' account ({stored})"
    );

    let unknown = run(vec![path, "--user".into(), "nobody@example.com".into()]).await;
    assert!(!unknown.status.success());
    let stderr = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        stderr.contains("no Rapport user nobody@example.com"),
        "{stderr}"
    );

    let not_mbox = dir.path().join("notes.txt");
    std::fs::write(&not_mbox, "just some notes").unwrap();
    let refused = run(vec![
        not_mbox.to_string_lossy().into_owned(),
        "--user".into(),
        ALEX.into(),
    ])
    .await;
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not an mbox file"));
}

#[tokio::test]
async fn the_import_command_refuses_an_address_two_users_share() {
    let app = spawn_app().await;
    app.sign_in(ALEX).await;
    app.sign_in(SAM).await;
    let alex = app.user_id(ALEX).await;
    let sam = app.user_id(SAM).await;
    assert_eq!(
        server::import::command_line_user(&app.db, " Alex.Morgan@Brightwater-Labs.com ")
            .await
            .unwrap(),
        alex
    );
    // Sam links a Google account whose address is Alex's sign-in address.
    sqlx::query(
        "insert into accounts (user_id, provider, external_id, display_name, scopes, status)
         values ($1, 'google', 'g-shared', $2, '{}', 'active')",
    )
    .bind(sam.0)
    .bind(ALEX)
    .execute(app.db.pool())
    .await
    .unwrap();
    let error = server::import::command_line_user(&app.db, ALEX)
        .await
        .expect_err("two users match")
        .to_string();
    assert!(error.contains("2 Rapport users"), "{error}");
    assert!(error.contains(ALEX) && error.contains(SAM), "{error}");
    assert!(
        error.contains(&alex.0.to_string()) && error.contains(&sam.0.to_string()),
        "{error}"
    );
    // Sam's own address still names only Sam.
    assert_eq!(
        server::import::command_line_user(&app.db, SAM)
            .await
            .unwrap(),
        sam
    );
}

#[tokio::test]
async fn an_oversize_message_is_skipped_recorded_as_filtered_and_the_import_goes_on() {
    let app = spawn_app_with(
        1,
        &[
            ("RAPPORT_MBOX_MAX_MESSAGE_BYTES", "4096"),
            ("RAPPORT_MBOX_MAX_LINE_BYTES", "1024"),
        ],
    )
    .await;
    let alex = app.sign_in(ALEX).await;
    let mut mbox = Vec::new();
    let message = |id: &str, body: &str| {
        format!(
            "From 1@xxx Thu Jan 02 03:04:05 +0000 2025\nFrom: Kim Lee <kim@lee-design.example>\nTo: alex.morgan@brightwater-labs.com\nSubject: {id}\nMessage-ID: <{id}@lee-design.example>\nDate: Thu, 2 Jan 2025 03:04:05 +0000\n\n{body}\n\n"
        )
    };
    mbox.extend(message("before", "fine").bytes());
    mbox.extend(message("huge", &"many short lines\n".repeat(1000)).bytes());
    mbox.extend(message("wide", &"x".repeat(3000)).bytes());
    mbox.extend(message("after", "also fine").bytes());

    let response = upload(&alex, mbox, "mixed.mbox", "application/json").await;
    assert_eq!(response.status(), 202);
    wait_until(
        "the import job to succeed",
        BACKGROUND,
        async || match job_count(&app, "succeeded").await {
            1 => Ok(()),
            n => Err(format!("{n} succeeded")),
        },
    )
    .await;

    let subjects: Vec<String> = sqlx::query_scalar(
        "select a.subject from activities a join accounts ac on ac.id = a.account_id
         where ac.provider = 'mbox' order by a.subject",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        subjects,
        ["after", "before"],
        "the import went on past them"
    );
    let filtered: Vec<(String, String)> = sqlx::query_as(
        "select l.external_id, l.rule from sync_ledger l join accounts ac on ac.id = l.account_id
         where ac.provider = 'mbox' and l.outcome = 'filtered' order by l.external_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(
        filtered,
        [
            (
                "huge@lee-design.example".to_owned(),
                "message-too-large".to_owned()
            ),
            (
                "wide@lee-design.example".to_owned(),
                "line-too-long".to_owned()
            ),
        ]
    );
}
