//! Full sync: take the profile's history id first, list every id (SPAM and TRASH
//! excluded) newest first, fetch each as raw concurrently within the account's quota,
//! and store in batches. A lister/fetcher and a storer run side by side joined by a
//! channel, so fetching never waits for the database and page boundaries do not stall
//! the quota. The checkpoint (the next page to list) only moves past a page once all of
//! its messages are stored or recorded as failed.

use std::collections::VecDeque;
use std::sync::Arc;

use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use uuid::Uuid;

use super::progress::Reporter;
use super::state::{FullCheckpoint, Stage};
use super::{GmailSync, HIDDEN_LABELS, SyncError, SyncReport};
use crate::gmail::{GmailApi, GmailError, HistoryId, ListQuery, QuotaClient, RawMessage};
use crate::ingest::IncomingEmail;
use crate::{UserId, UserScope};

/// One result flowing from the fetchers to the storer. `page` is the listing order.
enum Item {
    /// A page was listed: `pending` of its messages will follow.
    Page {
        page: u64,
        pending: usize,
        token_after: Option<String>,
    },
    Fetched {
        page: u64,
        email: IncomingEmail,
    },
    /// Deleted between listing and fetching.
    Gone {
        page: u64,
        id: String,
    },
    Failed {
        page: u64,
        id: String,
        error: String,
    },
}

struct PageState {
    remaining: usize,
    token_after: Option<String>,
}

pub(super) fn incoming(m: RawMessage) -> IncomingEmail {
    IncomingEmail {
        external_id: m.id,
        thread_id: m.thread_id,
        labels: m.label_ids,
        received_at: m.internal_date,
        content: m.raw.into(),
    }
}

impl<A: GmailApi> GmailSync<A> {
    /// Runs (or resumes) a full sync and returns the cursor it establishes.
    pub(super) async fn full(
        &self,
        user: UserId,
        client: &Arc<QuotaClient<A>>,
        checkpoint: Option<FullCheckpoint>,
        reporter: &mut Reporter,
        report: &mut SyncReport,
    ) -> Result<HistoryId, SyncError> {
        let scope = self.db.for_user(user);
        let account = client.account();
        reporter.stage(Stage::Listing).await?;
        let checkpoint = match checkpoint {
            Some(cp) => cp,
            None => {
                let profile = client.get_profile().await?;
                let cp = FullCheckpoint {
                    history_id: profile.history_id,
                    started_at: scope.sync().db_now().await?,
                    page_token: None,
                    done: 0,
                    failed: 0,
                    total: profile.messages_total,
                };
                save(&scope, account, &cp).await?;
                cp
            }
        };
        self.refresh_aliases(&scope, client).await?;
        reporter.progress.total = Some(checkpoint.total);
        reporter.progress.done = checkpoint.done;
        reporter.progress.failed = checkpoint.failed;
        reporter.restart_rate();

        let (tx, rx) = mpsc::channel(1024);
        let dispatch = self.dispatch(scope, Arc::clone(client), checkpoint.clone(), tx);
        let store = self.store(scope, account, checkpoint.clone(), rx, reporter, report);
        let (_, checkpoint) = tokio::try_join!(dispatch, store)?;

        // Every message Gmail listed was touched since the start; imported ones that
        // were not are gone from Gmail (deleted or moved to spam/trash meanwhile).
        let gone = scope
            .sync()
            .imported_untouched_since(account, checkpoint.started_at)
            .await?;
        report.deleted += scope.mail().mark_emails_deleted(account, &gone).await?;
        scope
            .sync()
            .patch_sync_state(
                account,
                json!({"history_id": checkpoint.history_id}),
                &["full"],
            )
            .await?;
        reporter.emit(true).await?;
        Ok(checkpoint.history_id)
    }

    /// Keeps `sync_state.aliases` (the owner's send-as addresses, used to tell sent
    /// mail) current. Optional: an account or server without the settings scope still
    /// syncs.
    async fn refresh_aliases(
        &self,
        scope: &UserScope<'_>,
        client: &QuotaClient<A>,
    ) -> Result<(), SyncError> {
        match client.list_send_as().await {
            Ok(send_as) => {
                let aliases: Vec<String> = send_as
                    .into_iter()
                    .map(|s| s.send_as_email.to_lowercase())
                    .collect();
                scope
                    .sync()
                    .patch_sync_state(client.account(), json!({ "aliases": aliases }), &[])
                    .await
            }
            Err(e) if e.needs_reconnect() => Err(e.into()),
            Err(e) => {
                tracing::debug!(account = %client.account(), error = %e, "send-as addresses unavailable");
                Ok(())
            }
        }
    }

