//! Polling a Fastmail / JMAP account: the Inbox and Sent mailboxes, each from its own
//! checkpoint, messages not yet stamped `$crm_done`, oldest first.
//!
//! Both mailboxes go through three stages that run at once: fetching (`Email/get`
//! pages of 50, several in flight, of ids listed a window at a time: up to
//! [`JmapSyncOptions::window`] unstamped messages of each mailbox, the next window listed
//! while the last pages of one are fetched), storing (rounds through the ingest layer,
//! one activity per JMAP id, idempotent; blocked senders recorded as `filtered` and
//! counted instead of stored, mail the user has through another account recorded as
//! `duplicate`) and stamping (`Email/set` of committed rounds: `$crm_done`, and blocked
//! mail moved to `Skip_Email` / `Skip_Domain` and marked `$seen`), after which the
//! checkpoint moves. A crash between the commit and the stamp fetches the round again
//! next time, and storing it again changes nothing. Stamps and listings never overlap,
//! so a listing's positions are exact: it skips the listed messages not yet stamped,
//! which the server still lists first.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use api::AccountStatus;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use futures::future::try_join_all;
use futures::stream::FuturesOrdered;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::account::JmapAccountError;
use super::{
    Email, EmailPatch, EmailQuery, Endpoint, JmapApi, JmapError, PAGE, Session, SetOutcome,
    labels_of, parse_jmap_email,
};
use crate::channels::{BlockEntry, BlocklistEntry};
use crate::crypto::SecretBox;
use crate::ingest::{IncomingEmail, IngestError, IngestFilter, StoreOutcome};
use crate::jobs::{BackgroundJob, Job, JobError, QueueError};
use crate::{Db, DomainError, UserId};

/// Where mail from a blocked address or name pattern goes.
pub const SKIP_EMAIL: &str = "Skip_Email";
/// Where mail from a blocked domain goes.
pub const SKIP_DOMAIN: &str = "Skip_Domain";
/// Name patterns seeded into a user's blocklist when they first connect Fastmail:
/// senders that are bulk mail by their name alone. The user edits them in Settings.
pub const DEFAULT_BLOCKED_NAMES: &[&str] = &[
    "noreply",
    "no-reply",
    "donotreply",
    "do-not-reply",
    "mailer-daemon",
    "newsletter",
];
/// The mailboxes polled, by JMAP role.
const ROLES: [&str; 2] = ["inbox", "sent"];
/// Stored rounds stamped together by one `Email/set`: a call costs the server about as
/// much as its messages do.
const STAMP_ROUNDS: usize = 3;
/// Rounds written at once, each in its own transaction; they are stamped in order.
const STORES_IN_FLIGHT: usize = 2;
/// The next window is listed once fewer than this many rounds are left to fetch, so
/// its ids are there before the pages in flight run out.
const LIST_AHEAD_ROUNDS: usize = 3;
/// Fetched rounds waiting for the store stage: fetching runs this far ahead, so a
/// store that stalls for a moment (a flush, a busy disk) does not stall the server.
const ROUNDS_AHEAD: usize = 4;
/// The checkpoint stays this far behind the newest handled message, so mail received
/// in the same second is still queried (`after` is strict); stamped mail stays out.
const CHECKPOINT_MARGIN_SECS: i64 = 1;

#[derive(Debug, Clone)]
pub struct JmapSyncOptions {
    /// `Email/get` requests in flight at once (pages of [`PAGE`]), fewer when the
    /// server's `maxConcurrentRequests` says so; a round stored in one transaction is
    /// this many pages.
    pub in_flight: usize,
    /// New ids listed per mailbox at a time; the next window is listed while the last
    /// pages of one are fetched.
    pub window: usize,
}

