//! The contact page's notes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{AuthorKind, Channel};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRow {
    pub id: Uuid,
    pub author_kind: AuthorKind,
    pub author_name: String,
    pub body: String,
    pub editable: bool,
    pub source: Option<NoteSourceRow>,
    pub created_at: DateTime<Utc>,
    pub edited: bool,
}

/// The activity a note came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteSourceRow {
    pub id: Uuid,
    pub channel: Channel,
    /// Its subject, else its snippet.
    pub label: String,
    pub occurred_at: DateTime<Utc>,
}
