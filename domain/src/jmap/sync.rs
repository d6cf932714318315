//! Polling a Fastmail / JMAP account: the Inbox and Sent mailboxes, each from its own
//! checkpoint, messages not yet stamped `$crm_done`, oldest first, several pages of 50
//! in flight at once.
//!
//! Each round (the pages fetched together) is stored through the ingest layer (one
//! activity per JMAP id, idempotent), with blocked senders recorded as `filtered` and
//! counted instead of stored, and messages the user has through another account
//! recorded as `duplicate`. Only after that commits does `Email/set` stamp the round
//! (`$crm_done`; blocked mail is also moved to `Skip_Email` / `Skip_Domain` and marked
//! `$seen`), and only then does the checkpoint move. A crash between the commit and the
//! stamp fetches the round again next time, and storing it again changes nothing.
//! Storing a round overlaps with stamping the one before and fetching the next.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use api::AccountStatus;
use chrono::{DateTime, Utc};
use futures::future::try_join_all;
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
/// Stored rounds stamped together by one `Email/set`.
const STAMP_ROUNDS: usize = 3;
/// The checkpoint stays this far behind the newest handled message, so mail received
/// in the same second is still queried (`after` is strict); stamped mail stays out.
const CHECKPOINT_MARGIN_SECS: i64 = 1;

#[derive(Debug, Clone)]
pub struct JmapSyncOptions {
    /// `Email/query` + `Email/get` requests in flight at once (pages of [`PAGE`]).
    pub in_flight: usize,
}

impl Default for JmapSyncOptions {
    fn default() -> Self {
        Self { in_flight: 4 }
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
        let mut report = PollReport::default();
        for role in ROLES {
            let Some(mailbox) = ctx
                .roles
                .iter()
                .find(|(_, r)| r.as_str() == role)
                .map(|(id, _)| id.clone())
            else {
                continue;
            };
            let after = stored.checkpoints.get(role).copied();
            report += self
                .sync_mailbox(&ctx, role, &mailbox, after, &mut skip_boxes)
                .await?;
        }
        tracing::info!(%account, ?report, "JMAP poll done");
        Ok(report)
    }

    /// One mailbox, as a pipeline of two stages: the store stage writes round `k` to
    /// the database while the server stage stamps round `k - 1` and fetches round
    /// `k + 1`. The server stage alone talks to the server, so it knows exactly which
    /// messages have left the query's results (stamped or moved aside, confirmed by
    /// `Email/set`) and pages by position past the ones fetched but not yet stamped.
    async fn sync_mailbox(
        &self,
        ctx: &Context<'_>,
        role: &'static str,
        mailbox: &str,
        after: Option<DateTime<Utc>>,
        skip_boxes: &mut HashMap<&'static str, String>,
    ) -> Result<PollReport, JmapSyncError> {
        let (to_store, mut fetched) = mpsc::channel::<Vec<Email>>(1);
        let (to_stamp, stored) = mpsc::unbounded_channel::<StoredRound>();
        let store = async move {
            while let Some(emails) = fetched.recv().await {
                let round = self.store_round(ctx, emails).await?;
                if to_stamp.send(round).is_err() {
                    break;
                }
            }
            Ok::<_, JmapSyncError>(())
        };
        let server = self.fetch_and_stamp(ctx, role, mailbox, after, skip_boxes, to_store, stored);
        let (report, stored) = tokio::join!(server, store);
        // A store failure ends the server stage early: it is the cause to report.
        stored?;
        report
    }

