//! The Ask page.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One question and its answer, as the page shows it (also the stream's last event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExchangeView {
    pub id: i64,
    pub question: String,
    pub answer: String,
    /// "offline engine" or "model <name>".
    pub engine: String,
    pub refused: bool,
    pub tools: Vec<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AskData {
    /// Oldest first, as a chat reads.
    pub history: Vec<ExchangeView>,
    /// The engine that answers new questions.
    pub engine: String,
    pub suggestions: Vec<String>,
}
