//! The Notes API (`/api/v1`) over real HTTP: tokens made and revoked through the
//! Settings server functions, bearer-only authentication, another user's contact
//! answered 404, field errors, lookups by id and email, and the example agent closing
//! the loop (read completed activities, write a note).

use api::AuthorKind;
use api::settings::IssuedApiToken;
use app::components::notes_panel::CreateNote;
use app::pages::api_tokens::{CreateApiToken, RevokeApiToken};
use chrono::{Duration, Utc};
use domain::UserId;
use domain::contacts::NewContact;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::agent::{AgentOptions, AgentOutcome, run};
use uuid::Uuid;

use crate::helpers::{ALEX, Browser, SAM, TestApp, spawn_app};

const ANA: &str = "ana@example.com";

async fn create_token(browser: &Browser, name: &str) -> IssuedApiToken {
    let response = browser
        .call_server_fn(CreateApiToken::PATH, &[("name", name)])
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    response.json().await.expect("issued token")
}

async fn contact(app: &TestApp, user: UserId, name: &str, email: &str) -> Uuid {
    app.db
        .for_user(user)
        .contacts()
        .create(&NewContact::parse(name, email).unwrap())
        .await
        .expect("create contact")
}

/// An inbound email from `contact` in `state`, `days_ago` days ago.
async fn activity(
    app: &TestApp,
    owner: &str,
    contact: Uuid,
    subject: &str,
    state: &str,
    days_ago: i64,
) -> Uuid {
    app.test_user(owner)
        .await
        .email(Utc::now() - Duration::days(days_ago))
        .subject(subject)
        .state(state)
        .from(ANA, contact)
        .insert()
        .await
}

fn api(app: &TestApp, path: &str) -> String {
    format!("{}/api/v1/contacts/{path}", app.address)
}

/// Plain HTTP with no cookies and no Origin: what an agent sends.
async fn post_note(
    app: &TestApp,
    contact: &str,
    token: Option<&str>,
    body: Value,
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .post(api(app, &format!("{contact}/notes")))
        .json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("POST notes")
}

