//! Gmail failures, classified from Google's error JSON
//! (`{"error": {"code", "message", "errors": [{"reason"}], "status"}}`) so that callers
//! decide on retrying from the variant alone.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::TokenError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GmailError {
    /// 429, or 403 with reason `rateLimitExceeded` / `userRateLimitExceeded`.
    #[error("Gmail rate limit reached")]
    RateLimited { retry_after: Option<Duration> },
    #[error("not found in Gmail")]
    NotFound,
    /// `history.list` answered 404: the cursor is too old, a full sync is needed.
    #[error("Gmail history has expired")]
    HistoryExpired,
    /// 401 even with a fresh token, or 403 for missing permissions.
    #[error("Gmail refused the credentials: {0}")]
    Unauthorized(String),
    #[error(transparent)]
    Token(#[from] TokenError),
    /// 5xx: Google's side, worth retrying.
    #[error("Gmail server error (HTTP {0})")]
    Server(u16),
    /// Any other 4xx: our request was wrong, retrying will not help.
    #[error("Gmail rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("could not reach Gmail: {0}")]
    Transport(String),
    #[error("unexpected Gmail response: {0}")]
    Decode(String),
}

impl GmailError {
    /// Worth trying again after a pause (rate limits have their own pause).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Server(_) | Self::Transport(_) | Self::Token(TokenError::Unavailable(_))
        )
    }

    /// Only the user can fix this, by connecting the account again.
    pub fn needs_reconnect(&self) -> bool {
        matches!(
            self,
            Self::Unauthorized(_) | Self::Token(TokenError::NeedsReconnect(_))
        )
    }

    /// Classifies an unsuccessful response. `retry_after` is the `Retry-After` header.
    pub(crate) fn from_response(
        status: u16,
        retry_after: Option<&str>,
        body: &[u8],
        history: bool,
    ) -> Self {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let detail = parsed.as_ref().map(|b| &b.error);
        let message = detail
            .map(|d| d.message.clone())
            .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
        let rate_reason = detail.is_some_and(|d| {
            d.errors.iter().any(|e| {
                matches!(
                    e.reason.as_str(),
                    "rateLimitExceeded" | "userRateLimitExceeded"
                )
            })
        });
        match status {
            429 => Self::rate_limited(retry_after, &message),
            403 if rate_reason => Self::rate_limited(retry_after, &message),
            401 | 403 => Self::Unauthorized(message),
            404 if history => Self::HistoryExpired,
            404 => Self::NotFound,
            500..=599 => Self::Server(status),
            _ => Self::Rejected { status, message },
        }
    }

    /// Google says when to retry twice: `Retry-After` in whole seconds, and
    /// "Retry after <RFC 3339 instant>" in the message, which is more precise.
    fn rate_limited(header: Option<&str>, message: &str) -> Self {
        let from_message = message
            .rsplit("Retry after ")
            .next()
            .filter(|_| message.contains("Retry after "))
            .and_then(|at| DateTime::parse_from_rfc3339(at.trim()).ok())
            .and_then(|at| (at.with_timezone(&Utc) - Utc::now()).to_std().ok());
        let from_header = header
            .and_then(|h| h.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(Duration::from_secs_f64);
        Self::RateLimited {
            retry_after: from_message.or(from_header),
        }
    }
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    errors: Vec<ErrorReason>,
}

#[derive(Deserialize)]
struct ErrorReason {
    #[serde(default)]
    reason: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: u16, reason: &str, message: &str) -> Vec<u8> {
        serde_json::json!({"error": {"code": code, "message": message,
            "errors": [{"message": message, "domain": "usageLimits", "reason": reason}],
            "status": "X"}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn rate_limits_honour_retry_after() {
        let e = GmailError::from_response(
            429,
            Some("3"),
            &body(429, "userRateLimitExceeded", "User-rate limit exceeded."),
            false,
        );
        assert_eq!(
            e,
            GmailError::RateLimited {
                retry_after: Some(Duration::from_secs(3))
            }
        );
        let e = GmailError::from_response(403, None, &body(403, "rateLimitExceeded", "x"), false);
        assert_eq!(e, GmailError::RateLimited { retry_after: None });
    }

    #[test]
    fn the_message_instant_is_preferred_to_the_header() {
        let at = (Utc::now() + chrono::Duration::milliseconds(1500))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let message = format!("User-rate limit exceeded.  Retry after {at}");
        let GmailError::RateLimited {
            retry_after: Some(wait),
        } = GmailError::from_response(
            429,
            Some("2"),
            &body(429, "userRateLimitExceeded", &message),
            false,
        )
        else {
            panic!("not a rate limit")
        };
        assert!(wait > Duration::from_millis(1000) && wait <= Duration::from_millis(1500));
    }

    #[test]
    fn statuses_map_to_variants() {
        let b = body(404, "notFound", "Requested entity was not found.");
        assert_eq!(
            GmailError::from_response(404, None, &b, true),
            GmailError::HistoryExpired
        );
        assert_eq!(
            GmailError::from_response(404, None, &b, false),
            GmailError::NotFound
        );
        assert_eq!(
            GmailError::from_response(503, None, b"oops", false),
            GmailError::Server(503)
        );
        assert!(GmailError::from_response(401, None, b"", false).needs_reconnect());
        assert!(matches!(
            GmailError::from_response(403, None, &body(403, "insufficientPermissions", "x"), false),
            GmailError::Unauthorized(_)
        ));
        assert!(matches!(
            GmailError::from_response(400, None, &body(400, "invalidArgument", "bad"), false),
            GmailError::Rejected { status: 400, .. }
        ));
    }
}
