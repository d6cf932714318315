//! [`JmapApi`] over HTTP with reqwest: one shared client for every account; each call
//! carries its account's credential.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::types::{CORE, MAIL};
use super::{
    EMAIL_PROPERTIES, Email, EmailPatch, EmailQuery, Endpoint, JmapApi, JmapError, Listing,
    Mailbox, Session, SetOutcome,
};
use crate::jmap::Credential;

/// Body values larger than this are truncated by the server (`isTruncated`).
const MAX_BODY_VALUE_BYTES: u64 = 1_000_000;

#[derive(Debug, Clone)]
pub struct HttpJmap {
    client: reqwest::Client,
}

impl Default for HttpJmap {
    fn default() -> Self {
        Self::new(Self::default_client())
    }
}

impl HttpJmap {
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// Kept-alive connections and timeouts, so a stalled server becomes a retryable
    /// transport error instead of a hang.
    pub fn default_client() -> reqwest::Client {
        reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(16)
            .user_agent("rapport-sync/0.1")
            .build()
            .expect("the HTTP client configuration is valid")
    }

    fn authorize(
        request: reqwest::RequestBuilder,
        credential: &Credential,
    ) -> reqwest::RequestBuilder {
        match credential {
            Credential::Bearer { token } => request.bearer_auth(token),
            Credential::Basic { user, password } => request.basic_auth(user, Some(password)),
        }
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<Vec<u8>, JmapError> {
        let response = request
            .send()
            .await
            .map_err(|e| JmapError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .bytes()
            .await
            .map_err(|e| JmapError::Transport(e.to_string()))?;
        if !(200..300).contains(&status) {
            return Err(JmapError::from_response(
                status,
                retry_after.as_deref(),
                &body,
            ));
        }
        Ok(body.to_vec())
    }

    /// One API request; returns each method's arguments in call order. A method error
    /// (`["error", ...]`) fails the whole call with its JMAP type.
    async fn call(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        calls: Value,
    ) -> Result<Vec<Value>, JmapError> {
        let url = api_url(&endpoint.session_url, &session.api_url)?;
        let request = self
            .client
            .post(url)
            .json(&json!({ "using": [CORE, MAIL], "methodCalls": calls }));
        let body = self
            .send(Self::authorize(request, &endpoint.credential))
            .await?;
        let response: ApiResponse =
            serde_json::from_slice(&body).map_err(|e| JmapError::Decode(e.to_string()))?;
        let called: Vec<String> = calls
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|call| call[0].as_str().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default();
        response
            .method_responses
            .into_iter()
            .enumerate()
            .map(|(i, (name, arguments, _))| {
                if name == "error" {
                    let field = |f: &str| arguments[f].as_str().unwrap_or_default().to_owned();
                    Err(JmapError::Method {
                        method: called.get(i).cloned().unwrap_or_default(),
                        kind: field("type"),
                        description: field("description"),
                    })
                } else {
                    Ok(arguments)
                }
            })
            .collect()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiResponse {
    method_responses: Vec<(String, Value, String)>,
}

/// The session's `apiUrl` may be relative to the session resource (Cyrus says `/jmap/`).
fn api_url(session_url: &str, api: &str) -> Result<reqwest::Url, JmapError> {
    let base = reqwest::Url::parse(session_url)
        .map_err(|e| JmapError::Decode(format!("session URL {session_url}: {e}")))?;
    base.join(api)
        .map_err(|e| JmapError::Decode(format!("apiUrl {api}: {e}")))
}

fn decode<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, JmapError> {
    serde_json::from_value(value).map_err(|e| JmapError::Decode(format!("{what}: {e}")))
}

fn account(session: &Session) -> Result<&str, JmapError> {
    session.mail_account().ok_or(JmapError::NoMail)
}

impl JmapApi for HttpJmap {
    async fn session(&self, endpoint: &Endpoint) -> Result<Session, JmapError> {
        let request = self.client.get(&endpoint.session_url);
        let body = self
            .send(Self::authorize(request, &endpoint.credential))
            .await?;
        let session: Session = serde_json::from_slice(&body)
            .map_err(|e| JmapError::Decode(format!("session resource: {e}")))?;
        if session.mail_account().is_none() {
            return Err(JmapError::NoMail);
        }
        Ok(session)
    }

    async fn mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
    ) -> Result<Vec<Mailbox>, JmapError> {
        let calls = json!([["Mailbox/get", {
            "accountId": account(session)?,
            "ids": null,
            "properties": ["id", "name", "role"],
        }, "m"]]);
        let mut responses = self.call(endpoint, session, calls).await?;
        let mut got = responses.remove(0);
        decode(got["list"].take(), "Mailbox/get list")
    }

    async fn create_mailboxes(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        names: &[&str],
    ) -> Result<Vec<String>, JmapError> {
        let create: serde_json::Map<String, Value> = names
            .iter()
            .map(|n| ((*n).to_owned(), json!({ "name": n, "parentId": null })))
            .collect();
        let calls = json!([["Mailbox/set", {
            "accountId": account(session)?,
            "create": create,
        }, "c"]]);
        let mut responses = self.call(endpoint, session, calls).await?;
        let set = responses.remove(0);
        names
            .iter()
            .map(|name| {
                set["created"][name]["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| JmapError::Method {
                        method: "Mailbox/set".to_owned(),
                        kind: set["notCreated"][name]["type"]
                            .as_str()
                            .unwrap_or("notCreated")
                            .to_owned(),
                        description: format!("could not create the mailbox {name}"),
                    })
            })
            .collect()
    }

    async fn list_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        query: &EmailQuery,
    ) -> Result<Listing, JmapError> {
        let account = account(session)?;
        let mut filter = json!({
            "inMailbox": query.mailbox_id,
            "notKeyword": super::DONE_KEYWORD,
        });
        if let Some(after) = query.after {
            filter["after"] = json!(after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        }
        let calls = json!([["Email/query", {
            "accountId": account,
            "filter": filter,
            "sort": [{"property": "receivedAt", "isAscending": true}],
            "position": query.position,
            "limit": query.limit,
            "collapseThreads": false,
        }, "q"]]);
        let Some(mut queried) = self.call(endpoint, session, calls).await?.pop() else {
            return Err(JmapError::Decode("Email/query answered nothing".to_owned()));
        };
        let capped_at = queried["limit"]
            .as_u64()
            .map(|limit| limit as usize)
            .filter(|limit| *limit < query.limit);
        Ok(Listing {
            ids: decode(queried["ids"].take(), "Email/query ids")?,
            capped_at,
        })
    }

    async fn get_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        ids: &[String],
    ) -> Result<Vec<Email>, JmapError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let calls = json!([["Email/get", {
            "accountId": account(session)?,
            "ids": ids,
            "properties": EMAIL_PROPERTIES,
            "fetchTextBodyValues": true,
            "fetchHTMLBodyValues": true,
            "maxBodyValueBytes": MAX_BODY_VALUE_BYTES,
        }, "g"]]);
        let mut responses = self.call(endpoint, session, calls).await?;
        decode(responses.remove(0)["list"].take(), "Email/get list")
    }

