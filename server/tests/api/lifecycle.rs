//! The real binary with its embedded PostgreSQL: stops cleanly on SIGTERM, never leaves
//! the database running when killed, and finds its data again on the next start.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

use crate::helpers::site_root;

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
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server binary");
    let server = RunningServer {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..240 {
        let healthy = client
            .get(format!("{}/healthz", server.address))
            .send()
            .await;
        if healthy.is_ok_and(|response| response.status() == 200) {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the server did not become healthy within 60 s");
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

async fn postgres_stops(data_dir: &Path) -> bool {
    let pid_file = data_dir.join("postgres/postmaster.pid");
    for _ in 0..60 {
        if !pid_file.exists() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    false
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
    let host = server.address.trim_start_matches("http://").to_owned();
    let created = reqwest::Client::new()
        .post(format!(
            "{}{}",
            server.address,
            <app::pages::contacts::CreateContact as leptos::server_fn::ServerFn>::PATH
        ))
        .header("origin", format!("http://{host}"))
        .form(&[("name", "Persistent Pat"), ("email", "pat@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 200);
    server.signal("-TERM");
    assert!(server.wait().await.success(), "clean exit on SIGTERM");
    assert!(
        postgres_stops(data.path()).await,
        "postgres stopped with the server"
    );

    // Killed without a chance to clean up: the watchdog stops postgres.
    let server = start_server(data.path()).await;
    let html = reqwest::get(format!("{}/contacts", server.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Persistent Pat"), "data survived the restart");
    server.signal("-KILL");
    server.wait().await;
    assert!(
        postgres_stops(data.path()).await,
        "the watchdog stopped the orphaned postgres"
    );

    let server = start_server(data.path()).await;
    let html = reqwest::get(format!("{}/contacts", server.address))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("Persistent Pat"), "data survived the kill");
    server.signal("-TERM");
    assert!(server.wait().await.success());
    assert!(postgres_stops(data.path()).await);
}
