use app::pages::settings::SaveContactPolicy;
use leptos::server_fn::ServerFn;

use crate::helpers::{ALEX, SAM, TestApp, spawn_app, spawn_app_with_workers};

async fn policy_of(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("select contact_policy from accounts where id = $1")
        .bind(app.google_account(email).await)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_contact_policy_is_chosen_in_settings_and_only_for_ones_own_accounts() {
    let app = spawn_app().await;
    let alex = app.sign_in(ALEX).await;
    let _sam = app.sign_in(SAM).await;
    let (_, settings) = alex.get_html("/settings").await;
    assert!(settings.contains("Create contacts for"));
    assert!(
        settings.contains(r#"<option value="sent" selected"#),
        "sent is the default"
    );

    let account = app.google_account(ALEX).await.to_string();
    let saved = alex
        .call_server_fn(
            SaveContactPolicy::PATH,
            &[("account_id", &account), ("policy", "everyone")],
        )
        .await;
    assert_eq!(saved.status(), 200, "{}", saved.text().await.unwrap());
    assert_eq!(policy_of(&app, ALEX).await, "everyone");
    let (_, settings) = alex.get_html("/settings").await;
    assert!(settings.contains(r#"<option value="everyone" selected"#));

    let invalid = alex
        .call_server_fn(
            SaveContactPolicy::PATH,
            &[("account_id", &account), ("policy", "all")],
        )
        .await;
    assert_eq!(invalid.status(), 422);

    let sams = app.google_account(SAM).await.to_string();
    let foreign = alex
        .call_server_fn(
            SaveContactPolicy::PATH,
            &[("account_id", &sams), ("policy", "nobody")],
        )
        .await;
    assert_eq!(foreign.status(), 404);
    assert_eq!(policy_of(&app, SAM).await, "sent");
}

/// The server's processors build contacts from the mail its sync workers store.
#[tokio::test]
async fn synced_mail_becomes_contacts_in_the_background() {
    let app = spawn_app_with_workers(1).await;
    let _alex = app.sign_in(ALEX).await;
    let contacts = app.wait_for_processed_mail(ALEX).await;
    assert!(contacts > 0, "people Alex wrote to became contacts");

    // Processing keeps the stats current: every contact's counts match the mail it
    // exchanged with the user (the user wrote to them, or they wrote to the user).
    let mismatched: i64 = sqlx::query_scalar(
        "select count(*) from contacts c join contact_stats s on s.contact_id = c.id
         where c.merged_into is null and s.email_count <> (
           select count(distinct p.activity_id) from activity_participants p
           join activities a on a.id = p.activity_id
           where p.contact_id = c.id and a.deleted_at is null
             and ((a.direction = 'outbound' and p.role in ('to', 'cc', 'bcc'))
               or (a.direction = 'inbound' and p.role = 'from')))",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(mismatched, 0, "stats follow the processed mail");
    let with_strength: i64 =
        sqlx::query_scalar("select count(*) from contact_stats where strength > 0")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(with_strength > 0, "strength is computed");
}
