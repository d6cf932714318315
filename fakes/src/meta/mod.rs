//! A fake of Meta's Graph API for Messenger and Instagram messaging: a Page's
//! conversations (`GET /v21.0/{page-id}/conversations?platform=messenger|instagram`),
//! a conversation's messages (`GET /v21.0/{conversation-id}/messages`), both with
//! `fields` and cursor paging (`paging.cursors.before/after`, `paging.next` while more
//! follow), only the 20 most recent messages of a conversation with details, and the
//! Send API (`POST /v21.0/{page-id}/messages` -> `{recipient_id, message_id}`, refused
//! with 10/2018278 outside the 24-hour window for `messaging_type: RESPONSE`). Every
//! answer carries `X-App-Usage` and `X-Business-Use-Case-Usage`; errors use Graph's
//! shape. Tests and demo mode drive it through the control endpoints under
//! `/_fake/meta/` (or the same operations on [`FakeMeta`]): a customer writes, a person
//! replies from the Page, faults, usage, an expired token.

mod control;
pub mod errors;
mod graph;
mod store;

use std::io;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::get;
use chrono::{DateTime, Utc};

pub use errors::GraphError;
pub use graph::{DETAILED_MESSAGES, graph_time};
pub use store::{Fault, FaultTarget, Page, Platform, Sent};

use crate::serve::RunningServer;
use store::Store;

/// The Graph version in the fake's paths.
pub const VERSION: &str = "v21.0";

/// The fake's state, shared by its router and the test that drives it.
#[derive(Clone, Default)]
pub struct MetaState {
    store: Arc<Mutex<Store>>,
}

impl MetaState {
    pub fn new(pages: Vec<Page>) -> Self {
        let state = Self::default();
        state.lock().pages = pages;
        state
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().expect("meta store lock")
    }

    /// The Graph and control routes, for a server at `base_url`.
    pub fn router(&self, base_url: &str) -> Router {
        let graph = graph::Graph {
            store: self.store.clone(),
            base: format!("{base_url}/{VERSION}"),
        };
        let api = Router::new()
            .route(
                &format!("/{VERSION}/{{id}}/conversations"),
                get(graph::conversations),
            )
            .route(
                &format!("/{VERSION}/{{id}}/messages"),
                get(graph::messages).post(graph::send),
            )
            .with_state(graph);
        api.merge(control::router(self.clone()))
    }

    /// A customer writes to the Page (creating the conversation on their first message).
    /// Returns (conversation id, message id), or `None` for an unknown Page or an
    /// Instagram message to a Page without an Instagram account.
    pub fn customer_writes(
        &self,
        page_id: &str,
        platform: Platform,
        customer: (&str, &str),
        text: &str,
        at: DateTime<Utc>,
    ) -> Option<(String, String)> {
        self.lock()
            .add_message(page_id, platform, customer, true, text, at)
    }

    /// A person replies from the Page (Meta Business Suite, the Page inbox): appended to
    /// the customer's conversation, which must exist.
    pub fn page_replies(
        &self,
        page_id: &str,
        platform: Platform,
        customer_id: &str,
        text: &str,
        at: DateTime<Utc>,
    ) -> Option<String> {
        self.lock()
            .add_message(page_id, platform, (customer_id, ""), false, text, at)
            .map(|(_, id)| id)
    }

    /// Serves `error` to the next `count` requests of `target`.
    pub fn inject(&self, target: FaultTarget, error: GraphError, count: u32) {
        self.lock().faults.push_back(Fault {
            target,
            error,
            remaining: count,
            above_limit: 0,
        });
    }

    /// Graph's "reduce the amount of data" 500 for every request asking for more than
    /// `limit` items, `count` times.
    pub fn refuse_pages_above(&self, limit: u32, count: u32) {
        self.lock().faults.push_back(Fault {
            target: FaultTarget::Any,
            error: GraphError::reduce_data(),
            remaining: count,
            above_limit: limit,
        });
    }

    /// Makes the Send API wait `before` delivering and `after` (the message went out
    /// but its sender has not heard yet). Calling this again drops the sends still
    /// waiting to deliver, as if they were cut off on the way: a test kills the sender,
    /// then changes the delays.
    pub fn delay_sends(&self, before: std::time::Duration, after: std::time::Duration) {
        let mut store = self.lock();
        store.send_delay = (before, after);
        store.send_generation += 1;
    }

    /// Puts back a conversation Rapport stored from an earlier run of the fake (demo
    /// mode after a restart), with the customer's last message, so the Page can answer
    /// it and the customer's next message lands in the same conversation.
    pub fn restore_conversation(
        &self,
        page_id: &str,
        platform: Platform,
        conversation_id: &str,
        customer: (&str, &str),
        message: (&str, &str, DateTime<Utc>),
    ) -> bool {
        self.lock()
            .restore(page_id, platform, conversation_id, customer, message)
    }

    /// Numbers the ids of later conversations and messages from `first`: a fake
    /// started again (demo mode after a restart) never hands out an id Rapport stored
    /// from an earlier run.
    pub fn number_ids_from(&self, first: u64) {
        self.lock().number_ids_from(first);
    }

    /// The percentage the usage headers report from now on.
    pub fn set_usage(&self, percent: u32) {
        self.lock().usage_percent = percent.min(100);
    }

    /// Every later request with this Page's token gets 190/463.
    pub fn expire_token(&self, page_id: &str) {
        if let Some(page) = self.lock().pages.iter_mut().find(|p| p.id == page_id) {
            page.token_expired = true;
        }
    }

    /// What the Send API delivered, in order.
    pub fn sent(&self) -> Vec<Sent> {
        self.lock().sent.clone()
    }

    /// The requests served so far (`GET /{id}/conversations`, ...).
    pub fn requests(&self) -> Vec<String> {
        self.lock().requests.clone()
    }

    /// How many messages the fake holds for this Page.
    pub fn message_count(&self, page_id: &str) -> usize {
        self.lock()
            .conversations
            .iter()
            .filter(|c| c.page_id == page_id)
            .map(|c| c.messages.len())
            .sum()
    }
}

/// A running fake; stops when dropped.
pub struct FakeMeta {
    pub state: MetaState,
    server: RunningServer,
}

impl FakeMeta {
    /// Serves `pages` on `127.0.0.1:{port}` (0 for any free port).
    pub async fn start(pages: Vec<Page>, port: u16) -> io::Result<Self> {
        let state = MetaState::new(pages);
        let router_state = state.clone();
        let server =
            RunningServer::start("meta", port, move |base| router_state.router(base)).await?;
        Ok(Self { state, server })
    }

    /// `http://127.0.0.1:port/v21.0`: what clients use as the Graph base URL.
    pub fn graph_url(&self) -> String {
        format!("{}/{VERSION}", self.server.base_url())
    }

    pub fn base_url(&self) -> &str {
        self.server.base_url()
    }
}

impl std::ops::Deref for FakeMeta {
    type Target = MetaState;

    fn deref(&self) -> &MetaState {
        &self.state
    }
}
