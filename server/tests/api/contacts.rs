use app::pages::contact::{MergeContacts, SaveProfile, UnmergeContacts};
use app::pages::contacts::{CreateContact, TagContacts};
use leptos::server_fn::ServerFn;
use uuid::Uuid;

use crate::helpers::{ALEX, SAM, SAM_NAME, TestApp, spawn_app};

#[tokio::test]
async fn a_contact_created_through_the_server_fn_is_listed() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    alex.create_contact("Grace Hopper", "Grace@Navy.MIL").await;

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
    sam.create_contact("Their Secret Contact", "secret@other.example")
        .await;
    alex.create_contact("Mine", "mine@example.com").await;
    sam.page("/contacts", 200, "Their Secret Contact").await;

    let html = alex.page("/contacts", 200, "mine@example.com").await;
    assert!(html.contains(">1 contact<"), "only Alex's own contact");
    assert!(!html.contains("Their Secret Contact") && !html.contains("secret@other.example"));

    // The same email may exist for two users: identities are unique per user only.
    alex.create_contact("Also mine", "secret@other.example")
        .await;
}

/// Alex's contact "Ada Lovelace" (ada@engines.example) with one answered thread and
/// one waiting for a reply, plus "Ada L." at another address (a duplicate by name is
/// not enough: same LinkedIn). Returns (ada, duplicate).
async fn seed_ada(app: &TestApp) -> (Uuid, Uuid) {
    let alex = app.test_user(ALEX).await;
    let company = alex
        .company("engines.example", Some("Analytical Engines"))
        .await;
    let mut ids = Vec::new();
    for (name, address) in [
        ("Ada Lovelace", "ada@engines.example"),
        ("Ada L.", "ada@home.example"),
    ] {
        let id = alex
            .contact(name)
            .email(address)
            .company(company)
            .links(serde_json::json!({"linkedin": "https://linkedin.com/in/ada"}))
            .insert()
            .await;
        ids.push(id);
    }
    let ada = ids[0];
    let now = chrono::Utc::now();
    for (thread, direction, hours_ago) in [
        ("thread-analytical", "inbound", 50),
        ("thread-analytical", "outbound", 47),
        ("thread-waiting", "inbound", 20),
    ] {
        let role = if direction == "inbound" { "from" } else { "to" };
        alex.email(now - chrono::Duration::hours(hours_ago))
            .direction(direction)
            .thread(thread)
            .subject(&format!("About {thread}"))
            .person(role, "ada@engines.example", Some(ada))
            .insert()
            .await;
    }
    domain::contacts::stats::refresh(app.db.for_user(alex.id), &ids)
        .await
        .unwrap();
    (ada, ids[1])
}

#[tokio::test]
async fn the_contact_page_shows_stats_chart_explanation_threads_and_duplicates() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let (ada, duplicate) = seed_ada(&app).await;
    let (status, html) = alex.get_html(&format!("/contacts/{ada}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<h1>Ada Lovelace</h1>"));
    assert!(html.contains("Analytical Engines"));
    assert!(
        html.contains(
            "Mostly the last 90 days (100 % of the weight): 3 emails both ways in 90 days, \
             3 in all, you reply in 3 h, last contact today"
        ),
        "strength explanation"
    );
    assert!(
        html.contains("<svg") && html.contains("class=\"sent\""),
        "volume chart"
    );
    assert!(html.contains("https://mail.google.com/mail/u/0/#all/thread-waiting"));
    assert!(html.contains("Same LinkedIn profile"));
    assert!(
        html.contains(&format!("value=\"{duplicate}\"")),
        "merge form for the duplicate"
    );

    let (status, company) = alex.get_html(&html_company_link(&html)).await;
    assert_eq!(status, 200);
    assert!(company.contains("Ada Lovelace") && company.contains("Ada L."));

    // Another user gets a 404 for Alex's contact and company.
    let sam = app.sign_in(SAM).await;
    let page = sam.page(&format!("/contacts/{ada}"), 404, SAM_NAME).await;
    assert!(!page.contains("Ada Lovelace"));
    let page = sam.page(&html_company_link(&html), 404, SAM_NAME).await;
    assert!(!page.contains("Analytical Engines"));
}

fn html_company_link(html: &str) -> String {
    let start = html.find("/companies/").expect("a company link");
    html[start..start + "/companies/".len() + 36].to_owned()
}

