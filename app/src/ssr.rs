//! Server-side glue for server functions: the context the server provides, the
//! signed-in user the auth middleware resolved, and the single mapping from domain
//! errors to what the browser sees.

use domain::ask::model::ModelConfig;
use domain::crypto::SecretBox;
use domain::google::GoogleOAuth;
use domain::{Db, DomainError, UserId, UserScope};
use leptos::prelude::*;

/// Provided by the server to every render and server-function call.
#[derive(Clone, Debug)]
pub struct AppContext {
    pub db: Db,
    pub google: GoogleOAuth,
    pub secrets: SecretBox,
    /// Running against the built-in fake Google with a simulated mailbox.
    pub demo: bool,
    /// Ask Rapport's language model (`OPENAI_*`); `None` answers with the offline engine.
    pub model: Option<ModelConfig>,
}

/// Put into the request's extensions by the server's auth middleware.
#[derive(Clone, Debug)]
pub struct CurrentUser {
    pub id: UserId,
    pub email: String,
    pub name: Option<String>,
}

/// Everything a server function needs to act for the signed-in user.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub app: AppContext,
    pub user: CurrentUser,
}

impl RequestContext {
    pub fn scope(&self) -> UserScope<'_> {
        self.app.db.for_user(self.user.id)
    }
}

pub fn app_context() -> Result<AppContext, ServerFnError> {
    use_context::<AppContext>()
        .ok_or_else(|| ServerFnError::ServerError("server context missing".into()))
}

pub fn current_user() -> Option<CurrentUser> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// The acting user, or a 401 for an anonymous caller.
pub fn request_context() -> Result<RequestContext, ServerFnError> {
    let app = app_context()?;
    let Some(user) = current_user() else {
        crate::errors::set_status(401);
        return Err(ServerFnError::ServerError("Sign in to continue.".into()));
    };
    Ok(RequestContext { app, user })
}

/// Maps a domain error to a server-function error and the HTTP status, in one place.
/// Internal errors are logged with detail and shown to the user without it.
pub fn to_server_error(error: DomainError) -> ServerFnError {
    let status = match &error {
        DomainError::NotFound(_) => 404,
        DomainError::Invalid { .. } => 422,
        DomainError::Conflict(_) => 409,
        DomainError::Database(_) | DomainError::Migration(_) => 500,
    };
    if status == 500 {
        return internal_error(error);
    }
    crate::errors::set_status(status);
    ServerFnError::ServerError(api::capitalize(&error.to_string()))
}

/// For failures the user cannot act on (a broken query, a state that does not load):
/// logged with detail, answered with a 500 and a generic sentence.
pub fn internal_error(error: impl std::fmt::Display) -> ServerFnError {
    tracing::error!(%error, "server function failed");
    crate::errors::set_status(500);
    ServerFnError::ServerError("Something went wrong on our side. Please try again.".into())
}
