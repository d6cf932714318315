use leptos::prelude::*;
use serde::{Deserialize, Serialize};

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

/// The message to show for a failed server call: the server's words, without the
/// framework's prefix.
pub fn user_message(error: &ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message.clone(),
        ServerFnError::Request(_) => crate::app_error::UNREACHABLE_MESSAGE.into(),
        other => other.to_string(),
    }
}

/// Shown in place of a page section whose data could not be loaded (HTTP 500).
#[component]
pub fn ErrorPanel(errors: ArcRwSignal<Errors>) -> impl IntoView {
    set_status(500);
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