    /// The server stage of [`Self::sync_mailbox`]. Each step sends, at once, one request
    /// listing the next ids (`Email/query`, led by the `Email/set` stamping the rounds
    /// stored since the last one, so the query's positions already leave them out) and
    /// `Email/get` of the ids listed the step before. Refused stamps make a position too
    /// low, never too high: a message is listed twice, never skipped. Ends when the
    /// mailbox has no more unstamped mail and every round is stamped.
    #[allow(clippy::too_many_arguments)]
    async fn fetch_and_stamp(
        &self,
        ctx: &Context<'_>,
        role: &'static str,
        mailbox: &str,
        after: Option<DateTime<Utc>>,
        skip_boxes: &mut HashMap<&'static str, String>,
        to_store: mpsc::Sender<Vec<Email>>,
        mut stored: mpsc::UnboundedReceiver<StoredRound>,
    ) -> Result<PollReport, JmapSyncError> {
        let round_size = self.options.in_flight * PAGE;
        let mut report = PollReport::default();
        let mut listed: HashSet<String> = HashSet::new();
        // Listed, not yet fetched, oldest first.
        let mut to_get: VecDeque<String> = VecDeque::new();
        // Listed messages that have left the query's results: stamped or moved.
        let mut removed = 0;
        let mut in_store = 0;
        let mut listing = true;
        let mut refused = false;
        let mut ready: Vec<StoredRound> = Vec::new();
        loop {
            let busy = listing || !to_get.is_empty();
            // Collect what is stored; wait for it once nothing is left to list or get.
            while in_store > 0 {
                let round = if busy {
                    match stored.try_recv() {
                        Ok(round) => round,
                        Err(_) => break,
                    }
                } else {
                    match stored.recv().await {
                        Some(round) => round,
                        // The store stage failed; `sync_mailbox` reports why.
                        None => return Ok(report),
                    }
                };
                in_store -= 1;
                ready.push(round);
            }
            // An `Email/set` costs the server about as much per call as per message:
            // stamp several rounds at once, unless nothing more is coming.
            let stamp = (!ready.is_empty() && (ready.len() >= STAMP_ROUNDS || !busy))
                .then(|| StoredRound::merge(std::mem::take(&mut ready)));
            if !busy && stamp.is_none() {
                return Ok(report);
            }
            let patches = match &stamp {
                Some(round) => self.stamp_patches(ctx, round, skip_boxes).await?,
                None => Vec::new(),
            };
            let batch: Vec<String> = to_get.drain(..round_size.min(to_get.len())).collect();
            let list_or_stamp = async {
                if !listing {
                    let set = self
                        .api
                        .update_emails(ctx.endpoint, ctx.session, &patches)
                        .await?;
                    return Ok::<_, JmapError>((None, set));
                }
                let query = EmailQuery {
                    mailbox_id: mailbox.to_owned(),
                    after,
                    // Unstamped messages stay at the front of the results (oldest first).
                    position: (listed.len() - removed).saturating_sub(patches.len()),
                    limit: round_size,
                };
                let listing = self
                    .api
                    .list_emails(ctx.endpoint, ctx.session, &query, &patches)
                    .await?;
                Ok((Some(listing.ids), listing.stamped))
            };
            let ((ids, set), emails) = tokio::try_join!(list_or_stamp, self.get(ctx, &batch))?;
            if let Some(round) = stamp {
                let stamped = stamped_round(round, set, ctx.account);
                removed += stamped.report.stamped;
                report += stamped.report;
                if !refused {
                    self.save_checkpoint(ctx, role, stamped.checkpoint())
                        .await?;
                }
                if stamped.report.not_stamped > 0 {
                    // Refused stamps are fetched again next poll, not in a loop now;
                    // the checkpoint stays before the oldest of them.
                    listing = false;
                    refused = true;
                }
            }
            if let Some(ids) = ids {
                let full = ids.len() == round_size;
                // Mail arriving meanwhile can shift the results: list each message once.
                let before = to_get.len();
                to_get.extend(ids.into_iter().filter(|id| listed.insert(id.clone())));
                if !full || to_get.len() == before {
                    listing = false;
                }
            }
            if !emails.is_empty() {
                if to_store.send(emails).await.is_err() {
                    // The store stage failed; `sync_mailbox` reports why.
                    return Ok(report);
                }
                in_store += 1;
            }
        }
    }

