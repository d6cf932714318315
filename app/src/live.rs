//! Live updates from the server's event stream (`GET /api/events`, Server-Sent Events).
//! Browser only: on the server a page is a snapshot. Pages re-read their data when told
//! something changed, so a missed event costs nothing as long as the page re-reads once
//! the stream is open (which closes the gap between rendering and connecting).

/// Calls `on_change` when the stream opens and for every event of one of `kinds`, for
/// as long as the calling component lives. The browser reconnects by itself after a
/// network error and resumes from the last event id it saw.
pub fn listen_live<F>(kinds: &'static [&'static str], on_change: F)
where
    F: Fn() + Clone + 'static,
{
    #[cfg(feature = "hydrate")]
    {
        use leptos::prelude::on_cleanup;
        use send_wrapper::SendWrapper;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;

        let Ok(source) = web_sys::EventSource::new("/api/events") else {
            return;
        };
        let handler = Closure::<dyn Fn()>::new(on_change);
        source.set_onopen(Some(handler.as_ref().unchecked_ref()));
        for kind in kinds {
            let _ = source.add_event_listener_with_callback(kind, handler.as_ref().unchecked_ref());
        }
        let open = SendWrapper::new((source, handler));
        on_cleanup(move || open.0.close());
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (kinds, on_change);
    }
}
