//! The one application error. Server functions, the REST API, webhooks, uploads and the
//! ask stream all fail with an [`AppError`]: a [`ErrorKind`] (which alone decides the
//! HTTP status, in [`ErrorKind::status_code`]), the sentence the user reads, the field it
//! is about, and the cause as its `source()` (kept on the server, never serialised).
//!
//! Domain errors become an `AppError` through the `From` impls below (server only): a
//! missing account or contact is a 404, a refusal the user can fix is a 4xx with the
//! domain's precise words, and anything else is a 5xx whose cause is logged once (with
//! the request id) when the error leaves the server, and shown only as a generic sentence
//! with the request id. The serialisable part crosses to the browser, so the type is
//! usable as a server function's error (`Result<T, AppError>`).

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use api::capitalize;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a user reads when the failure is ours.
pub const GENERIC_MESSAGE: &str = "Something went wrong on our side. Please try again.";

/// Shown in the browser when a server call never reached Rapport.
pub const UNREACHABLE_MESSAGE: &str =
    "Rapport could not be reached. Check your connection and try again.";

/// The classes of failure. The serialised name is the machine-readable `code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request is malformed (an unreadable body or upload).
    BadRequest,
    /// The body is not the JSON object the endpoint takes.
    InvalidJson,
    /// No, or no valid, credentials.
    Unauthorized,
    /// Credentials are fine but the thing is switched off or access was lost.
    Forbidden,
    /// Not there, or not the caller's (existence is never revealed).
    NotFound,
    Conflict,
    TooLarge,
    UnsupportedMediaType,
    /// A value the user can correct; `field` names it.
    Invalid,
    /// Our failure: logged with its cause, shown as [`GENERIC_MESSAGE`].
    Internal,
    /// A dependency (database, model, Gmail) is unavailable; retrying later helps.
    Unavailable,
    /// Over a rate or concurrency limit: a 429 whose `Retry-After` says when to retry.
    RateLimited,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 12] = [
        Self::BadRequest,
        Self::InvalidJson,
        Self::Unauthorized,
        Self::Forbidden,
        Self::NotFound,
        Self::Conflict,
        Self::TooLarge,
        Self::UnsupportedMediaType,
        Self::Invalid,
        Self::Internal,
        Self::Unavailable,
        Self::RateLimited,
    ];

    /// The HTTP status of each kind: the only place a status is decided.
    pub fn status_code(self) -> u16 {
        match self {
            Self::BadRequest | Self::InvalidJson => 400,
            Self::Unauthorized => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::Conflict => 409,
            Self::TooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::Invalid => 422,
            Self::RateLimited => 429,
            Self::Internal => 500,
            Self::Unavailable => 503,
        }
    }

    /// The stable machine-readable name (`not_found`, `invalid`, ...).
    pub fn code(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::InvalidJson => "invalid_json",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound => "not_found",
            Self::Conflict => "conflict",
            Self::TooLarge => "too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::Invalid => "invalid",
            Self::Internal => "internal",
            Self::Unavailable => "unavailable",
            Self::RateLimited => "rate_limited",
        }
    }

    /// Our side failed: the cause is logged and not shown.
    pub fn is_server_error(self) -> bool {
        self.status_code() >= 500
    }
}

type Cause = Arc<dyn StdError + Send + Sync>;

/// See the module documentation.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppError {
    kind: ErrorKind,
    message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    /// Set when the error is reported, so a 5xx can name the request to quote.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    request_id: Option<String>,
    /// For [`ErrorKind::RateLimited`]: seconds until a retry can succeed (`Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip)]
    source: Option<Cause>,
    /// Logged already: reporting again only sets the status. Reporting happens on the
    /// server only, so the browser build never reads it.
    #[serde(skip)]
    #[cfg_attr(not(feature = "ssr"), allow(dead_code))]
    reported: bool,
}

