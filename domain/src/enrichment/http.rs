//! What the HTTP providers share: sending a request, reading its JSON, a 429's
//! `Retry-After`, and an error message from a provider's error body.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use super::ProviderError;

/// A 429 without `Retry-After` is retried after this long.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(1);

/// The status and JSON body of an answer (`Value::Null` when the body is empty). A 429
/// is [`ProviderError::RateLimited`] with its `Retry-After` (seconds).
pub async fn send(request: reqwest::RequestBuilder) -> Result<(StatusCode, Value), ProviderError> {
    let response = request.send().await.map_err(ProviderError::Transport)?;
    let status = response.status();
    if status == StatusCode::TOO_MANY_REQUESTS {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
            .or_else(|| reset_in(response.headers()))
            .unwrap_or(DEFAULT_RETRY_AFTER);
        return Err(ProviderError::RateLimited { retry_after });
    }
    let bytes = response.bytes().await.map_err(ProviderError::Transport)?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ProviderError::Decode(format!("HTTP {status}: body is not JSON: {e}")))?
    };
    Ok((status, body))
}

/// X's `x-rate-limit-reset` (epoch seconds) as a wait from now.
fn reset_in(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let reset: i64 = headers
        .get("x-rate-limit-reset")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let wait = reset - chrono::Utc::now().timestamp();
    Some(Duration::from_secs(u64::try_from(wait).unwrap_or(0).max(1)))
}

/// An error for an answer the client does not expect, with the provider's own message
/// when its body has one (`error.message`, `error`, `message`, `detail`, `title`).
pub fn unexpected(status: StatusCode, body: &Value) -> ProviderError {
    let message = [
        body.pointer("/error/message"),
        body.get("error"),
        body.get("message"),
        body.get("detail"),
        body.get("title"),
    ]
    .into_iter()
    .flatten()
    .find_map(Value::as_str)
    .unwrap_or("no message")
    .to_owned();
    ProviderError::Http {
        status: status.as_u16(),
        message,
    }
}

/// A client with the timeouts every provider request gets (the per-lookup timeout is
/// the enricher's; this only bounds connecting).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .build()
        .expect("a reqwest client builds")
}

/// `base` without a trailing slash, joined with `path`.
pub fn url(base: &str, path: &str) -> String {
    format!("{}{path}", base.trim_end_matches('/'))
}
