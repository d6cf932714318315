//! Who is signed in, as the layout needs it: name and email for the user menu, and the
//! Gmail accounts that need a reconnect for the banner.

use crate::app_error::AppError;
pub use api::session::{SessionInfo, Visitor};
use leptos::prelude::*;

/// Public (the login page uses it too): answers for an anonymous visitor without data.
#[server(endpoint = "visitor")]
pub async fn load_visitor() -> Result<Visitor, AppError> {
    visitor().await.map_err(AppError::reported)
}

#[cfg(feature = "ssr")]
async fn visitor() -> Result<Visitor, AppError> {
    use api::{AccountStatus, Provider};

    use crate::ssr::{AppContext, current_user};
    let app = AppContext::current()?;
    let Some(user) = current_user() else {
        return Ok(Visitor {
            session: None,
            demo: app.demo,
        });
    };
    let scope = app.db.for_user(user.id);
    let accounts = scope.accounts().list().await?;
    let (zone, time_zone_chosen) = scope.time_zone_setting().await?;
    Ok(Visitor {
        demo: app.demo,
        session: Some(SessionInfo {
            email: user.email,
            name: user.name,
            needs_reconnect: accounts
                .into_iter()
                .filter(|a| {
                    a.provider == Provider::Google && a.status == AccountStatus::NeedsReconnect
                })
                .map(|a| a.display_name.unwrap_or(a.external_id))
                .collect(),
            time_zone: zone.name().to_owned(),
            time_zone_chosen,
        }),
    })
}
