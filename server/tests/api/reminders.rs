//! Keep-in-touch over HTTP: the contact page's and /reminders' server functions set a
//! frequency, snooze and mark done; the contacts list sets many at once; bad input is a
//! 422 naming the field; another user's contact is a 404 and their page never shows it.

use app::pages::reminders::{
    BulkKeepInTouch, DismissSuggestion, LoadKeepInTouch, ReminderDone, SetKeepInTouch,
    SetTagDefault, SnoozeReminder,
};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{ALEX, Browser, SAM, spawn_app};

async fn state(browser: &Browser, contact: Uuid) -> (u16, Value) {
    let response = browser
        .call_server_fn(
            LoadKeepInTouch::PATH,
            &[("contact_id", &contact.to_string())],
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_frequency_makes_a_reminder_that_done_clears() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;
    let id = ada.to_string();

    let response = alex
        .call_server_fn(
            SetKeepInTouch::PATH,
            &[("contact_id", &id), ("frequency", "month"), ("days", "")],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let (status, kept) = state(&alex, ada).await;
    assert_eq!(status, 200);
    assert_eq!(kept["frequency"], serde_json::json!({"Every": "month"}));
    // Never in touch: due from now, so on /reminders and on the contact page.
    alex.page("/reminders", 200, "Ada Lovelace").await;
    alex.page(&format!("/contacts/{ada}"), 200, "Every month")
        .await;

    let response = alex
        .call_server_fn(
            ReminderDone::PATH,
            &[
                ("contact_id", &id),
                ("note", "Coffee, talked about the move"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let html = alex
        .page("/reminders", 200, "Nobody is due this week.")
        .await;
    assert!(!html.contains("Ada Lovelace"), "done moved the due date");
    // The done is a logged interaction on the contact's timeline.
    alex.page(&format!("/contacts/{ada}"), 200, "Kept in touch")
        .await;

    // Every 3 days, then snoozed until a date: the contact page says so.
    let response = alex
        .call_server_fn(
            SetKeepInTouch::PATH,
            &[("contact_id", &id), ("frequency", "days"), ("days", "3")],
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        state(&alex, ada).await.1["frequency"],
        serde_json::json!({"Days": 3})
    );
    let until = (chrono::Utc::now() + chrono::Duration::days(20))
        .format("%Y-%m-%d")
        .to_string();
    let response = alex
        .call_server_fn(
            SnoozeReminder::PATH,
            &[("contact_id", &id), ("until", &until)],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    alex.page(
        &format!("/contacts/{ada}"),
        200,
        &format!("Snoozed until {until}"),
    )
    .await;
}

#[tokio::test]
async fn the_contacts_list_sets_many_and_tags_have_defaults() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;
    let bob = alex.create_contact("Bob Byte", "bob@example.com").await;
    let theirs = sam.create_contact("Cy Sam", "cy@example.com").await;
    let (ada_id, bob_id, their_id) = (ada.to_string(), bob.to_string(), theirs.to_string());
    let response = alex
        .call_server_fn(
            BulkKeepInTouch::PATH,
            &[
                ("ids[]", ada_id.as_str()),
                ("ids[]", bob_id.as_str()),
                ("ids[]", their_id.as_str()),
                ("tag", "ignored: the tag field of the same form"),
                ("frequency", "quarter"),
            ],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(response.json::<u64>().await.unwrap(), 2, "sam's is skipped");
    assert_eq!(
        state(&alex, bob).await.1["frequency"],
        serde_json::json!({"Every": "quarter"})
    );
    assert_eq!(state(&sam, theirs).await.1["frequency"], Value::Null);

    let response = alex
        .call_server_fn(
            SetTagDefault::PATH,
            &[("tag", "family"), ("frequency", "week"), ("days", "")],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    alex.page("/reminders", 200, "Every week").await;
}

/// A server function, its form, and what its error must name.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);

#[tokio::test]
async fn bad_input_is_a_422_naming_the_field() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;
    let id = ada.to_string();
    let cases: [Case; 7] = [
        (
            SetKeepInTouch::PATH,
            vec![("contact_id", &id), ("frequency", "fortnightly")],
            "frequency",
        ),
        (
            SetKeepInTouch::PATH,
            vec![("contact_id", &id), ("frequency", "days"), ("days", "0")],
            "days",
        ),
        (
            SnoozeReminder::PATH,
            vec![("contact_id", &id), ("until", "someday")],
            "until",
        ),
        (
            SnoozeReminder::PATH,
            vec![("contact_id", &id), ("until", "2020-01-01")],
            "must be a day after today",
        ),
        (BulkKeepInTouch::PATH, vec![("frequency", "month")], "ids"),
        (
            SetTagDefault::PATH,
            vec![("tag", " "), ("frequency", "month")],
            "tag",
        ),
        (
            SetTagDefault::PATH,
            vec![("tag", "family"), ("frequency", "days"), ("days", "x")],
            "days",
        ),
    ];
    for (path, form, field) in cases {
        let response = alex.call_server_fn(path, &form).await;
        assert_eq!(response.status(), 422, "{path} {form:?}");
        let text = response.text().await.unwrap();
        assert!(text.contains(field), "{path} {form:?}: {text}");
    }
    let long = "x".repeat(2_001);
    let response = alex
        .call_server_fn(ReminderDone::PATH, &[("contact_id", &id), ("note", &long)])
        .await;
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("note"));
    // Not a contact id at all: the request is malformed.
    let response = alex
        .call_server_fn(
            SetKeepInTouch::PATH,
            &[("contact_id", "not-a-uuid"), ("frequency", "month")],
        )
        .await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn another_users_contact_is_a_404_and_their_reminders_stay_theirs() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;
    let id = ada.to_string();
    let response = alex
        .call_server_fn(
            SetKeepInTouch::PATH,
            &[("contact_id", &id), ("frequency", "week")],
        )
        .await;
    assert_eq!(response.status(), 200);

    for (path, form) in [
        (
            SetKeepInTouch::PATH,
            vec![("contact_id", id.as_str()), ("frequency", "none")],
        ),
        (
            SnoozeReminder::PATH,
            vec![("contact_id", id.as_str()), ("until", "week")],
        ),
        (ReminderDone::PATH, vec![("contact_id", id.as_str())]),
        (DismissSuggestion::PATH, vec![("contact_id", id.as_str())]),
        (LoadKeepInTouch::PATH, vec![("contact_id", id.as_str())]),
    ] {
        let response = sam.call_server_fn(path, &form).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    let html = sam
        .page("/reminders", 200, "Nobody is due this week.")
        .await;
    assert!(!html.contains("Ada Lovelace"));
    // Alex's reminder is untouched.
    assert_eq!(
        state(&alex, ada).await.1["frequency"],
        serde_json::json!({"Every": "week"})
    );
    alex.page("/reminders", 200, "Ada Lovelace").await;
}