    /// Lists pages and fetches the messages this run has not stored yet.
    async fn dispatch(
        &self,
        scope: UserScope<'_>,
        client: Arc<QuotaClient<A>>,
        checkpoint: FullCheckpoint,
        tx: mpsc::Sender<Item>,
    ) -> Result<(), SyncError> {
        let account = client.account();
        let query = ListQuery::default();
        let in_flight = client_concurrency(&client);
        let mut fetches: JoinSet<Result<(), GmailError>> = JoinSet::new();
        let mut token = checkpoint.page_token.clone();
        let mut page = 0u64;
        loop {
            let listed = match client.list_messages(&query, token.as_deref()).await {
                // Page tokens do not live forever; listing again from the top is safe
                // because what this run stored is skipped.
                Err(GmailError::Rejected { status: 400, .. }) if page == 0 && token.is_some() => {
                    token = None;
                    continue;
                }
                other => other?,
            };
            let ids: Vec<String> = listed.messages.into_iter().map(|m| m.id).collect();
            let known = scope
                .sync()
                .stored_since(account, &ids, checkpoint.started_at)
                .await?;
            let todo: Vec<String> = ids.into_iter().filter(|id| !known.contains(id)).collect();
            let sent = tx
                .send(Item::Page {
                    page,
                    pending: todo.len(),
                    token_after: listed.next_page_token.clone(),
                })
                .await;
            if sent.is_err() {
                // The storer stopped; its error is the one to report.
                return Ok(());
            }
            for id in todo {
                while fetches.len() >= in_flight {
                    joined(fetches.join_next().await)?;
                }
                fetches.spawn(fetch(Arc::clone(&client), id, page, tx.clone()));
            }
            match listed.next_page_token {
                Some(next) => token = Some(next),
                None => break,
            }
            page += 1;
        }
        while let Some(done) = fetches.join_next().await {
            joined(Some(done))?;
        }
        Ok(())
    }

    /// Stores fetched messages in batches and moves the checkpoint over completed pages.
    async fn store(
        &self,
        scope: UserScope<'_>,
        account: Uuid,
        checkpoint: FullCheckpoint,
        mut rx: mpsc::Receiver<Item>,
        reporter: &mut Reporter,
        report: &mut SyncReport,
    ) -> Result<FullCheckpoint, SyncError> {
        let mut run = StoreRun {
            batch: Batch::default(),
            pages: VecDeque::new(),
            checkpoint,
        };
        let mut first_fetch = true;
        loop {
            let item = match tokio::time::timeout(self.options.flush_after, rx.recv()).await {
                Ok(Some(item)) => Some(item),
                Ok(None) => None,
                Err(_quiet) => {
                    if !run.batch.is_empty() {
                        self.flush(&scope, account, &mut run, reporter, report)
                            .await?;
                    }
                    continue;
                }
            };
            let Some(item) = item else { break };
            match item {
                Item::Page {
                    page,
                    pending,
                    token_after,
                } => {
                    run.pages.push_back((
                        page,
                        PageState {
                            remaining: pending,
                            token_after,
                        },
                    ));
                    if first_fetch {
                        first_fetch = false;
                        reporter.stage(Stage::Fetching).await?;
                    }
                }
                Item::Fetched { page, email } => run.batch.emails.push((page, email)),
                Item::Gone { page, id } => run.batch.gone.push((page, id)),
                Item::Failed { page, id, error } => run.batch.failed.push((page, id, error)),
            }
            if run.batch.len() >= self.options.batch_size || pages_ready(&run.pages) {
                self.flush(&scope, account, &mut run, reporter, report)
                    .await?;
            }
        }
        self.flush(&scope, account, &mut run, reporter, report)
            .await?;
        Ok(run.checkpoint)
    }

