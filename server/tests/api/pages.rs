use crate::helpers::spawn_app;

#[tokio::test]
async fn every_page_renders_inside_the_layout() {
    let app = spawn_app().await;
    for (path, heading) in [
        ("/contacts", "<h1>Contacts</h1>"),
        ("/timeline", "<h1>Timeline</h1>"),
        ("/ask", "<h1>Ask Rapport</h1>"),
        ("/settings", "<h1>Settings</h1>"),
    ] {
        let (status, html) = app.get_html(path).await;
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
    let response = app.get("/").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/contacts");
}

#[tokio::test]
async fn empty_states_guide_the_user() {
    let app = spawn_app().await;
    let (_, contacts) = app.get_html("/contacts").await;
    assert!(contacts.contains("No contacts yet"));
    let (_, timeline) = app.get_html("/timeline").await;
    assert!(timeline.contains("Nothing captured yet"));
    let (_, settings) = app.get_html("/settings").await;
    assert!(settings.contains("owner@rapport.localhost"));
    assert!(settings.contains("No sources are connected"));
}

#[tokio::test]
async fn unknown_pages_are_404_with_the_request_id() {
    let app = spawn_app().await;
    let response = app.get("/definitely/not/here").await;
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
async fn a_failing_database_gives_a_500_page_with_the_request_id() {
    let app = spawn_app().await;
    app.db.pool().close().await;
    let response = app.get("/contacts").await;
    assert_eq!(response.status(), 500);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let html = response.text().await.unwrap();
    assert!(html.contains("Something went wrong"));
    assert!(html.contains(&id), "the page shows the request id {id}");
    assert!(
        !html.contains("PoolClosed") && !html.contains("pool"),
        "internal details stay in the logs"
    );
}

#[tokio::test]
async fn the_timeline_lists_the_users_activities_newest_first() {
    let app = spawn_app().await;
    let account: uuid::Uuid = sqlx::query_scalar(
        "insert into accounts (user_id, provider, external_id) values ($1, 'google', 'me@example.com') returning id",
    )
    .bind(app.owner.0)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    for (id, subject, when) in [
        ("m1", "Older hello", "2026-01-01T10:00:00Z"),
        ("m2", "Newer hello", "2026-02-01T10:00:00Z"),
    ] {
        sqlx::query(
            "insert into activities (user_id, account_id, external_id, channel, direction, occurred_at, subject)
             values ($1, $2, $3, 'email', 'inbound', $4::timestamptz, $5)",
        )
        .bind(app.owner.0)
        .bind(account)
        .bind(id)
        .bind(when)
        .bind(subject)
        .execute(app.db.pool())
        .await
        .unwrap();
    }
    let (status, html) = app.get_html("/timeline").await;
    assert_eq!(status, 200);
    let newer = html.find("Newer hello").expect("newer listed");
    let older = html.find("Older hello").expect("older listed");
    assert!(newer < older, "newest first");
}
