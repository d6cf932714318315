use std::collections::HashMap;
use std::path::PathBuf;

use domain::db::embedded::{EmbeddedOptions, EmbeddedPostgres};
use domain::{Db, UserId};
use server::Application;
use server::config::Config;
use tokio::sync::{Mutex, OnceCell};

const TEMPLATE_DB: &str = "rapport_template";

/// One cluster for the whole test binary. Its watchdog stops and removes it when the
/// test process exits.
static CLUSTER: OnceCell<EmbeddedPostgres> = OnceCell::const_new();
static CREATE_DB: Mutex<()> = Mutex::const_new(());

async fn cluster() -> &'static EmbeddedPostgres {
    CLUSTER
        .get_or_init(|| async {
            let data_dir =
                std::env::temp_dir().join(format!("rapport-test-pg-{}", uuid::Uuid::new_v4()));
            let pg = EmbeddedPostgres::start(EmbeddedOptions {
                data_dir,
                ephemeral: true,
            })
            .await
            .expect("start the test PostgreSQL cluster");
            pg.ensure_database(TEMPLATE_DB)
                .await
                .expect("create the template database");
            let db = Db::connect(&pg.url(TEMPLATE_DB))
                .await
                .expect("connect to the template");
            db.migrate().await.expect("migrate the template database");
            db.pool().close().await;
            pg
        })
        .await
}

/// A new, migrated, empty database; returns its URL.
pub async fn fresh_database() -> String {
    let pg = cluster().await;
    let name = format!("test_{}", uuid::Uuid::new_v4().simple());
    let _serialized = CREATE_DB.lock().await;
    let admin = Db::connect(&pg.url("postgres"))
        .await
        .expect("connect as admin");
    sqlx::query(&format!("create database {name} template {TEMPLATE_DB}"))
        .execute(admin.pool())
        .await
        .expect("create test database");
    admin.pool().close().await;
    pg.url(&name)
}

pub fn site_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: Db,
    pub owner: UserId,
}

pub async fn spawn_app() -> TestApp {
    let database_url = fresh_database().await;
    let data_dir = tempfile::tempdir().expect("temp data dir").keep();
    let vars = HashMap::from([
        ("RAPPORT_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", database_url),
        ("RAPPORT_DATA_DIR", data_dir.to_string_lossy().into_owned()),
        (
            "RAPPORT_SITE_ROOT",
            site_root().to_string_lossy().into_owned(),
        ),
    ]);
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
    let owner_email = config.owner_email.clone();
    let app = Application::build(config).await.expect("build the app");
    let address = format!("http://{}", app.local_addr());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let owner = db
        .ensure_local_owner(&owner_email, "Rapport Owner")
        .await
        .expect("owner")
        .id;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    TestApp {
        address,
        client,
        db,
        owner,
    }
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// Calls a server function the way a browser form does.
    pub async fn call_server_fn(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let host = self.address.trim_start_matches("http://").to_owned();
        self.client
            .post(format!("{}{path}", self.address))
            .header("origin", format!("http://{host}"))
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("POST server fn")
    }

    /// Another user with one contact of their own, for scoping tests.
    pub async fn other_user_with_contact(&self, email: &str, contact_email: &str) -> UserId {
        let id: uuid::Uuid =
            sqlx::query_scalar("insert into users (email, name) values ($1, 'Other') returning id")
                .bind(email)
                .fetch_one(self.db.pool())
                .await
                .expect("insert other user");
        let other = UserId(id);
        let contact =
            domain::contacts::NewContact::parse("Their Secret Contact", contact_email).unwrap();
        self.db
            .for_user(other)
            .create_contact(&contact)
            .await
            .expect("other user's contact");
        other
    }
}
