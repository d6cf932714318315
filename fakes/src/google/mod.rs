//! A faithful, offline fake of the Google endpoints Rapport uses:
//! OAuth 2.0 (authorization code + PKCE, refresh, revoke), OpenID userinfo
//! and the Gmail API v1 read surface (profile, labels, messages, history),
//! with Google's quota, error bodies and id semantics.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use fakes::google::{FakeGoogle, FakeGoogleConfig};
//! let google = FakeGoogle::start(FakeGoogleConfig::demo()).await?;
//! println!("point the app at {}", google.base_url());
//! google.stop().await;
//! # Ok(())
//! # }
//! ```
//!
//! Paths mirror Google's, all under one base URL:
//!
//! | Google host                         | Fake path                          |
//! |-------------------------------------|------------------------------------|
//! | accounts.google.com                 | `GET/POST /o/oauth2/v2/auth`       |
//! | oauth2.googleapis.com               | `POST /token`, `POST /revoke`      |
//! | openidconnect.googleapis.com        | `GET /v1/userinfo`                 |
//! | www.googleapis.com                  | `GET /oauth2/v3/userinfo`          |
//! | gmail.googleapis.com                | `GET /gmail/v1/users/{userId}/...` |
//! | (fake only)                         | `/_control/...`, `/.well-known/openid-configuration` |

mod config;
mod consent;
mod control;
mod errors;
mod faults;
mod gmail;
mod history;
mod mime_tree;
mod oauth;
mod query;
mod quota;
pub mod sign_in;
mod sources;
mod state;
mod store;

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{delete, get, post};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use config::{DemoAccount, FakeGoogleConfig, FaultConfig, MailboxSource};
pub use control::{AppendedMessage, Control, ControlError, NewMessage};
pub use quota::USER_UNITS_PER_SECOND;
pub use state::Stats;

use state::{Account, Shared};
use store::Store;

/// Entry point; see [`FakeGoogle::start`].
pub struct FakeGoogle;

impl FakeGoogle {
    /// Loads every account's mailbox, binds `127.0.0.1:{port}` and serves
    /// in the background on the current Tokio runtime.
    pub async fn start(config: FakeGoogleConfig) -> io::Result<RunningFakeGoogle> {
        if config.accounts.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "at least one account is required",
            ));
        }
        let loading = config.clone();
        let accounts = tokio::task::spawn_blocking(move || {
            loading
                .accounts
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    let seed = loading.seed.wrapping_add(i as u64);
                    Ok(Account {
                        email: a.email.clone(),
                        name: a.name.clone(),
                        picture: a.picture.clone(),
                        store: Mutex::new(Store::load(
                            &a.mailbox,
                            loading.history_retention,
                            seed,
                        )?),
                        quota: Mutex::default(),
                    })
                })
                .collect::<io::Result<Vec<_>>>()
        })
        .await
        .map_err(io::Error::other)??;
        let shared = Arc::new(Shared::new(&config, accounts));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", config.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}");
        shared
            .base_url
            .set(base_url.clone())
            .expect("base url is set once");
        let control = Control::new(shared.clone());
        let app = router(shared, control.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "fake google server failed");
            }
        });
        tracing::info!(%base_url, "fake google listening");
        Ok(RunningFakeGoogle {
            addr,
            base_url,
            control,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

fn router(shared: Arc<Shared>, control: Control) -> Router {
    let api = Router::new()
        .route(
            "/o/oauth2/v2/auth",
            get(consent::authorize).post(consent::decide),
        )
        .route("/token", post(oauth::token))
        .route("/revoke", post(oauth::revoke))
        .route("/v1/userinfo", get(oauth::userinfo))
        .route("/oauth2/v3/userinfo", get(oauth::userinfo))
        .route("/.well-known/openid-configuration", get(oauth::discovery))
        .route("/gmail/v1/users/{user_id}/profile", get(gmail::profile))
        .route("/gmail/v1/users/{user_id}/labels", get(gmail::labels))
        .route(
            "/gmail/v1/users/{user_id}/messages",
            get(gmail::list_messages),
        )
        .route(
            "/gmail/v1/users/{user_id}/messages/{id}",
            get(gmail::get_message),
        )
        .route(
            "/gmail/v1/users/{user_id}/messages/{message_id}/attachments/{id}",
            get(gmail::get_attachment),
        )
        .route("/gmail/v1/users/{user_id}/history", get(history::list))
        .with_state(shared);
    let control_api = Router::new()
        .route("/_control/accounts/{email}/messages", post(control::append))
        .route(
            "/_control/accounts/{email}/messages/{id}",
            delete(control::delete),
        )
        .route(
            "/_control/accounts/{email}/messages/{id}/modify",
            post(control::modify),
        )
        .route(
            "/_control/accounts/{email}/history/expire",
            post(control::expire_history),
        )
        .route("/_control/accounts/{email}/revoke", post(control::revoke))
        .route(
            "/_control/faults",
            get(control::get_faults).put(control::set_faults),
        )
        .route(
            "/_control/quota",
            get(control::get_quota).put(control::set_quota),
        )
        .route(
            "/_control/token-ttl",
            axum::routing::put(control::set_token_ttl),
        )
        .route("/_control/stats", get(control::stats))
        .route("/_control/stats/reset", post(control::reset_stats))
        .with_state(control);
    api.merge(control_api)
}

/// A started fake. Dropping it stops the server (without waiting);
/// [`RunningFakeGoogle::stop`] stops it and waits for in-flight requests.
pub struct RunningFakeGoogle {
    addr: SocketAddr,
    base_url: String,
    control: Control,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningFakeGoogle {
    /// `http://127.0.0.1:{port}`, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Direct, in-process access to the control operations.
    pub fn control(&self) -> Control {
        self.control.clone()
    }

    /// Graceful shutdown; returns once the server task has finished.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Resolves when the server task ends (after [`Drop`] elsewhere or an
    /// I/O failure); the binary awaits this alongside Ctrl-C.
    pub async fn wait(&mut self) {
        if let Some(task) = self.task.as_mut() {
            let _ = task.await;
            self.task = None;
        }
    }
}

impl Drop for RunningFakeGoogle {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
