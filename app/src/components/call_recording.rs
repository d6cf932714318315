//! A call's recordings under its timeline row: an audio player (served from Rapport's
//! file store with range requests, so it seeks), the duration and direction, and the
//! transcript, each line of which seeks the player to where it was said.

use api::Direction;
use api::calls::{CallView, RecordingState, RecordingView, TranscriptLine};
use leptos::html::Audio;
use leptos::prelude::*;
use uuid::Uuid;

use crate::app_error::AppError;

#[server]
pub async fn call_details(activity: Uuid) -> Result<CallView, AppError> {
    use crate::ssr::{RequestContext, reported};
    reported(async move {
        let ctx = RequestContext::current()?;
        Ok(ctx.scope().calls().call(activity).await?)
    })
    .await
}

/// `75` -> `1:15`.
pub fn clock(seconds: f64) -> String {
    let whole = seconds.max(0.0).floor() as u64;
    format!("{}:{:02}", whole / 60, whole % 60)
}

#[component]
pub fn CallRecordings(activity: Uuid) -> impl IntoView {
    let call = Resource::new(move || activity, call_details);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                call.await.ok().filter(|c| !c.recordings.is_empty()).map(|call| {
                    let direction = match call.direction {
                        Some(Direction::Inbound) => "Incoming call",
                        Some(Direction::Outbound) => "Outgoing call",
                        None => "Call",
                    };
                    view! {
                        <div class="call-details" data-testid="call-details">
                            {call.recordings.into_iter().map(|r| view! { <Recording recording=r direction/> }).collect_view()}
                        </div>
                    }
                })
            })}
        </Transition>
    }
}

#[component]
fn Recording(recording: RecordingView, direction: &'static str) -> impl IntoView {
    let audio = NodeRef::<Audio>::new();
    let duration = recording
        .duration_secs
        .map(|d| format!(" · {}", clock(f64::from(d))))
        .unwrap_or_default();
    let player = match (recording.state, recording.audio_url.clone()) {
        (RecordingState::Stored, Some(src)) => view! {
            <audio class="call-audio" controls preload="metadata" src=src node_ref=audio data-testid="call-audio"></audio>
        }
        .into_any(),
        (RecordingState::Failed, _) => view! {
            <p class="activity-error" role="status">
                "The recording could not be fetched: "
                {recording.error.clone().unwrap_or_default()}
            </p>
        }
        .into_any(),
        _ => view! { <p class="muted">"Fetching the recording…"</p> }.into_any(),
    };
    let lines = recording.transcript.clone();
    let transcript = (!lines.is_empty()).then(|| {
        view! {
            <ol class="transcript" data-testid="transcript">
                {lines.into_iter().map(|line| view! { <Line line audio/> }).collect_view()}
            </ol>
        }
    });
    view! {
        <div class="call-recording" data-recording-id=recording.id.to_string()>
            <p class="muted call-facts">{direction}{duration}</p>
            {player}
            {transcript}
        </div>
    }
}

#[component]
fn Line(line: TranscriptLine, audio: NodeRef<Audio>) -> impl IntoView {
    let start = line.start;
    view! {
        <li>
            <button
                type="button"
                class="transcript-line"
                data-start=start.to_string()
                title="Play from here"
                on:click=move |_| {
                    if let Some(player) = audio.get() {
                        player.set_current_time(start);
                        let _ = player.play();
                    }
                }
            >
                <span class="transcript-time">{clock(start)}</span>
                " "
                {line.text}
            </button>
        </li>
    }
}
