use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use api::channels::IssuedKey;
use app::pages::channels::CreateChannel;
use app::pages::contacts::CreateContact;
use domain::crypto::SecretBox;
use domain::google::{GoogleEndpoints, GoogleOAuth};
use domain::{Db, UserId};
use embedded_pg::test_databases::fresh_database_url;
use fakes::google::{DemoAccount, FakeGoogle, FakeGoogleConfig, RunningFakeGoogle};
use fakes::mailbox::MailboxSpec;
use leptos::server_fn::ServerFn;
use server::Application;
use server::config::Config;
use uuid::Uuid;

pub use crate::fixtures::{TestUser, wait_until};

pub const CLIENT_ID: &str = "rapport-test-client";
pub const CLIENT_SECRET: &str = "rapport-test-secret";
/// The owners of the fake Google's two mailboxes.
pub const ALEX: &str = "alex.morgan@brightwater-labs.com";
pub const SAM: &str = "sam.rivera@gmail.com";
/// Their names, which every signed-in page shows in the user menu.
pub const ALEX_NAME: &str = "Alex Morgan";
pub const SAM_NAME: &str = "Sam Rivera";

/// How long a test waits for background work (a sync, processing) before failing.
pub const BACKGROUND: Duration = Duration::from_secs(60);

/// Token encryption key of the test apps (base64 of 32 bytes), so tests can open what
/// the app sealed.
pub const TEST_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// With `TEST_LOG` set (e.g. `TEST_LOG=1 cargo test … -- --nocapture`), the app's logs
/// go to the test's output, filtered by `RUST_LOG` (default: info). Once per test binary.
pub fn init_test_log() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        if std::env::var_os("TEST_LOG").is_none() {
            return;
        }
        let filter = tracing_subscriber::EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    });
}

pub fn site_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))
}

/// A fake Google with two small mailboxes (Alex's and Sam's) and no quota.
pub async fn fake_google() -> RunningFakeGoogle {
    let mut sam = MailboxSpec::demo(100);
    sam.seed = 4242;
    sam.owner_name = "Sam Rivera".into();
    sam.owner_email = SAM.into();
    let config = FakeGoogleConfig {
        accounts: vec![
            DemoAccount::generated(MailboxSpec::demo(120)),
            DemoAccount::generated(sam),
        ],
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        quota: false,
        ..FakeGoogleConfig::demo()
    };
    FakeGoogle::start(config)
        .await
        .expect("start the fake Google")
}

pub struct TestApp {
    pub address: String,
    pub db: Db,
    pub database_url: String,
    pub data_dir: PathBuf,
    pub google: RunningFakeGoogle,
    /// A browser with no session.
    pub anonymous: Browser,
}

/// The app without background workers: tests see exactly what they did.
pub async fn spawn_app() -> TestApp {
    spawn_app_with_workers(0).await
}

pub async fn spawn_app_with_workers(workers: usize) -> TestApp {
    spawn_app_with(workers, &[]).await
}

