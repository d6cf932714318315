//! The unified inbox over HTTP: what arrived from every channel, newest first, with its
//! read state, filters, search and cursor pages; done (leaves the inbox, stays on the
//! timeline), undo, dismiss (leaves both, and a source sending it again does not bring
//! it back); every change scoped to its owner and refused from another origin.

use api::Channel;
use api::inbox::InboxPage;
use app::components::activity_timeline::ContactTimeline;
use app::pages::inbox::{Dismiss, ListInbox, MarkDone, OpenInboxItem, UndoDone};
use chrono::{Duration, Utc};
use leptos::server_fn::ServerFn;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::fixtures::TestUser;
use crate::helpers::{ALEX, Browser, SAM, TestApp, spawn_app};

/// A page of `browser`'s inbox, which must answer 200.
async fn list(browser: &Browser, channels: &str, unread: bool, q: &str, cursor: &str) -> InboxPage {
    let (status, body) = list_raw(browser, channels, unread, q, cursor).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    serde_json::from_str(&body).expect("an inbox page")
}

async fn list_raw(
    browser: &Browser,
    channels: &str,
    unread: bool,
    q: &str,
    cursor: &str,
) -> (StatusCode, String) {
    let unread = unread.to_string();
    let response = browser
        .call_server_fn(
            ListInbox::PATH,
            &[
                ("channels", channels),
                ("unread", &unread),
                ("q", q),
                ("cursor", cursor),
            ],
        )
        .await;
    (response.status(), response.text().await.unwrap())
}

async fn ids(browser: &Browser, channels: &str, unread: bool, q: &str) -> Vec<Uuid> {
    list(browser, channels, unread, q, "")
        .await
        .items
        .iter()
        .map(|i| i.id)
        .collect()
}

/// Calls one of the inbox's state changes on `activity`.
async fn act(browser: &Browser, path: &str, activity: Uuid) -> reqwest::Response {
    browser
        .call_server_fn(path, &[("activity", &activity.to_string())])
        .await
}

/// The ids on `contact`'s timeline.
async fn timeline(browser: &Browser, contact: Uuid) -> Vec<Uuid> {
    let response = browser
        .call_server_fn(
            ContactTimeline::PATH,
            &[("contact", &contact.to_string()), ("limit", "100")],
        )
        .await;
    assert_eq!(response.status(), 200);
    let window: api::timeline::TimelineWindow = response.json().await.unwrap();
    window.items.iter().map(|i| i.id).collect()
}

async fn exec(app: &TestApp, sql: &str, id: Uuid) {
    sqlx::query(sql)
        .bind(id)
        .execute(app.db.pool())
        .await
        .unwrap();
}

/// An unread inbound email from `from` (with Gmail's labels).
async fn unread_email(user: &TestUser, minutes_ago: i64, subject: &str, from: &str) -> Uuid {
    let id = user
        .email(Utc::now() - Duration::minutes(minutes_ago))
        .subject(subject)
        .snippet(&format!("{subject} — details inside"))
        .person("from", from, None)
        .insert()
        .await;
    sqlx::query("update activities set labels = '{INBOX,UNREAD}' where id = $1")
        .bind(id)
        .execute(user.db.pool())
        .await
        .unwrap();
    id
}

