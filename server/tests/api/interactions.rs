//! Interactions over HTTP: the contact page's server functions log, edit, archive and
//! delete; bad fields are a 422 naming the field; another user's contact or interaction
//! is a 404; a cross-site post is refused.

use app::components::interactions_panel::{
    ArchiveInteraction, DeleteInteraction, EditInteraction, LoadInteractions, LogInteraction,
};
use leptos::server_fn::ServerFn;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::{ALEX, Browser, SAM, spawn_app};

fn form<'a>(target: (&'a str, &'a str), fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![target];
    form.extend_from_slice(fields);
    form
}

const MEETING: &[(&str, &str)] = &[
    ("form[kind]", "meeting"),
    ("form[subject]", "Planning lunch"),
    ("form[date]", "2030-03-05"),
    ("form[time]", "12:30"),
    ("form[duration_minutes]", "60"),
    ("form[location]", "Cafe Nero"),
    ("form[direction]", "outbound"),
    ("form[medium]", ""),
    ("form[sentiment]", "positive"),
    ("form[importance]", "4"),
    ("form[private_notes]", "bring the deck"),
];

async fn rows(browser: &Browser, contact: Uuid) -> (u16, Value) {
    let response = browser
        .call_server_fn(
            LoadInteractions::PATH,
            &[("contact_id", &contact.to_string())],
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn interactions_are_logged_edited_archived_and_deleted_through_the_page() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;
    let id = ada.to_string();

    let logged = alex
        .call_server_fn(LogInteraction::PATH, &form(("contact_id", &id), MEETING))
        .await;
    assert_eq!(logged.status(), 200, "{}", logged.text().await.unwrap());
    let (status, list) = rows(&alex, ada).await;
    assert_eq!(status, 200);
    let row = &list[0];
    assert_eq!(row["draft"]["subject"], "Planning lunch");
    assert_eq!(row["draft"]["medium"], "in_person", "from the type");
    assert_eq!(row["event"]["status"], "scheduled");
    let interaction = row["id"].as_str().unwrap().to_owned();

    let mut edited = MEETING.to_vec();
    edited[1] = ("form[subject]", "Planning dinner");
    let response = alex
        .call_server_fn(
            EditInteraction::PATH,
            &form(("interaction_id", &interaction), &edited),
        )
        .await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    assert_eq!(
        rows(&alex, ada).await.1[0]["draft"]["subject"],
        "Planning dinner"
    );

    let response = alex
        .call_server_fn(
            ArchiveInteraction::PATH,
            &[("interaction_id", &interaction), ("archived", "true")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let row = &rows(&alex, ada).await.1[0];
    assert_eq!(row["archived"], true);
    assert_eq!(row["event"]["status"], "cancelled");

    // The contact page renders the panel with the row.
    alex.page(&format!("/contacts/{ada}"), 200, "Planning dinner")
        .await;

    let response = alex
        .call_server_fn(DeleteInteraction::PATH, &[("interaction_id", &interaction)])
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(rows(&alex, ada).await.1, Value::Array(vec![]));
}

#[tokio::test]
async fn bad_fields_are_a_422_that_names_the_field() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let ada = alex
        .create_contact("Ada Lovelace", "ada@example.com")
        .await
        .to_string();
    let cases = [
        (("form[kind]", "dance"), "kind"),
        (("form[date]", "05/03/2030"), "date"),
        (("form[time]", "25:61"), "time"),
        (("form[duration_minutes]", "0"), "duration_minutes"),
        (("form[importance]", "9"), "importance"),
        (("form[sentiment]", "ecstatic"), "sentiment"),
        (("form[direction]", "sideways"), "direction"),
    ];
    for (bad, field) in cases {
        let mut fields: Vec<(&str, &str)> = MEETING
            .iter()
            .filter(|(k, _)| *k != bad.0)
            .copied()
            .collect();
        fields.push(bad);
        let response = alex
            .call_server_fn(LogInteraction::PATH, &form(("contact_id", &ada), &fields))
            .await;
        assert_eq!(response.status(), 422, "{bad:?}");
        let text = response.text().await.unwrap();
        assert!(text.contains(field), "{bad:?}: {text}");
    }
}

#[tokio::test]
async fn another_users_contact_or_interaction_is_a_404() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;
    let id = ada.to_string();
    let logged = alex
        .call_server_fn(LogInteraction::PATH, &form(("contact_id", &id), MEETING))
        .await;
    assert_eq!(logged.status(), 200);
    let interaction = rows(&alex, ada).await.1[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let response = sam
        .call_server_fn(LogInteraction::PATH, &form(("contact_id", &id), MEETING))
        .await;
    assert_eq!(response.status(), 404);
    let response = sam
        .call_server_fn(
            EditInteraction::PATH,
            &form(("interaction_id", &interaction), MEETING),
        )
        .await;
    assert_eq!(response.status(), 404);
    let response = sam
        .call_server_fn(
            ArchiveInteraction::PATH,
            &[("interaction_id", &interaction), ("archived", "true")],
        )
        .await;
    assert_eq!(response.status(), 404);
    let response = sam
        .call_server_fn(DeleteInteraction::PATH, &[("interaction_id", &interaction)])
        .await;
    assert_eq!(response.status(), 404);
    assert_eq!(rows(&sam, ada).await, (200, Value::Array(vec![])));
    assert_eq!(
        rows(&alex, ada).await.1.as_array().unwrap().len(),
        1,
        "untouched"
    );

    // A cross-site post is refused before it reaches the function.
    let response = alex
        .client
        .post(format!("{}{}", alex.address, DeleteInteraction::PATH))
        .header("origin", "https://evil.example")
        .form(&[("interaction_id", &interaction)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(rows(&alex, ada).await.1.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn the_feed_url_serves_the_calendar_until_rotated_or_revoked() {
    use app::components::calendar_feed::{RevokeCalendarFeed, RotateCalendarFeed};

    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;
    let logged = alex
        .call_server_fn(
            LogInteraction::PATH,
            &form(("contact_id", &ada.to_string()), MEETING),
        )
        .await;
    assert_eq!(logged.status(), 200);

    let rotate = alex.call_server_fn(RotateCalendarFeed::PATH, &[]).await;
    assert_eq!(rotate.status(), 200);
    let path: String = rotate.json().await.unwrap();
    // A calendar app has no session: the URL alone must do.
    let anonymous = reqwest::Client::new();
    let feed = anonymous
        .get(format!("{}{path}", alex.address))
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200);
    assert!(
        feed.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let ics = feed.text().await.unwrap();
    assert!(ics.contains("SUMMARY:Planning lunch"), "{ics}");
    assert!(ics.contains("DTSTART:20300305T123000Z"), "{ics}");

    // Sam's own feed does not show Alex's events.
    let sams: String = sam
        .call_server_fn(RotateCalendarFeed::PATH, &[])
        .await
        .json()
        .await
        .unwrap();
    let theirs = anonymous
        .get(format!("{}{sams}", alex.address))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!theirs.contains("Planning lunch"));

    // Rotating retires the old URL; revoking the new one; both are then 404s.
    let rotated: String = alex
        .call_server_fn(RotateCalendarFeed::PATH, &[])
        .await
        .json()
        .await
        .unwrap();
    let old = anonymous
        .get(format!("{}{path}", alex.address))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), 404);
    assert_eq!(
        alex.call_server_fn(RevokeCalendarFeed::PATH, &[])
            .await
            .status(),
        200
    );
    for gone in [
        &rotated,
        &format!("/calendar/feed/rcf_{}.ics", "x".repeat(43)),
    ] {
        let response = anonymous
            .get(format!("{}{gone}", alex.address))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{gone}");
    }

    // The calendar page shows the logged meeting, linked to its contact.
    let html = alex
        .page("/calendar?view=week&date=2030-03-05", 200, "Planning lunch")
        .await;
    assert!(html.contains(&format!("/contacts/{ada}")));
    alex.page("/calendar", 200, "Calendar").await;
}

#[tokio::test]
async fn the_users_time_zone_reads_the_form_and_stays_theirs() {
    use app::components::time_zone::{AdoptBrowserTimeZone, ChooseTimeZone, LoadTimeZone};

    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let ada = alex.create_contact("Ada Lovelace", "ada@example.com").await;

    // The browser's zone is adopted; a nonsense one is a 422 naming the field.
    let adopted = alex
        .call_server_fn(AdoptBrowserTimeZone::PATH, &[("name", "Asia/Tokyo")])
        .await;
    assert_eq!(adopted.status(), 200, "{}", adopted.text().await.unwrap());
    let bad = alex
        .call_server_fn(ChooseTimeZone::PATH, &[("name", "Mars/Olympus")])
        .await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("time_zone"));

    // 12:30 in Tokyo is 03:30 UTC; the row reads Tokyo's clock back.
    let logged = alex
        .call_server_fn(
            LogInteraction::PATH,
            &form(("contact_id", &ada.to_string()), MEETING),
        )
        .await;
    assert_eq!(logged.status(), 200, "{}", logged.text().await.unwrap());
    let (_, list) = rows(&alex, ada).await;
    assert_eq!(list[0]["draft"]["occurred_at"], "2030-03-05T03:30:00Z");
    assert_eq!(list[0]["local"]["at"], "2030-03-05T12:30:00");
    assert_eq!(list[0]["local"]["zone"], "JST");

    // Another user's zone is untouched, and an anonymous caller gets a 401.
    let theirs: Value = sam
        .call_server_fn(LoadTimeZone::PATH, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (theirs["name"].as_str(), theirs["chosen"].as_bool()),
        (Some("UTC"), Some(false))
    );
    let mine: Value = alex
        .call_server_fn(LoadTimeZone::PATH, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["name"], "Asia/Tokyo");
    let anonymous = app
        .anonymous
        .call_server_fn(ChooseTimeZone::PATH, &[("name", "Europe/Paris")])
        .await;
    assert_eq!(anonymous.status(), 401);
}
