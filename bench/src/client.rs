//! What the benchmarks of the `server` child process share: its settings (a fake Google
//! in this process, an external database), a signed-in user over real HTTP, like one
//! browser profile, and waiting for its background work to settle.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fakes::google::{DemoAccount, FakeGoogle, FakeGoogleConfig, RunningFakeGoogle};
use fakes::mailbox::MailboxSpec;
use leptos::server_fn::ServerFn;
use reqwest::cookie::{CookieStore, Jar};
use sqlx::PgPool;

use crate::child::ServerProcess;

pub const CLIENT_ID: &str = "rapport-bench-client";
pub const CLIENT_SECRET: &str = "rapport-bench-secret";
/// Token encryption key of the benchmark's server and workers (base64 of 32 bytes).
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// A fake Google with one generated mailbox per `(name, email, messages, seed)`, no quota.
pub async fn fake_google(
    accounts: &[(&str, &str, usize, u64)],
) -> anyhow::Result<RunningFakeGoogle> {
    fake_google_with_quota(accounts, false).await
}

/// [`fake_google`], with Gmail's per-user quota enforced or not.
pub async fn fake_google_with_quota(
    accounts: &[(&str, &str, usize, u64)],
    quota: bool,
) -> anyhow::Result<RunningFakeGoogle> {
    let accounts = accounts
        .iter()
        .map(|&(name, email, messages, seed)| {
            let mut spec = MailboxSpec::demo(messages);
            spec.seed = seed;
            spec.owner_name = name.into();
            spec.owner_email = email.into();
            DemoAccount::generated(spec)
        })
        .collect();
    Ok(FakeGoogle::start(FakeGoogleConfig {
        accounts,
        client_id: CLIENT_ID.into(),
        client_secret: CLIENT_SECRET.into(),
        quota,
        ..FakeGoogleConfig::demo()
    })
    .await?)
}

/// The settings of `server serve` / `server worker` for the benchmarks (127.0.0.1 only).
pub fn server_env(
    database_url: &str,
    data_dir: &Path,
    google_base: &str,
    port: u16,
) -> HashMap<String, String> {
    let site = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/site");
    [
        ("RAPPORT_ADDR", format!("127.0.0.1:{port}")),
        ("DATABASE_URL", database_url.to_owned()),
        ("RAPPORT_DATA_DIR", data_dir.to_string_lossy().into_owned()),
        ("RAPPORT_SITE_ROOT", site.to_string_lossy().into_owned()),
        ("GOOGLE_CLIENT_ID", CLIENT_ID.to_owned()),
        ("GOOGLE_CLIENT_SECRET", CLIENT_SECRET.to_owned()),
        ("GOOGLE_API_BASE", google_base.to_owned()),
        ("RAPPORT_ENCRYPTION_KEY", KEY.to_owned()),
        ("RUST_LOG", "warn".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

/// An HTTP client with its own cookie jar, signed in as one user.
#[derive(Clone)]
pub struct User {
    pub address: String,
    pub client: reqwest::Client,
    jar: Arc<Jar>,
}

impl User {
    /// Signs in through the real flow: Rapport -> fake Google consent -> callback.
    pub async fn sign_in(address: &str, email: &str) -> anyhow::Result<Self> {
        let jar = Arc::new(Jar::default());
        let client = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(120))
            .build()?;
        let user = Self {
            address: address.to_owned(),
            client,
            jar,
        };
        let consent_url = user
            .redirect_target(&format!("{address}/auth/google/start"))
            .await?;
        let html = user.client.get(&consent_url).send().await?.text().await?;
        let mut form = hidden_inputs(&html);
        form.push(("account".into(), email.into()));
        let consent = reqwest::Url::parse(&consent_url)?;
        let action = format!(
            "{}://{}/o/oauth2/v2/auth",
            consent.scheme(),
            consent.authority()
        );
        let chosen = user.client.post(action).form(&form).send().await?;
        let callback = location(&chosen)?;
        let landing = user.redirect_target(&callback).await?;
        anyhow::ensure!(
            landing == "/welcome" || landing == "/contacts",
            "sign-in of {email} ended at {landing}"
        );
        Ok(user)
    }

    /// Signs `email` in and reads their user id, for benches that seed the database
    /// directly for the user they then measure.
    pub async fn sign_in_with_id(
        address: &str,
        email: &str,
        sql: &sqlx::PgPool,
    ) -> anyhow::Result<(Self, uuid::Uuid)> {
        let user = Self::sign_in(address, email).await?;
        let id = sqlx::query_scalar("select id from users where email = $1")
            .bind(email)
            .fetch_one(sql)
            .await?;
        Ok((user, id))
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.address)
        }
    }

    async fn redirect_target(&self, url: &str) -> anyhow::Result<String> {
        let response = self.client.get(self.url(url)).send().await?;
        location(&response)
    }

    /// GETs `path`; the status and the body.
    pub async fn get(&self, path: &str) -> anyhow::Result<(u16, String)> {
        let response = self.client.get(self.url(path)).send().await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// Calls server function `F` the way a browser form does; the status and the body.
    pub async fn server_fn<F: ServerFn>(
        &self,
        form: &[(&str, &str)],
    ) -> anyhow::Result<(u16, String)> {
        let response = self
            .client
            .post(self.url(F::PATH))
            .header("origin", &self.address)
            .header("accept", "application/json")
            .form(form)
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// Uploads `mbox` as Settings' import form does (multipart, one file, JSON answer);
    /// the status and the body.
    pub async fn upload_mbox(&self, mbox: &Path) -> anyhow::Result<(u16, String)> {
        let part = reqwest::multipart::Part::bytes(tokio::fs::read(mbox).await?)
            .file_name("takeout.mbox")
            .mime_str("application/mbox")?;
        let response = self
            .client
            .post(self.url("/settings/import-mbox"))
            .header("origin", &self.address)
            .header("accept", "application/json")
            .multipart(reqwest::multipart::Form::new().part("file", part))
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }

    /// The `Cookie` header this user's browser would send (for raw HTTP requests).
    pub fn cookie_header(&self) -> String {
        let url = reqwest::Url::parse(&self.address).expect("the server's address is a URL");
        self.jar
            .cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_owned))
            .unwrap_or_default()
    }
}