    /// `Email/get` of `ids`, pages of [`PAGE`] at once.
    async fn get(&self, ctx: &Context<'_>, ids: &[String]) -> Result<Vec<Email>, JmapError> {
        let pages = try_join_all(
            ids.chunks(PAGE)
                .map(|page| self.api.get_emails(ctx.endpoint, ctx.session, page)),
        )
        .await?;
        Ok(pages.into_iter().flatten().collect())
    }

    async fn save_checkpoint(
        &self,
        ctx: &Context<'_>,
        role: &str,
        at: Option<DateTime<Utc>>,
    ) -> Result<(), JmapSyncError> {
        if let Some(at) = at {
            self.db
                .for_user(ctx.user)
                .accounts()
                .save_jmap_checkpoint(ctx.account, role, at)
                .await?;
        }
        Ok(())
    }

    /// Stores one round in one transaction: blocked senders recorded, the rest ingested.
    async fn store_round(
        &self,
        ctx: &Context<'_>,
        emails: Vec<Email>,
    ) -> Result<StoredRound, JmapSyncError> {
        let scope = self.db.for_user(ctx.user);
        let blocks: Vec<Option<Block>> =
            emails.iter().map(|e| blocked(&ctx.blocklist, e)).collect();
        let mut incoming = Vec::new();
        let mut blocked_rows = Vec::new();
        for (email, block) in emails.iter().zip(&blocks) {
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
                .map(|(email, block)| (email.id, email.received_at, block.map(|b| b.mailbox)))
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
        for aside in round.messages.iter().filter_map(|(_, _, aside)| *aside) {
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
            .map(|(id, _, aside)| {
                let patch = match aside {
                    Some(aside) => EmailPatch::moved_aside(&skip_boxes[aside]),
                    None => EmailPatch::done(),
                };
                (id.clone(), patch)
            })
            .collect())
    }
}

/// What stamping a stored round did, by `Email/set`'s answer.
fn stamped_round(round: StoredRound, set: SetOutcome, account: Uuid) -> Round {
    for (id, kind) in &set.not_updated {
        tracing::warn!(%account, id, kind, "JMAP Email/set notUpdated; retried next poll");
    }
    let mut report = round.report;
    report.stamped = set.updated.len();
    report.not_stamped = set.not_updated.len();
    let refused: HashSet<&str> = set.not_updated.iter().map(|(id, _)| id.as_str()).collect();
    Round {
        report,
        newest: round.messages.iter().map(|(_, at, _)| *at).max(),
        oldest_refused: round
            .messages
            .iter()
            .filter(|(id, _, _)| refused.contains(id.as_str()))
            .map(|(_, at, _)| *at)
            .min(),
    }
}

/// A round written to the database, waiting for its stamps: each message's JMAP id,
/// its receivedAt, and where it goes if blocked.
struct StoredRound {
    report: PollReport,
    messages: Vec<(String, DateTime<Utc>, Option<&'static str>)>,
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

struct Round {
    report: PollReport,
    newest: Option<DateTime<Utc>>,
    oldest_refused: Option<DateTime<Utc>>,
}

impl Round {
    /// Just before the oldest message whose stamp was refused, else just before the
    /// newest handled one.
    fn checkpoint(&self) -> Option<DateTime<Utc>> {
        self.oldest_refused
            .or(self.newest)
            .map(|at| at - chrono::Duration::seconds(CHECKPOINT_MARGIN_SECS))
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
        let mut round = Round {
            report: PollReport::default(),
            newest: Some(at("2025-01-02T00:00:00Z")),
            oldest_refused: None,
        };
        assert_eq!(round.checkpoint(), Some(at("2025-01-01T23:59:59Z")));
        round.oldest_refused = Some(at("2025-01-01T12:00:00Z"));
        assert_eq!(round.checkpoint(), Some(at("2025-01-01T11:59:59Z")));
    }
}