#[tokio::test]
async fn the_inbox_lists_what_arrived_newest_first_with_read_state_filters_and_search() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let user = app.test_user(ALEX).await;
    let ann = user
        .contact("Ann Lee")
        .email("ann@x.example")
        .insert()
        .await;

    let mail = user
        .email(Utc::now() - Duration::minutes(10))
        .subject("Quarterly numbers")
        .snippet("Revenue is up 50% this quarter")
        .person("from", "ann@x.example", Some(ann))
        .insert()
        .await;
    exec(
        &app,
        "update activities set labels = '{INBOX,UNREAD}' where id = $1",
        mail,
    )
    .await;
    // Read in Gmail: no UNREAD label.
    let read_mail = user
        .email(Utc::now() - Duration::minutes(30))
        .subject("Lunch?")
        .person("from", "bob@y.example", None)
        .insert()
        .await;
    exec(
        &app,
        "update activities set labels = '{INBOX}' where id = $1",
        read_mail,
    )
    .await;
    let meeting = user
        .email(Utc::now() - Duration::minutes(20))
        .subject("Planning")
        .person("organizer", "ann@x.example", Some(ann))
        .insert()
        .await;
    exec(
        &app,
        "update activities set channel = 'meeting', direction = null where id = $1",
        meeting,
    )
    .await;
    // Never in the inbox: what the user sent, what the source deleted, uploads.
    let sent = user
        .email(Utc::now() - Duration::minutes(5))
        .outbound()
        .subject("Sent by me")
        .person("to", "ann@x.example", Some(ann))
        .insert()
        .await;
    let deleted = unread_email(&user, 6, "Deleted at the source", "c@z.example").await;
    exec(
        &app,
        "update activities set deleted_at = now() where id = $1",
        deleted,
    )
    .await;
    let file = user.email(Utc::now() - Duration::minutes(7)).insert().await;
    exec(
        &app,
        "update activities set channel = 'file', direction = null where id = $1",
        file,
    )
    .await;
    // A WhatsApp message through a real webhook channel.
    let channel = alex.create_channel("generic", "whatsapp").await;
    let posted = reqwest::Client::new()
        .post(format!("{}{}", app.address, channel.endpoint))
        .bearer_auth(&channel.key)
        .json(&serde_json::json!({
            "external_id": "wa-1",
            "from": {"phone": "+14155552671", "name": "Dana Phone"},
            "text": "Are you free tomorrow?",
            "occurred_at": (Utc::now() - Duration::minutes(1)).to_rfc3339(),
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 202, "{}", posted.text().await.unwrap());
    let whatsapp: Uuid = sqlx::query_scalar("select id from activities where external_id = 'wa-1'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let page = list(&alex, "", false, "", "").await;
    let order: Vec<Uuid> = page.items.iter().map(|i| i.id).collect();
    assert_eq!(order, [whatsapp, mail, meeting, read_mail]);
    assert!(page.next.is_none());
    assert!(!order.contains(&sent) && !order.contains(&deleted) && !order.contains(&file));

    let [wa, quarterly, planning, lunch] = &page.items[..] else {
        unreachable!()
    };
    assert_eq!(wa.channel, Channel::Whatsapp);
    assert_eq!(wa.headline, "Are you free tomorrow?");
    assert!(wa.unread, "other channels are unread until opened");
    assert_eq!(wa.href, "/timeline", "no contact to open it on");
    let sender = wa.sender.as_ref().expect("a sender");
    assert_eq!(sender.address, "+14155552671");

    assert_eq!(quarterly.channel, Channel::Email);
    assert_eq!(quarterly.headline, "Quarterly numbers");
    assert_eq!(
        quarterly.snippet.as_deref(),
        Some("Revenue is up 50% this quarter")
    );
    assert!(quarterly.unread, "UNREAD and never opened here");
    assert_eq!(quarterly.href, format!("/mail/{mail}"));
    let sender = quarterly.sender.as_ref().unwrap();
    assert_eq!(
        (
            sender.name.as_deref(),
            sender.address.as_str(),
            sender.contact_id
        ),
        (Some("Ann Lee"), "ann@x.example", Some(ann)),
        "the contact's name"
    );

    assert_eq!(planning.channel, Channel::Meeting);
    assert_eq!(planning.href, format!("/contacts/{ann}#activity-{meeting}"));
    assert_eq!(planning.sender.as_ref().unwrap().contact_id, Some(ann));
    assert!(!lunch.unread, "read in Gmail");

    // Filters.
    assert_eq!(
        ids(&alex, "whatsapp,meeting", false, "").await,
        [whatsapp, meeting]
    );
    assert_eq!(ids(&alex, "email", true, "").await, [mail]);
    assert_eq!(
        ids(&alex, "", true, "").await,
        [whatsapp, mail, meeting],
        "a meeting is unread until opened"
    );
    // Search, in the mail search's language: words of the subject, the text and the
    // sender's name and address, stemmed or as typed, case-folded; operators; only what
    // is in the inbox.
    assert_eq!(ids(&alex, "", false, "QUARTERLY").await, [mail]);
    assert_eq!(ids(&alex, "", false, "revenues 50%").await, [mail]);
    assert_eq!(
        ids(&alex, "", false, "revenue lunch").await,
        Vec::<Uuid>::new()
    );
    assert_eq!(ids(&alex, "", false, "dana").await, [whatsapp]);
    assert_eq!(
        ids(&alex, "", false, "from:ann@x.example").await,
        [mail, meeting]
    );
    assert_eq!(ids(&alex, "meeting", false, "ann").await, [meeting]);
    assert_eq!(
        ids(&alex, "", false, "channel:whatsapp free").await,
        [whatsapp]
    );
    assert_eq!(ids(&alex, "", false, "\"quarterly numbers\"").await, [mail]);
    assert_eq!(
        ids(&alex, "", false, "\"numbers quarterly\"").await,
        Vec::<Uuid>::new(),
        "a phrase's words in its order"
    );
    assert_eq!(
        ids(&alex, "", false, "sent by me").await,
        Vec::<Uuid>::new()
    );
    assert_eq!(
        ids(&alex, "", false, "the").await,
        Vec::<Uuid>::new(),
        "only a stop word"
    );

    // Opening marks read (once) and says where to go.
    let opened = act(&alex, OpenInboxItem::PATH, mail).await;
    assert_eq!(opened.status(), 200);
    assert_eq!(
        opened.json::<String>().await.unwrap(),
        format!("/mail/{mail}")
    );
    let opened = act(&alex, OpenInboxItem::PATH, whatsapp).await;
    assert_eq!(opened.json::<String>().await.unwrap(), "/timeline");
    assert_eq!(ids(&alex, "", true, "").await, [meeting]);
    let changes: i64 =
        sqlx::query_scalar("select count(*) from events where kind = 'inbox.changed' and live")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(changes, 2, "one live event per item marked read");
    assert_eq!(act(&alex, OpenInboxItem::PATH, mail).await.status(), 200);

    // Bad input is a precise 422 naming the field, never a 500.
    for (channels, q, cursor, field) in [
        ("fax", "", "", "channel"),
        ("", "", "not-a-cursor", "cursor"),
        ("", &"x".repeat(201)[..], "", "search"),
        ("", "subject:lunch", "", "search"),
    ] {
        let (status, body) = list_raw(&alex, channels, false, q, cursor).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert!(body.contains(&format!("\"field\":\"{field}\"")), "{body}");
    }
}

#[tokio::test]
async fn cursor_pages_walk_the_whole_inbox_once_while_new_items_arrive() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let user = app.test_user(ALEX).await;
    // 120 emails, in pairs at the same moment (the cursor's tie-break is the id).
    let base = Utc::now() - Duration::days(1);
    let mut expected = Vec::new();
    for i in 0..120 {
        let when = base - Duration::minutes(i / 2);
        expected.push((
            when,
            user.email(when).subject(&format!("m{i}")).insert().await,
        ));
    }
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<Uuid> = expected.into_iter().map(|(_, id)| id).collect();

    let first = list(&alex, "", false, "", "").await;
    assert_eq!(first.items.len(), 50);
    // Arrivals after the first page was read do not shift the next pages.
    unread_email(&user, 1, "Arrived meanwhile", "new@x.example").await;
    let second = list(&alex, "", false, "", first.next.as_deref().unwrap()).await;
    assert_eq!(second.items.len(), 50);
    let third = list(&alex, "", false, "", second.next.as_deref().unwrap()).await;
    assert_eq!(third.items.len(), 20);
    assert!(third.next.is_none(), "the last page");
    let walked: Vec<Uuid> = [first, second, third]
        .iter()
        .flat_map(|p| p.items.iter().map(|i| i.id))
        .collect();
    assert_eq!(walked, expected, "every row once, in order");
}

#[tokio::test]
async fn done_leaves_the_inbox_but_not_the_timeline_and_dismissed_leaves_both_for_good() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let user = app.test_user(ALEX).await;
    let ann = user
        .contact("Ann Lee")
        .email("ann@x.example")
        .insert()
        .await;
    let done = user
        .email(Utc::now() - Duration::minutes(2))
        .subject("Handled")
        .from("ann@x.example", ann)
        .insert()
        .await;
    let dismissed = user
        .email(Utc::now() - Duration::minutes(3))
        .subject("Noise")
        .from("ann@x.example", ann)
        .insert()
        .await;
    assert_eq!(ids(&alex, "", false, "").await, [done, dismissed]);

    assert_eq!(act(&alex, MarkDone::PATH, done).await.status(), 200);
    assert_eq!(ids(&alex, "", false, "").await, [dismissed]);
    assert_eq!(ids(&alex, "", false, "handled").await, Vec::<Uuid>::new());
    assert!(timeline(&alex, ann).await.contains(&done));
    assert_eq!(
        act(&alex, MarkDone::PATH, done).await.status(),
        200,
        "again"
    );

    assert_eq!(act(&alex, UndoDone::PATH, done).await.status(), 200);
    assert_eq!(ids(&alex, "", false, "").await, [done, dismissed]);

    assert_eq!(act(&alex, Dismiss::PATH, dismissed).await.status(), 200);
    assert_eq!(ids(&alex, "", false, "").await, [done]);
    assert_eq!(timeline(&alex, ann).await, [done]);
    let page = alex.page("/timeline", 200, "Handled").await;
    assert!(!page.contains("Noise"), "{page}");
    // A dismissed item cannot be opened, done or undone; dismissing again is fine.
    for path in [OpenInboxItem::PATH, MarkDone::PATH, UndoDone::PATH] {
        assert_eq!(act(&alex, path, dismissed).await.status(), 404, "{path}");
    }
    assert_eq!(act(&alex, Dismiss::PATH, dismissed).await.status(), 200);

    // A webhook sending the same message again does not bring it back.
    let channel = alex.create_channel("generic", "sms").await;
    let post = || async {
        reqwest::Client::new()
            .post(format!("{}{}", app.address, channel.endpoint))
            .bearer_auth(&channel.key)
            .json(&serde_json::json!({
                "external_id": "sms-1", "from": {"phone": "+14155552671"}, "text": "Ping"
            }))
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(post().await, 202);
    let sms = ids(&alex, "sms", false, "").await;
    assert_eq!(sms.len(), 1);
    assert_eq!(act(&alex, Dismiss::PATH, sms[0]).await.status(), 200);
    assert_eq!(post().await, 200, "a duplicate, acknowledged");
    assert_eq!(ids(&alex, "sms", false, "").await, Vec::<Uuid>::new());
    let kept: bool =
        sqlx::query_scalar("select dismissed_at is not null from activities where id = $1")
            .bind(sms[0])
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(kept);
}

#[tokio::test]
async fn one_users_inbox_is_invisible_and_untouchable_to_another() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let sam = app.sign_in(SAM).await;
    let alex_user = app.test_user(ALEX).await;
    let sam_user = app.test_user(SAM).await;
    let private = unread_email(&alex_user, 1, "Alex's secret", "ann@x.example").await;
    let sams = unread_email(&sam_user, 2, "Sam own mail", "bob@y.example").await;

    // Sam's inbox answers (not a redirect or an error) and holds only Sam's mail, by
    // any filter or search.
    assert_eq!(ids(&sam, "", false, "").await, [sams]);
    assert_eq!(ids(&sam, "email", true, "secret").await, Vec::<Uuid>::new());
    assert_eq!(ids(&sam, "", false, "ann@x").await, Vec::<Uuid>::new());
    sam.page("/inbox", 200, "Sam own mail").await;

    for path in [
        OpenInboxItem::PATH,
        MarkDone::PATH,
        UndoDone::PATH,
        Dismiss::PATH,
    ] {
        let response = act(&sam, path, private).await;
        assert_eq!(response.status(), 404, "{path}");
        assert_eq!(act(&sam, path, Uuid::new_v4()).await.status(), 404);
    }
    assert_eq!(ids(&alex, "", true, "").await, [private], "untouched");

    // Signed out: 401 from the server functions, the page redirects to sign in.
    let anonymous = Browser::new(&app.address);
    let (status, _) = list_raw(&anonymous, "", false, "", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(act(&anonymous, MarkDone::PATH, private).await.status(), 401);
    assert_eq!(anonymous.redirect_target("/inbox").await, "/login");
}

#[tokio::test]
async fn state_changes_from_another_origin_are_refused() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let user = app.test_user(ALEX).await;
    let id = unread_email(&user, 1, "Keep me", "ann@x.example").await;
    for path in [
        OpenInboxItem::PATH,
        MarkDone::PATH,
        Dismiss::PATH,
        UndoDone::PATH,
    ] {
        let forged = alex
            .client
            .post(format!("{}{path}", alex.address))
            .header("origin", "https://evil.example")
            .form(&[("activity", id.to_string())])
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), 403, "{path}");
    }
    let page = list(&alex, "", false, "", "").await;
    assert_eq!(page.items.len(), 1);
    assert!(
        page.items[0].unread,
        "still unread, not done, not dismissed"
    );
}
