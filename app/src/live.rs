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
///
/// Every listener of a page shares one `EventSource`: each open stream holds one of the
/// six HTTP/1.1 connections a browser allows per host, so a stream per panel (the
/// contact page has several) in two tabs would leave none for the page's requests and
/// every fetch would wait forever.
pub fn listen_live<F>(kinds: &'static [EventKind], on_event: F)
where
    F: Fn(Option<Event>) + Clone + 'static,
{
    debug_assert!(
        kinds.iter().all(|k| k.is_live()),
        "{kinds:?} are never sent live"
    );
    #[cfg(feature = "hydrate")]
    shared::listen(kinds, on_event);
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (kinds, on_event);
    }
}

/// The page's one `EventSource`, opened by the first listener and closed with the last.
#[cfg(feature = "hydrate")]
mod shared {
    use std::cell::RefCell;

    use leptos::prelude::{on_cleanup, set_timeout};
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::EventSource;

    use super::{Event, EventKind, parse};

    struct Stream {
        source: EventSource,
        listeners: usize,
    }

    thread_local! {
        static STREAM: RefCell<Option<Stream>> = const { RefCell::new(None) };
    }

    /// The shared source, opened if no listener holds it; counts one more listener.
    fn acquire() -> Option<EventSource> {
        STREAM.with(|stream| {
            let mut stream = stream.borrow_mut();
            if stream.is_none() {
                let source = EventSource::new("/api/events").ok()?;
                *stream = Some(Stream {
                    source,
                    listeners: 0,
                });
            }
            let stream = stream.as_mut()?;
            stream.listeners += 1;
            Some(stream.source.clone())
        })
    }

    /// One listener fewer; the last one closes the stream.
    fn release() {
        STREAM.with(|stream| {
            let mut stream = stream.borrow_mut();
            let last = stream.as_mut().is_some_and(|s| {
                s.listeners -= 1;
                s.listeners == 0
            });
            if last && let Some(s) = stream.take() {
                s.source.close();
            }
        });
    }

    pub fn listen<F>(kinds: &'static [EventKind], on_event: F)
    where
        F: Fn(Option<Event>) + Clone + 'static,
    {
        let Some(source) = acquire() else {
            return;
        };
        let opened = {
            let on_event = on_event.clone();
            Closure::<dyn Fn()>::new(move || on_event(None))
        };
        let received = {
            let on_event = on_event.clone();
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |message: web_sys::MessageEvent| {
                on_event(parse(&message.type_(), message.data().as_string()));
            })
        };
        let _ = source.add_event_listener_with_callback("open", opened.as_ref().unchecked_ref());
        for kind in kinds {
            let _ = source
                .add_event_listener_with_callback(kind.as_str(), received.as_ref().unchecked_ref());
        }
        // A stream opened earlier for another panel will not open again: this listener
        // re-reads once now, which closes the gap since its data was read.
        if source.ready_state() == EventSource::OPEN {
            set_timeout(move || on_event(None), std::time::Duration::ZERO);
        }
        let held = SendWrapper::new((source, opened, received));
        on_cleanup(move || {
            let (source, opened, received) = &*held;
            let _ =
                source.remove_event_listener_with_callback("open", opened.as_ref().unchecked_ref());
            for kind in kinds {
                let _ = source.remove_event_listener_with_callback(
                    kind.as_str(),
                    received.as_ref().unchecked_ref(),
                );
            }
            release();
        });
    }
}

/// The typed event of one SSE message.
#[cfg(feature = "hydrate")]
fn parse(kind: &str, data: Option<String>) -> Option<Event> {
    let message: LiveMessage = serde_json::from_str(&data?).ok()?;
    Event::from_parts(kind, message.data).ok()
}
