//! [`GmailApi`] over HTTPS with reqwest. One shared `reqwest::Client` (connection pool,
//! HTTP/2 multiplexing over rustls) serves every account; the base URL is configurable
//! so tests and demo mode point it at the fake Google.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD};
use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::types::u64_string;
use super::{
    AccessTokens, GmailApi, GmailError, HistoryId, HistoryPage, HistoryRecord, Label, LabelDelta,
    ListQuery, MessageRef, MessagesPage, Profile, RawMessage, SendAs,
};

pub const DEFAULT_BASE_URL: &str = "https://gmail.googleapis.com";

/// Gmail allows at most 500 ids per `messages.list` page and records per history page.
const MAX_PAGE: u32 = 500;

pub struct HttpGmail<T> {
    client: reqwest::Client,
    base_url: String,
    tokens: Arc<T>,
}

impl<T: AccessTokens> HttpGmail<T> {
    /// `base_url` without a trailing slash, e.g. [`DEFAULT_BASE_URL`].
    pub fn new(client: reqwest::Client, base_url: impl Into<String>, tokens: Arc<T>) -> Self {
        Self {
            client,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            tokens,
        }
    }

    /// A client tuned for many small concurrent calls to one host: kept-alive
    /// connections, HTTP/2 when the server offers it, and timeouts so a stalled call
    /// becomes a retryable transport error instead of a hang.
    pub fn default_client() -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .pool_idle_timeout(Duration::from_secs(90))
            .pool_max_idle_per_host(64)
            .tcp_keepalive(Duration::from_secs(30))
            .http2_adaptive_window(true)
            .http2_keep_alive_interval(Duration::from_secs(30))
            .user_agent("rapport-sync/0.1")
            .build()
            .expect("the HTTP client configuration is valid")
    }

    /// GET `users/me/<path>`. A 401 invalidates the token and is retried once with a
    /// fresh one, since access tokens expire hourly.
    async fn get<R: DeserializeOwned>(
        &self,
        account: Uuid,
        path: &str,
        query: &[(&str, String)],
        history: bool,
    ) -> Result<R, GmailError> {
        let url = format!("{}/gmail/v1/users/me/{path}", self.base_url);
        let mut refreshed = false;
        loop {
            let token = self.tokens.access_token(account).await?;
            let response = self
                .client
                .get(&url)
                .bearer_auth(&token)
                .query(query)
                .send()
                .await
                .map_err(|e| GmailError::Transport(e.to_string()))?;
            let status = response.status().as_u16();
            if status == 401 && !refreshed {
                self.tokens.invalidate(account, &token).await;
                refreshed = true;
                continue;
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body = response
                .bytes()
                .await
                .map_err(|e| GmailError::Transport(e.to_string()))?;
            if !(200..300).contains(&status) {
                return Err(GmailError::from_response(
                    status,
                    retry_after.as_deref(),
                    &body,
                    history,
                ));
            }
            return serde_json::from_slice(&body).map_err(|e| GmailError::Decode(e.to_string()));
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileWire {
    email_address: String,
    #[serde(default)]
    messages_total: u64,
    history_id: HistoryId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessagesWire {
    #[serde(default)]
    messages: Vec<MessageRef>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawWire {
    id: String,
    thread_id: Option<String>,
    #[serde(default)]
    label_ids: Vec<String>,
    #[serde(with = "u64_string")]
    internal_date: u64,
    raw: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryWire {
    #[serde(default)]
    history: Vec<RecordWire>,
    next_page_token: Option<String>,
    history_id: HistoryId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RecordWire {
    id: HistoryId,
    #[serde(default)]
    messages_added: Vec<DeltaWire>,
    #[serde(default)]
    messages_deleted: Vec<DeltaWire>,
    #[serde(default)]
    labels_added: Vec<DeltaWire>,
    #[serde(default)]
    labels_removed: Vec<DeltaWire>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeltaWire {
    message: MessageWire,
    /// Set on label changes: the labels that changed.
    #[serde(default)]
    label_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageWire {
    id: String,
    thread_id: Option<String>,
    #[serde(default)]
    label_ids: Vec<String>,
}

impl DeltaWire {
    fn message(self) -> MessageRef {
        MessageRef {
            id: self.message.id,
            thread_id: self.message.thread_id,
        }
    }

    /// For `messagesAdded` the labels are the message's; for label changes, the delta's.
    fn added(self) -> LabelDelta {
        LabelDelta {
            label_ids: self.message.label_ids.clone(),
            message: self.message(),
        }
    }

    fn changed(self) -> LabelDelta {
        LabelDelta {
            label_ids: self.label_ids.clone(),
            message: self.message(),
        }
    }
}

#[derive(Deserialize)]
struct LabelsWire {
    #[serde(default)]
    labels: Vec<Label>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendAsWire {
    #[serde(default)]
    send_as: Vec<SendAs>,
}

/// Gmail emits base64url, normally padded; accept both.
fn decode_raw(raw: &str) -> Result<Vec<u8>, GmailError> {
    let trimmed = raw.trim();
    URL_SAFE
        .decode(trimmed)
        .or_else(|_| URL_SAFE_NO_PAD.decode(trimmed.trim_end_matches('=')))
        .map_err(|e| GmailError::Decode(format!("raw message: {e}")))
}

fn millis(ms: u64) -> Result<DateTime<Utc>, GmailError> {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single())
        .ok_or_else(|| GmailError::Decode(format!("internalDate {ms} out of range")))
}

impl<T: AccessTokens> GmailApi for HttpGmail<T> {
    async fn get_profile(&self, account: Uuid) -> Result<Profile, GmailError> {
        let p: ProfileWire = self.get(account, "profile", &[], false).await?;
        Ok(Profile {
            email_address: p.email_address,
            messages_total: p.messages_total,
            history_id: p.history_id,
        })
    }

    async fn list_messages(
        &self,
        account: Uuid,
        query: &ListQuery,
        page_token: Option<&str>,
    ) -> Result<MessagesPage, GmailError> {
        let mut params = vec![(
            "maxResults",
            query
                .max_results
                .unwrap_or(MAX_PAGE)
                .min(MAX_PAGE)
                .to_string(),
        )];
        if query.include_spam_trash {
            params.push(("includeSpamTrash", "true".to_owned()));
        }
        if let Some(q) = &query.q {
            params.push(("q", q.clone()));
        }
        params.extend(query.label_ids.iter().map(|l| ("labelIds", l.clone())));
        if let Some(token) = page_token {
            params.push(("pageToken", token.to_owned()));
        }
        let page: MessagesWire = self.get(account, "messages", &params, false).await?;
        Ok(MessagesPage {
            messages: page.messages,
            next_page_token: page.next_page_token.filter(|t| !t.is_empty()),
        })
    }

    async fn get_message_raw(&self, account: Uuid, id: &str) -> Result<RawMessage, GmailError> {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(GmailError::Rejected {
                status: 400,
                message: format!("invalid message id {id:?}"),
            });
        }
        let m: RawWire = self
            .get(
                account,
                &format!("messages/{id}"),
                &[("format", "raw".to_owned())],
                false,
            )
            .await?;
        Ok(RawMessage {
            raw: decode_raw(&m.raw)?,
            internal_date: millis(m.internal_date)?,
            id: m.id,
            thread_id: m.thread_id,
            label_ids: m.label_ids,
        })
    }

    async fn list_history(
        &self,
        account: Uuid,
        start: HistoryId,
        page_token: Option<&str>,
    ) -> Result<HistoryPage, GmailError> {
        let mut params = vec![
            ("startHistoryId", start.to_string()),
            ("maxResults", MAX_PAGE.to_string()),
        ];
        for kind in [
            "messageAdded",
            "messageDeleted",
            "labelAdded",
            "labelRemoved",
        ] {
            params.push(("historyTypes", kind.to_owned()));
        }
        if let Some(token) = page_token {
            params.push(("pageToken", token.to_owned()));
        }
        let page: HistoryWire = self.get(account, "history", &params, true).await?;
        Ok(HistoryPage {
            records: page
                .history
                .into_iter()
                .map(|r| HistoryRecord {
                    id: r.id,
                    messages_added: r.messages_added.into_iter().map(DeltaWire::added).collect(),
                    messages_deleted: r
                        .messages_deleted
                        .into_iter()
                        .map(DeltaWire::message)
                        .collect(),
                    labels_added: r.labels_added.into_iter().map(DeltaWire::changed).collect(),
                    labels_removed: r
                        .labels_removed
                        .into_iter()
                        .map(DeltaWire::changed)
                        .collect(),
                })
                .collect(),
            next_page_token: page.next_page_token.filter(|t| !t.is_empty()),
            history_id: page.history_id,
        })
    }

    async fn list_labels(&self, account: Uuid) -> Result<Vec<Label>, GmailError> {
        let labels: LabelsWire = self.get(account, "labels", &[], false).await?;
        Ok(labels.labels)
    }

    async fn list_send_as(&self, account: Uuid) -> Result<Vec<SendAs>, GmailError> {
        let wire: SendAsWire = self.get(account, "settings/sendAs", &[], false).await?;
        Ok(wire.send_as)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_accepts_padded_and_unpadded_base64url() {
        assert_eq!(decode_raw("aGk_").unwrap(), b"hi?");
        assert_eq!(decode_raw("aGk=").unwrap(), b"hi");
        assert_eq!(decode_raw("aGk").unwrap(), b"hi");
        assert!(decode_raw("***").is_err());
    }

    #[test]
    fn history_pages_decode() {
        let page: HistoryWire = serde_json::from_value(serde_json::json!({
            "history": [{"id": "12", "messages": [{"id": "a"}],
                "messagesAdded": [{"message": {"id": "a", "threadId": "t", "labelIds": ["INBOX"]}}],
                "labelsRemoved": [{"message": {"id": "b", "threadId": "t"}, "labelIds": ["UNREAD"]}]}],
            "historyId": "15"
        }))
        .unwrap();
        assert_eq!(page.history_id, HistoryId(15));
        assert_eq!(page.history[0].id, HistoryId(12));
        assert!(page.next_page_token.is_none());
    }
}