impl AppError {
    /// An error with the words the user reads. For a 5xx prefer [`AppError::internal`].
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            field: None,
            request_id: None,
            retry_after: None,
            source: None,
            reported: false,
        }
    }

    /// Our failure: `cause` is kept for the log, the user reads [`GENERIC_MESSAGE`].
    pub fn internal(cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        Self::new(ErrorKind::Internal, GENERIC_MESSAGE).with_source(cause)
    }

    /// `"{What} not found"`, as the domain words it.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            ErrorKind::NotFound,
            capitalize(&format!("{what} not found")),
        )
    }

    /// A value the user can correct: `"Invalid {field}: {message}"`, with the field.
    pub fn invalid(field: impl Into<String>, message: impl fmt::Display) -> Self {
        let field = field.into();
        Self::new(ErrorKind::Invalid, format!("Invalid {field}: {message}")).with_field(field)
    }

    pub fn with_source(mut self, cause: impl Into<Box<dyn StdError + Send + Sync>>) -> Self {
        self.source = Some(Arc::from(cause.into()));
        self
    }

    /// A 429: `message` says what was limited, `retry_after_secs` when to try again.
    pub fn rate_limited(message: impl Into<String>, retry_after_secs: u64) -> Self {
        let mut error = Self::new(ErrorKind::RateLimited, message);
        error.retry_after = Some(retry_after_secs.max(1));
        error
    }

    /// Seconds until a retry can succeed, for a rate-limited error.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn status_code(&self) -> u16 {
        self.kind.status_code()
    }

    pub fn code(&self) -> &'static str {
        self.kind.code()
    }

    pub fn is_server_error(&self) -> bool {
        self.kind.is_server_error()
    }

    /// The sentence without the request id.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn field(&self) -> Option<&str> {
        self.field.as_deref()
    }

    pub fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// What the user reads: the message, and for our failures the request id to quote.
    pub fn user_message(&self) -> String {
        self.to_string()
    }

    /// The cause and its causes, outermost first, as one line for the log.
    pub fn cause_chain(&self) -> String {
        let mut chain = Vec::new();
        let mut next = self
            .source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static));
        while let Some(error) = next {
            chain.push(error.to_string());
            next = error.source();
        }
        chain.join(": ")
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.request_id {
            Some(id) if self.is_server_error() => {
                write!(f, "{} (request id {id})", self.message)
            }
            _ => f.write_str(&self.message),
        }
    }
}

impl StdError for AppError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Request(_) => {
                Self::new(ErrorKind::Unavailable, UNREACHABLE_MESSAGE).with_source(value)
            }
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                Self::new(ErrorKind::BadRequest, capitalize(&value.to_string())).with_source(value)
            }
            other => Self::internal(other),
        }
    }

    /// Runs on the server when a server function's error is answered over HTTP: the
    /// error is reported (status, one log line) on its way out.
    #[cfg(feature = "ssr")]
    fn ser(&self) -> leptos::server_fn::Bytes {
        use leptos::server_fn::Encodes;
        let reported = self.clone().reported();
        JsonEncoding::encode(&reported).unwrap_or_else(|_| {
            leptos::server_fn::Bytes::from_static(
                br#"{"kind":"internal","message":"Something went wrong on our side. Please try again."}"#,
            )
        })
    }
}

#[cfg(feature = "ssr")]
pub use server::{current_request_id, with_request_id};

#[cfg(feature = "ssr")]
mod server {
    use std::future::Future;

    use axum::Json;
    use axum::response::{IntoResponse, Response};
    use domain::DomainError;
    use domain::accounts::TokenError as AccountTokenError;
    use domain::ask::model::ModelError;
    use domain::channels::ChannelError;
    use domain::crypto::CryptoError;
    use domain::files::FileError;
    use domain::gmail::GmailError;
    use domain::google::GoogleError;
    use domain::ingest::IngestError;
    use domain::jobs::QueueError;
    use domain::limits::Limited;
    use domain::processing::ProcessingError;
    use domain::summaries::SummaryError;
    use domain::sync::SyncError;
    use leptos::prelude::use_context;
    use serde_json::json;