#[tokio::test]
async fn the_list_filters_sorts_and_pages_by_query_string() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    seed_ada(&app).await;
    for n in 0..55 {
        let email = format!("person{n}@people.example");
        alex.create_contact(&format!("Person {n:02}"), &email).await;
    }
    let (status, html) = alex.get_html("/contacts").await;
    assert_eq!(status, 200);
    assert!(html.contains("57 contacts, page 1 of 2"));
    assert!(html.contains("Top contacts"));
    assert!(
        html.contains("href=\"/contacts?page=2\""),
        "pagination link"
    );
    let (_, second) = alex.get_html("/contacts?page=2").await;
    assert!(second.contains("Page 2 of 2"));

    let (_, search) = alex.get_html("/contacts?q=engines").await;
    assert!(search.contains("2 contacts") && search.contains("Ada L."));
    assert!(!search.contains("Person 01"));
    let (_, waiting) = alex.get_html("/contacts?unanswered=1").await;
    assert!(waiting.contains(">1 contact<") && waiting.contains("Ada Lovelace"));
    let (_, by_name) = alex.get_html("/contacts?sort=name").await;
    let first_ada = by_name.find("Ada L.").unwrap();
    let first_person = by_name.find("Person 00").unwrap();
    assert!(first_ada < first_person, "A to Z");
}

#[tokio::test]
async fn profile_edits_merges_and_bulk_tags_go_through_server_fns() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let (ada, duplicate) = seed_ada(&app).await;
    let ada_text = ada.to_string();
    let edit = [
        ("id", ada_text.as_str()),
        ("profile[display_name]", "Ada King"),
        ("profile[title]", "Countess"),
        ("profile[company]", "engines.example"),
        ("profile[emails]", "ada@engines.example"),
        ("profile[tags]", "vip"),
        ("profile[notes]", "Met at the salon"),
    ];
    let response = sam.call_server_fn(SaveProfile::PATH, &edit).await;
    let status = response.status();
    assert_eq!(
        status,
        404,
        "not Sam's contact: {}",
        response.text().await.unwrap()
    );
    let response = alex.call_server_fn(SaveProfile::PATH, &edit).await;
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let profile = app
        .db
        .for_user(app.user_id(ALEX).await)
        .contacts()
        .profile(ada)
        .await
        .unwrap();
    assert_eq!(profile.display_name.as_deref(), Some("Ada King"));
    assert_eq!(profile.field_sources["title"]["source"], "user");

    let dup_text = duplicate.to_string();
    let merge = [("winner", ada_text.as_str()), ("loser", dup_text.as_str())];
    assert_eq!(
        sam.call_server_fn(MergeContacts::PATH, &merge)
            .await
            .status(),
        404
    );
    let response = alex.call_server_fn(MergeContacts::PATH, &merge).await;
    assert_eq!(response.status(), 200);
    let merge_id: Uuid = response.json().await.unwrap();
    let (_, list) = alex.get_html("/contacts").await;
    assert!(!list.contains("Ada L."), "merged away");
    let (_, page) = alex.get_html(&format!("/contacts/{ada}")).await;
    assert!(page.contains("Merge log") && page.contains("Un-merge"));
    let unmerge = [("merge", merge_id.to_string())];
    let unmerge: Vec<(&str, &str)> = unmerge.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        sam.call_server_fn(UnmergeContacts::PATH, &unmerge)
            .await
            .status(),
        404
    );
    assert_eq!(
        alex.call_server_fn(UnmergeContacts::PATH, &unmerge)
            .await
            .status(),
        200
    );
    let (_, list) = alex.get_html("/contacts").await;
    assert!(list.contains("Ada L."), "back after un-merge");

    let tag = [
        ("ids[]", ada_text.as_str()),
        ("ids[]", dup_text.as_str()),
        ("tag", "Investor"),
    ];
    let response = sam.call_server_fn(TagContacts::PATH, &tag).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.json::<u64>().await.unwrap(),
        0,
        "Sam cannot tag Alex's contacts"
    );
    let response = alex.call_server_fn(TagContacts::PATH, &tag).await;
    assert_eq!(response.json::<u64>().await.unwrap(), 2);
    let (_, tagged) = alex.get_html("/contacts?tag=investor").await;
    assert!(tagged.contains("2 contacts"));
}
