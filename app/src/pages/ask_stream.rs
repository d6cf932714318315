//! Streams an answer from `POST /api/ask` into the Ask page. The endpoint answers with
//! Server-Sent Events, but `EventSource` cannot POST, so the request goes through
//! `XMLHttpRequest`, whose `progress` events expose the response as it grows; each
//! complete event (a block ending in a blank line) is applied once.

use leptos::prelude::*;
use serde::Deserialize;

use api::ask::ExchangeView;

/// The answer being written: what the page shows until the stored exchange arrives.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LiveAnswer {
    pub question: String,
    pub text: String,
    pub tools: Vec<String>,
    /// Why the question was not answered (set once; the stream is over).
    pub error: Option<String>,
}

/// One event of the stream, by its `event:` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    Tool(String),
    Text(String),
    Done(Box<ExchangeView>),
    Failed(String),
}

#[derive(Deserialize)]
struct ToolData {
    name: String,
}

#[derive(Deserialize)]
struct TextData {
    text: String,
}

#[derive(Deserialize)]
struct ErrorData {
    error: String,
}

/// Parses one SSE block (`event: …` and `data: …` lines); keep-alive comments and
/// unknown events give `None`.
pub fn parse_event(block: &str) -> Option<StreamEvent> {
    let mut kind = None;
    let mut data = String::new();
    for line in block.lines() {
        if let Some(k) = line.strip_prefix("event:") {
            kind = Some(k.trim());
        } else if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.strip_prefix(' ').unwrap_or(d));
        }
    }
    let json = |data: &str| serde_json::from_str::<serde_json::Value>(data).ok();
    let value = json(&data)?;
    match kind? {
        "tool" => serde_json::from_value::<ToolData>(value)
            .ok()
            .map(|t| StreamEvent::Tool(t.name)),
        "text" => serde_json::from_value::<TextData>(value)
            .ok()
            .map(|t| StreamEvent::Text(t.text)),
        "done" => serde_json::from_value::<ExchangeView>(value)
            .ok()
            .map(|e| StreamEvent::Done(Box::new(e))),
        "error" => serde_json::from_value::<ErrorData>(value)
            .ok()
            .map(|e| StreamEvent::Failed(e.error)),
        _ => None,
    }
}

/// Applies one event to the page's state: progress to the live answer; the stored
/// exchange replaces it at the end of the history.
pub fn apply(
    event: StreamEvent,
    live: RwSignal<Option<LiveAnswer>>,
    asked: RwSignal<Vec<ExchangeView>>,
) {
    match event {
        StreamEvent::Tool(name) => live.update(|l| {
            if let Some(l) = l {
                l.tools.push(name);
            }
        }),
        StreamEvent::Text(text) => live.update(|l| {
            if let Some(l) = l {
                l.text.push_str(&text);
            }
        }),
        StreamEvent::Done(exchange) => {
            asked.update(|a| a.push(*exchange));
            live.set(None);
        }
        StreamEvent::Failed(error) => fail(live, error),
    }
}

fn fail(live: RwSignal<Option<LiveAnswer>>, error: String) {
    live.update(|l| {
        if let Some(l) = l {
            l.error = Some(error);
        }
    });
}

/// The server's `{"error": …}` sentence for a refused request.
#[cfg(any(feature = "hydrate", test))]
fn refusal(body: &str, status: u16) -> String {
    #[derive(Deserialize)]
    struct Refusal {
        error: String,
    }
    serde_json::from_str::<Refusal>(body)
        .map(|r| r.error)
        .unwrap_or_else(|_| match status {
            0 => "The connection was lost. Please try again.".into(),
            401 => "Sign in again to ask.".into(),
            _ => format!("The question could not be asked ({status})."),
        })
}