    use super::{AppError, ErrorKind, capitalize};

    tokio::task_local! {
        static REQUEST_ID: String;
    }

    /// Runs `future` (one request's handling) knowing the request's id, so an error
    /// answered inside it can name the request. The server's middleware calls this.
    pub async fn with_request_id<F: Future>(id: String, future: F) -> F::Output {
        REQUEST_ID.scope(id, future).await
    }

    /// The id of the request being handled (`x-request-id`): from the middleware's
    /// scope, else from the Leptos request context.
    pub fn current_request_id() -> Option<String> {
        REQUEST_ID.try_with(Clone::clone).ok().or_else(|| {
            use_context::<http::request::Parts>().and_then(|parts| {
                parts
                    .headers
                    .get("x-request-id")?
                    .to_str()
                    .ok()
                    .map(str::to_owned)
            })
        })
    }

    impl AppError {
        pub fn status(&self) -> http::StatusCode {
            http::StatusCode::from_u16(self.status_code())
                .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
        }

        /// Called once the error leaves the server (a response, a server function's
        /// answer): takes the request id, sets the rendered page's status when there is
        /// one, and logs a 5xx with its cause, once however often it is called.
        pub fn reported(mut self) -> Self {
            if self.request_id.is_none() {
                self.request_id = current_request_id();
            }
            crate::errors::set_status(self.status_code());
            if let Some(seconds) = self.retry_after {
                crate::errors::set_retry_after(seconds);
            }
            if self.is_server_error() && !self.reported {
                tracing::error!(
                    request_id = self.request_id.as_deref().unwrap_or("-"),
                    status = self.status_code(),
                    error = %self.message,
                    cause = %self.cause_chain(),
                    "request failed",
                );
            }
            self.reported = true;
            self
        }

        /// The JSON body of a refusal: `{"error": "...", "code": "...", "field"?}`.
        pub fn body(&self) -> serde_json::Value {
            let mut body = json!({ "error": self.to_string(), "code": self.code() });
            if let Some(field) = &self.field {
                body["field"] = json!(field);
            }
            body
        }
    }

    impl IntoResponse for AppError {
        fn into_response(self) -> Response {
            let error = self.reported();
            let mut response = (error.status(), Json(error.body())).into_response();
            if let Some(seconds) = error.retry_after {
                response
                    .headers_mut()
                    .insert(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
            }
            response
        }
    }

    /// Keeps `error` as the source, with its own words (capitalised) as the message.
    fn worded(kind: ErrorKind, error: impl std::error::Error + Send + Sync + 'static) -> AppError {
        AppError::new(kind, capitalize(&error.to_string())).with_source(error)
    }

    impl From<DomainError> for AppError {
        fn from(error: DomainError) -> Self {
            match &error {
                DomainError::NotFound(_) => worded(ErrorKind::NotFound, error),
                DomainError::Invalid { field, .. } => {
                    let field = *field;
                    worded(ErrorKind::Invalid, error).with_field(field)
                }
                DomainError::Conflict(_) => worded(ErrorKind::Conflict, error),
                DomainError::Database(_) | DomainError::Migration(_) => AppError::internal(error),
            }
        }
    }

    impl From<ChannelError> for AppError {
        fn from(error: ChannelError) -> Self {
            match &error {
                ChannelError::Unauthorized => worded(ErrorKind::Unauthorized, error),
                ChannelError::Disabled => worded(ErrorKind::Forbidden, error),
                ChannelError::InvalidPayload { field, .. } => {
                    let field = field.clone();
                    worded(ErrorKind::Invalid, error).with_field(field)
                }
                // Webhook senders retry on 503, which is what a database outage wants.
                ChannelError::Database(_) | ChannelError::WriterStopped => AppError::new(
                    ErrorKind::Unavailable,
                    "Could not store the payload; retry later.",
                )
                .with_source(error),
            }
        }
    }

    impl From<IngestError> for AppError {
        fn from(error: IngestError) -> Self {
            match error {
                IngestError::AccountNotFound => AppError::not_found("account").with_source(error),
                other => AppError::internal(other),
            }
        }
    }

