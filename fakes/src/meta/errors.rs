//! Graph API errors in Graph's shape:
//! `{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    pub status: u16,
    pub code: u32,
    pub subcode: Option<u32>,
    pub kind: &'static str,
    pub message: String,
}

impl GraphError {
    /// 190 / 463: the Page access token expired.
    pub fn expired_token() -> Self {
        Self {
            status: 400,
            code: 190,
            subcode: Some(463),
            kind: "OAuthException",
            message: "Error validating access token: Session has expired on Thursday, 03-Dec-26 10:00:00 PST. The current time is Friday, 04-Dec-26 04:00:00 PST.".into(),
        }
    }

    /// 190 without a subcode: a token the fake never issued.
    pub fn invalid_token() -> Self {
        Self {
            status: 400,
            code: 190,
            subcode: None,
            kind: "OAuthException",
            message: "Invalid OAuth access token - Cannot parse access token".into(),
        }
    }

    /// One of the throttling codes: 4 (app), 17 (user), 32 (page), 613 (calls within
    /// a time window).
    pub fn rate_limited(code: u32) -> Self {
        let message = match code {
            4 => "(#4) Application request limit reached",
            17 => "(#17) User request limit reached",
            32 => "(#32) Page request limit reached",
            _ => "(#613) Calls to this api have exceeded the rate limit.",
        };
        Self {
            status: 400,
            code,
            subcode: None,
            kind: "OAuthException",
            message: message.into(),
        }
    }

    /// 10 / 2018278: a reply outside the 24-hour standard messaging window.
    pub fn outside_window() -> Self {
        Self {
            status: 400,
            code: 10,
            subcode: Some(2_018_278),
            kind: "OAuthException",
            message: "(#10) This message is sent outside of allowed window.".into(),
        }
    }

    /// The 500 Graph answers when a request asks for too much at once.
    pub fn reduce_data() -> Self {
        Self {
            status: 500,
            code: 1,
            subcode: None,
            kind: "OAuthException",
            message: "Please reduce the amount of data you're asking for, then retry your request"
                .into(),
        }
    }

    /// 100: a bad parameter or an object that does not exist.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            code: 100,
            subcode: None,
            kind: "OAuthException",
            message: message.into(),
        }
    }

    /// A server error (for the Send API's lost response).
    pub fn unknown() -> Self {
        Self {
            status: 500,
            code: 2,
            subcode: None,
            kind: "OAuthException",
            message: "An unexpected error has occurred. Please retry your request later.".into(),
        }
    }
}

impl IntoResponse for GraphError {
    fn into_response(self) -> Response {
        let body = json!({"error": {
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "error_subcode": self.subcode,
            "fbtrace_id": "AbCdEfGhIjKlMnOp",
        }});
        (
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::BAD_REQUEST),
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response()
    }
}
