//! The one error path: every domain error becomes an `AppError` whose kind alone decides
//! the status; a 5xx hides its cause (kept as the source, logged) and names the request;
//! a missing contact or account is a 404 through REST routes and server functions alike.

use std::error::Error as _;

use app::app_error::{GENERIC_MESSAGE, current_request_id, with_request_id};
use app::pages::contact::LoadContact;
use app::pages::settings::{RequestSync, SaveContactPolicy};
use app::{AppError, ErrorKind};
use axum::response::IntoResponse;
use domain::DomainError;
use domain::accounts::TokenError as AccountTokenError;
use domain::ask::model::ModelError;
use domain::channels::ChannelError;
use domain::files::FileError;
use domain::gmail::GmailError;
use domain::ingest::IngestError;
use domain::jobs::QueueError;
use domain::processing::ProcessingError;
use domain::sync::SyncError;
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{ALEX, spawn_app};

fn database_down() -> sqlx::Error {
    sqlx::Error::PoolTimedOut
}

#[test]
fn every_kind_has_one_status_and_code() {
    let table: Vec<(ErrorKind, u16, &str)> = ErrorKind::ALL
        .iter()
        .map(|k| (*k, k.status_code(), k.code()))
        .collect();
    assert_eq!(
        table,
        vec![
            (ErrorKind::BadRequest, 400, "bad_request"),
            (ErrorKind::InvalidJson, 400, "invalid_json"),
            (ErrorKind::Unauthorized, 401, "unauthorized"),
            (ErrorKind::Forbidden, 403, "forbidden"),
            (ErrorKind::NotFound, 404, "not_found"),
            (ErrorKind::Conflict, 409, "conflict"),
            (ErrorKind::TooLarge, 413, "too_large"),
            (
                ErrorKind::UnsupportedMediaType,
                415,
                "unsupported_media_type"
            ),
            (ErrorKind::Invalid, 422, "invalid"),
            (ErrorKind::Internal, 500, "internal"),
            (ErrorKind::Unavailable, 503, "unavailable"),
            (ErrorKind::RateLimited, 429, "rate_limited"),
        ]
    );
}

#[test]
fn every_domain_error_maps_to_its_status() {
    let cases: Vec<(AppError, u16)> = vec![
        (DomainError::NotFound("contact").into(), 404),
        (DomainError::invalid("body", "is required").into(), 422),
        (DomainError::Conflict("token").into(), 409),
        (DomainError::Database(database_down()).into(), 500),
        (
            DomainError::Migration(sqlx::migrate::MigrateError::VersionMissing(1)).into(),
            500,
        ),
        (ChannelError::Unauthorized.into(), 401),
        (ChannelError::Disabled.into(), 403),
        (
            ChannelError::invalid("to[0].email", "is not an address").into(),
            422,
        ),
        (ChannelError::Database(database_down()).into(), 503),
        (ChannelError::WriterStopped.into(), 503),
        (SyncError::AccountNotFound.into(), 404),
        (SyncError::NotGmail.into(), 422),
        (SyncError::Ingest(IngestError::AccountNotFound).into(), 404),
        (SyncError::Gmail(GmailError::Server(502)).into(), 503),
        (
            SyncError::Gmail(GmailError::Unauthorized("revoked".into())).into(),
            403,
        ),
        (SyncError::Gmail(GmailError::NotFound).into(), 500),
        (SyncError::Database(database_down()).into(), 500),
        (SyncError::Task("panicked".into()).into(), 500),
        (IngestError::AccountNotFound.into(), 404),
        (IngestError::Database(database_down()).into(), 500),
        (ProcessingError::AccountNotFound.into(), 404),
        (ProcessingError::LeaseLost(Uuid::nil()).into(), 503),
        (ProcessingError::Invalid("bad row".into()).into(), 500),
        (AccountTokenError::NotFound.into(), 404),
        (AccountTokenError::NeedsReconnect.into(), 403),
        (AccountTokenError::Database(database_down()).into(), 500),
        (FileError::TooLarge(50 * 1024 * 1024).into(), 413),
        (FileError::Finished.into(), 500),
        (QueueError::Invalid("payload").into(), 500),
        (ModelError::Transport("refused".into()).into(), 503),
    ];
    for (error, status) in cases {
        assert_eq!(error.status_code(), status, "{error:?}");
        assert_eq!(error.status().as_u16(), status, "{error:?}");
        assert!(error.source().is_some(), "the cause is kept: {error:?}");
    }
}

