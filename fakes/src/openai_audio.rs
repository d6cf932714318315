//! The fake OpenAI's `POST /v1/audio/transcriptions`, as the API reference documents
//! it: a multipart form with `file` and `model` (both required), `response_format`
//! (`json` by default; `verbose_json` adds `language`, `duration` and `segments`, each
//! with `id`, `seek`, `start`, `end`, `text`, `tokens`, `temperature`, `avg_logprob`,
//! `compression_ratio` and `no_speech_prob`) and `timestamp_granularities[]`. The next
//! scripted [`Reply`] decides the answer; the request is recorded as JSON (its fields,
//! and the file's name and size).

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::openai::{Reply, Script, error};

pub(crate) async fn transcriptions(
    State(script): State<Arc<Mutex<Script>>>,
    mut form: Multipart,
) -> Response {
    let mut request = serde_json::Map::new();
    let mut granularities = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                return error(
                    400,
                    "invalid_request_error",
                    &format!("bad multipart body: {e}"),
                );
            }
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let filename = field.file_name().unwrap_or_default().to_owned();
            let bytes = match field.bytes().await {
                Ok(bytes) => bytes,
                Err(e) => return error(400, "invalid_request_error", &e.to_string()),
            };
            request.insert(
                "file".into(),
                json!({"filename": filename, "size": bytes.len()}),
            );
            continue;
        }
        let value = field.text().await.unwrap_or_default();
        if name == "timestamp_granularities[]" {
            granularities.push(Value::String(value));
        } else {
            request.insert(name, Value::String(value));
        }
    }
    request.insert(
        "timestamp_granularities".into(),
        Value::Array(granularities),
    );
    for required in ["file", "model"] {
        if !request.contains_key(required) {
            return error(
                400,
                "invalid_request_error",
                &format!("you must provide a {required} parameter"),
            );
        }
    }
    let verbose = request.get("response_format").and_then(Value::as_str) == Some("verbose_json");
    let reply = script
        .lock()
        .expect("script lock")
        .next(Value::Object(request));
    match reply {
        Some(Reply::Transcript(segments)) => {
            let text = segments
                .iter()
                .map(|(_, _, t)| t.trim())
                .collect::<Vec<_>>()
                .join(" ");
            if !verbose {
                return Json(json!({"text": text})).into_response();
            }
            let duration = segments.last().map_or(0.0, |(_, end, _)| *end);
            let segments: Vec<Value> = segments
                .iter()
                .enumerate()
                .map(|(id, (start, end, text))| {
                    json!({
                        "id": id, "seek": 0, "start": start, "end": end,
                        "text": format!(" {}", text.trim()),
                        "tokens": [50364, 2425, 11, 50464],
                        "temperature": 0.0, "avg_logprob": -0.28,
                        "compression_ratio": 1.26, "no_speech_prob": 0.002,
                    })
                })
                .collect();
            Json(json!({
                "task": "transcribe", "language": "english", "duration": duration,
                "text": text, "segments": segments,
            }))
            .into_response()
        }
        Some(Reply::Error {
            status,
            kind,
            message,
        }) => error(status, &kind, &message),
        Some(Reply::Stall(duration)) => {
            tokio::time::sleep(duration).await;
            error(504, "server_error", "stalled")
        }
        Some(_) => error(
            500,
            "server_error",
            "the fake's next reply is a completion, not a transcript",
        ),
        None => error(500, "server_error", "the fake has no scripted reply left"),
    }
}