    async fn flush(
        &self,
        scope: &UserScope<'_>,
        account: Uuid,
        run: &mut StoreRun,
        reporter: &mut Reporter,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let batch = std::mem::take(&mut run.batch);
        let pages = &mut run.pages;
        let checkpoint = &mut run.checkpoint;
        let mut finished: Vec<u64> = Vec::with_capacity(batch.len());
        if !batch.emails.is_empty() {
            let (email_pages, emails): (Vec<u64>, Vec<IncomingEmail>) =
                batch.emails.into_iter().unzip();
            scope
                .mail()
                .store_emails(account, &emails, &self.options.filter)
                .await?;
            report.stored += emails.len() as u64;
            finished.extend(email_pages);
        }
        if !batch.failed.is_empty() {
            let failures: Vec<(String, String)> = batch
                .failed
                .iter()
                .map(|(_, id, e)| (id.clone(), e.clone()))
                .collect();
            scope
                .sync()
                .record_fetch_failures(account, &failures)
                .await?;
            report.failed += failures.len() as u64;
            checkpoint.failed += failures.len() as u64;
            finished.extend(batch.failed.iter().map(|(p, _, _)| *p));
        }
        if !batch.gone.is_empty() {
            let ids: Vec<String> = batch.gone.iter().map(|(_, id)| id.clone()).collect();
            report.deleted += scope.mail().mark_emails_deleted(account, &ids).await?;
            finished.extend(batch.gone.iter().map(|(p, _)| *p));
        }
        checkpoint.done += finished.len() as u64;
        for page in finished {
            if let Some((_, state)) = pages.iter_mut().find(|(p, _)| *p == page) {
                state.remaining = state.remaining.saturating_sub(1);
            }
        }
        let mut moved = false;
        while pages.front().is_some_and(|(_, s)| s.remaining == 0) {
            let (_, state) = pages.pop_front().expect("front exists");
            checkpoint.page_token = state.token_after;
            moved = true;
        }
        if moved || checkpoint.done > 0 {
            save(scope, account, checkpoint).await?;
        }
        reporter.progress.done = checkpoint.done;
        reporter.progress.failed = checkpoint.failed;
        reporter.emit(false).await
    }
}

/// Pages whose messages were all skipped are complete at once; flushing records that.
fn pages_ready(pages: &VecDeque<(u64, PageState)>) -> bool {
    pages.front().is_some_and(|(_, s)| s.remaining == 0)
}

/// The storer's working state: what awaits storing, the pages in flight (in listing
/// order) and the checkpoint they move.
struct StoreRun {
    batch: Batch,
    pages: VecDeque<(u64, PageState)>,
    checkpoint: FullCheckpoint,
}

#[derive(Default)]
struct Batch {
    emails: Vec<(u64, IncomingEmail)>,
    gone: Vec<(u64, String)>,
    failed: Vec<(u64, String, String)>,
}

impl Batch {
    fn len(&self) -> usize {
        self.emails.len() + self.gone.len() + self.failed.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

async fn save(
    scope: &UserScope<'_>,
    account: Uuid,
    checkpoint: &FullCheckpoint,
) -> Result<(), SyncError> {
    scope
        .sync()
        .patch_sync_state(account, json!({ "full": checkpoint }), &[])
        .await
}

/// Enough spawned fetches to keep every concurrency slot busy, without holding a
/// whole page of tasks.
fn client_concurrency<A: GmailApi>(client: &QuotaClient<A>) -> usize {
    client.concurrency().saturating_mul(2)
}

/// Fetches one message. Transient failures that outlast the retries, and unreadable
/// answers, become ledger failures; errors that doom the whole sync (revoked access,
/// a quota that keeps refusing) end it.
async fn fetch<A: GmailApi>(
    client: Arc<QuotaClient<A>>,
    id: String,
    page: u64,
    tx: mpsc::Sender<Item>,
) -> Result<(), GmailError> {
    let item = match client.get_message_raw(&id).await {
        Ok(m)
            if m.label_ids
                .iter()
                .any(|l| HIDDEN_LABELS.contains(&l.as_str())) =>
        {
            Item::Gone { page, id }
        }
        Ok(m) => Item::Fetched {
            page,
            email: incoming(m),
        },
        Err(GmailError::NotFound) => Item::Gone { page, id },
        Err(e) if e.needs_reconnect() || matches!(e, GmailError::RateLimited { .. }) => {
            return Err(e);
        }
        Err(e) => Item::Failed {
            page,
            id,
            error: e.to_string(),
        },
    };
    // A closed channel means the storer failed; the sync is ending anyway.
    let _ = tx.send(item).await;
    Ok(())
}

fn joined(
    done: Option<Result<Result<(), GmailError>, tokio::task::JoinError>>,
) -> Result<(), SyncError> {
    match done {
        None | Some(Ok(Ok(()))) => Ok(()),
        Some(Ok(Err(e))) => Err(e.into()),
        Some(Err(e)) => Err(SyncError::Task(e.to_string())),
    }
}