#[test]
fn client_errors_keep_the_domain_s_precise_words_and_field() {
    let missing = AppError::from(DomainError::NotFound("contact"));
    assert_eq!(missing.to_string(), "Contact not found");
    let invalid = AppError::from(DomainError::invalid("question", "is empty"));
    assert_eq!(invalid.to_string(), "Invalid question: is empty");
    assert_eq!(invalid.field(), Some("question"));
    let payload = AppError::from(ChannelError::invalid("to[0].email", "is not an address"));
    assert!(payload.to_string().contains("to[0].email"), "{payload}");
    assert_eq!(payload.field(), Some("to[0].email"));
    let account = AppError::from(SyncError::AccountNotFound);
    assert_eq!(account.to_string(), "Account not found");
}

#[tokio::test]
async fn a_500_hides_its_cause_keeps_the_chain_and_names_the_request() {
    let error = with_request_id("req-42".into(), async {
        assert_eq!(current_request_id().as_deref(), Some("req-42"));
        AppError::from(SyncError::Database(database_down())).reported()
    })
    .await;
    assert_eq!(error.kind(), ErrorKind::Internal);
    assert_eq!(error.message(), GENERIC_MESSAGE);
    assert_eq!(error.request_id(), Some("req-42"));
    let shown = error.to_string();
    assert!(
        shown.starts_with(GENERIC_MESSAGE) && shown.contains("req-42"),
        "{shown}"
    );
    assert!(!shown.contains("pool"), "the cause is not shown: {shown}");

    // The chain: AppError -> SyncError -> sqlx::Error.
    let sync = error.source().expect("the domain error");
    assert!(sync.downcast_ref::<SyncError>().is_some(), "{sync:?}");
    let sqlx = sync.source().expect("the database error");
    assert!(sqlx.downcast_ref::<sqlx::Error>().is_some(), "{sqlx:?}");
    assert!(
        error.cause_chain().contains("pool timed out"),
        "{}",
        error.cause_chain()
    );

    // What crosses to the browser carries no cause either.
    let wire = serde_json::to_string(&error).unwrap();
    assert!(!wire.contains("pool"), "{wire}");
    let back: AppError = serde_json::from_str(&wire).unwrap();
    assert_eq!(back.to_string(), shown);
    assert!(back.source().is_none());

    // A 4xx shows its words, never a request id.
    let missing = with_request_id("req-43".into(), async {
        AppError::not_found("contact").reported()
    })
    .await;
    assert_eq!(missing.to_string(), "Contact not found");
}

#[tokio::test]
async fn as_a_response_it_is_the_status_and_a_json_sentence() {
    let response = with_request_id("req-7".into(), async {
        AppError::from(DomainError::Database(database_down())).into_response()
    })
    .await;
    assert_eq!(response.status().as_u16(), 500);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    let message = body["error"].as_str().unwrap();
    assert!(
        message.starts_with(GENERIC_MESSAGE) && message.contains("req-7"),
        "{body}"
    );
    assert_eq!(body["code"], "internal");

    let response = AppError::from(DomainError::invalid("body", "is required")).into_response();
    assert_eq!(response.status().as_u16(), 422);
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"], "Invalid body: is required");
    assert_eq!(body["field"], "body");
}

#[tokio::test]
async fn an_unknown_contact_or_account_is_a_404_through_rest_and_server_functions() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let unknown = Uuid::new_v4().to_string();

    // REST: an upload onto a contact that does not exist.
    let upload = alex
        .client
        .post(format!("{}/api/contacts/{unknown}/files", alex.address))
        .header("origin", &alex.address)
        .multipart(Form::new().part("file", Part::bytes(b"x".to_vec()).file_name("x.txt")))
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::NOT_FOUND);
    let body: Value = upload.json().await.unwrap();
    assert_eq!(body["error"], "Contact not found", "{body}");
    assert_eq!(body["code"], "not_found", "{body}");

    // REST: a download of a file that does not exist.
    let download = alex
        .client
        .get(format!("{}/files/{unknown}", alex.address))
        .send()
        .await
        .unwrap();
    assert_eq!(download.status(), StatusCode::NOT_FOUND);

    // Server functions: a contact, and an account, that do not exist.
    let server_fn = |path: &'static str, form: Vec<(&'static str, String)>| {
        alex.client
            .post(format!("{}{path}", alex.address))
            .header("origin", &alex.address)
            .header("accept", "application/json")
            .form(&form)
            .send()
    };
    for (path, form, words) in [
        (
            LoadContact::PATH,
            vec![("id", unknown.clone())],
            "Contact not found",
        ),
        (
            RequestSync::PATH,
            vec![("account_id", unknown.clone())],
            "Account not found",
        ),
        (
            SaveContactPolicy::PATH,
            vec![
                ("account_id", unknown.clone()),
                ("policy", "everyone".into()),
            ],
            "Account not found",
        ),
    ] {
        let response = server_fn(path, form).await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {text}");
        assert!(text.contains(words), "{path}: {text}");
    }
}
