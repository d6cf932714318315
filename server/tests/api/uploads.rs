//! Upload hardening over real HTTP, for contact files and the mbox import alike: small
//! form fields are read with a cap (an oversize one is refused before the request ends),
//! a request carries at most so many files, each user has a storage quota (stored files
//! plus imports waiting), and a user runs at most so many uploads at once (429).

use std::time::Duration;

use app::pages::settings::DeleteAccount;
use leptos::server_fn::ServerFn;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::files::upload;
use crate::helpers::{ALEX, Browser, SAM, TestApp, spawn_app, spawn_app_with, wait_until};

const BOUNDARY: &str = "rapport-test-boundary";

/// A multipart upload whose body the test writes part by part; the request stays open
/// until the sender is dropped.
struct OpenUpload {
    body: mpsc::Sender<Result<Vec<u8>, std::io::Error>>,
    response: tokio::task::JoinHandle<reqwest::Response>,
}

impl OpenUpload {
    fn start(browser: &Browser, path: &str) -> Self {
        let (body, rx) = mpsc::channel::<Result<Vec<u8>, std::io::Error>>(16);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        let request = browser
            .client
            .post(format!("{}{path}", browser.address))
            .header("origin", &browser.address)
            .header("accept", "application/json")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(reqwest::Body::wrap_stream(stream));
        let response = tokio::spawn(async move { request.send().await.expect("upload sent") });
        Self { body, response }
    }

    async fn send(&self, bytes: impl Into<Vec<u8>>) {
        let _ = self.body.send(Ok(bytes.into())).await;
    }

    /// Opens a part; its content follows with [`OpenUpload::send`].
    async fn open_part(&self, field: &str, file_name: Option<&str>) {
        let file = file_name.map_or(String::new(), |n| format!("; filename=\"{n}\""));
        self.send(format!(
            "--{BOUNDARY}\r\ncontent-disposition: form-data; name=\"{field}\"{file}\r\n\r\n"
        ))
        .await;
    }
}

async fn json_error(response: reqwest::Response) -> String {
    let body: Value = response.json().await.expect("a JSON error");
    body["error"].as_str().expect("an error message").to_owned()
}

fn stored_file_count(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let path = e.path();
                    if path.is_dir() { walk(&path) } else { 1 }
                })
                .sum()
        })
    }
    walk(&app.data_dir.join("files"))
}

fn imports_waiting(app: &TestApp) -> usize {
    std::fs::read_dir(app.data_dir.join("imports")).map_or(0, |d| d.count())
}

async fn mbox_upload(browser: &Browser, bytes: Vec<u8>) -> reqwest::Response {
    browser
        .client
        .post(format!("{}/settings/import-mbox", browser.address))
        .header("origin", &browser.address)
        .header("accept", "application/json")
        .multipart(Form::new().part("file", Part::bytes(bytes).file_name("old.mbox")))
        .send()
        .await
        .expect("mbox upload")
}

fn small_mbox(body_bytes: usize) -> Vec<u8> {
    let mut out =
        b"From 1@xxx Thu Jan 02 03:04:05 +0000 2025\nMessage-ID: <q@x.example>\nSubject: q\n\n"
            .to_vec();
    out.extend(std::iter::repeat_n(b'a', body_bytes));
    out.extend_from_slice(b"\n");
    out
}

#[tokio::test]
async fn an_oversize_form_field_is_refused_before_the_request_ends() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;

    // The mbox upload's `name`: 4 KiB sent, and the request is never finished. The
    // answer comes anyway, so the server did not wait to buffer the part.
    for path in [
        "/settings/import-mbox".to_owned(),
        format!("/api/contacts/{jane}/files"),
    ] {
        let open = OpenUpload::start(&alex, &path);
        open.open_part("name", None).await;
        open.send(vec![b'n'; 4096]).await;
        let response = tokio::time::timeout(Duration::from_secs(20), open.response)
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer while the field was still open"))
            .unwrap();
        assert_eq!(response.status(), 413, "{path}");
        let message = json_error(response).await;
        assert!(
            message.contains("name") && message.contains("1 KiB"),
            "{path}: {message}"
        );
    }
    assert_eq!(imports_waiting(&app), 0);
    assert_eq!(stored_file_count(&app), 0);

    // A short name is still fine.
    let ok = alex
        .client
        .post(format!("{}/settings/import-mbox", app.address))
        .header("origin", &app.address)
        .header("accept", "application/json")
        .multipart(
            Form::new()
                .text("name", "Old job")
                .part("file", Part::bytes(small_mbox(10)).file_name("a.mbox")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 202);
}

