//! The fake's state: pages with their tokens, conversations with their messages, what
//! the Send API delivered, and the faults waiting to be served.

use std::collections::VecDeque;

use chrono::{DateTime, Duration, Utc};

use super::errors::GraphError;

/// Which inbox a conversation belongs to (`platform=messenger|instagram`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Messenger,
    Instagram,
}

impl Platform {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "messenger" => Some(Self::Messenger),
            "instagram" => Some(Self::Instagram),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Messenger => "messenger",
            Self::Instagram => "instagram",
        }
    }
}

/// A Facebook Page (and its Instagram professional account) the fake serves.
#[derive(Debug, Clone)]
pub struct Page {
    pub id: String,
    pub name: String,
    pub token: String,
    /// The Instagram account's id (its messages' `from.id`), when it has one.
    pub instagram_id: Option<String>,
    pub instagram_username: Option<String>,
    /// 190/463 for every request with this token once set.
    pub token_expired: bool,
}

impl Page {
    /// A Page with no Instagram account, its token valid.
    pub fn new(id: &str, name: &str, token: &str) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            token: token.to_owned(),
            instagram_id: None,
            instagram_username: None,
            token_expired: false,
        }
    }

    /// The same Page with its Instagram professional account.
    pub fn with_instagram(self, id: &str, username: &str) -> Self {
        Self {
            instagram_id: Some(id.to_owned()),
            instagram_username: Some(username.to_owned()),
            ..self
        }
    }
}

#[derive(Debug, Clone)]
pub struct Message {
    pub id: String,
    pub created_time: DateTime<Utc>,
    pub from_id: String,
    pub from_name: String,
    pub to_id: String,
    pub to_name: String,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: String,
    pub page_id: String,
    pub platform: Platform,
    pub customer_id: String,
    pub customer_name: String,
    /// Oldest first.
    pub messages: Vec<Message>,
}

impl Conversation {
    pub fn updated_time(&self) -> DateTime<Utc> {
        self.messages
            .last()
            .map(|m| m.created_time)
            .unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// When the customer last wrote: Meta's 24-hour reply window starts there.
    pub fn last_customer_message(&self) -> Option<DateTime<Utc>> {
        self.messages
            .iter()
            .rev()
            .find(|m| m.from_id == self.customer_id)
            .map(|m| m.created_time)
    }
}

/// Which requests a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultTarget {
    /// `GET .../conversations`
    Conversations,
    /// `GET .../messages`
    Messages,
    /// `POST .../messages` (the Send API), answered with the error *before* sending.
    Send,
    /// The Send API delivers the message, then answers 500 as if the connection broke
    /// after the send: what a worker killed mid-request leaves behind.
    SendThenFail,
    /// Any request.
    Any,
}

#[derive(Debug, Clone)]
pub struct Fault {
    pub target: FaultTarget,
    pub error: GraphError,
    /// How many matching requests get it.
    pub remaining: u32,
    /// Only requests asking for more than this many items (the "reduce the amount of
    /// data" 500 of Graph); 0 for every request.
    pub above_limit: u32,
}

/// Every message the Send API accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub page_id: String,
    pub recipient_id: String,
    pub message_id: String,
    pub text: String,
    pub messaging_type: String,
}

#[derive(Debug, Default)]
pub struct Store {
    pub pages: Vec<Page>,
    pub conversations: Vec<Conversation>,
    pub sent: Vec<Sent>,
    pub faults: VecDeque<Fault>,
    /// Reported in the usage headers, 0..100.
    pub usage_percent: u32,
    /// Requests served, for tests that check paging and backoff.
    pub requests: Vec<String>,
    /// How long the Send API waits before and after delivering.
    pub send_delay: (std::time::Duration, std::time::Duration),
    /// Counts changes of `send_delay`: a send still waiting when it changes is dropped.
    pub send_generation: u64,
    next_id: u64,
}

impl Store {
    pub fn number_ids_from(&mut self, first: u64) {
        self.next_id = self.next_id.max(first.saturating_sub(1));
    }

