//! Calls with their recordings and transcripts, and chat threads.
//!
//! A recording is announced by a provider callback (Twilio's recording status callback,
//! a call status callback naming one, or a generic webhook's audio attachment) and kept
//! in `call_recordings` under its call's external id, so a callback that arrives before
//! the call is joined when the call is stored ([`store`]). A `recording.download` job
//! fetches the audio into the file store and, when a model is configured, queues a
//! `recording.transcribe` job ([`jobs`]); the transcript's segments are kept with their
//! timestamps and its text is written after the call's own line in the activity's
//! text, which is what search, Ask, summaries and the Notes API read. [`chat`] gathers
//! the messages of one conversation on a chat channel.

mod callback;
mod chat;
mod jobs;
mod store;

pub use callback::{CallCallback, NewRecording, ProviderTranscript, parse_callback, recordings_in};
pub use jobs::{
    DownloadRecording, RecordingsContext, TRANSCRIBE_MAX_ATTEMPTS, TranscribeRecording,
    TranscriptionContext,
};
pub(crate) use store::attach_recordings;
pub use store::{CallbackOutcome, RecordingAudio, TRANSCRIPT_MARKER};
