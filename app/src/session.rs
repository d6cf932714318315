//! Who is signed in, as the layout needs it: name and email for the user menu, and the
//! Gmail accounts that need a reconnect for the banner.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub email: String,
    pub name: Option<String>,
    /// Emails of Google accounts whose access was revoked or expired.
    pub needs_reconnect: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visitor {
    pub session: Option<SessionInfo>,
    pub demo: bool,
}

/// Public (the login page uses it too): answers for an anonymous visitor without data.
#[server(endpoint = "visitor")]
pub async fn load_visitor() -> Result<Visitor, AppError> {
    visitor().await.map_err(AppError::reported)
}

#[cfg(feature = "ssr")]
async fn visitor() -> Result<Visitor, AppError> {
    use crate::ssr::{AppContext, current_user};
    let app = AppContext::current()?;
    let Some(user) = current_user() else {
        return Ok(Visitor {
            session: None,
            demo: app.demo,
        });
    };
    let accounts = app.db.for_user(user.id).accounts().await?;
    Ok(Visitor {
        demo: app.demo,
        session: Some(SessionInfo {
            email: user.email,
            name: user.name,
            needs_reconnect: accounts
                .into_iter()
                .filter(|a| a.provider == "google" && a.status == "needs_reconnect")
                .map(|a| a.display_name.unwrap_or(a.external_id))
                .collect(),
        }),
    })
}
