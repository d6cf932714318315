//! The Graph API client: two calls (a GET of a Graph URL, and the Send API) behind
//! [`GraphApi`], with Graph's error shape and usage headers read into types. Which URLs
//! the poll asks for is decided in `poll.rs`; this file only speaks HTTP.

use std::future::Future;

use serde::Deserialize;
use serde_json::Value;

/// A Graph error answer (`{"error": {"message", "type", "code", "error_subcode"}}`) or
/// a failure to reach Graph at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("Graph error {code}: {message}")]
    Api {
        status: u16,
        code: i64,
        subcode: Option<i64>,
        message: String,
    },
    #[error("could not reach Graph: {0}")]
    Transport(String),
    #[error("Graph answered something unexpected: {0}")]
    Decode(String),
}

impl GraphError {
    fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// 190 (and its subcodes such as 463): the token is expired or revoked.
    pub fn is_expired_token(&self) -> bool {
        self.code() == Some(190)
    }

    /// 4, 17, 32, 613: an application, user, Page or time-window limit.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.code(), Some(4 | 17 | 32 | 613))
    }

    /// 10 / 2018278: the 24-hour standard messaging window has closed.
    pub fn is_outside_window(&self) -> bool {
        matches!(
            self,
            Self::Api {
                code: 10,
                subcode: Some(2_018_278),
                ..
            }
        )
    }

    /// The 500 that asks for less data per request.
    pub fn wants_less_data(&self) -> bool {
        matches!(
            self,
            Self::Api {
                status: 500,
                code: 1,
                ..
            }
        )
    }

    /// Graph's own words, for the account's status line.
    pub fn message(&self) -> String {
        match self {
            Self::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

/// A successful GET: its body and the highest usage percentage its headers reported.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphResponse {
    pub body: Value,
    pub usage_percent: u32,
}

/// The calls Rapport makes to Graph.
pub trait GraphApi: Send + Sync + 'static {
    /// GET `url` (a Graph URL with its query, as built by the poll or taken from
    /// `paging.next`) with the Page token.
    fn get(
        &self,
        url: &str,
        token: &str,
    ) -> impl Future<Output = Result<GraphResponse, GraphError>> + Send;

    /// `POST {graph_url}/{page_id}/messages` with `messaging_type: RESPONSE`; returns
    /// the `message_id` Graph gave the sent message.
    fn send(
        &self,
        graph_url: &str,
        page_id: &str,
        token: &str,
        recipient: &str,
        text: &str,
    ) -> impl Future<Output = Result<String, GraphError>> + Send;
}

/// [`GraphApi`] over HTTP.
#[derive(Debug, Clone)]
pub struct HttpGraph {
    http: reqwest::Client,
}

impl Default for HttpGraph {
    fn default() -> Self {
        Self {
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(30))
                .build()
                .unwrap_or_default(),
        }
    }
}

impl GraphApi for HttpGraph {
    async fn get(&self, url: &str, token: &str) -> Result<GraphResponse, GraphError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| GraphError::Transport(e.without_url().to_string()))?;
        let usage_percent = usage_percent(response.headers());
        let body = read(response).await?;
        Ok(GraphResponse {
            body,
            usage_percent,
        })
    }

    async fn send(
        &self,
        graph_url: &str,
        page_id: &str,
        token: &str,
        recipient: &str,
        text: &str,
    ) -> Result<String, GraphError> {
        let response = self
            .http
            .post(format!(
                "{}/{page_id}/messages",
                graph_url.trim_end_matches('/')
            ))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "recipient": {"id": recipient},
                "messaging_type": "RESPONSE",
                "message": {"text": text},
            }))
            .send()
            .await
            .map_err(|e| GraphError::Transport(e.without_url().to_string()))?;
        let body = read(response).await?;
        body["message_id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| GraphError::Decode("the Send API answer has no message_id".into()))
    }
}

async fn read(response: reqwest::Response) -> Result<Value, GraphError> {
    let status = response.status().as_u16();
    let text = response
        .text()
        .await
        .map_err(|e| GraphError::Transport(e.without_url().to_string()))?;
    let body: Value = serde_json::from_str(&text)
        .map_err(|_| GraphError::Decode(format!("HTTP {status}, not JSON")))?;
    if let Some(error) = parse_error(status, &body) {
        return Err(error);
    }
    if status >= 400 {
        return Err(GraphError::Decode(format!(
            "HTTP {status} without an error"
        )));
    }
    Ok(body)
}

/// Graph's error object, when the body is one.
pub fn parse_error(status: u16, body: &Value) -> Option<GraphError> {
    #[derive(Deserialize)]
    struct Body {
        message: String,
        code: i64,
        error_subcode: Option<i64>,
    }
    let error: Body = serde_json::from_value(body.get("error")?.clone()).ok()?;
    Some(GraphError::Api {
        status,
        code: error.code,
        subcode: error.error_subcode,
        message: error.message,
    })
}

/// The highest percentage in `X-App-Usage` and `X-Business-Use-Case-Usage` (call count,
/// CPU time, total time): how close this app and Page are to being throttled.
pub fn usage_percent(headers: &reqwest::header::HeaderMap) -> u32 {
    let app = headers
        .get("x-app-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<Value>(v).ok());
    let business = headers
        .get("x-business-use-case-usage")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| serde_json::from_str::<Value>(v).ok());
    let mut highest = app.as_ref().map_or(0, max_usage);
    if let Some(Value::Object(pages)) = business {
        for entries in pages.values() {
            for entry in entries.as_array().into_iter().flatten() {
                highest = highest.max(max_usage(entry));
            }
        }
    }
    highest
}

fn max_usage(value: &Value) -> u32 {
    ["call_count", "total_cputime", "total_time"]
        .iter()
        .filter_map(|k| value.get(k).and_then(Value::as_u64))
        .max()
        .map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_and_usage_are_read_from_graphs_shapes() {
        let body = serde_json::json!({"error": {"message": "Session has expired", "type": "OAuthException",
            "code": 190, "error_subcode": 463, "fbtrace_id": "x"}});
        let error = parse_error(400, &body).unwrap();
        assert!(error.is_expired_token() && !error.is_rate_limited());
        assert_eq!(error.message(), "Session has expired");
        let window =
            serde_json::json!({"error": {"message": "w", "code": 10, "error_subcode": 2018278}});
        assert!(parse_error(400, &window).unwrap().is_outside_window());
        let less = serde_json::json!({"error": {"message": "reduce", "code": 1}});
        assert!(parse_error(500, &less).unwrap().wants_less_data());
        assert_eq!(parse_error(200, &serde_json::json!({"data": []})), None);

        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-app-usage",
            r#"{"call_count":12,"total_cputime":3,"total_time":5}"#
                .parse()
                .unwrap(),
        );
        headers.insert(
            "x-business-use-case-usage",
            r#"{"1001":[{"type":"pages","call_count":7,"total_cputime":81,"total_time":2}]}"#
                .parse()
                .unwrap(),
        );
        assert_eq!(usage_percent(&headers), 81);
        assert_eq!(usage_percent(&reqwest::header::HeaderMap::new()), 0);
    }
}
