//! Server-side glue for server functions: the context the server provides and the
//! signed-in user the auth middleware resolved. Server functions fail with an
//! [`AppError`], reported on its way out through [`reported`].

use std::sync::Arc;

use domain::ask::model::ModelConfig;
use domain::crypto::SecretBox;
use domain::google::GoogleOAuth;
use domain::{Db, UserId, UserScope};
use leptos::prelude::*;

use crate::app_error::{AppError, ErrorKind};

/// Provided by the server to every render and server-function call: one `Arc`, since
/// every `use_context` clones it (several times a page).
#[derive(Clone, Debug)]
pub struct AppContext(Arc<AppServices>);

impl AppContext {
    pub fn new(services: AppServices) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppContext {
    type Target = AppServices;

    fn deref(&self) -> &AppServices {
        &self.0
    }
}

/// The server's clients and settings a server function may use.
#[derive(Debug)]
pub struct AppServices {
    pub db: Db,
    pub google: GoogleOAuth,
    pub secrets: SecretBox,
    /// Running against the built-in fake Google with a simulated mailbox.
    pub demo: bool,
    /// Demo mode's simulated Fastmail and calendar.
    pub demo_logins: Option<api::settings::DemoLogins>,
    /// Ask Rapport's language model (`OPENAI_*`); `None` answers with the offline engine.
    pub model: Option<ModelConfig>,
    /// The Messenger / Instagram sales agent's model (demo mode: a simulated one).
    pub sales_agent: Option<ModelConfig>,
    /// The server's rate and stream limits (model calls per user, ...).
    pub limits: domain::limits::Limits,
    /// Uploaded files (deleting an account deletes its files from here).
    pub files: domain::files::FileStore,
}

/// Put into the request's extensions by the server's auth middleware.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
    /// Read with the user, for the layout.
    pub header: domain::accounts::PageHeader,
}

/// Everything a server function needs to act for the signed-in user.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub app: AppContext,
    pub user: CurrentUser,
}

impl AppContext {
    /// The context the server provides, as a server function sees it.
    pub fn current() -> Result<Self, AppError> {
        use_context::<AppContext>().ok_or_else(|| AppError::internal("server context missing"))
    }
}

impl RequestContext {
    /// The acting user, or a 401 for an anonymous caller.
    pub fn current() -> Result<Self, AppError> {
        let app = AppContext::current()?;
        let user = current_user()
            .ok_or_else(|| AppError::new(ErrorKind::Unauthorized, "Sign in to continue."))?;
        Ok(Self { app, user })
    }

    pub fn scope(&self) -> UserScope<'_> {
        self.app.db.for_user(self.user.id)
    }

    /// Takes one call from the user's model budget: a 429 with `Retry-After` when it is
    /// spent. Only calls that reach the configured model count.
    pub fn model_call(&self) -> Result<(), AppError> {
        Ok(self.app.limits.model_calls.check(&self.user.id)?)
    }
}

pub fn current_user() -> Option<CurrentUser> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// A server function's body, run with its error reported as it leaves: the rendered
/// page takes the error's status, and a 5xx is logged once with the request id. Domain
/// errors convert into the [`AppError`] with `?` inside `body`.
pub async fn reported<T>(
    body: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    body.await.map_err(AppError::reported)
}

/// The Content-Security-Policy of every HTML page. Scripts come from this origin, plus the
/// inline hydration scripts Leptos renders with this response's `nonce` (when there is
/// one); the wasm app needs `'wasm-unsafe-eval'` to compile. No inline styles, no
/// plugins, no `<base>`, forms post only here, and no other site may frame the page.
pub fn content_security_policy(nonce: Option<&str>) -> String {
    let scripts = match nonce {
        Some(nonce) => format!("script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'"),
        None => "script-src 'self' 'wasm-unsafe-eval'".to_owned(),
    };
    format!(
        "default-src 'self'; {scripts}; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// Puts the page's CSP, with the nonce Leptos gives its inline scripts, on the response
/// being rendered. The server adds a nonce-less policy to HTML that did not get one.
pub fn set_content_security_policy() {
    use http::header::{CONTENT_SECURITY_POLICY, HeaderValue};
    let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
    let Some(response) = use_context::<leptos_axum::ResponseOptions>() else {
        return;
    };
    if let Ok(value) = HeaderValue::from_str(&content_security_policy(nonce.as_deref())) {
        response.insert_header(CONTENT_SECURITY_POLICY, value);
    }
}
