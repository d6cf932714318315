//! The real binary with its embedded PostgreSQL: stops cleanly on SIGTERM, never leaves
//! the database running when killed, and finds its data again on the next start.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use app::pages::contacts::CreateContact;
use leptos::server_fn::ServerFn;

use crate::helpers::{ALEX, BACKGROUND, Browser, site_root, wait_until};

struct RunningServer {
    child: Child,
    address: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_server(data_dir: &Path) -> RunningServer {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env("RAPPORT_ADDR", format!("127.0.0.1:{port}"))
        .env("RAPPORT_DATA_DIR", data_dir)
        .env("RAPPORT_SITE_ROOT", site_root())
        .env("RUST_LOG", "warn")
        .env("RAPPORT_DEMO_MESSAGES", "200")
        .env_remove("GOOGLE_CLIENT_ID")
        .env_remove("GOOGLE_CLIENT_SECRET")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server binary");
    let server = RunningServer {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    wait_until("the server to become healthy", BACKGROUND, async || {
        let healthy = client
            .get(format!("{}/healthz", server.address))
            .send()
            .await;
        match healthy {
            Ok(response) if response.status() == 200 => Ok(()),
            Ok(response) => Err(response.status().to_string()),
            Err(error) => Err(error.to_string()),
        }
    })
    .await;
    server
}

impl RunningServer {
    fn signal(&self, signal: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = std::process::Command::new("kill")
            .args([signal, &pid])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn wait(mut self) -> std::process::ExitStatus {
        tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("the server exits within 60 s")
            .unwrap()
    }
}

/// Waits until the embedded PostgreSQL has stopped (its pid file is gone).
async fn postgres_stops(data_dir: &Path, why: &str) {
    let pid_file = data_dir.join("postgres/postmaster.pid");
    wait_until(why, Duration::from_secs(15), async || {
        (!pid_file.exists())
            .then_some(())
            .ok_or("postmaster.pid still there")
    })
    .await;
}

/// Signs in through the demo Google the binary runs in-process.
async fn sign_in_to_demo(server: &RunningServer) -> Browser {
    let browser = Browser::new(&server.address);
    let consent = browser
        .redirect_target(&format!("{}/auth/google/start", server.address))
        .await;
    let callback = browser.choose_account(&consent, ALEX).await;
    let landing = browser.redirect_target(&callback).await;
    assert!(landing == "/welcome" || landing == "/contacts", "{landing}");
    browser
}

async fn contacts_page(browser: &Browser, server: &RunningServer) -> String {
    let response = browser
        .client
        .get(format!("{}/contacts", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "still signed in");
    response.text().await.unwrap()
}

/// The settings page once no sync is queued or running.
async fn settled_settings(browser: &Browser, server: &RunningServer) -> String {
    wait_until(
        "no sync queued or running",
        Duration::from_secs(30),
        async || {
            let page = browser
                .client
                .get(format!("{}/settings", server.address))
                .send()
                .await;
            let html = page.unwrap().text().await.unwrap();
            if html.contains("badge state-queued") || html.contains("badge state-running") {
                Err(html)
            } else {
                Ok(html)
            }
        },
    )
    .await
}

#[tokio::test]
async fn sigterm_stops_the_embedded_database_and_data_survives_restarts() {
    let data = tempfile::Builder::new()
        .prefix("rapport-lifecycle-")
        .tempdir()
        .unwrap();
    // As root, postgres runs as the `postgres` user, which must be able to enter the folder.
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();

    let server = start_server(data.path()).await;
    let browser = sign_in_to_demo(&server).await;
    let created = browser
        .client
        .post(format!(
            "{}{}",
            server.address,
            <CreateContact as ServerFn>::PATH
        ))
        .header("origin", &server.address)
        .form(&[("name", "Persistent Pat"), ("email", "pat@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    server.signal("-TERM");
    assert!(server.wait().await.success(), "clean exit on SIGTERM");
    postgres_stops(data.path(), "postgres to stop with the server").await;

    // Sessions live in Postgres: the same browser is still signed in after a restart.
    let server = start_server(data.path()).await;
    assert!(
        contacts_page(&browser, &server)
            .await
            .contains("Persistent Pat"),
        "data survived the restart"
    );
    // The demo Google kept its grants: the sync scheduled at start-up still works.
    let settings = settled_settings(&browser, &server).await;
    assert!(
        !settings.contains("needs reconnect") && !settings.contains("state-dead"),
        "{settings}"
    );
    // Killed without a chance to clean up: the watchdog stops postgres.
    server.signal("-KILL");
    server.wait().await;
    postgres_stops(data.path(), "the watchdog to stop the orphaned postgres").await;

    let server = start_server(data.path()).await;
    assert!(
        contacts_page(&browser, &server)
            .await
            .contains("Persistent Pat"),
        "data survived the kill"
    );
    server.signal("-TERM");
    assert!(server.wait().await.success());
    postgres_stops(data.path(), "postgres to stop again").await;
}
