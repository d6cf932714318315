//! Test control of the running fake: mutate mailboxes, expire history,
//! revoke tokens, switch quota and faults, read counters.
//!
//! [`Control`] calls straight into the shared state, so Rust tests need no
//! HTTP; the same operations are exposed as JSON under `/_control/` for
//! browser tests and scripts. Every mailbox change bumps the account's
//! history id and leaves a history record, exactly as Gmail would.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::config::FaultConfig;
use super::mime_tree::{header, parse_headers};
use super::state::{Shared, Stats};
use super::store::{format_id, parse_id};

/// What to append to a mailbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NewMessage {
    /// Exact RFC 822 bytes.
    Raw(Vec<u8>),
    /// A short synthetic text message; with `reply_to` (a Gmail message id)
    /// it quotes that message's Message-ID in In-Reply-To/References and
    /// so joins its thread.
    Generated { reply_to: Option<String> },
}

/// Ids of an appended message, as Gmail would report them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AppendedMessage {
    pub id: String,
    pub thread_id: String,
    pub history_id: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ControlError {
    UnknownAccount(String),
    UnknownMessage(String),
    InvalidInput(String),
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::UnknownAccount(e) => write!(f, "unknown account {e}"),
            ControlError::UnknownMessage(id) => write!(f, "unknown message {id}"),
            ControlError::InvalidInput(m) => write!(f, "invalid input: {m}"),
        }
    }
}

impl std::error::Error for ControlError {}

impl IntoResponse for ControlError {
    fn into_response(self) -> Response {
        let status = match self {
            ControlError::InvalidInput(_) => StatusCode::BAD_REQUEST,
            _ => StatusCode::NOT_FOUND,
        };
        (status, Json(json!({"error": self.to_string()}))).into_response()
    }
}

/// Handle for tests; cheap to clone.
#[derive(Clone)]
pub struct Control {
    shared: Arc<Shared>,
    generated: Arc<AtomicU64>,
}

