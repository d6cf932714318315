//! The demo's recorded calls: Twilio call status callbacks on a "Calls (demo)"
//! channel, each with a few seconds of synthesised audio (a WAV written by
//! [`fakes::calls`], so nothing is downloaded or installed) stored in the file store,
//! and the transcript the fake transcription gives it.

use api::calls::TranscriptLine;
use api::{Channel, Direction};
use domain::channels::providers::parse_webhook;
use domain::channels::{ChannelDefaults, ChannelProvider, IngestOutcome, NewChannel};
use domain::db::Db;
use domain::files::FileStore;
use domain::users::UserId;
use fakes::calls::DEMO_CALLS;
use fakes::webhooks::DemoWebhooks;

const CHANNEL_NAME: &str = "Calls (demo)";

/// Gives a demo user the recorded calls once (a user who has the channel keeps theirs).
pub async fn seed_calls(
    db: &Db,
    files: &FileStore,
    user: UserId,
    chats: &DemoWebhooks,
) -> anyhow::Result<()> {
    let scope = db.for_user(user);
    if scope
        .channels()
        .list()
        .await?
        .iter()
        .any(|c| c.name == CHANNEL_NAME)
    {
        return Ok(());
    }
    let defaults = ChannelDefaults {
        channel: Channel::Call,
        direction: Direction::Inbound,
    };
    let new = NewChannel {
        name: CHANNEL_NAME.to_owned(),
        provider: ChannelProvider::Twilio,
        defaults,
    };
    let (view, key) = scope.channels().create(&new).await?;
    let auth = db.authorize_channel(view.id, key.expose()).await?;
    for (at, body, index) in &chats.calls {
        let webhook = parse_webhook(ChannelProvider::Twilio, defaults, body.as_bytes(), *at)?;
        let IngestOutcome::Stored(activity) =
            scope.channels().ingest_webhook(&auth, &webhook).await?
        else {
            continue;
        };
        let call = &DEMO_CALLS[*index];
        let audio = call.audio();
        let mut incoming = files.begin(audio.len() as u64).await?;
        incoming.write(&audio).await?;
        let content = incoming.finish().await?;
        let lines: Vec<TranscriptLine> = call
            .lines
            .iter()
            .map(|(start, end, text)| TranscriptLine {
                start: f64::from(*start),
                end: f64::from(*end),
                text: (*text).to_owned(),
            })
            .collect();
        scope
            .calls()
            .add_stored_recording(
                activity,
                &format!("RE{index:032x}"),
                &content,
                "audio/wav",
                call.duration_secs(),
                &lines,
            )
            .await?;
    }
    Ok(())
}
