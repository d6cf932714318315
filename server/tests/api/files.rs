//! Files dropped on a contact over real HTTP: several at once, names sanitized, the size
//! limit enforced while streaming (413, nothing stored), downloads only for the owner.

use api::timeline::TimelineWindow;
use api::{ActivityState, Channel};
use app::components::activity_timeline::ContactTimeline;
use leptos::server_fn::ServerFn;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{ALEX, Browser, SAM, TestApp, spawn_app, spawn_app_with};

pub async fn upload(
    browser: &Browser,
    contact: Uuid,
    files: &[(&str, &[u8], &str)],
) -> reqwest::Response {
    let mut form = Form::new();
    for (name, bytes, mime) in files {
        let part = Part::bytes(bytes.to_vec())
            .file_name(name.to_string())
            .mime_str(mime)
            .unwrap();
        form = form.part("file", part);
    }
    browser
        .client
        .post(format!("{}/api/contacts/{contact}/files", browser.address))
        .header("origin", &browser.address)
        .multipart(form)
        .send()
        .await
        .expect("POST files")
}

pub async fn timeline(browser: &Browser, contact: Uuid, channel: &str) -> TimelineWindow {
    let response = browser
        .call_server_fn(
            ContactTimeline::PATH,
            &[
                ("contact", &contact.to_string()),
                ("channel", channel),
                ("limit", "50"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.expect("timeline JSON")
}

async fn file_activities(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from activities where channel = 'file'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Every regular file under the data folder's `files/`, excluding nothing.
fn stored_files(app: &TestApp) -> Vec<std::path::PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&app.data_dir.join("files"), &mut out);
    out
}

#[tokio::test]
async fn three_files_at_once_become_file_activities_with_downloads() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;

    let response = upload(
        &alex,
        jane,
        &[
            ("offer.pdf", b"%PDF-1.7 offer", "application/pdf"),
            ("notes.txt", b"call back on Monday", "text/plain"),
            ("photo.png", b"\x89PNG fake", "application/octet-stream"),
        ],
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let files = body["files"].as_array().unwrap();
    assert_eq!(files.len(), 3);
    assert_eq!(
        files[2]["content_type"], "image/png",
        "guessed from the extension"
    );

    let window = timeline(&alex, jane, "").await;
    assert_eq!(window.items.len(), 3);
    assert!(
        window
            .items
            .iter()
            .all(|i| i.channel == Channel::File && i.state == ActivityState::Raw)
    );
    let names: Vec<&str> = window.items.iter().map(|i| i.headline.as_str()).collect();
    for name in ["offer.pdf", "notes.txt", "photo.png"] {
        assert!(names.contains(&name), "{names:?}");
    }
    assert!(timeline(&alex, jane, "email").await.items.is_empty());

    let notes = window
        .items
        .iter()
        .find(|i| i.headline == "notes.txt")
        .unwrap();
    let download = alex.get(notes.download.as_deref().unwrap()).await;
    assert_eq!(download.status(), 200);
    let headers = download.headers().clone();
    assert_eq!(headers["content-type"], "text/plain");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"notes.txt\"; filename*=UTF-8''notes.txt"
    );
    assert_eq!(
        download.bytes().await.unwrap().as_ref(),
        b"call back on Monday"
    );

    // Content-addressed: <aa>/<bb>/<sha256>, and the same bytes again are stored once.
    let stored = stored_files(&app);
    assert_eq!(stored.len(), 3, "{stored:?}");
    let again = upload(
        &alex,
        jane,
        &[("copy.txt", b"call back on Monday", "text/plain")],
    )
    .await;
    assert_eq!(again.status(), 201);
    assert_eq!(stored_files(&app).len(), 3);
    assert_eq!(file_activities(&app).await, 4);
}

#[tokio::test]
async fn an_oversize_file_is_refused_while_streaming_and_nothing_is_stored() {
    let app = spawn_app_with(0, &[("RAPPORT_MAX_FILE_BYTES", "4096")]).await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;

    let response = upload(
        &alex,
        jane,
        &[
            ("small.txt", b"fits", "text/plain"),
            ("big.bin", &vec![7_u8; 20_000], "application/octet-stream"),
        ],
    )
    .await;
    assert_eq!(response.status(), 413);
    let error: Value = response.json().await.unwrap();
    let message = error["error"].as_str().unwrap();
    assert!(
        message.contains("big.bin") && message.contains("too large"),
        "{message}"
    );
    assert_eq!(file_activities(&app).await, 0);
    assert_eq!(stored_files(&app), Vec::<std::path::PathBuf>::new());

    let fits = upload(
        &alex,
        jane,
        &[("exact.bin", &vec![1_u8; 4096], "application/octet-stream")],
    )
    .await;
    assert_eq!(fits.status(), 201);
}

#[tokio::test]
async fn names_are_sanitized_traversal_encoded_and_long() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;
    let long = format!("{}.txt", "a".repeat(600));
    let response = upload(
        &alex,
        jane,
        &[
            ("../../etc/passwd", b"root:x:0:0", "text/plain"),
            (
                "=?UTF-8?Q?R=C3=A9sum=C3=A9.pdf?=",
                b"%PDF",
                "application/pdf",
            ),
            (&long, b"long", "text/plain"),
            ("a<b>:c|d.html", b"<script>", "text/html"),
        ],
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    let names: Vec<String> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names[0], "passwd");
    assert_eq!(names[1], "Résumé.pdf");
    assert!(
        names[2].len() <= 200 && names[2].ends_with("aaa.txt"),
        "{}",
        names[2]
    );
    assert_eq!(names[3], "a_b__c_d.html");
    assert!(
        stored_files(&app)
            .iter()
            .all(|p| p.starts_with(app.data_dir.join("files"))),
        "nothing is written outside the store"
    );

    let html = body["files"][3]["download"].as_str().unwrap();
    let served = alex.get(html).await;
    assert!(
        served.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("sandbox")
    );
    assert!(
        served.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment;")
    );
}