    pub fn next_id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{:010}", self.next_id)
    }

    pub fn page_by_token(&self, token: &str) -> Option<&Page> {
        self.pages.iter().find(|p| p.token == token)
    }

    /// The first pending fault for `target`, used up by one.
    pub fn take_fault(&mut self, target: FaultTarget, limit: u32) -> Option<Fault> {
        let index = self.faults.iter().position(|f| {
            (f.target == target || f.target == FaultTarget::Any) && limit > f.above_limit
        })?;
        let fault = &mut self.faults[index];
        fault.remaining = fault.remaining.saturating_sub(1);
        let taken = fault.clone();
        if fault.remaining == 0 {
            self.faults.remove(index);
        }
        Some(taken)
    }

    /// Adds a message to the conversation of (page, platform, customer), creating the
    /// conversation when the customer writes first. Returns (conversation id, message id).
    pub fn add_message(
        &mut self,
        page_id: &str,
        platform: Platform,
        customer: (&str, &str),
        from_customer: bool,
        text: &str,
        at: DateTime<Utc>,
    ) -> Option<(String, String)> {
        let page = self.pages.iter().find(|p| p.id == page_id)?.clone();
        let (page_side_id, page_side_name) = match platform {
            Platform::Messenger => (page.id.clone(), page.name.clone()),
            Platform::Instagram => (
                page.instagram_id.clone()?,
                page.instagram_username.clone().unwrap_or(page.name.clone()),
            ),
        };
        let (customer_id, customer_name) = customer;
        let existing = self.conversations.iter().position(|c| {
            c.page_id == page_id && c.platform == platform && c.customer_id == customer_id
        });
        let index = match existing {
            Some(i) => i,
            None if from_customer => {
                let id = self.next_id("t_");
                self.conversations.push(Conversation {
                    id,
                    page_id: page_id.to_owned(),
                    platform,
                    customer_id: customer_id.to_owned(),
                    customer_name: customer_name.to_owned(),
                    messages: Vec::new(),
                });
                self.conversations.len() - 1
            }
            None => return None,
        };
        let message_id = self.next_id("m_");
        // Graph's times have second precision; keep messages in order within a second.
        let at = self.conversations[index]
            .messages
            .last()
            .map_or(at, |m| at.max(m.created_time));
        let (from, to) = if from_customer {
            (
                (customer_id.to_owned(), customer_name.to_owned()),
                (page_side_id, page_side_name),
            )
        } else {
            (
                (page_side_id, page_side_name),
                (customer_id.to_owned(), customer_name.to_owned()),
            )
        };
        let conversation = &mut self.conversations[index];
        conversation.messages.push(Message {
            id: message_id.clone(),
            created_time: at,
            from_id: from.0,
            from_name: from.1,
            to_id: to.0,
            to_name: to.1,
            text: text.to_owned(),
        });
        Some((conversation.id.clone(), message_id))
    }

    /// Puts back a conversation a client stored from an earlier run, with its id and
    /// the customer's last message (its id too): false when the customer already has a
    /// conversation or the Page is unknown.
    pub fn restore(
        &mut self,
        page_id: &str,
        platform: Platform,
        conversation_id: &str,
        customer: (&str, &str),
        message: (&str, &str, DateTime<Utc>),
    ) -> bool {
        let known = self
            .conversations
            .iter()
            .any(|c| c.page_id == page_id && c.platform == platform && c.customer_id == customer.0);
        if known || !self.pages.iter().any(|p| p.id == page_id) {
            return false;
        }
        self.conversations.push(Conversation {
            id: conversation_id.to_owned(),
            page_id: page_id.to_owned(),
            platform,
            customer_id: customer.0.to_owned(),
            customer_name: customer.1.to_owned(),
            messages: Vec::new(),
        });
        let (id, text, at) = message;
        if self
            .add_message(page_id, platform, customer, true, text, at)
            .is_none()
        {
            self.conversations.pop();
            return false;
        }
        if let Some(last) = self
            .conversations
            .last_mut()
            .and_then(|c| c.messages.last_mut())
        {
            last.id = id.to_owned();
        }
        true
    }
}

/// Meta's standard messaging window.
pub const REPLY_WINDOW: Duration = Duration::hours(24);