/// The app with `workers` background workers and extra settings (`(name, value)`).
pub async fn spawn_app_with(workers: usize, settings: &[(&'static str, &str)]) -> TestApp {
    init_test_log();
    let google = fake_google().await;
    let database_url = fresh_database_url(&domain::db::MIGRATOR).await;
    let data_dir = tempfile::tempdir().expect("temp data dir").keep();
    let mut vars = HashMap::from([
        ("RAPPORT_ADDR", "127.0.0.1:0".to_owned()),
        ("DATABASE_URL", database_url.clone()),
        ("RAPPORT_DATA_DIR", data_dir.to_string_lossy().into_owned()),
        (
            "RAPPORT_SITE_ROOT",
            site_root().to_string_lossy().into_owned(),
        ),
        ("GOOGLE_CLIENT_ID", CLIENT_ID.to_owned()),
        ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("GOOGLE_API_BASE", google.base_url().to_owned()),
        ("RAPPORT_ENCRYPTION_KEY", TEST_KEY.to_owned()),
        ("RAPPORT_WORKERS", workers.to_string()),
    ]);
    vars.extend(settings.iter().map(|(k, v)| (*k, (*v).to_owned())));
    let config = Config::from_lookup(|name| vars.get(name).cloned()).expect("test config");
    let app = Application::build(config).await.expect("build the app");
    let address = format!("http://{}", app.local_addr());
    let db = app.db().clone();
    tokio::spawn(app.run_until_stopped(std::future::pending()));
    let anonymous = Browser::new(&address);
    TestApp {
        address,
        db,
        database_url,
        data_dir,
        google,
        anonymous,
    }
}

impl TestApp {
    /// Signs in through the real flow: Rapport -> fake Google consent -> callback.
    pub async fn sign_in(&self, email: &str) -> Browser {
        self.sign_in_landing(email).await.0
    }

    /// Signs in and also returns where the callback sent the browser: the live import
    /// (`/welcome`) until the first full sync is done, then the contacts.
    pub async fn sign_in_landing(&self, email: &str) -> (Browser, String) {
        let browser = Browser::new(&self.address);
        let consent_url = browser
            .redirect_target(&format!("{}/auth/google/start", self.address))
            .await;
        let code_url = browser.choose_account(&consent_url, email).await;
        let landing = browser.redirect_target(&code_url).await;
        assert!(
            landing == "/welcome" || landing == "/contacts",
            "signed in and sent into the app, not to {landing}"
        );
        (browser, landing)
    }

    /// The same Google client and key the app uses, for checking tokens from tests.
    pub fn oauth(&self) -> (GoogleOAuth, SecretBox) {
        let redirect = format!("{}/auth/google/callback", self.address);
        let oauth = GoogleOAuth::new(
            CLIENT_ID,
            CLIENT_SECRET,
            redirect,
            GoogleEndpoints::under(self.google.base_url()),
        )
        .expect("oauth client");
        (oauth, SecretBox::from_base64(TEST_KEY).expect("test key"))
    }

    pub async fn google_account(&self, email: &str) -> uuid::Uuid {
        sqlx::query_scalar(
            "select id from accounts where provider = 'google' and display_name = $1",
        )
        .bind(email)
        .fetch_one(self.db.pool())
        .await
        .expect("google account exists")
    }

    /// The account's status: active, needs_reconnect, disconnected...
    pub async fn account_status(&self, account: Uuid) -> String {
        sqlx::query_scalar("select status from accounts where id = $1")
            .bind(account)
            .fetch_one(self.db.pool())
            .await
            .expect("account exists")
    }

    /// The refresh token Rapport stored (encrypted) for the user's Gmail account.
    pub async fn stored_refresh_token(&self, email: &str) -> String {
        let (_, secrets) = self.oauth();
        let account = self.google_account(email).await;
        let scope = self.db.for_user(self.user_id(email).await);
        let token = scope
            .accounts()
            .google_refresh_token(account, &secrets)
            .await
            .expect("read token");
        token.expect("a refresh token is stored")
    }

    /// How many contacts the user has (the tests stay under the list's count limit).
    pub async fn contact_count(&self, email: &str) -> i64 {
        let scope = self.db.for_user(self.user_id(email).await);
        let listed = scope
            .contacts()
            .list(&domain::contacts::ContactQuery::default())
            .await
            .expect("list contacts");
        match listed.total {
            domain::contacts::ListTotal::Exactly(n) => n,
            more => panic!("too many contacts to count: {more:?}"),
        }
    }

    pub async fn user_id(&self, email: &str) -> UserId {
        let id: uuid::Uuid = sqlx::query_scalar("select id from users where email = $1")
            .bind(email)
            .fetch_one(self.db.pool())
            .await
            .expect("user exists");
        UserId(id)
    }

    /// A signed-in user and their Gmail account, to put data straight into the tables.
    pub async fn test_user(&self, email: &str) -> TestUser {
        TestUser {
            db: self.db.clone(),
            id: self.user_id(email).await,
            account: self.google_account(email).await,
        }
    }

    /// How many Gmail sync jobs have succeeded.
    pub async fn gmail_syncs_succeeded(&self) -> i64 {
        sqlx::query_scalar(
            "select count(*) from jobs where kind = 'gmail.sync' and state = 'succeeded'",
        )
        .fetch_one(self.db.pool())
        .await
        .expect("count sync jobs")
    }

    /// Waits until `n` Gmail sync jobs have succeeded.
    pub async fn wait_for_gmail_syncs(&self, n: i64) {
        wait_until(
            &format!("{n} Gmail syncs to succeed"),
            BACKGROUND,
            async || {
                let done = self.gmail_syncs_succeeded().await;
                (done >= n).then_some(()).ok_or(format!("{done} succeeded"))
            },
        )
        .await;
    }

    /// Waits until the first Gmail sync has succeeded and every stored message has been
    /// processed into contacts; returns the user's contact count.
    pub async fn wait_for_processed_mail(&self, email: &str) -> i64 {
        wait_until("the mailbox synced and processed", BACKGROUND, async || {
            let synced = self.gmail_syncs_succeeded().await > 0;
            let pending: i64 =
                sqlx::query_scalar("select count(*) from activities where state <> 'completed'")
                    .fetch_one(self.db.pool())
                    .await
                    .expect("count pending activities");
            let contacts = self.contact_count(email).await;
            (synced && pending == 0 && contacts > 0)
                .then_some(contacts)
                .ok_or(format!(
                    "synced: {synced}, unprocessed: {pending}, contacts: {contacts}"
                ))
        })
        .await
    }
}

/// An HTTP client with its own cookie jar, like one browser profile.
pub struct Browser {
    pub address: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub fn new(address: &str) -> Self {
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        Self {
            address: address.to_owned(),
            client,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.address)
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    pub async fn get_html(&self, path: &str) -> (reqwest::StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// GETs a URL that must redirect; returns where to.
    pub async fn redirect_target(&self, url: &str) -> String {
        let response = self.get(url).await;
        assert!(
            response.status().is_redirection(),
            "{url} answered {}",
            response.status()
        );
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Picks `email` on the fake Google's consent page; returns the callback URL.
    pub async fn choose_account(&self, consent_url: &str, email: &str) -> String {
        let (status, html) = self.get_html(consent_url).await;
        assert_eq!(status, 200, "consent page: {html}");
        let mut form = hidden_inputs(&html);
        form.push(("account".into(), email.into()));
        let consent = reqwest::Url::parse(consent_url).unwrap();
        let action = format!(
            "{}://{}/o/oauth2/v2/auth",
            consent.scheme(),
            consent.authority()
        );
        let response = self
            .client
            .post(action)
            .form(&form)
            .send()
            .await
            .expect("choose account");
        assert!(
            response.status().is_redirection(),
            "consent answered {}",
            response.status()
        );
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Calls a server function the way a browser form does.
    pub async fn call_server_fn(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .header("origin", &self.address)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .expect("POST server fn")
    }

    /// GETs `path`, which must answer `status` with a page showing `shown`; returns the
    /// page. Isolation tests check this first: a page that must not show another user's
    /// data proves nothing if it is an error page or a redirect to /login.
    pub async fn page(&self, path: &str, status: u16, shown: &str) -> String {
        let (got, html) = self.get_html(path).await;
        assert_eq!(got, status, "{path} answered {got}: {html}");
        assert!(
            html.contains(shown),
            "{path} does not show {shown:?}: {html}"
        );
        html
    }

    /// Creates a contact through the server function; returns its id.
    pub async fn create_contact(&self, name: &str, email: &str) -> Uuid {
        let response = self
            .call_server_fn(CreateContact::PATH, &[("name", name), ("email", email)])
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        response.json().await.expect("the new contact's id")
    }

    /// Creates a webhook channel for `provider` through Settings; returns its key.
    pub async fn create_channel(&self, provider: &str, kind: &str) -> IssuedKey {
        let response = self
            .call_server_fn(
                CreateChannel::PATH,
                &[
                    ("name", &format!("{provider} channel")),
                    ("provider", provider),
                    ("default_channel", kind),
                    ("default_direction", "inbound"),
                ],
            )
            .await;
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        response.json().await.expect("issued key")
    }
}

/// The `name`/`value` pairs of `<input type="hidden">` elements.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(decode_entities(&tag[start..end]))
    };
    html.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            tag.contains("type=\"hidden\"")
                .then(|| Some((attr(tag, "name")?, attr(tag, "value")?)))?
        })
        .collect()
}

fn decode_entities(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
