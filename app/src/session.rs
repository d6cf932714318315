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
    use crate::ssr::{AppContext, current_user};
    let app = AppContext::current()?;
    let Some(user) = current_user() else {
        return Ok(Visitor {
            session: None,
            demo: app.demo,
        });
    };
    Ok(Visitor {
        demo: app.demo,
        session: Some(SessionInfo {
            time_zone: user.header.zone.name().to_owned(),
            time_zone_chosen: user.header.zone_chosen,
            needs_reconnect: user.header.needs_reconnect,
            email: user.email,
            name: user.name,
        }),
    })
}
