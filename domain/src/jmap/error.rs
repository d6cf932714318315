//! JMAP failures, classified so the sync decides from the variant alone.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JmapError {
    /// HTTP 401: the token or password is wrong or was revoked.
    #[error("the JMAP server refused the credentials: {0}")]
    Unauthorized(String),
    /// HTTP 429 or 503, or the request error `urn:ietf:params:jmap:error:limit`.
    #[error("the JMAP server asked to slow down: {detail}")]
    RateLimited {
        retry_after: Option<Duration>,
        detail: String,
    },
    /// The session does not offer `urn:ietf:params:jmap:mail`.
    #[error("this JMAP server does not offer mail (no urn:ietf:params:jmap:mail capability)")]
    NoMail,
    /// A method answered `["error", {type, description}]` (`cannotCalculateChanges`,
    /// `stateMismatch`, ...).
    #[error("JMAP {method} failed with {kind}: {description}")]
    Method {
        method: String,
        kind: String,
        description: String,
    },
    /// Any other 5xx.
    #[error("JMAP server error (HTTP {0})")]
    Server(u16),
    /// Any other 4xx, or a request-level error: our request was wrong.
    #[error("the JMAP server rejected the request (HTTP {status}): {message}")]
    Rejected { status: u16, message: String },
    #[error("could not reach the JMAP server: {0}")]
    Transport(String),
    #[error("unexpected JMAP response: {0}")]
    Decode(String),
}

impl JmapError {
    /// Only the user can fix this, by connecting the account again.
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, Self::Unauthorized(_))
    }

    /// A later attempt may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Server(_) | Self::Transport(_) => true,
            // A state that moved under us, or changes the server cannot compute: the
            // next poll queries afresh.
            Self::Method { kind, .. } => {
                matches!(
                    kind.as_str(),
                    "stateMismatch" | "cannotCalculateChanges" | "serverFail" | "serverUnavailable"
                )
            }
            Self::Unauthorized(_) | Self::NoMail | Self::Rejected { .. } | Self::Decode(_) => false,
        }
    }

    /// Classifies an unsuccessful HTTP response (RFC 8620 §3.6.1 problem details).
    pub(super) fn from_response(status: u16, retry_after: Option<&str>, body: &[u8]) -> Self {
        let problem: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let field = |name: &str| {
            problem
                .as_ref()
                .and_then(|p| p.get(name))
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        let message = field("detail")
            .or_else(|| field("title"))
            .unwrap_or_else(|| String::from_utf8_lossy(body).chars().take(200).collect());
        let retry_after = retry_after
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let limit = field("type").is_some_and(|t| t == "urn:ietf:params:jmap:error:limit");
        match status {
            401 => Self::Unauthorized(if message.is_empty() {
                "HTTP 401".to_owned()
            } else {
                message
            }),
            429 | 503 => Self::RateLimited {
                retry_after,
                detail: format!("HTTP {status}"),
            },
            _ if limit => Self::RateLimited {
                retry_after,
                detail: format!(
                    "limit {}",
                    field("limit").unwrap_or_else(|| "reached".to_owned())
                ),
            },
            500..=599 => Self::Server(status),
            _ => Self::Rejected { status, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_are_classified_by_status_and_problem_type() {
        assert!(JmapError::from_response(401, None, b"").needs_reconnect());
        assert_eq!(
            JmapError::from_response(429, Some("7"), b""),
            JmapError::RateLimited {
                retry_after: Some(Duration::from_secs(7)),
                detail: "HTTP 429".into()
            }
        );
        assert!(matches!(
            JmapError::from_response(503, None, b""),
            JmapError::RateLimited { .. }
        ));
        let limit = br#"{"type":"urn:ietf:params:jmap:error:limit","limit":"maxCallsInRequest","status":400}"#;
        assert!(matches!(
            JmapError::from_response(400, None, limit),
            JmapError::RateLimited { .. }
        ));
        assert!(JmapError::from_response(400, None, limit).is_retryable());
        let other =
            br#"{"type":"urn:ietf:params:jmap:error:notRequest","status":400,"detail":"bad"}"#;
        assert_eq!(
            JmapError::from_response(400, None, other),
            JmapError::Rejected {
                status: 400,
                message: "bad".into()
            }
        );
        assert_eq!(
            JmapError::from_response(502, None, b""),
            JmapError::Server(502)
        );
    }
}
