use app::pages::contacts::CreateContact;
use leptos::server_fn::ServerFn;

use crate::helpers::{ALEX, SAM, spawn_app};

#[tokio::test]
async fn a_contact_created_through_the_server_fn_is_listed() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let response = alex
        .call_server_fn(
            CreateContact::PATH,
            &[("name", "Grace Hopper"), ("email", "Grace@Navy.MIL")],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());

    let (status, html) = alex.get_html("/contacts").await;
    assert_eq!(status, 200);
    assert!(html.contains("Grace Hopper"));
    assert!(
        html.contains("grace@navy.mil"),
        "emails are stored lowercased"
    );
    assert!(html.contains(">1 contact<"));
}

#[tokio::test]
async fn invalid_input_is_rejected_with_422_and_nothing_is_stored() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let response = alex
        .call_server_fn(
            CreateContact::PATH,
            &[("name", "X"), ("email", "no-at-sign")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("Invalid email: has no @")
    );
    assert_eq!(app.contact_count(ALEX).await, 0);
}

#[tokio::test]
async fn a_duplicate_email_is_a_409() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let first = alex
        .call_server_fn(
            CreateContact::PATH,
            &[("name", "A"), ("email", "same@example.com")],
        )
        .await;
    assert_eq!(first.status(), 200);
    let second = alex
        .call_server_fn(
            CreateContact::PATH,
            &[("name", "B"), ("email", "SAME@example.com")],
        )
        .await;
    assert_eq!(second.status(), 409);
    assert_eq!(app.contact_count(ALEX).await, 1, "nothing half-stored");
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let response = alex
        .client
        .post(format!("{}{}", app.address, CreateContact::PATH))
        .header("origin", "https://evil.example")
        .form(&[("name", "Mallory"), ("email", "m@evil.example")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(app.contact_count(ALEX).await, 0);
}

#[tokio::test]
async fn users_see_only_their_own_contacts() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    sam.call_server_fn(
        CreateContact::PATH,
        &[
            ("name", "Their Secret Contact"),
            ("email", "secret@other.example"),
        ],
    )
    .await;
    alex.call_server_fn(
        CreateContact::PATH,
        &[("name", "Mine"), ("email", "mine@example.com")],
    )
    .await;

    let (_, html) = alex.get_html("/contacts").await;
    assert!(html.contains("Mine"));
    assert!(!html.contains("Their Secret Contact") && !html.contains("secret@other.example"));

    // The same email may exist for two users: identities are unique per user only.
    let again = alex
        .call_server_fn(
            CreateContact::PATH,
            &[("name", "Also mine"), ("email", "secret@other.example")],
        )
        .await;
    assert_eq!(again.status(), 200);
}
