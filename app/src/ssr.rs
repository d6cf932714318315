//! Server-side glue for server functions: the context the server provides and the
//! signed-in user the auth middleware resolved. Errors are [`AppError`]s; the
//! `ServerFnError` helpers here serve the server functions not yet returning one.

use domain::ask::model::ModelConfig;
use domain::crypto::SecretBox;
use domain::google::GoogleOAuth;
use domain::{Db, DomainError, UserId, UserScope};
use leptos::prelude::*;

use crate::app_error::{AppError, ErrorKind};

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
}

pub fn app_context() -> Result<AppContext, ServerFnError> {
    AppContext::current().map_err(AppError::into_server_fn_error)
}

pub fn current_user() -> Option<CurrentUser> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CurrentUser>().cloned())
}

/// The acting user, or a 401 for an anonymous caller.
pub fn request_context() -> Result<RequestContext, ServerFnError> {
    RequestContext::current().map_err(AppError::into_server_fn_error)
}

/// For server functions that still return `ServerFnError`: the domain error becomes an
/// [`AppError`], which decides the status and the words and reports it.
pub fn to_server_error(error: DomainError) -> ServerFnError {
    AppError::from(error).into_server_fn_error()
}

/// Like [`to_server_error`], for any error an [`AppError`] is made from (a sync or
/// model error): a missing account is still a 404, only real failures are a 500.
pub fn internal_error(error: impl Into<AppError>) -> ServerFnError {
    error.into().into_server_fn_error()
}
