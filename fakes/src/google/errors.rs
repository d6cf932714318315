//! Google's two error dialects, reproduced byte for byte so client code
//! written against the fake handles real Google the same way.
//!
//! * REST APIs (Gmail) answer `{"error":{"code","message","errors":[..],"status"}}`.
//! * The OAuth endpoints answer the flat RFC 6749 shape
//!   `{"error":"invalid_grant","error_description":"Bad Request"}`.

use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error from a Google REST API (Gmail, userinfo's API flavour).
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl ApiError {
    fn new(status: StatusCode, message: &str, domain: &str, reason: &str, state: &str) -> Self {
        ApiError {
            status,
            body: json!({
                "error": {
                    "code": status.as_u16(),
                    "message": message,
                    "errors": [{"message": message, "domain": domain, "reason": reason}],
                    "status": state,
                }
            }),
            headers: Vec::new(),
        }
    }

    fn with_header(mut self, name: HeaderName, value: &str) -> Self {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.push((name, v));
        }
        self
    }

    /// Missing, unknown, expired or revoked bearer token.
    pub fn unauthenticated() -> Self {
        let message = "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.";
        let mut err = ApiError::new(
            StatusCode::UNAUTHORIZED,
            message,
            "global",
            "authError",
            "UNAUTHENTICATED",
        );
        err.body["error"]["errors"][0] = json!({
            "message": "Invalid Credentials",
            "domain": "global",
            "reason": "authError",
            "location": "Authorization",
            "locationType": "header",
        });
        err.with_header(
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"",
        )
    }

    /// Valid token whose scopes do not cover the call.
    pub fn insufficient_scope() -> Self {
        let mut err = ApiError::new(
            StatusCode::FORBIDDEN,
            "Request had insufficient authentication scopes.",
            "global",
            "insufficientPermissions",
            "PERMISSION_DENIED",
        );
        err.body["error"]["errors"][0]["message"] = json!("Insufficient Permission");
        err.with_header(
            header::WWW_AUTHENTICATE,
            "Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\"",
        )
    }

    /// What Gmail says when a token for one user addresses another mailbox.
    pub fn delegation_denied(user_id: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            &format!("Delegation denied for {user_id}"),
            "global",
            "forbidden",
            "PERMISSION_DENIED",
        )
    }

    /// A request that is understood but refused for this token (e.g. the
    /// `gmail.metadata` scope asking for message bodies).
    pub fn forbidden(message: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            message,
            "global",
            "forbidden",
            "PERMISSION_DENIED",
        )
    }

    pub fn not_found() -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "Requested entity was not found.",
            "global",
            "notFound",
            "NOT_FOUND",
        )
    }

    pub fn invalid_argument(message: &str) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            message,
            "global",
            "invalidArgument",
            "INVALID_ARGUMENT",
        )
    }

    /// Per-user quota exhausted. `retry_at` is an RFC 3339 instant and
    /// `retry_after_secs` feeds the `Retry-After` header.
    pub fn user_rate_limited(retry_at: &str, retry_after_secs: u64) -> Self {
        // Google really does put two spaces before "Retry after".
        let message = format!("User-rate limit exceeded.  Retry after {retry_at}");
        ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            &message,
            "usageLimits",
            "userRateLimitExceeded",
            "RESOURCE_EXHAUSTED",
        )
        .with_header(header::RETRY_AFTER, &retry_after_secs.to_string())
    }

    pub fn backend_error() -> Self {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Backend Error",
            "global",
            "backendError",
            "INTERNAL",
        )
    }

    pub fn unavailable() -> Self {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "The service is currently unavailable.",
            "global",
            "backendError",
            "UNAVAILABLE",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

/// An error from the OAuth token, revoke or userinfo endpoints.
#[derive(Debug, PartialEq, Eq)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
        }
    }

    /// Google deliberately says nothing more than "Bad Request" for every
    /// bad code, verifier or refresh token, so clients cannot probe.
    pub fn invalid_grant() -> Self {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_grant", "Bad Request")
    }

    pub fn unknown_client() -> Self {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        )
    }

    pub fn wrong_client_secret() -> Self {
        OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", "Unauthorized")
    }

    pub fn unsupported_grant_type(grant_type: &str) -> Self {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("Invalid grant_type: {grant_type}"),
        )
    }

    pub fn missing_parameter(name: &str) -> Self {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            format!("Missing required parameter: {name}"),
        )
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_token() -> Self {
        OAuthError::new(
            StatusCode::BAD_REQUEST,
            "invalid_token",
            "Token expired or revoked",
        )
    }

    /// What the OpenID userinfo endpoint answers for a bad bearer token.
    pub fn userinfo_unauthorized() -> Self {
        OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_request",
            "Invalid Credentials",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            axum::Json(json!({"error": self.error, "error_description": self.description})),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"https://accounts.google.com/\""),
            );
        }
        response
    }
}
