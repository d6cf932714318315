use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::app_error::AppError;

/// The id the server gave this request (`x-request-id`), shown on error pages so a user
/// can quote it and we can find the request in the logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestId(pub String);

/// Reads the request id during server rendering; the value travels to the browser with
/// the page, so hydration shows the same text.
fn request_id_resource() -> OnceResource<Option<RequestId>> {
    OnceResource::new(async move {
        #[cfg(feature = "ssr")]
        {
            crate::app_error::current_request_id().map(RequestId)
        }
        #[cfg(not(feature = "ssr"))]
        {
            None
        }
    })
}

/// Sets the HTTP status of the server-rendered response.
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(options), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        options.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// Puts `Retry-After: seconds` on the server-rendered response (a 429's answer).
#[cfg(feature = "ssr")]
pub fn set_retry_after(seconds: u64) {
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
    }
}

#[component]
pub fn RequestIdLine() -> impl IntoView {
    let id = request_id_resource();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                id.await.map(|RequestId(id)| view! {
                    <p class="request-id">"Request id: " <code>{id}</code></p>
                })
            })}
        </Suspense>
    }
}

/// Shown in place of a page section whose data could not be loaded. The status is the
/// [`AppError`]'s (a 404 stays a 404), 500 for any other error.
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    let status = errors
        .read_untracked()
        .iter()
        .map(|(_, e)| {
            e.downcast_ref::<AppError>()
                .map_or(500, AppError::status_code)
        })
        .max()
        .unwrap_or(500);
    set_status(status);
    let messages = move || {
        errors
            .get()
            .into_iter()
            .map(|(_, e)| view! { <li>{e.to_string()}</li> })
            .collect_view()
    };
    view! {
        <div class="error-panel" role="alert">
            <h2>"Something went wrong"</h2>
            <ul>{messages}</ul>
            <RequestIdLine/>
        </div>
    }
}

/// A page whose data could not be loaded (the contact and company pages). The server
/// function already set the HTTP status (404 for someone else's or a missing record,
/// 500 for a fault), which [`ErrorPanel`]'s fallback status would not know.
#[component]
pub fn LoadError(error: AppError) -> impl IntoView {
    view! {
        <div class="error-panel" role="alert">
            <h2>{error.user_message()}</h2>
            <p><a href="/contacts">"Back to contacts"</a></p>
            <RequestIdLine/>
        </div>
    }
}
