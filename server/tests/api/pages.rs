use std::time::Duration;

use crate::helpers::{ALEX, spawn_app};

#[tokio::test]
async fn every_page_renders_inside_the_layout() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    for (path, heading) in [
        ("/contacts", "<h1>Contacts</h1>"),
        ("/timeline", "<h1>Timeline</h1>"),
        ("/ask", "<h1>Ask Rapport</h1>"),
        ("/settings", "<h1>Settings</h1>"),
    ] {
        let (status, html) = alex.get_html(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains(heading), "{path} lacks {heading}");
        for link in ["/contacts", "/timeline", "/ask", "/settings"] {
            assert!(
                html.contains(&format!("href=\"{link}\"")),
                "{path} lacks nav link {link}"
            );
        }
    }
}

#[tokio::test]
async fn the_root_redirects_to_contacts() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let response = alex.get("/").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/contacts");
}

#[tokio::test]
async fn empty_states_guide_the_user() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let (_, contacts) = alex.get_html("/contacts").await;
    assert!(contacts.contains("No contacts yet"));
    let (_, timeline) = alex.get_html("/timeline").await;
    assert!(timeline.contains("Nothing captured yet"));
}

/// Building an app generates its page routes, which switches resource loading off
/// process-wide while it runs (leptos#4773): a page rendering in that window used to
/// wait forever. Tests and benches build many apps in one process, so pages must keep
/// being answered while others are built.
#[tokio::test]
async fn pages_are_answered_while_other_apps_are_built() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let building = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the other apps");
        runtime.block_on(async {
            for _ in 0..20 {
                spawn_app().await;
            }
        });
    });
    let mut rendered = 0;
    while !building.is_finished() {
        let page = tokio::time::timeout(Duration::from_secs(10), alex.get_html("/contacts"));
        let (status, html) = page
            .await
            .unwrap_or_else(|_| panic!("page {rendered} not answered in 10 s"));
        assert_eq!(status, 200);
        assert!(html.contains("No contacts yet"), "page {rendered} complete");
        rendered += 1;
    }
    building.join().expect("apps built");
    assert!(rendered > 0, "pages were rendered while apps were built");
}

#[tokio::test]
async fn unknown_pages_are_404_with_the_request_id() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let response = alex.get("/definitely/not/here").await;
    assert_eq!(response.status(), 404);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"));
    assert!(html.contains(&id), "the page shows the request id {id}");
}

#[tokio::test]
async fn a_failing_query_gives_a_500_page_with_the_request_id() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    // Break only the contacts query; sign-in and sessions keep working.
    sqlx::query("alter table contact_identities rename to contact_identities_gone")
        .execute(app.db.pool())
        .await
        .unwrap();
    let response = alex.get("/contacts").await;
    assert_eq!(response.status(), 500);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains("Something went wrong"));
    assert!(html.contains(&id), "the page shows the request id {id}");
    assert!(
        !html.contains("contact_identities"),
        "internal details stay in the logs"
    );
}

#[tokio::test]
async fn the_timeline_lists_the_users_activities_newest_first() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let owner = app.test_user(ALEX).await;
    for (id, subject, when) in [
        ("m1", "Older hello", "2026-01-01T10:00:00Z"),
        ("m2", "Newer hello", "2026-02-01T10:00:00Z"),
    ] {
        owner
            .email(when.parse().unwrap())
            .external_id(id)
            .subject(subject)
            .insert()
            .await;
    }
    let (status, html) = alex.get_html("/timeline").await;
    assert_eq!(status, 200);
    let newer = html.find("Newer hello").expect("newer listed");
    let older = html.find("Older hello").expect("older listed");
    assert!(newer < older, "newest first");
}
