//! Live updates from the server's event stream (`GET /api/events`, Server-Sent Events).
//! Browser only: on the server a page is a snapshot. Pages re-read their data when told
//! something changed, so a missed event costs nothing as long as the page re-reads once
//! the stream is open (which closes the gap between rendering and connecting).
//!
//! Each SSE message is one live [`Event`]: its SSE `event` is the kind's name and its
//! `data` a [`LiveMessage`] holding the payload, parsed here into the typed event.

#[cfg(feature = "hydrate")]
use api::events::LiveMessage;
pub use api::events::{Event, EventKind};

/// Calls `on_event` when the stream opens (with `None`: re-read everything) and for
/// every event of one of `kinds` (with the typed event, or `None` if its payload could
/// not be read), for as long as the calling component lives. Only live kinds
/// ([`EventKind::is_live`]) are ever sent. The browser reconnects by itself after a
/// network error and resumes from the last event id it saw.
pub fn listen_live<F>(kinds: &'static [EventKind], on_event: F)
where
    F: Fn(Option<Event>) + Clone + 'static,
{
    debug_assert!(
        kinds.iter().all(|k| k.is_live()),
        "{kinds:?} are never sent live"
    );
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::on_cleanup;
        use send_wrapper::SendWrapper;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;

        let Ok(source) = web_sys::EventSource::new("/api/events") else {
            return;
        };
        let opened = {
            let on_event = on_event.clone();
            Closure::<dyn Fn()>::new(move || on_event(None))
        };
        source.set_onopen(Some(opened.as_ref().unchecked_ref()));
        let received =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
                on_event(parse(&message.type_(), message.data().as_string()));
            });
        for kind in kinds {
            let _ = source
                .add_event_listener_with_callback(kind.as_str(), received.as_ref().unchecked_ref());
        }
        let open = SendWrapper::new((source, opened, received));
        on_cleanup(move || open.0.close());
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (kinds, on_event);
    }
}

/// The typed event of one SSE message.
#[cfg(feature = "hydrate")]
fn parse(kind: &str, data: Option<String>) -> Option<Event> {
    let message: LiveMessage = serde_json::from_str(&data?).ok()?;
    Event::from_parts(kind, message.data).ok()
}