fn location(response: &reqwest::Response) -> anyhow::Result<String> {
    anyhow::ensure!(
        response.status().is_redirection(),
        "{} answered {}, not a redirect",
        response.url(),
        response.status()
    );
    Ok(response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| anyhow::anyhow!("a redirect without a location"))?
        .to_owned())
}

/// The `name`/`value` pairs of `<input type="hidden">` elements.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let attr = |tag: &str, name: &str| {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(
            tag[start..end]
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&amp;", "&"),
        )
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

/// No job queued (due) or running, and no activity waiting for processing.
pub async fn settle(sql: &PgPool, timeout: Duration) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let (jobs, activities): (i64, i64) = sqlx::query_as(
            "select (select count(*) from jobs where state = 'running' or (state = 'queued' and run_at <= now())),
                    (select count(*) from activities where state in ('raw', 'processing'))",
        )
        .fetch_one(sql)
        .await?;
        let synced: i64 = sqlx::query_scalar(
            "select count(*) from jobs where kind = 'gmail.sync' and state = 'succeeded'",
        )
        .fetch_one(sql)
        .await?;
        if jobs == 0 && activities == 0 && synced > 0 {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < timeout,
            "not settled after {timeout:?}: {jobs} jobs due or running, {activities} activities waiting, {synced} syncs done"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub async fn wait_for_import(
    sql: &PgPool,
    server: &mut ServerProcess,
    timeout: Duration,
) -> anyhow::Result<()> {
    wait_for(server, timeout, Duration::from_millis(500), async || {
        let states: Vec<(String, Option<String>)> =
            sqlx::query_as("select state, last_error from jobs where kind = 'mbox.import'")
                .fetch_all(sql)
                .await?;
        match states.as_slice() {
            [(state, _)] if state == "succeeded" => Ok(None),
            [(state, error)] if state == "dead" => {
                anyhow::bail!("the import job died: {error:?}")
            }
            _ => Ok(Some(format!("the import is not finished: {states:?}"))),
        }
    })
    .await
}

/// Activities a processor has yet to finish: new, being processed, or failed and due for
/// another attempt.
pub async fn activities_waiting(sql: &PgPool) -> anyhow::Result<i64> {
    Ok(sqlx::query_scalar(
        "select count(*) from activities where state in ('raw', 'processing')
            or (state = 'failed' and next_attempt_at <= now())",
    )
    .fetch_one(sql)
    .await?)
}

/// Waits until every activity is processed (contacts and stats are written in the same
/// transaction), failing if the server exits or `timeout` passes.
pub async fn wait_until_processed(
    sql: &PgPool,
    server: &mut ServerProcess,
    timeout: Duration,
) -> anyhow::Result<()> {
    wait_for(server, timeout, Duration::from_millis(100), async || {
        let waiting = activities_waiting(sql).await?;
        Ok((waiting > 0).then(|| format!("{waiting} activities still waiting")))
    })
    .await
}

/// Polls `pending` every `every` until it answers `None` (done), failing with what it
/// last said once `timeout` passes, or at once if the server process exits.
async fn wait_for(
    server: &mut ServerProcess,
    timeout: Duration,
    every: Duration,
    mut pending: impl AsyncFnMut() -> anyhow::Result<Option<String>>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        server.ensure_running()?;
        let Some(still) = pending().await? else {
            return Ok(());
        };
        anyhow::ensure!(started.elapsed() < timeout, "after {timeout:?}: {still}");
        tokio::time::sleep(every).await;
    }
}
