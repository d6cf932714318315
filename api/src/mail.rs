//! Reading mail: a conversation as the thread page shows it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Direction;

/// A stretch of a plain-text body: what the author wrote, or what they quoted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextBlock {
    Said(String),
    Quoted(String),
}

/// Whether a message's HTML may load images from other servers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemoteImages {
    /// The HTML refers to none.
    None,
    /// Not loaded: loading tells the sender when and where the mail was read.
    Blocked,
    /// The user allowed them for this message.
    Allowed,
}

/// A message body: HTML is shown in a sandboxed frame served by `html_src`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageBody {
    Html {
        html_src: String,
        remote_images: RemoteImages,
    },
    Text(Vec<TextBlock>),
    Empty,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub name: Option<String>,
    pub address: String,
}

impl Person {
    /// `Name <address>`, or the address alone.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{name} <{}>", self.address),
            None => self.address.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: Option<String>,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadMessage {
    pub id: Uuid,
    pub occurred_at: DateTime<Utc>,
    pub direction: Option<Direction>,
    pub subject: Option<String>,
    pub from: Vec<Person>,
    pub to: Vec<Person>,
    pub cc: Vec<Person>,
    pub body: MessageBody,
    /// Files attached (not inline images); their bytes stay with the provider.
    pub attachments: Vec<Attachment>,
    /// The message in Gmail's web app, for Gmail-synced mail.
    pub gmail_url: Option<String>,
}

/// A conversation, oldest message first, and the one that was opened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub subject: String,
    pub opened: Uuid,
    pub messages: Vec<ThreadMessage>,
}

/// Where an email activity opens.
pub fn thread_href(activity: Uuid) -> String {
    format!("/mail/{activity}")
}

/// Where its sanitized HTML is served for the sandboxed frame. The server decides from
/// the stored choice whether remote images load; the query only gives an allowed
/// message's frame a new address, so that the page's re-render (which updates the
/// existing frame in place) makes it load again.
pub fn html_src(activity: Uuid, remote_images: RemoteImages) -> String {
    match remote_images {
        RemoteImages::Allowed => format!("/mail/{activity}/html?images=allowed"),
        RemoteImages::None | RemoteImages::Blocked => format!("/mail/{activity}/html"),
    }
}