    async fn update_emails(
        &self,
        endpoint: &Endpoint,
        session: &Session,
        patches: &[(String, EmailPatch)],
    ) -> Result<SetOutcome, JmapError> {
        // Within the server's limits: `Email/set` calls of at most `maxObjectsInSet`
        // updates, as many in one request as `maxCallsInRequest` allows (a request
        // costs the server a commit of its own, whatever its size).
        let account = account(session)?;
        let calls: Vec<Value> = patches
            .chunks(session.core_limit("maxObjectsInSet", 500))
            .enumerate()
            .map(|(i, chunk)| set_call(account, chunk, i))
            .collect();
        let mut outcome = SetOutcome::default();
        for request in calls.chunks(session.core_limit("maxCallsInRequest", 16)) {
            for response in self.call(endpoint, session, json!(request)).await? {
                let set = set_outcome(response);
                outcome.updated.extend(set.updated);
                outcome.not_updated.extend(set.not_updated);
            }
        }
        Ok(outcome)
    }
}

fn set_call(account: &str, patches: &[(String, EmailPatch)], call: usize) -> Value {
    let update: serde_json::Map<String, Value> = patches
        .iter()
        .map(|(id, patch)| (id.clone(), json!(patch)))
        .collect();
    json!(["Email/set", { "accountId": account, "update": update }, format!("s{call}")])
}

/// `Email/set`'s answer: `updated` ids and `notUpdated` ids with their error type.
fn set_outcome(set: Value) -> SetOutcome {
    let updated = set["updated"]
        .as_object()
        .map(|u| u.keys().cloned().collect())
        .unwrap_or_default();
    let not_updated = set["notUpdated"]
        .as_object()
        .map(|n| {
            n.iter()
                .map(|(id, error)| {
                    (
                        id.clone(),
                        error["type"].as_str().unwrap_or("notUpdated").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    SetOutcome {
        updated,
        not_updated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relative_api_url_resolves_against_the_session_url() {
        assert_eq!(
            api_url("http://127.0.0.1:8080/jmap/", "/jmap/")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:8080/jmap/"
        );
        assert_eq!(
            api_url(
                "https://api.fastmail.com/jmap/session",
                "https://api.fastmail.com/jmap/api/"
            )
            .unwrap()
            .as_str(),
            "https://api.fastmail.com/jmap/api/"
        );
    }
}