impl Default for JmapSyncOptions {
    fn default() -> Self {
        Self {
            in_flight: 8,
            window: 5_000,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JmapSyncError {
    #[error(transparent)]
    Jmap(#[from] JmapError),
    #[error(transparent)]
    Account(#[from] JmapAccountError),
    #[error(transparent)]
    Ingest(#[from] IngestError),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl JmapSyncError {
    pub fn needs_reconnect(&self) -> bool {
        match self {
            Self::Jmap(e) => e.needs_reconnect(),
            Self::Account(JmapAccountError::NeedsReconnect(_)) => true,
            _ => false,
        }
    }

    /// A later attempt may succeed (the job's backoff decides when).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Jmap(e) => e.is_retryable(),
            Self::Account(JmapAccountError::Database(_))
            | Self::Ingest(_)
            | Self::Database(_)
            | Self::Domain(DomainError::Database(_)) => true,
            Self::Account(_) | Self::Domain(_) => false,
        }
    }

    /// For the account row: what happened, in the user's words.
    fn plain_words(&self) -> String {
        match self {
            Self::Jmap(JmapError::Unauthorized(detail)) => {
                format!(
                    "The server no longer accepts the credential ({detail}). Reconnect Fastmail."
                )
            }
            Self::Account(JmapAccountError::NeedsReconnect(detail)) => detail.clone(),
            Self::Jmap(JmapError::RateLimited { .. }) => {
                "The server asked us to slow down; the sync will continue shortly.".to_owned()
            }
            Self::Jmap(JmapError::Server(_) | JmapError::Transport(_)) => {
                "The mail server could not be reached; the sync will try again.".to_owned()
            }
            Self::Jmap(other) => format!("The mail server answered unexpectedly ({other})."),
            _ => "Rapport could not save the mail; the sync will try again.".to_owned(),
        }
    }
}

/// What one poll did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PollReport {
    pub fetched: usize,
    /// New or refreshed activities.
    pub stored: usize,
    /// Blocked senders, moved aside.
    pub filtered: usize,
    /// Already held through another account.
    pub duplicates: usize,
    pub stamped: usize,
    /// `Email/set` refused these (`notUpdated`): fetched again next poll.
    pub not_stamped: usize,
}

impl std::ops::AddAssign for PollReport {
    fn add_assign(&mut self, other: Self) {
        self.fetched += other.fetched;
        self.stored += other.stored;
        self.filtered += other.filtered;
        self.duplicates += other.duplicates;
        self.stamped += other.stamped;
        self.not_stamped += other.not_stamped;
    }
}

/// The poll engine: the database, a JMAP client, the key that opens credentials.
pub struct JmapSync<A> {
    db: Db,
    api: Arc<A>,
    secrets: SecretBox,
    options: JmapSyncOptions,
}

/// One poll's view of the account at the server.
struct Context<'a> {
    user: UserId,
    account: Uuid,
    endpoint: &'a Endpoint,
    session: &'a Session,
    roles: HashMap<String, String>,
    blocklist: Vec<BlocklistEntry>,
}

/// A mailbox polled: its role, JMAP id and checkpoint.
struct Polled {
    role: &'static str,
    mailbox: String,
    after: Option<DateTime<Utc>>,
}

/// Where a blocked message goes and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    entry: Uuid,
    rule: String,
    mailbox: &'static str,
}

impl<A: JmapApi> JmapSync<A> {
    pub fn new(db: Db, api: Arc<A>, secrets: SecretBox, options: JmapSyncOptions) -> Self {
        Self {
            db,
            api,
            secrets,
            options,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Polls one account. The account row says how it went: `active` (with the sync
    /// time), `needs_reconnect` (401, with the server's message) or `error`.
    pub async fn poll(&self, user: UserId, account: Uuid) -> Result<PollReport, JmapSyncError> {
        let accounts = self.db.for_user(user).accounts();
        let stored = accounts.jmap_account(account, &self.secrets).await?;
        accounts
            .mark_status(account, AccountStatus::Syncing, None)
            .await?;
        let result = self.poll_account(user, account, &stored).await;
        let (status, error) = match &result {
            Ok(_) => (AccountStatus::Active, None),
            Err(e) if e.needs_reconnect() => (AccountStatus::NeedsReconnect, Some(e.plain_words())),
            Err(e) => (AccountStatus::Error, Some(e.plain_words())),
        };
        match &result {
            // The server lost track of the query state: drop the checkpoints, so the
            // next poll queries from the start (stamped mail stays out).
            Err(JmapSyncError::Jmap(JmapError::Method { method, kind, .. })) => {
                tracing::warn!(%account, method, kind, "JMAP method error");
                if kind == "cannotCalculateChanges" {
                    accounts.clear_jmap_checkpoints(account).await?;
                }
            }
            Err(e) => tracing::warn!(%account, error = %e, "JMAP poll failed"),
            Ok(_) => {}
        }
        accounts
            .mark_status(account, status, error.as_deref())
            .await?;
        result
    }

    async fn poll_account(
        &self,
        user: UserId,
        account: Uuid,
        stored: &super::account::JmapAccount,
    ) -> Result<PollReport, JmapSyncError> {
        let endpoint = &stored.endpoint;
        let session = self.api.session(endpoint).await?;
        let mailboxes = self.api.mailboxes(endpoint, &session).await?;
        let scope = self.db.for_user(user);
        scope.channels().seed_default_blocklist().await?;
        let ctx = Context {
            user,
            account,
            endpoint,
            session: &session,
            roles: mailboxes
                .iter()
                .filter_map(|m| Some((m.id.clone(), m.role.clone()?.to_lowercase())))
                .collect(),
            blocklist: scope.channels().blocklist().await?,
        };
        let mut skip_boxes: HashMap<&'static str, String> = mailboxes
            .iter()
            .filter_map(|m| {
                [SKIP_EMAIL, SKIP_DOMAIN]
                    .into_iter()
                    .find(|s| *s == m.name)
                    .map(|s| (s, m.id.clone()))
            })
            .collect();
        let polled: Vec<Polled> = ROLES
            .into_iter()
            .filter_map(|role| {
                let (mailbox, _) = ctx.roles.iter().find(|(_, r)| r.as_str() == role)?;
                Some(Polled {
                    role,
                    mailbox: mailbox.clone(),
                    after: stored.checkpoints.get(role).copied(),
                })
            })
            .collect();
        let report = self.sync_mailboxes(&ctx, &polled, &mut skip_boxes).await?;
        tracing::info!(%account, ?report, "JMAP poll done");
        Ok(report)
    }

    /// The polled mailboxes through the three stages at once: fetch (`Email/get` pages
    /// in flight, gathered in rounds, the next window listed while the last pages of one
    /// are fetched), store (rounds in their own transactions, in order) and stamp
    /// (committed rounds, one `Email/set` at a time, then each mailbox's checkpoint).
    async fn sync_mailboxes(
        &self,
        ctx: &Context<'_>,
        polled: &[Polled],
        skip_boxes: &mut HashMap<&'static str, String>,
    ) -> Result<PollReport, JmapSyncError> {
        // Within the server's `maxConcurrentRequests`, keeping one for the stamp or
        // listing that may run beside the pages (the ledger lets only one at a time).
        let in_flight = self
            .options
            .in_flight
            .min(ctx.session.core_limit("maxConcurrentRequests", 4) - 1)
            .max(1);
        let round_size = in_flight * PAGE;
        let ledger = tokio::sync::Mutex::new(Ledger::default());
        let ledger = &ledger;
        let (to_store, mut fetched) = mpsc::channel::<Vec<(&'static str, Email)>>(ROUNDS_AHEAD);
        let (to_stamp, mut stored) = mpsc::unbounded_channel::<StoredRound>();
        let fetch = async move {
            let mut lister = Some(Lister::new(polled));
            let mut listing = None;
            let mut queue: VecDeque<(&'static str, String)> = VecDeque::new();
            let mut pages = FuturesOrdered::new();
            let mut round = Vec::with_capacity(round_size);
            loop {
                while pages.len() < in_flight && !queue.is_empty() {
                    let page: Vec<(&'static str, String)> =
                        queue.drain(..PAGE.min(queue.len())).collect();
                    pages.push_back(self.get_page(ctx, page));
                }
                if queue.len() < round_size * LIST_AHEAD_ROUNDS
                    && let Some(next) = lister.take_if(|l| !l.is_done())
                {
                    listing = Some(Box::pin(self.list_next(ctx, ledger, next)));
                }
                if pages.is_empty() && listing.is_none() {
                    break;
                }
                tokio::select! {
                    Some(page) = pages.next(), if !pages.is_empty() => {
                        round.extend(page?);
                        if round.len() >= round_size
                            && to_store.send(std::mem::take(&mut round)).await.is_err()
                        {
                            // The store stage failed; its error is the one reported.
                            return Ok(());
                        }
                    }
                    listed = async { listing.as_mut().expect("guarded").await }, if listing.is_some() => {
                        listing = None;
                        let (next, ids) = listed?;
                        lister = Some(next);
                        queue.extend(ids);
                    }
                }
            }
            if !round.is_empty() {
                let _ = to_store.send(round).await;
            }
            Ok::<_, JmapSyncError>(())
        };
        let store = async move {
            let mut rounds = FuturesOrdered::new();
            let mut open = true;
            loop {
                tokio::select! {
                    emails = fetched.recv(), if open && rounds.len() < STORES_IN_FLIGHT => {
                        match emails {
                            Some(emails) => rounds.push_back(self.store_round(ctx, emails)),
                            None => open = false,
                        }
                    }
                    Some(round) = rounds.next(), if !rounds.is_empty() => {
                        if to_stamp.send(round?).is_err() {
                            break;
                        }
                    }
                    else => break,
                }
            }
            Ok::<_, JmapSyncError>(())
        };
        let stamp = async {
            let mut report = PollReport::default();
            let mut ready: Vec<StoredRound> = Vec::new();
            loop {
                let next = stored.recv().await;
                let last = next.is_none();
                ready.extend(next);
                while let Ok(round) = stored.try_recv() {
                    ready.push(round);
                }
                if !ready.is_empty() && (ready.len() >= STAMP_ROUNDS || last) {
                    let rounds = std::mem::take(&mut ready);
                    report += self.stamp(ctx, rounds, skip_boxes, ledger).await?;
                }
                if last {
                    return Ok::<_, JmapSyncError>(report);
                }
            }
        };
        let ((), (), report) = tokio::try_join!(fetch, store, stamp)?;
        Ok(report)
    }

    /// The next window of every mailbox still listing: its oldest unstamped ids, up to a
    /// window beyond those listed and not yet stamped (which the server lists first and
    /// are left out), paged by position when the server caps a query's `limit`. No stamp
    /// is sent while the windows are listed, so the positions are exact.
    async fn list_next<'p>(
        &self,
        ctx: &Context<'_>,
        ledger: &tokio::sync::Mutex<Ledger>,
        mut lister: Lister<'p>,
    ) -> Result<(Lister<'p>, Vec<(&'static str, String)>), JmapError> {
        let mut ledger = ledger.lock().await;
        lister
            .mailboxes
            .retain(|m| !ledger.refused.contains(m.role));
        let limits: Vec<usize> = lister
            .mailboxes
            .iter()
            .map(|m| self.options.window + ledger.outstanding(m.role))
            .collect();
        let windows = try_join_all(
            lister
                .mailboxes
                .iter()
                .zip(&limits)
                .map(|(m, limit)| self.list_window(ctx, m, *limit)),
        )
        .await?;
        let mut ids = Vec::new();
        let mut still = Vec::new();
        for ((mailbox, window), limit) in lister.mailboxes.drain(..).zip(windows).zip(limits) {
            let complete = window.len() < limit;
            let before = ids.len();
            // Whatever the server lists again that was stamped (a stamp it confirmed
            // but did not apply) is not fetched in a loop.
            ids.extend(
                window
                    .into_iter()
                    .filter(|id| lister.listed.insert(id.clone()))
                    .map(|id| (mailbox.role, id)),
            );
            *ledger.outstanding.entry(mailbox.role).or_default() += ids.len() - before;
            if !complete && ids.len() > before {
                still.push(mailbox);
            }
        }
        lister.mailboxes = still;
        Ok((lister, ids))
    }

    /// `Email/get` of one page of listed ids, each message with its mailbox's role (ids
    /// the server no longer has are left out).
    async fn get_page(
        &self,
        ctx: &Context<'_>,
        page: Vec<(&'static str, String)>,
    ) -> Result<Vec<(&'static str, Email)>, JmapError> {
        let ids: Vec<String> = page.iter().map(|(_, id)| id.clone()).collect();
        let emails = self.api.get_emails(ctx.endpoint, ctx.session, &ids).await?;
        let role_of: HashMap<&str, &'static str> =
            page.iter().map(|(role, id)| (id.as_str(), *role)).collect();
        Ok(emails
            .into_iter()
            .filter_map(|email| Some((*role_of.get(email.id.as_str())?, email)))
            .collect())
    }

    /// Up to `limit` of a mailbox's oldest unstamped ids, paged by position when the
    /// server caps a query's `limit`.
    async fn list_window(
        &self,
        ctx: &Context<'_>,
        mailbox: &Polled,
        limit: usize,
    ) -> Result<Vec<String>, JmapError> {
        let mut ids: Vec<String> = Vec::new();
        while ids.len() < limit {
            let query = EmailQuery {
                mailbox_id: mailbox.mailbox.clone(),
                after: mailbox.after,
                position: ids.len(),
                limit: limit - ids.len(),
            };
            let page = self
                .api
                .list_emails(ctx.endpoint, ctx.session, &query)
                .await?;
            let complete = page.ids.is_empty() || page.capped_at.is_none();
            ids.extend(page.ids);
            if complete {
                break;
            }
        }
        Ok(ids)
    }

    /// Stamps committed rounds with one `Email/set`, then moves each of their mailboxes'
    /// checkpoints, except past a refused stamp (the ledger keeps those mailboxes).
    async fn stamp(
        &self,
        ctx: &Context<'_>,
        rounds: Vec<StoredRound>,
        skip_boxes: &mut HashMap<&'static str, String>,
        ledger: &tokio::sync::Mutex<Ledger>,
    ) -> Result<PollReport, JmapSyncError> {
        let round = StoredRound::merge(rounds);
        let patches = self.stamp_patches(ctx, &round, skip_boxes).await?;
        let mut ledger = ledger.lock().await;
        for message in &round.messages {
            if let Some(outstanding) = ledger.outstanding.get_mut(message.role) {
                *outstanding = outstanding.saturating_sub(1);
            }
        }
        let set = self
            .api
            .update_emails(ctx.endpoint, ctx.session, &patches)
            .await?;
        let (stamped, checkpoints) = stamped_round(round, set, ctx.account);
        for checkpoint in checkpoints {
            // After a refusal the checkpoint stays before the refused message.
            if ledger.refused.contains(checkpoint.role) {
                continue;
            }
            self.db
                .for_user(ctx.user)
                .accounts()
                .save_jmap_checkpoint(ctx.account, checkpoint.role, checkpoint.at)
                .await?;
            if checkpoint.refused {
                ledger.refused.insert(checkpoint.role);
            }
        }
        Ok(stamped)
    }

    /// Stores one round in one transaction: blocked senders recorded, the rest ingested.
    async fn store_round(
        &self,
        ctx: &Context<'_>,
        emails: Vec<(&'static str, Email)>,
    ) -> Result<StoredRound, JmapSyncError> {
        let scope = self.db.for_user(ctx.user);
        let blocks: Vec<Option<Block>> = emails
            .iter()
            .map(|(_, e)| blocked(&ctx.blocklist, e))
            .collect();
        let mut incoming = Vec::new();
        let mut blocked_rows = Vec::new();
        for ((_, email), block) in emails.iter().zip(&blocks) {
            match block {
                Some(block) => {
                    blocked_rows.push((email.id.clone(), block.entry, block.rule.clone()))
                }
                None => incoming.push(IncomingEmail {
                    external_id: email.id.clone(),
                    thread_id: email.thread_id.clone(),
                    labels: labels_of(email, &ctx.roles),
                    received_at: email.received_at,
                    content: parse_jmap_email(email).into(),
                }),
            }
        }
        let mut report = PollReport {
            fetched: emails.len(),
            filtered: blocked_rows.len(),
            ..PollReport::default()
        };
        scope
            .channels()
            .record_blocked_mail(ctx.account, &blocked_rows)
            .await?;
        let filter = IngestFilter {
            skip_labels: Vec::new(),
            skip_duplicates: true,
        };
        let outcomes = scope
            .mail()
            .store_emails(ctx.account, &incoming, &filter)
            .await?;
        for stored in &outcomes {
            match stored.outcome {
                StoreOutcome::Imported(_) | StoreOutcome::Updated(_) => report.stored += 1,
                StoreOutcome::Duplicate(_) => report.duplicates += 1,
                StoreOutcome::Filtered { .. } | StoreOutcome::Failed { .. } => {}
            }
        }
        Ok(StoredRound {
            report,
            messages: emails
                .into_iter()
                .zip(blocks)
                .map(|((role, email), block)| Handled {
                    role,
                    id: email.id,
                    received_at: email.received_at,
                    aside: block.map(|b| b.mailbox),
                })
                .collect(),
        })
    }

    /// The stamps of a committed round: `$crm_done`, and blocked mail moved aside (into
    /// `Skip_Email` / `Skip_Domain`, created when missing) and marked read.
    async fn stamp_patches(
        &self,
        ctx: &Context<'_>,
        round: &StoredRound,
        skip_boxes: &mut HashMap<&'static str, String>,
    ) -> Result<Vec<(String, EmailPatch)>, JmapSyncError> {
        for aside in round.messages.iter().filter_map(|m| m.aside) {
            if !skip_boxes.contains_key(aside) {
                let id = self
                    .api
                    .create_mailboxes(ctx.endpoint, ctx.session, &[aside])
                    .await?
                    .remove(0);
                skip_boxes.insert(aside, id);
            }
        }
        Ok(round
            .messages
            .iter()
            .map(|m| {
                let patch = match m.aside {
                    Some(aside) => EmailPatch::moved_aside(&skip_boxes[aside]),
                    None => EmailPatch::done(),
                };
                (m.id.clone(), patch)
            })
            .collect())
    }
}

/// What stamping a stored round did, by `Email/set`'s answer, and where each of its
/// mailboxes' checkpoints moves.
fn stamped_round(
    round: StoredRound,
    set: SetOutcome,
    account: Uuid,
) -> (PollReport, Vec<Checkpoint>) {
    for (id, kind) in &set.not_updated {
        tracing::warn!(%account, id, kind, "JMAP Email/set notUpdated; retried next poll");
    }
    let mut report = round.report;
    report.stamped = set.updated.len();
    report.not_stamped = set.not_updated.len();
    let refused: HashSet<&str> = set.not_updated.iter().map(|(id, _)| id.as_str()).collect();
    let roles: HashSet<&'static str> = round.messages.iter().map(|m| m.role).collect();
    let checkpoints = roles
        .into_iter()
        .filter_map(|role| {
            let mailbox = round.messages.iter().filter(|m| m.role == role);
            let oldest_refused = mailbox
                .clone()
                .filter(|m| refused.contains(m.id.as_str()))
                .map(|m| m.received_at)
                .min();
            let newest = mailbox.map(|m| m.received_at).max()?;
            Some(Checkpoint::after(role, newest, oldest_refused))
        })
        .collect();
    (report, checkpoints)
}

/// The fetch stage's side of listing: the mailboxes still listing and the ids listed.
struct Lister<'p> {
    mailboxes: Vec<&'p Polled>,
    listed: HashSet<String>,
}

impl<'p> Lister<'p> {
    fn new(polled: &'p [Polled]) -> Self {
        Self {
            mailboxes: polled.iter().collect(),
            listed: HashSet::new(),
        }
    }

    fn is_done(&self) -> bool {
        self.mailboxes.is_empty()
    }
}

/// What listings and stamps share, behind the lock that keeps them apart: by mailbox,
/// the messages listed whose stamps are not sent yet (the server still lists them), and
/// the mailboxes with a refused stamp (they list nothing more this poll).
#[derive(Default)]
struct Ledger {
    outstanding: HashMap<&'static str, usize>,
    refused: HashSet<&'static str>,
}

impl Ledger {
    fn outstanding(&self, role: &'static str) -> usize {
        self.outstanding.get(role).copied().unwrap_or(0)
    }
}

/// A round written to the database, waiting for its stamps.
struct StoredRound {
    report: PollReport,
    messages: Vec<Handled>,
}

/// A message of a stored round: its JMAP id, mailbox, receivedAt, and where it goes if
/// blocked.
struct Handled {
    id: String,
    role: &'static str,
    received_at: DateTime<Utc>,
    aside: Option<&'static str>,
}

impl StoredRound {
    fn merge(rounds: Vec<StoredRound>) -> StoredRound {
        rounds.into_iter().fold(
            StoredRound {
                report: PollReport::default(),
                messages: Vec::new(),
            },
            |mut all, round| {
                all.report += round.report;
                all.messages.extend(round.messages);
                all
            },
        )
    }
}

/// Where a mailbox's next poll starts.
#[derive(Debug, PartialEq, Eq)]
struct Checkpoint {
    role: &'static str,
    at: DateTime<Utc>,
    /// A stamp was refused: the checkpoint stays here for the rest of the poll.
    refused: bool,
}

impl Checkpoint {
    /// Just before the oldest message whose stamp was refused, else just before the
    /// newest handled one.
    fn after(
        role: &'static str,
        newest: DateTime<Utc>,
        oldest_refused: Option<DateTime<Utc>>,
    ) -> Self {
        Self {
            role,
            at: oldest_refused.unwrap_or(newest)
                - chrono::Duration::seconds(CHECKPOINT_MARGIN_SECS),
            refused: oldest_refused.is_some(),
        }
    }
}

/// The blocklist entry that stops this message, by its senders: an exact address first,
/// then a domain, then a name pattern (in the display name or the local part).
fn blocked(entries: &[BlocklistEntry], email: &Email) -> Option<Block> {
    let senders: Vec<(String, String)> = email
        .from
        .iter()
        .flatten()
        .filter_map(|a| {
            let address = crate::EmailAddress::parse(a.email.as_deref()?).ok()?;
            Some((
                address.as_str().to_owned(),
                a.name.as_deref().unwrap_or_default().to_lowercase(),
            ))
        })
        .collect();
    let rank = |entry: &BlockEntry| match entry {
        BlockEntry::Email(_) => 0,
        BlockEntry::Domain(_) => 1,
        _ => 2,
    };
    let mut hits: Vec<&BlocklistEntry> = entries
        .iter()
        .filter(|b| {
            senders.iter().any(|(address, name)| {
                let (local, domain) = address.rsplit_once('@').unwrap_or((address, ""));
                match &b.entry {
                    BlockEntry::Email(e) => e.as_str() == address,
                    BlockEntry::Domain(d) => d == domain,
                    BlockEntry::Name(pattern) => {
                        local.contains(pattern.as_str()) || name.contains(pattern.as_str())
                    }
                    BlockEntry::Phone(_) => false,
                }
            })
        })
        .collect();
    hits.sort_by_key(|b| rank(&b.entry));
    hits.first().map(|b| Block {
        entry: b.id,
        rule: format!("blocklist:{}", b.entry.display()),
        mailbox: match b.entry {
            BlockEntry::Domain(_) => SKIP_DOMAIN,
            _ => SKIP_EMAIL,
        },
    })
}

/// A poll of one Fastmail / JMAP account; at most one queued or running per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct JmapPollJob {
    pub account_id: Uuid,
}

/// What a [`JmapPollJob`] runs: the poll engine, whichever JMAP client it talks to.
pub trait PollsJmap: Send + Sync {
    fn poll(
        &self,
        user: UserId,
        account: Uuid,
    ) -> Pin<Box<dyn Future<Output = Result<PollReport, JmapSyncError>> + Send + '_>>;
}

impl<A: JmapApi> PollsJmap for JmapSync<A> {
    fn poll(
        &self,
        user: UserId,
        account: Uuid,
    ) -> Pin<Box<dyn Future<Output = Result<PollReport, JmapSyncError>> + Send + '_>> {
        Box::pin(JmapSync::poll(self, user, account))
    }
}

impl BackgroundJob for JmapPollJob {
    const KIND: &'static str = "jmap.poll";
    type Context = dyn PollsJmap;

    fn unique_key(&self) -> Option<String> {
        Some(format!("{}:{}", Self::KIND, self.account_id))
    }

    /// A refused credential stops at once (the account says needs-reconnect); rate
    /// limits and outages are retried after the queue's backoff.
    async fn run(&self, sync: &Self::Context, job: &Job) -> Result<(), JobError> {
        let user = job
            .user
            .ok_or_else(|| JobError::Permanent("JMAP poll without a user".to_owned()))?;
        match sync.poll(user, self.account_id).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_retryable() && !e.needs_reconnect() => {
                Err(JobError::Retryable(e.to_string()))
            }
            Err(e) => Err(JobError::Permanent(e.to_string())),
        }
    }
}

/// Queues a [`JmapPollJob`] for every Fastmail account that can sync and has none
/// queued or running. Returns how many were queued.
pub async fn enqueue_jmap_polls(db: &Db) -> Result<u64, QueueError> {
    let queued = sqlx::query!(
        r#"insert into jobs (user_id, kind, payload, unique_key)
           select a.user_id, $1, jsonb_build_object('account_id', a.id), $1 || ':' || a.id
           from accounts a
           where a.provider = 'fastmail' and a.status in ('active', 'syncing', 'error')
           on conflict (unique_key)
             where unique_key is not null and state in ('queued', 'running')
             do nothing"#,
        JmapPollJob::KIND,
    )
    .execute(db.pool())
    .await?;
    Ok(queued.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> BlocklistEntry {
        BlocklistEntry {
            id: Uuid::new_v4(),
            entry: BlockEntry::parse(text).unwrap(),
            hits: 0,
        }
    }

    fn from(name: &str, address: &str) -> Email {
        serde_json::from_value(serde_json::json!({
            "id": "x", "receivedAt": "2025-01-01T00:00:00Z",
            "from": [{"name": name, "email": address}]
        }))
        .unwrap()
    }

    #[test]
    fn blocks_by_address_then_domain_then_name() {
        let list = [
            entry("name:newsletter"),
            entry("*@spam.example"),
            entry("boss@spam.example"),
        ];
        let exact = blocked(&list, &from("Boss", "Boss@spam.example")).unwrap();
        assert_eq!(
            (exact.rule.as_str(), exact.mailbox),
            ("blocklist:boss@spam.example", SKIP_EMAIL)
        );
        let domain = blocked(&list, &from("Other", "other@spam.example")).unwrap();
        assert_eq!(
            (domain.rule.as_str(), domain.mailbox),
            ("blocklist:*@spam.example", SKIP_DOMAIN)
        );
        let name = blocked(&list, &from("Acme Newsletter", "hello@acme.example")).unwrap();
        assert_eq!(
            (name.rule.as_str(), name.mailbox),
            ("blocklist:name:newsletter", SKIP_EMAIL)
        );
        let local = blocked(&[entry("name:noreply")], &from("", "noreply@acme.example")).unwrap();
        assert_eq!(local.mailbox, SKIP_EMAIL);
        assert!(blocked(&list, &from("Ann", "ann@friends.example")).is_none());
    }

    #[test]
    fn the_checkpoint_stops_before_a_refused_stamp() {
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        let handled = |id: &str, role, received: &str| Handled {
            id: id.to_owned(),
            role,
            received_at: at(received),
            aside: None,
        };
        let round = || StoredRound {
            report: PollReport::default(),
            messages: vec![
                handled("a", "inbox", "2025-01-01T12:00:00Z"),
                handled("b", "inbox", "2025-01-02T00:00:00Z"),
                handled("c", "sent", "2025-01-03T00:00:00Z"),
            ],
        };
        let set = |refused: &[&str]| SetOutcome {
            updated: ["a", "b", "c"]
                .into_iter()
                .filter(|id| !refused.contains(id))
                .map(str::to_owned)
                .collect(),
            not_updated: refused
                .iter()
                .map(|id| (id.to_string(), "serverFail".to_owned()))
                .collect(),
        };
        let sorted = |mut c: Vec<Checkpoint>| {
            c.sort_by_key(|c| c.role);
            c
        };
        let (report, all) = stamped_round(round(), set(&[]), Uuid::nil());
        assert_eq!((report.stamped, report.not_stamped), (3, 0));
        assert_eq!(
            sorted(all),
            [
                Checkpoint {
                    role: "inbox",
                    at: at("2025-01-01T23:59:59Z"),
                    refused: false
                },
                Checkpoint {
                    role: "sent",
                    at: at("2025-01-02T23:59:59Z"),
                    refused: false
                },
            ]
        );
        let (report, one_refused) = stamped_round(round(), set(&["a"]), Uuid::nil());
        assert_eq!((report.stamped, report.not_stamped), (2, 1));
        assert_eq!(
            sorted(one_refused),
            [
                Checkpoint {
                    role: "inbox",
                    at: at("2025-01-01T11:59:59Z"),
                    refused: true
                },
                Checkpoint {
                    role: "sent",
                    at: at("2025-01-02T23:59:59Z"),
                    refused: false
                },
            ]
        );
    }
}