#[tokio::test]
async fn a_request_carries_at_most_the_allowed_number_of_files() {
    let app = spawn_app_with(0, &[("RAPPORT_MAX_UPLOAD_FILES", "2")]).await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;

    let three = upload(
        &alex,
        jane,
        &[
            ("a.txt", b"a", "text/plain"),
            ("b.txt", b"b", "text/plain"),
            ("c.txt", b"c", "text/plain"),
        ],
    )
    .await;
    assert_eq!(three.status(), 413);
    let message = json_error(three).await;
    assert!(message.contains("at most 2 files"), "{message}");
    assert_eq!(stored_file_count(&app), 0, "nothing of the request is kept");

    let two = upload(
        &alex,
        jane,
        &[("a.txt", b"a", "text/plain"), ("b.txt", b"b", "text/plain")],
    )
    .await;
    assert_eq!(two.status(), 201);

    // The mbox upload takes one file.
    let form = Form::new()
        .part("file", Part::bytes(small_mbox(1)).file_name("a.mbox"))
        .part("file", Part::bytes(small_mbox(2)).file_name("b.mbox"));
    let response = alex
        .client
        .post(format!("{}/settings/import-mbox", app.address))
        .header("origin", &app.address)
        .header("accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let message = json_error(response).await;
    assert!(message.contains("one mbox file"), "{message}");
    assert_eq!(imports_waiting(&app), 0);
}

#[tokio::test]
async fn the_storage_quota_counts_stored_files_and_waiting_imports() {
    let app = spawn_app_with(0, &[("RAPPORT_STORAGE_QUOTA_BYTES", "10000")]).await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;

    let first = upload(
        &alex,
        jane,
        &[("a.bin", &[1_u8; 6000], "application/octet-stream")],
    )
    .await;
    assert_eq!(first.status(), 201);
    let import = mbox_upload(&alex, small_mbox(3000)).await;
    assert_eq!(import.status(), 202, "6000 + ~3100 bytes fit in 10000");

    let over = upload(
        &alex,
        jane,
        &[("b.bin", &[2_u8; 2000], "application/octet-stream")],
    )
    .await;
    assert_eq!(over.status(), 413);
    let message = json_error(over).await;
    assert!(message.contains("storage quota"), "{message}");
    let over_import = mbox_upload(&alex, small_mbox(2000)).await;
    assert_eq!(over_import.status(), 413);
    let message = json_error(over_import).await;
    assert!(message.contains("storage quota"), "{message}");
    assert_eq!(imports_waiting(&app), 1, "only the first import waits");

    // The quota is per user.
    let sam = app.sign_in(SAM).await;
    let kim = sam.create_contact("Kim Lee", "kim@lee.example").await;
    let theirs = upload(
        &sam,
        kim,
        &[("c.bin", &[3_u8; 6000], "application/octet-stream")],
    )
    .await;
    assert_eq!(theirs.status(), 201);
}

#[tokio::test]
async fn a_user_runs_at_most_the_allowed_uploads_at_once() {
    let app = spawn_app_with(0, &[("RAPPORT_UPLOADS_PER_USER", "2")]).await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;

    // Two uploads held open mid-file: one contact file, one mbox import.
    let held = [
        OpenUpload::start(&alex, &format!("/api/contacts/{jane}/files")),
        OpenUpload::start(&alex, "/settings/import-mbox"),
    ];
    let starts = [vec![b'x'; 4096], small_mbox(4096)];
    for ((upload, name), start) in held.iter().zip(["a.bin", "old.mbox"]).zip(starts) {
        upload.open_part("file", Some(name)).await;
        upload.send(start).await;
    }
    // Both are being written to disk (the file under files/incoming, the mbox under
    // imports), so both hold their place: only then is a third sent.
    wait_until(
        "both uploads received",
        Duration::from_secs(20),
        async || match (stored_file_count(&app), imports_waiting(&app)) {
            (1, 1) => Ok(()),
            seen => Err(seen),
        },
    )
    .await;

    // A third is refused, whichever endpoint it goes to.
    let refused = upload(&alex, jane, &[("c.txt", b"c", "text/plain")]).await;
    assert_eq!(refused.status(), 429);
    let retry_after = refused.headers().get("retry-after").cloned();
    assert!(retry_after.is_some(), "a 429 says when to come back");
    let message = json_error(refused).await;
    assert!(message.contains("at most 2 uploads"), "{message}");
    let import = mbox_upload(&alex, small_mbox(10)).await;
    assert_eq!(import.status(), 429, "the mbox import shares the limit");

    // The limit is per user: Sam uploads meanwhile.
    let sam = app.sign_in(SAM).await;
    let kim = sam.create_contact("Kim Lee", "kim@lee.example").await;
    let theirs = upload(&sam, kim, &[("d.txt", b"d", "text/plain")]).await;
    assert_eq!(theirs.status(), 201);

    // Abandoned uploads give their places back.
    drop(held);
    wait_until(
        "an upload accepted again",
        Duration::from_secs(20),
        async || {
            let response = upload(&alex, jane, &[("e.txt", b"e", "text/plain")]).await;
            match response.status().as_u16() {
                201 => Ok(()),
                other => Err(other),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn deleting_the_account_deletes_its_files_and_imports_from_disk() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;
    let sam = app.sign_in(SAM).await;
    let kim = sam.create_contact("Kim Lee", "kim@lee.example").await;

    let alex_only = upload(
        &alex,
        jane,
        &[("mine.txt", b"only alex has this", "text/plain")],
    )
    .await;
    assert_eq!(alex_only.status(), 201);
    let shared = upload(
        &alex,
        jane,
        &[("same.txt", b"both have this", "text/plain")],
    )
    .await;
    assert_eq!(shared.status(), 201);
    let sams = upload(&sam, kim, &[("same.txt", b"both have this", "text/plain")]).await;
    assert_eq!(sams.status(), 201);
    assert_eq!(mbox_upload(&alex, small_mbox(10)).await.status(), 202);
    assert_eq!(
        stored_file_count(&app),
        2,
        "identical content is stored once"
    );
    assert_eq!(imports_waiting(&app), 1);

    let deleted = alex
        .call_server_fn(DeleteAccount::PATH, &[("confirm_email", ALEX)])
        .await;
    assert!(
        deleted.status().is_success() || deleted.status().is_redirection(),
        "{}",
        deleted.status()
    );

    assert_eq!(imports_waiting(&app), 0, "the waiting import is deleted");
    assert_eq!(
        stored_file_count(&app),
        1,
        "alex's file is gone; the content Sam also has stays"
    );
    let sams_file: Uuid = sqlx::query_scalar("select id from activities where channel = 'file'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let download = sam
        .client
        .get(format!("{}/files/{sams_file}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), 200);
    assert_eq!(download.bytes().await.unwrap().as_ref(), b"both have this");
}