/// Asks `question`, streaming the answer into `live`, then moving it to `asked`.
/// Outside the browser (server rendering) it does nothing.
pub fn ask_streaming(
    question: String,
    live: RwSignal<Option<LiveAnswer>>,
    asked: RwSignal<Vec<ExchangeView>>,
) {
    if live.with_untracked(|l| l.as_ref().is_some_and(|l| l.error.is_none())) {
        return;
    }
    live.set(Some(LiveAnswer {
        question: question.trim().to_owned(),
        ..LiveAnswer::default()
    }));
    browser::post(&question, live, asked);
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::Cell;
    use std::rc::Rc;

    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::XmlHttpRequest;

    use super::{LiveAnswer, apply, fail, parse_event, refusal};
    use api::ask::ExchangeView;

    pub fn post(
        question: &str,
        live: RwSignal<Option<LiveAnswer>>,
        asked: RwSignal<Vec<ExchangeView>>,
    ) {
        let body = serde_json::json!({ "question": question }).to_string();
        let started = (|| {
            let request = XmlHttpRequest::new()?;
            request.open("POST", "/api/ask")?;
            request.set_request_header("content-type", "application/json")?;
            request.set_request_header("accept", "text/event-stream")?;
            // How much of the response has been applied.
            let applied = Rc::new(Cell::new(0usize));
            let read = {
                let request = request.clone();
                move || {
                    if request.status().unwrap_or(0) != 200 {
                        return;
                    }
                    let text = request.response_text().ok().flatten().unwrap_or_default();
                    let mut from = applied.get();
                    while let Some(end) = text.get(from..).and_then(|rest| rest.find("\n\n")) {
                        if let Some(event) = parse_event(&text[from..from + end]) {
                            apply(event, live, asked);
                        }
                        from += end + 2;
                    }
                    applied.set(from);
                }
            };
            let read = Rc::new(read);
            let progress = Closure::<dyn FnMut()>::new({
                let read = read.clone();
                move || read()
            });
            let finished = Closure::<dyn FnMut()>::new({
                let request = request.clone();
                move || {
                    read();
                    let status = request.status().unwrap_or(0);
                    let unfinished =
                        live.with_untracked(|l| l.as_ref().is_some_and(|l| l.error.is_none()));
                    if unfinished {
                        let message = if status == 200 {
                            "The answer was interrupted. Please ask again.".to_owned()
                        } else {
                            refusal(
                                &request.response_text().ok().flatten().unwrap_or_default(),
                                status,
                            )
                        };
                        fail(live, message);
                    }
                }
            });
            request.set_onprogress(Some(progress.as_ref().unchecked_ref()));
            request.set_onloadend(Some(finished.as_ref().unchecked_ref()));
            request.send_with_opt_str(Some(&body))?;
            // Two closures per question, kept until the page unloads.
            progress.forget();
            finished.forget();
            Ok::<(), wasm_bindgen::JsValue>(())
        })();
        if started.is_err() {
            fail(
                live,
                "The question could not be sent. Please try again.".into(),
            );
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    //! Answers stream only in the browser; the server renders the page and the form.
    use leptos::prelude::*;

    use super::LiveAnswer;
    use api::ask::ExchangeView;

    pub fn post(_: &str, _: RwSignal<Option<LiveAnswer>>, _: RwSignal<Vec<ExchangeView>>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_events_are_parsed_by_name() {
        assert_eq!(
            parse_event("event: tool\ndata: {\"name\":\"top_contacts\"}"),
            Some(StreamEvent::Tool("top_contacts".into()))
        );
        assert_eq!(
            parse_event("event: text\ndata: {\"text\":\"Hi [Dana](/contacts/1)\"}"),
            Some(StreamEvent::Text("Hi [Dana](/contacts/1)".into()))
        );
        assert_eq!(parse_event(":"), None, "keep-alive comment");
        let done = parse_event(
            "event: done\ndata: {\"id\":7,\"question\":\"q\",\"answer\":\"a\",\"engine\":\"offline engine\",\"refused\":false,\"tools\":[\"timeline\"],\"latency_ms\":3,\"tokens\":0,\"created_at\":\"2026-01-02T03:04:05Z\",\"citations\":[]}",
        );
        assert!(
            matches!(done, Some(StreamEvent::Done(ref e)) if e.id == 7 && e.tools == ["timeline"]),
            "{done:?}"
        );
        assert_eq!(
            refusal("{\"error\":\"Invalid question: is empty\"}", 422),
            "Invalid question: is empty"
        );
    }
}
