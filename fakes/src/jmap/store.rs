//! One account's mailboxes and messages, and the state strings JMAP clients compare.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

/// `{ name, email }` as JMAP writes addresses (RFC 8621 section 4.1.2.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JmapAddress {
    pub name: Option<String>,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JmapMailbox {
    pub id: String,
    pub name: String,
    /// `inbox`, `sent`, `junk`, ... (RFC 8621 section 2).
    pub role: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JmapEmail {
    pub id: String,
    /// Without angle brackets, as JMAP's `messageId` lists it.
    pub message_id: String,
    pub in_reply_to: Option<String>,
    pub thread_id: String,
    pub from: Vec<JmapAddress>,
    pub to: Vec<JmapAddress>,
    pub cc: Vec<JmapAddress>,
    pub subject: String,
    pub received_at: DateTime<Utc>,
    pub text: String,
    pub keywords: BTreeSet<String>,
    pub mailbox_ids: BTreeSet<String>,
}

/// A JMAP account: who may open it and what it holds.
#[derive(Debug, Clone)]
pub struct JmapAccount {
    /// The session's `username`, also the Basic user.
    pub username: String,
    pub password: String,
    /// The Bearer token (Fastmail's API tokens are used this way).
    pub token: String,
    pub mailboxes: Vec<JmapMailbox>,
    pub emails: Vec<JmapEmail>,
}

pub(super) struct Store {
    pub(super) account: JmapAccount,
    /// Emails by id, for `Email/get` and `Email/set`.
    pub(super) index: BTreeMap<String, usize>,
    /// Bumped by every change; the `state` of both types and the session.
    pub(super) version: u64,
    next_mailbox: u64,
}

impl Store {
    pub(super) fn new(account: JmapAccount) -> Self {
        let index = account
            .emails
            .iter()
            .enumerate()
            .map(|(i, e)| (e.id.clone(), i))
            .collect();
        Self {
            next_mailbox: account.mailboxes.len() as u64 + 1,
            account,
            index,
            version: 1,
        }
    }

    pub(super) fn account_id(&self) -> String {
        format!("u{}", hex(&self.account.username))
    }

    pub(super) fn session_state(&self) -> String {
        format!("s{}", self.version)
    }

    pub(super) fn state(&self) -> String {
        self.version.to_string()
    }

    pub(super) fn new_mailbox_id(&mut self) -> String {
        let id = format!("mb{}", self.next_mailbox);
        self.next_mailbox += 1;
        id
    }
}

fn hex(value: &str) -> String {
    value.bytes().take(8).map(|b| format!("{b:02x}")).collect()
}