    impl From<ProcessingError> for AppError {
        fn from(error: ProcessingError) -> Self {
            match error {
                ProcessingError::AccountNotFound => {
                    AppError::not_found("account").with_source(error)
                }
                ProcessingError::LeaseLost(_) => AppError::new(
                    ErrorKind::Unavailable,
                    "This is being processed right now; try again in a moment.",
                )
                .with_source(error),
                other => AppError::internal(other),
            }
        }
    }

    impl From<GmailError> for AppError {
        fn from(error: GmailError) -> Self {
            if error.needs_reconnect() {
                AppError::new(
                    ErrorKind::Forbidden,
                    "Rapport lost access to this Gmail account; reconnect Google.",
                )
                .with_source(error)
            } else if error.is_transient() || matches!(error, GmailError::RateLimited { .. }) {
                AppError::new(
                    ErrorKind::Unavailable,
                    "Gmail is not answering right now; try again later.",
                )
                .with_source(error)
            } else {
                AppError::internal(error)
            }
        }
    }

    impl From<SyncError> for AppError {
        fn from(error: SyncError) -> Self {
            match error {
                SyncError::AccountNotFound => AppError::not_found("account").with_source(error),
                SyncError::NotGmail => {
                    AppError::invalid("account", "not a Gmail account").with_source(error)
                }
                SyncError::Gmail(gmail) => gmail.into(),
                SyncError::Ingest(ingest) => ingest.into(),
                other => AppError::internal(other),
            }
        }
    }

    impl From<QueueError> for AppError {
        fn from(error: QueueError) -> Self {
            AppError::internal(error)
        }
    }

    impl From<FileError> for AppError {
        fn from(error: FileError) -> Self {
            match error {
                FileError::TooLarge(_) => worded(ErrorKind::TooLarge, error),
                other => AppError::internal(other),
            }
        }
    }

    impl From<ModelError> for AppError {
        /// The model's failures are worded for the user already ([`ModelError::polite`]).
        fn from(error: ModelError) -> Self {
            AppError::new(ErrorKind::Unavailable, error.polite()).with_source(error)
        }
    }

    impl From<SummaryError> for AppError {
        fn from(error: SummaryError) -> Self {
            match error {
                SummaryError::Model(model) => model.into(),
                other => AppError::internal(other),
            }
        }
    }

    impl From<GoogleError> for AppError {
        fn from(error: GoogleError) -> Self {
            match error {
                GoogleError::InvalidGrant => worded(ErrorKind::Forbidden, error),
                GoogleError::Transport(_) => AppError::new(
                    ErrorKind::Unavailable,
                    "Google is not answering right now; try again later.",
                )
                .with_source(error),
                other => AppError::internal(other),
            }
        }
    }

    impl From<AccountTokenError> for AppError {
        fn from(error: AccountTokenError) -> Self {
            match error {
                AccountTokenError::NeedsReconnect => worded(ErrorKind::Forbidden, error),
                AccountTokenError::NotFound => AppError::not_found("account").with_source(error),
                AccountTokenError::Google(google) => google.into(),
                other => AppError::internal(other),
            }
        }
    }

    impl From<Limited> for AppError {
        fn from(limited: Limited) -> Self {
            let seconds = limited.retry_after_secs();
            AppError::rate_limited(limited.message.clone(), seconds).with_source(limited)
        }
    }

    impl From<CryptoError> for AppError {
        fn from(error: CryptoError) -> Self {
            AppError::internal(error)
        }
    }

    impl From<axum::extract::multipart::MultipartError> for AppError {
        fn from(error: axum::extract::multipart::MultipartError) -> Self {
            AppError::new(
                ErrorKind::BadRequest,
                format!("the upload could not be read: {}", error.body_text()),
            )
            .with_source(error)
        }
    }

    impl From<std::io::Error> for AppError {
        fn from(error: std::io::Error) -> Self {
            AppError::internal(error)
        }
    }
}