#[tokio::test]
async fn files_belong_to_their_owner_and_anonymous_callers_are_refused() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let jane = alex.create_contact("Jane Doe", "jane@acme.com").await;
    let body: Value = upload(&alex, jane, &[("secret.txt", b"alex only", "text/plain")])
        .await
        .json()
        .await
        .unwrap();
    let download = body["files"][0]["download"].as_str().unwrap().to_owned();

    assert_eq!(alex.get(&download).await.status(), 200);
    assert_eq!(sam.get(&download).await.status(), 404);
    assert_eq!(
        sam.get(&format!("/files/{}", Uuid::new_v4()))
            .await
            .status(),
        404
    );
    assert_eq!(sam.get("/files/not-an-id").await.status(), 404);
    // Sam can neither add to nor read Alex's contact.
    let into_alex = upload(&sam, jane, &[("x.txt", b"x", "text/plain")]).await;
    assert_eq!(into_alex.status(), 404);
    let read = sam
        .call_server_fn(
            ContactTimeline::PATH,
            &[("contact", &jane.to_string()), ("limit", "10")],
        )
        .await;
    assert_eq!(read.status(), 404);
    assert_eq!(file_activities(&app).await, 1);

    let anonymous = upload(&app.anonymous, jane, &[("x.txt", b"x", "text/plain")]).await;
    assert_eq!(anonymous.status(), 401);
    let anonymous_download = app.anonymous.get(&download).await;
    assert!(anonymous_download.status().is_redirection());
    assert_eq!(anonymous_download.headers()["location"], "/login");

    // A page on another site cannot make Alex's browser upload.
    let cross_site = alex
        .client
        .post(format!("{}/api/contacts/{jane}/files", app.address))
        .header("origin", "https://evil.example")
        .multipart(Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert_eq!(file_activities(&app).await, 1);
}
