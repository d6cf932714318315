//! `POST /api/ask` with `{"question": "..."}`: answers for the signed-in user with the
//! configured engine (the model when `OPENAI_*` is set, else the offline engine) and
//! streams the work as Server-Sent Events: `tool` (`{"name"}`) as each tool is called,
//! `text` (`{"text"}`) for each piece of the answer, then `done` with the stored
//! exchange and its citations, or `error` (`{"error"}`) when the answer could not be
//! stored. The exchange is recorded even when the browser leaves before the end.
//! Session-authenticated and behind the cross-site write check, like every write.

use std::convert::Infallible;
use std::time::Duration;

use app::ssr::CurrentUser;
use app::{AppError, ErrorKind};
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use domain::ask::answer::links_in;
use domain::ask::history::{self, Exchange, Question};
use domain::ask::model::Progress;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::mpsc;

use crate::startup::AppState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskRequest {
    question: String,
}

/// What the browser receives at the end: the stored exchange and its links.
#[derive(Debug, Serialize)]
struct Finished {
    #[serde(flatten)]
    exchange: Exchange,
    citations: Vec<Citation>,
}

#[derive(Debug, Serialize)]
struct Citation {
    label: String,
    href: String,
}

/// One step of an answer in progress, in the order it happened.
#[derive(Debug)]
enum Step {
    Progress(Progress),
    Finished(Box<Finished>),
    Failed(String),
}

pub async fn ask(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: Result<Json<AskRequest>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(request) = body.map_err(|rejection| {
        AppError::new(
            ErrorKind::InvalidJson,
            format!(
                "Send a JSON body {{\"question\": \"...\"}}: {}",
                rejection.body_text()
            ),
        )
        .with_source(rejection)
    })?;
    let question = Question::parse(&request.question)?;
    // The stream's place among the user's open streams, given back when it ends.
    let slot = state.limits.streams.acquire(user.id)?;
    // The offline engine costs nothing; calls to the model are limited per user.
    if state.model.is_some() {
        state.limits.model_calls.check(&user.id)?;
    }
    // The answer runs on its own task, outside the request's scope: it takes the
    // request id along for its error report.
    let request_id = app::app_error::current_request_id().unwrap_or_default();
    let (steps, receiver) = mpsc::unbounded_channel();
    // The answer runs on its own task, so it completes and is stored even if the
    // browser goes away mid-stream.
    tokio::spawn(app::app_error::with_request_id(request_id, async move {
        let scope = state.db.for_user(user.id);
        let progress_steps = steps.clone();
        let mut progress = move |p: Progress| {
            let _ = progress_steps.send(Step::Progress(p));
        };
        let outcome = history::ask(
            scope,
            state.model.as_ref(),
            &question,
            Utc::now(),
            &mut progress,
        )
        .await;
        let last = match outcome {
            Ok(exchange) => Step::Finished(Box::new(Finished {
                citations: links_in(&exchange.view.answer)
                    .into_iter()
                    .map(|(label, href)| Citation { label, href })
                    .collect(),
                exchange,
            })),
            Err(error) => Step::Failed(AppError::from(error).reported().to_string()),
        };
        let _ = steps.send(last);
    }));
    let stream =
        futures_util::stream::unfold((receiver, slot), |(mut receiver, slot)| async move {
            let step = receiver.recv().await?;
            Some((Ok::<_, Infallible>(to_event(step)), (receiver, slot)))
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

fn to_event(step: Step) -> Event {
    let (kind, data) = match step {
        Step::Progress(Progress::Tool(name)) => ("tool", json!({ "name": name })),
        Step::Progress(Progress::Text(text)) => ("text", json!({ "text": text })),
        Step::Finished(finished) => ("done", json!(finished)),
        Step::Failed(message) => ("error", json!({ "error": message })),
    };
    Event::default().event(kind).data(data.to_string())
}