async fn get(app: &TestApp, path: &str, token: Option<&str>) -> reqwest::Response {
    let mut request = reqwest::Client::new().get(api(app, path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    request.send().await.expect("GET")
}

/// Checks the JSON error shape and returns (code, field).
async fn error_of(response: reqwest::Response, status: StatusCode) -> (String, Option<String>) {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("a JSON error");
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    (
        error["code"].as_str().expect("a code").to_owned(),
        error["field"].as_str().map(str::to_owned),
    )
}

#[tokio::test]
async fn an_agent_writes_and_reads_notes_by_contact_id_or_email() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let ana = contact(&app, app.user_id(ALEX).await, "Ana Example", ANA).await;
    let source = activity(&app, ALEX, ana, "Quote", "completed", 1).await;
    let issued = create_token(&alex, "Summariser").await;
    assert!(issued.token.starts_with("rpt_"));

    let created = post_note(
        &app,
        "Ana@Example.com",
        Some(&issued.token),
        json!({"body": "  Wants a quote by Friday ", "source_activity_id": source}),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let note: Value = created.json().await.unwrap();
    assert_eq!(note["body"], "Wants a quote by Friday");
    assert_eq!(note["contact_id"], ana.to_string());
    assert_eq!(
        note["author"],
        json!({"kind": "agent", "name": "Summariser"})
    );
    assert_eq!(note["source_activity"]["id"], source.to_string());
    assert_eq!(note["source_activity"]["subject"], "Quote");

    let named = post_note(
        &app,
        &ana.to_string(),
        Some(&issued.token),
        json!({"body": "Second", "author": "Call bot"}),
    )
    .await;
    assert_eq!(named.status(), StatusCode::CREATED);
    let by_hand = alex
        .call_server_fn(
            CreateNote::PATH,
            &[
                ("contact_id", &ana.to_string()),
                ("body", "Met at the fair"),
            ],
        )
        .await;
    assert_eq!(by_hand.status(), 200, "{}", by_hand.text().await.unwrap());

    for reference in [ana.to_string(), ANA.to_owned()] {
        let listed = get(&app, &format!("{reference}/notes"), Some(&issued.token)).await;
        assert_eq!(listed.status(), StatusCode::OK);
        let listed: Value = listed.json().await.unwrap();
        let authors: Vec<(&str, &str)> = listed["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                (
                    n["author"]["kind"].as_str().unwrap(),
                    n["author"]["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            authors,
            vec![
                ("user", "Alex Morgan"),
                ("agent", "Call bot"),
                ("agent", "Summariser")
            ],
            "newest first"
        );
    }
}

#[tokio::test]
async fn only_a_live_bearer_token_is_accepted() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    contact(&app, app.user_id(ALEX).await, "Ana Example", ANA).await;
    let issued = create_token(&alex, "Script").await;
    let note = json!({"body": "hello"});

    let (code, _) = error_of(
        post_note(&app, ANA, None, note.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(code, "unauthorized");
    error_of(
        post_note(&app, ANA, Some("rpt_not-a-token"), note.clone()).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    error_of(
        get(&app, &format!("{ANA}/notes"), Some("")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let basic = reqwest::Client::new()
        .get(api(&app, &format!("{ANA}/notes")))
        .header("authorization", format!("Basic {}", issued.token))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.headers()["www-authenticate"], "Bearer");
    error_of(basic, StatusCode::UNAUTHORIZED).await;

    // A signed-in browser's session cookie is not a credential here.
    let with_cookie = alex.get(&format!("/api/v1/contacts/{ANA}/notes")).await;
    error_of(with_cookie, StatusCode::UNAUTHORIZED).await;

    // A token works with any Origin (or none): it is not an ambient credential.
    let cross_origin = reqwest::Client::new()
        .post(api(&app, &format!("{ANA}/notes")))
        .header("origin", "https://elsewhere.example")
        .bearer_auth(&issued.token)
        .json(&note)
        .send()
        .await
        .unwrap();
    assert_eq!(cross_origin.status(), StatusCode::CREATED);

    let revoked = alex
        .call_server_fn(
            RevokeApiToken::PATH,
            &[("token_id", &issued.id.to_string())],
        )
        .await;
    assert_eq!(revoked.status(), 200);
    error_of(
        post_note(&app, ANA, Some(&issued.token), note).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    error_of(
        get(&app, &format!("{ANA}/activities"), Some(&issued.token)).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}

#[tokio::test]
async fn another_users_token_finds_no_contact_and_writes_nothing() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let alex_id = app.user_id(ALEX).await;
    let ana = contact(&app, alex_id, "Ana Example", ANA).await;
    let sams = create_token(&sam, "Sam's agent").await;
    create_token(&alex, "Alex's agent").await;

    for reference in [ana.to_string(), ANA.to_owned()] {
        let (code, _) = error_of(
            post_note(
                &app,
                &reference,
                Some(&sams.token),
                json!({"body": "mine now"}),
            )
            .await,
            StatusCode::NOT_FOUND,
        )
        .await;
        assert_eq!(code, "not_found");
        error_of(
            get(&app, &format!("{reference}/notes"), Some(&sams.token)).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        error_of(
            get(&app, &format!("{reference}/activities"), Some(&sams.token)).await,
            StatusCode::NOT_FOUND,
        )
        .await;
    }
    // Unknown and foreign contacts read the same.
    let (unknown, _) = error_of(
        get(
            &app,
            &format!("{}/notes", Uuid::new_v4()),
            Some(&sams.token),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_eq!(unknown, "not_found");
    assert!(
        app.db
            .for_user(alex_id)
            .notes()
            .for_contact(ana)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn invalid_requests_name_their_field() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let ana = contact(&app, app.user_id(ALEX).await, "Ana Example", ANA).await;
    let sams_contact = contact(&app, app.user_id(SAM).await, "Ana for Sam", ANA).await;
    let sams_activity = activity(&app, SAM, sams_contact, "Sam's", "completed", 1).await;
    let token = create_token(&alex, "Script").await.token;
    let _ = sam;

    let cases = [
        (json!({"body": ""}), "body"),
        (json!({"body": "   \n"}), "body"),
        (json!({}), "body"),
        (json!({"body": 42}), "body"),
        (json!({"body": "x".repeat(20_001)}), "body"),
        (json!({"body": "x", "author": ""}), "author"),
        (
            json!({"body": "x", "source_activity_id": "nope"}),
            "source_activity_id",
        ),
        (
            json!({"body": "x", "source_activity_id": sams_activity}),
            "source_activity_id",
        ),
    ];
    for (body, field) in cases {
        let (code, got) = error_of(
            post_note(&app, ANA, Some(&token), body.clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            (code.as_str(), got.as_deref()),
            ("invalid", Some(field)),
            "{body}"
        );
    }
    let malformed = reqwest::Client::new()
        .post(api(&app, &format!("{ANA}/notes")))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(malformed, StatusCode::BAD_REQUEST).await.0,
        "invalid_json"
    );
    let (_, field) = error_of(
        get(&app, "not-an-id/notes", Some(&token)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field.as_deref(), Some("contact"));
    let (_, field) = error_of(
        get(&app, &format!("{ANA}/activities?state=done"), Some(&token)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field.as_deref(), Some("state"));
    let (_, field) = error_of(
        get(&app, &format!("{ANA}/activities?limit=0"), Some(&token)).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(field.as_deref(), Some("limit"));
    assert!(
        app.db
            .for_user(app.user_id(ALEX).await)
            .notes()
            .for_contact(ana)
            .await
            .unwrap()
            .is_empty(),
        "nothing stored"
    );
}

#[tokio::test]
async fn the_agent_summarises_completed_activities_into_a_linked_note() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let alex_id = app.user_id(ALEX).await;
    let ana = contact(&app, alex_id, "Ana Example", ANA).await;
    let quiet = contact(&app, alex_id, "Quiet Person", "quiet@example.com").await;
    activity(&app, ALEX, ana, "Intro", "completed", 10).await;
    let latest = activity(&app, ALEX, ana, "Quote for Q1", "completed", 2).await;
    activity(&app, ALEX, ana, "Not processed yet", "raw", 0).await;
    let token = create_token(&alex, "Summariser").await.token;

    let completed = get(
        &app,
        &format!("{ANA}/activities?state=completed"),
        Some(&token),
    )
    .await;
    assert_eq!(completed.status(), StatusCode::OK);
    let completed: Value = completed.json().await.unwrap();
    assert_eq!(completed["contact_id"], ana.to_string());
    let subjects: Vec<&str> = completed["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, vec!["Quote for Q1", "Intro"]);

    let options = AgentOptions {
        base_url: app.address.clone(),
        token: token.clone(),
        contact: ANA.into(),
    };
    let AgentOutcome::Wrote(note) = run(&options).await.expect("the agent runs") else {
        panic!("the agent should have written a note");
    };
    assert!(
        note.body
            .starts_with("Summary of 2 completed activities (2 email) from "),
        "{}",
        note.body
    );
    assert!(
        note.body.ends_with(&format!(
            "Latest: \"Quote for Q1\" (email, {}).",
            (Utc::now() - Duration::days(2)).format("%Y-%m-%d")
        )),
        "{}",
        note.body
    );
    assert_eq!(note.author.kind, AuthorKind::Agent);
    assert_eq!(note.author.name, "Summariser");
    assert_eq!(note.source_activity.as_ref().map(|s| s.id), Some(latest));
    let stored = app
        .db
        .for_user(alex_id)
        .notes()
        .for_contact(ana)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, note.body);

    let nothing = run(&AgentOptions {
        contact: quiet.to_string(),
        ..options.clone()
    })
    .await
    .unwrap();
    assert_eq!(nothing, AgentOutcome::NothingToSummarise);
    assert!(
        app.db
            .for_user(alex_id)
            .notes()
            .for_contact(quiet)
            .await
            .unwrap()
            .is_empty()
    );

    let refused = run(&AgentOptions {
        token: "rpt_wrong".into(),
        ..options
    })
    .await
    .unwrap_err();
    assert!(refused.to_string().contains("401"), "{refused}");
}
