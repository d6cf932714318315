//! Server-side glue for server functions: the per-request context the server provides,
//! and the single mapping from domain errors to what the browser sees.

use domain::{Db, DomainError, UserId, UserScope};
use leptos::prelude::*;

/// Provided by the server to every render and server-function call.
#[derive(Clone, Debug)]
pub struct AppContext {
    pub db: Db,
    /// The acting user. Until Google sign-in lands this is the local owner.
    pub user: UserId,
}

impl AppContext {
    pub fn scope(&self) -> UserScope<'_> {
        self.db.for_user(self.user)
    }
}

pub fn app_context() -> Result<AppContext, ServerFnError> {
    use_context::<AppContext>()
        .ok_or_else(|| ServerFnError::ServerError("server context missing".into()))
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
    crate::errors::set_status(status);
    if status == 500 {
        tracing::error!(error = %error, "server function failed");
        ServerFnError::ServerError("Something went wrong on our side. Please try again.".into())
    } else {
        ServerFnError::ServerError(capitalize(&error.to_string()))
    }
}

fn capitalize(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
