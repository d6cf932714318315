//! Domain events through the real server: signing in records `user.signed_in` and
//! `account.linked`, and `server export-events` writes one user's events as JSON Lines.

use domain::events::ExportedEvent;

use crate::helpers::{ALEX, SAM, spawn_app};

async fn export(database_url: &str, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("export-events")
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .output()
        .await
        .expect("run server export-events")
}

fn lines(output: &std::process::Output) -> Vec<ExportedEvent> {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}")))
        .collect()
}

#[tokio::test]
async fn sign_in_is_recorded_and_export_events_writes_only_that_users_events() {
    let app = spawn_app().await;
    app.sign_in(ALEX).await;
    app.sign_in(SAM).await;
    let alex = app.db.user_by_email(ALEX).await.unwrap();

    let exported = lines(
        &export(
            &app.database_url,
            &["--user", "Alex.Morgan@brightwater-labs.com"],
        )
        .await,
    );
    let kinds: Vec<&str> = exported.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "user.signed_in").count(),
        1,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| **k == "account.linked").count(),
        1,
        "{kinds:?}"
    );
    assert!(
        exported.iter().all(|e| e.user == alex.0),
        "never Sam's events"
    );
    assert!(
        exported.windows(2).all(|w| w[0].id < w[1].id),
        "oldest first"
    );
    let linked = exported
        .iter()
        .find(|e| e.kind == "account.linked")
        .unwrap();
    assert_eq!(linked.data["address"], ALEX);
    assert_eq!(linked.data["provider"], "google");

    let later = lines(
        &export(
            &app.database_url,
            &["--user", ALEX, "--since", "2999-01-01"],
        )
        .await,
    );
    assert!(later.is_empty(), "nothing since the future");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let since_today = lines(&export(&app.database_url, &["--user", ALEX, "--since", &today]).await);
    assert_eq!(since_today.len(), exported.len());

    let unknown = export(&app.database_url, &["--user", "nobody@example.com"]).await;
    assert!(!unknown.status.success());
    assert!(unknown.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("no Rapport user nobody@example.com")
    );
}