impl Control {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Control {
            shared,
            generated: Arc::new(AtomicU64::new(0)),
        }
    }

    fn account(&self, email: &str) -> Result<usize, ControlError> {
        self.shared
            .account_index(email)
            .ok_or_else(|| ControlError::UnknownAccount(email.to_string()))
    }

    fn id(id: &str) -> Result<u64, ControlError> {
        parse_id(id).ok_or_else(|| ControlError::UnknownMessage(id.to_string()))
    }

    /// Delivers a message now with the given label ids (unknown names
    /// become user labels).
    pub fn append(
        &self,
        email: &str,
        message: NewMessage,
        labels: &[&str],
    ) -> Result<AppendedMessage, ControlError> {
        let account = self.account(email)?;
        let raw = match message {
            NewMessage::Raw(raw) => raw,
            NewMessage::Generated { reply_to } => self.synthesize(account, reply_to.as_deref())?,
        };
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        let mut store = self.shared.accounts[account].store();
        let info = store.append(raw, &labels, Utc::now().timestamp_millis());
        Ok(AppendedMessage {
            id: format_id(info.id),
            thread_id: format_id(info.thread_id),
            history_id: store.history.current().to_string(),
        })
    }

    fn synthesize(&self, account: usize, reply_to: Option<&str>) -> Result<Vec<u8>, ControlError> {
        let n = self.generated.fetch_add(1, Ordering::SeqCst) + 1;
        let owner = &self.shared.accounts[account];
        let mut subject = format!("Fake Google test message {n}");
        let mut threading = String::new();
        if let Some(parent) = reply_to {
            let info = owner
                .store()
                .get(Self::id(parent)?)
                .ok_or_else(|| ControlError::UnknownMessage(parent.to_string()))?;
            let headers = parse_headers(&info.raw.bytes());
            if let Some(s) = header(&headers, "Subject") {
                subject = if s.starts_with("Re:") {
                    s.to_string()
                } else {
                    format!("Re: {s}")
                };
            }
            if let Some(mid) = header(&headers, "Message-ID") {
                let refs =
                    header(&headers, "References").map_or(String::new(), |r| format!("{r} "));
                threading = format!("In-Reply-To: {mid}\r\nReferences: {refs}{mid}\r\n");
            }
        }
        let raw = format!(
            "From: \"Jordan Lee\" <jordan.lee@example.net>\r\nTo: \"{}\" <{}>\r\nSubject: {subject}\r\nDate: {}\r\nMessage-ID: <fake-google-{n}-{}@fake-google.local>\r\n{threading}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nHello from Fake Google, message {n}.\r\n",
            owner.name,
            owner.email,
            Utc::now().to_rfc2822(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        );
        Ok(raw.into_bytes())
    }

    /// Permanently deletes a message.
    pub fn delete(&self, email: &str, id: &str) -> Result<(), ControlError> {
        let account = self.account(email)?;
        self.shared.accounts[account]
            .store()
            .delete(Self::id(id)?)
            .ok_or_else(|| ControlError::UnknownMessage(id.to_string()))
    }

    /// Adds and removes labels; returns the message's labels afterwards.
    pub fn modify_labels(
        &self,
        email: &str,
        id: &str,
        add: &[&str],
        remove: &[&str],
    ) -> Result<Vec<String>, ControlError> {
        let account = self.account(email)?;
        let add: Vec<String> = add.iter().map(|l| l.to_string()).collect();
        let remove: Vec<String> = remove.iter().map(|l| l.to_string()).collect();
        self.shared.accounts[account]
            .store()
            .modify(Self::id(id)?, &add, &remove)
            .map(|info| info.labels)
            .ok_or_else(|| ControlError::UnknownMessage(id.to_string()))
    }

    /// The account's current history id.
    pub fn history_id(&self, email: &str) -> Result<u64, ControlError> {
        let account = self.account(email)?;
        Ok(self.shared.accounts[account].store().history.current())
    }

    /// Drops all history: any earlier `startHistoryId` now answers 404.
    pub fn expire_history(&self, email: &str) -> Result<(), ControlError> {
        let account = self.account(email)?;
        self.shared.accounts[account].store().history.expire();
        Ok(())
    }

    /// Revokes every access and refresh token of the account; returns how many.
    pub fn revoke_tokens(&self, email: &str) -> Result<usize, ControlError> {
        let account = self.account(email)?;
        Ok(self.shared.tokens().revoke_account(account))
    }

    pub fn faults(&self) -> FaultConfig {
        self.shared.faults.get()
    }

    /// Replaces fault settings; the failure sequence restarts from the seed.
    pub fn set_faults(&self, faults: FaultConfig) {
        self.shared.faults.set(faults);
    }

    pub fn quota_enabled(&self) -> bool {
        self.shared.quota.enabled()
    }

    pub fn set_quota(&self, enabled: bool) {
        self.shared.quota.set(enabled);
    }

    /// Whether userinfo and id tokens report the account's address as verified (the
    /// default) or not, as Google does for some non-Gmail addresses.
    pub fn set_email_verified(&self, email: &str, verified: bool) -> Result<(), ControlError> {
        let account = self.account(email)?;
        let mut unverified = self.shared.unverified.lock().expect("unverified lock");
        if verified {
            unverified.remove(&account);
        } else {
            unverified.insert(account);
        }
        Ok(())
    }

    /// Lifetime of access tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        *self.shared.token_ttl.lock().expect("ttl lock") = ttl;
    }

    pub fn stats(&self) -> Stats {
        self.shared.stats().clone()
    }

    pub fn reset_stats(&self) {
        *self.shared.stats() = Stats::default();
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AppendBody {
    /// RFC 822 bytes in base64 (standard or URL-safe, padding optional).
    raw: Option<String>,
    #[serde(default)]
    label_ids: Vec<String>,
    /// Without `raw`: generate a message replying to this id.
    reply_to: Option<String>,
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let normalized: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    STANDARD_NO_PAD.decode(normalized).ok()
}

pub(crate) async fn append(
    State(control): State<Control>,
    Path(email): Path<String>,
    Json(body): Json<AppendBody>,
) -> Result<Json<AppendedMessage>, ControlError> {
    let message = match body.raw {
        Some(raw) => NewMessage::Raw(
            decode_base64(&raw)
                .ok_or_else(|| ControlError::InvalidInput("raw is not base64".to_string()))?,
        ),
        None => NewMessage::Generated {
            reply_to: body.reply_to,
        },
    };
    let labels: Vec<&str> = body.label_ids.iter().map(String::as_str).collect();
    control.append(&email, message, &labels).map(Json)
}

fn history_json(control: &Control, email: &str) -> Result<Json<serde_json::Value>, ControlError> {
    Ok(Json(
        json!({"historyId": control.history_id(email)?.to_string()}),
    ))
}

pub(crate) async fn delete(
    State(control): State<Control>,
    Path((email, id)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ControlError> {
    control.delete(&email, &id)?;
    history_json(&control, &email)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ModifyBody {
    #[serde(default)]
    add_label_ids: Vec<String>,
    #[serde(default)]
    remove_label_ids: Vec<String>,
}

pub(crate) async fn modify(
    State(control): State<Control>,
    Path((email, id)): Path<(String, String)>,
    Json(body): Json<ModifyBody>,
) -> Result<Json<serde_json::Value>, ControlError> {
    let add: Vec<&str> = body.add_label_ids.iter().map(String::as_str).collect();
    let remove: Vec<&str> = body.remove_label_ids.iter().map(String::as_str).collect();
    let labels = control.modify_labels(&email, &id, &add, &remove)?;
    Ok(Json(json!({
        "labelIds": labels,
        "historyId": control.history_id(&email)?.to_string(),
    })))
}

pub(crate) async fn expire_history(
    State(control): State<Control>,
    Path(email): Path<String>,
) -> Result<Json<serde_json::Value>, ControlError> {
    control.expire_history(&email)?;
    history_json(&control, &email)
}

pub(crate) async fn revoke(
    State(control): State<Control>,
    Path(email): Path<String>,
) -> Result<Json<serde_json::Value>, ControlError> {
    Ok(Json(json!({"revoked": control.revoke_tokens(&email)?})))
}

#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FaultsBody {
    error_rate: f64,
    latency_ms: u64,
    seed: u64,
}

pub(crate) async fn get_faults(State(control): State<Control>) -> Json<FaultsBody> {
    let f = control.faults();
    Json(FaultsBody {
        error_rate: f.error_rate,
        latency_ms: f.latency.as_millis() as u64,
        seed: f.seed,
    })
}

pub(crate) async fn set_faults(
    State(control): State<Control>,
    Json(body): Json<FaultsBody>,
) -> Result<Json<FaultsBody>, ControlError> {
    if !(0.0..=1.0).contains(&body.error_rate) {
        return Err(ControlError::InvalidInput(
            "errorRate must be within 0..=1".to_string(),
        ));
    }
    control.set_faults(FaultConfig {
        error_rate: body.error_rate,
        latency: Duration::from_millis(body.latency_ms),
        seed: body.seed,
    });
    Ok(Json(body))
}

#[derive(Deserialize, Serialize)]
pub(crate) struct QuotaBody {
    enabled: bool,
}

pub(crate) async fn get_quota(State(control): State<Control>) -> Json<QuotaBody> {
    Json(QuotaBody {
        enabled: control.quota_enabled(),
    })
}

pub(crate) async fn set_quota(
    State(control): State<Control>,
    Json(body): Json<QuotaBody>,
) -> Json<QuotaBody> {
    control.set_quota(body.enabled);
    Json(body)
}

#[derive(Deserialize, Serialize)]
pub(crate) struct TtlBody {
    seconds: u64,
}

pub(crate) async fn set_token_ttl(
    State(control): State<Control>,
    Json(body): Json<TtlBody>,
) -> Json<TtlBody> {
    control.set_token_ttl(Duration::from_secs(body.seconds));
    Json(body)
}

pub(crate) async fn stats(State(control): State<Control>) -> Json<Stats> {
    Json(control.stats())
}

pub(crate) async fn reset_stats(State(control): State<Control>) -> Json<Stats> {
    control.reset_stats();
    Json(control.stats())
}
