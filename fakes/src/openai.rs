//! A fake OpenAI-compatible chat completions server (`POST /v1/chat/completions`, and
//! `POST /v1/audio/transcriptions`, see [`transcriptions`]), scripted per test: each
//! request takes the next [`Reply`] of the script. Streamed
//! replies use the wire format of the OpenAI API reference: `chat.completion.chunk`
//! objects as server-sent events, the first delta carrying the role, tool calls arriving
//! as deltas by `index` (id, type and name first, arguments in fragments), a last chunk
//! with the `finish_reason`, a usage chunk when `stream_options.include_usage` is set,
//! then `data: [DONE]`. Errors use the API's body, `{"error": {"message", "type",
//! "param", "code"}}`. Every request body is recorded for assertions.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One scripted response.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Streamed text, sent in the given pieces, finishing with `stop`.
    Text(Vec<String>),
    /// Streamed tool calls (id, name, JSON arguments), arguments split in fragments,
    /// finishing with `tool_calls`.
    ToolCalls(Vec<(String, String, String)>),
    /// An API error with this status, `type` and message.
    Error {
        status: u16,
        kind: String,
        message: String,
    },
    /// Answers nothing for this long (for timeouts).
    Stall(Duration),
    /// A transcription's segments: start and end in seconds, and the text.
    Transcript(Vec<(f32, f32, String)>),
}

impl Reply {
    pub fn text(pieces: &[&str]) -> Self {
        Self::Text(pieces.iter().map(|p| p.to_string()).collect())
    }

    pub fn tool_call(id: &str, name: &str, arguments: Value) -> Self {
        Self::ToolCalls(vec![(id.into(), name.into(), arguments.to_string())])
    }
}

/// Answers every request from what it asks instead of a script (demo mode's simulated
/// models).
pub type Responder = Arc<dyn Fn(&Value) -> Reply + Send + Sync>;

#[derive(Default)]
pub(crate) struct Script {
    replies: VecDeque<Reply>,
    requests: Vec<Value>,
    responder: Option<Responder>,
}

impl Script {
    /// Records a request and takes the next reply. A responder answers instead, and
    /// its requests are not kept: it runs for as long as the demo does.
    pub(crate) fn next(&mut self, request: Value) -> Option<Reply> {
        if let Some(responder) = &self.responder {
            return Some(responder(&request));
        }
        self.requests.push(request);
        self.replies.pop_front()
    }
}

/// A running fake; stops when dropped.
pub struct FakeOpenAi {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeOpenAi {
    pub async fn start(replies: Vec<Reply>) -> io::Result<Self> {
        Self::serve(Script {
            replies: replies.into(),
            ..Script::default()
        })
        .await
    }

    /// A fake whose every answer `responder` makes from the request.
    pub async fn responding(responder: Responder) -> io::Result<Self> {
        Self::serve(Script {
            responder: Some(responder),
            ..Script::default()
        })
        .await
    }

    async fn serve(script: Script) -> io::Result<Self> {
        let script = Arc::new(Mutex::new(script));
        let app = Router::new()
            .route("/v1/chat/completions", post(completions))
            .route(
                "/v1/audio/transcriptions",
                post(crate::openai_audio::transcriptions),
            )
            .with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            script,
            server,
        })
    }

    /// The base URL clients use, like `https://api.openai.com/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The request bodies received so far.
    pub fn requests(&self) -> Vec<Value> {
        self.script.lock().expect("script lock").requests.clone()
    }
}

impl Drop for FakeOpenAi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn completions(State(script): State<Arc<Mutex<Script>>>, body: String) -> Response {
    let request: Value = match serde_json::from_str(&body) {
        Ok(v) => v,
        Err(e) => {
            return error(
                400,
                "invalid_request_error",
                &format!("We could not parse the JSON body of your request: {e}"),
            );
        }
    };
    let model = request["model"].as_str().unwrap_or("fake-model").to_owned();
    let usage = request["stream_options"]["include_usage"].as_bool() == Some(true);
    let reply = script.lock().expect("script lock").next(request);
    match reply {
        None => error(500, "server_error", "the fake has no scripted reply left"),
        Some(Reply::Error {
            status,
            kind,
            message,
        }) => error(status, &kind, &message),
        Some(Reply::Stall(duration)) => {
            tokio::time::sleep(duration).await;
            error(504, "server_error", "stalled")
        }
        Some(Reply::Text(pieces)) => {
            let mut chunks = vec![chunk(
                &model,
                json!({"role": "assistant", "content": ""}),
                None,
            )];
            chunks.extend(
                pieces
                    .iter()
                    .map(|p| chunk(&model, json!({"content": p}), None)),
            );
            chunks.push(chunk(&model, json!({}), Some("stop")));
            stream(chunks, usage.then(|| usage_chunk(&model)))
        }
        Some(Reply::Transcript(_)) => error(
            500,
            "server_error",
            "the fake's next reply is a transcript, not a completion",
        ),
        Some(Reply::ToolCalls(calls)) => {
            let mut chunks = vec![chunk(
                &model,
                json!({"role": "assistant", "content": null}),
                None,
            )];
            for (index, (id, name, arguments)) in calls.iter().enumerate() {
                chunks.push(chunk(
                    &model,
                    json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                        "function": {"name": name, "arguments": ""}}]}),
                    None,
                ));
                // Arguments arrive in fragments that split JSON tokens, as the API does.
                let chars: Vec<char> = arguments.chars().collect();
                for piece in chars.chunks(7) {
                    chunks.push(chunk(
                        &model,
                        json!({"tool_calls": [{"index": index,
                            "function": {"arguments": piece.iter().collect::<String>()}}]}),
                        None,
                    ));
                }
            }
            chunks.push(chunk(&model, json!({}), Some("tool_calls")));
            stream(chunks, usage.then(|| usage_chunk(&model)))
        }
    }
}

fn chunk(model: &str, delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_694_268_190,
        "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason}],
    })
}

fn usage_chunk(model: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_694_268_190,
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150},
    })
}

fn stream(chunks: Vec<Value>, usage: Option<Value>) -> Response {
    let mut body = String::new();
    for c in chunks.iter().chain(usage.as_ref()) {
        body.push_str(&format!("data: {c}\n\n"));
    }
    body.push_str("data: [DONE]\n\n");
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        Body::from(body),
    )
        .into_response()
}

pub(crate) fn error(status: u16, kind: &str, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
