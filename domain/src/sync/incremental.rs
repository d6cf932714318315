//! Incremental sync from the history cursor. Each history page is folded into one net
//! change per message (order matters: a label removed and added again is present),
//! applied, and only then is the cursor moved past it.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::json;
use tokio::task::JoinSet;

use super::full::incoming;
use super::progress::Reporter;
use super::state::Stage;
use super::{GmailSync, HIDDEN_LABELS, SyncError, SyncReport};
use crate::UserId;
use crate::gmail::{GmailApi, GmailError, HistoryId, HistoryRecord, QuotaClient, RawMessage};
use crate::ingest::{IncomingEmail, LabelChange};

/// The net effect of a history page on one message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// New, or back from spam/trash: fetch it (its labels come with it).
    Fetch,
    /// Deleted, or moved to spam/trash.
    Delete,
    Labels {
        added: Vec<String>,
        removed: Vec<String>,
    },
}

impl Change {
    fn add_label(&mut self, label: &str) {
        if let Self::Labels { added, removed } = self {
            removed.retain(|l| l != label);
            if !added.iter().any(|l| l == label) {
                added.push(label.to_owned());
            }
        }
    }

    fn remove_label(&mut self, label: &str) {
        if let Self::Labels { added, removed } = self {
            added.retain(|l| l != label);
            if !removed.iter().any(|l| l == label) {
                removed.push(label.to_owned());
            }
        }
    }
}

fn hidden(label: &str) -> bool {
    HIDDEN_LABELS.contains(&label)
}

/// Folds records, in order, into one change per message (first-seen order kept).
fn plan(records: &[HistoryRecord]) -> Vec<(String, Change)> {
    let mut order: Vec<String> = Vec::new();
    let mut changes: HashMap<String, Change> = HashMap::new();
    let mut apply = |id: &str, f: &dyn Fn(&mut Change)| {
        let change = changes.entry(id.to_owned()).or_insert_with(|| {
            order.push(id.to_owned());
            Change::Labels {
                added: Vec::new(),
                removed: Vec::new(),
            }
        });
        f(change);
    };
    for record in records {
        for added in &record.messages_added {
            apply(&added.message.id, &|c| *c = Change::Fetch);
        }
        for delta in &record.labels_added {
            apply(&delta.message.id, &|c| {
                if delta.label_ids.iter().any(|l| hidden(l)) {
                    *c = Change::Delete;
                } else {
                    delta.label_ids.iter().for_each(|l| c.add_label(l));
                }
            });
        }
        for delta in &record.labels_removed {
            apply(&delta.message.id, &|c| {
                if delta.label_ids.iter().any(|l| hidden(l)) {
                    *c = Change::Fetch;
                } else {
                    delta.label_ids.iter().for_each(|l| c.remove_label(l));
                }
            });
        }
        for deleted in &record.messages_deleted {
            apply(&deleted.id, &|c| *c = Change::Delete);
        }
    }
    order
        .into_iter()
        .filter_map(|id| changes.remove(&id).map(|c| (id, c)))
        .collect()
}

impl<A: GmailApi> GmailSync<A> {
    /// Applies history after `cursor` and returns the new cursor.
    pub(super) async fn incremental(
        &self,
        user: UserId,
        client: &Arc<QuotaClient<A>>,
        mut cursor: HistoryId,
        reporter: &mut Reporter,
        report: &mut SyncReport,
    ) -> Result<HistoryId, SyncError> {
        let scope = self.db.for_user(user);
        let account = client.account();
        reporter.stage(Stage::Incremental).await?;
        reporter.restart_rate();
        let start = cursor;
        let mut token: Option<String> = None;
        loop {
            let page = client.list_history(start, token.as_deref()).await?;
            let changes = plan(&page.records);
            let mut fetch = Vec::new();
            let mut delete = Vec::new();
            let mut labels = Vec::new();
            for (id, change) in changes {
                match change {
                    Change::Fetch => fetch.push(id),
                    Change::Delete => delete.push(id),
                    Change::Labels { added, removed }
                        if !(added.is_empty() && removed.is_empty()) =>
                    {
                        labels.push(LabelChange {
                            external_id: id,
                            added,
                            removed,
                        });
                    }
                    Change::Labels { .. } => {}
                }
            }

            let fetched = fetch_all(client, fetch).await?;
            let mut emails: Vec<IncomingEmail> = Vec::new();
            let mut failures = Vec::new();
            for (id, result) in fetched {
                match result {
                    Ok(m) if m.label_ids.iter().any(|l| hidden(l)) => delete.push(m.id),
                    Ok(m) => emails.push(incoming(m)),
                    Err(GmailError::NotFound) => delete.push(id),
                    Err(e) => failures.push((id, e.to_string())),
                }
            }
            for chunk in emails.chunks(self.options.batch_size.max(1)) {
                scope
                    .mail()
                    .store_emails(account, chunk, &self.options.filter)
                    .await?;
            }
            report.stored += emails.len() as u64;
            scope
                .sync()
                .record_fetch_failures(account, &failures)
                .await?;
            report.failed += failures.len() as u64;
            report.label_changes += scope.mail().apply_label_changes(account, &labels).await?;
            report.deleted += scope.mail().mark_emails_deleted(account, &delete).await?;

            // Everything the page covers is committed: the cursor may move past it.
            let last_record = page.records.iter().map(|r| r.id).max();
            cursor = match (&page.next_page_token, last_record) {
                (Some(_), Some(last)) => cursor.max(last),
                (Some(_), None) => cursor,
                (None, last) => cursor.max(page.history_id).max(last.unwrap_or(cursor)),
            };
            scope
                .sync()
                .patch_sync_state(account, json!({ "history_id": cursor }), &[])
                .await?;
            reporter.progress.done += (emails.len() + failures.len()) as u64;
            reporter.emit(false).await?;
            match page.next_page_token {
                Some(next) => token = Some(next),
                None => return Ok(cursor),
            }
        }
    }
}

type Fetched = (String, Result<RawMessage, GmailError>);

/// Fetches messages concurrently (the client bounds the calls in flight). Errors that
/// end the sync are returned; per-message errors come back with the message's id.
async fn fetch_all<A: GmailApi>(
    client: &Arc<QuotaClient<A>>,
    ids: Vec<String>,
) -> Result<Vec<Fetched>, SyncError> {
    let mut tasks: JoinSet<Fetched> = JoinSet::new();
    for id in ids {
        let client = Arc::clone(client);
        tasks.spawn(async move {
            let result = client.get_message_raw(&id).await;
            (id, result)
        });
    }
    let mut out = Vec::with_capacity(tasks.len());
    while let Some(done) = tasks.join_next().await {
        let (id, result) = done.map_err(|e| SyncError::Task(e.to_string()))?;
        match result {
            Err(e) if e.needs_reconnect() || matches!(e, GmailError::RateLimited { .. }) => {
                return Err(e.into());
            }
            other => out.push((id, other)),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gmail::{LabelDelta, MessageRef};

    fn delta(id: &str, labels: &[&str]) -> LabelDelta {
        LabelDelta {
            message: MessageRef {
                id: id.to_owned(),
                thread_id: None,
            },
            label_ids: labels.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    fn record(n: u64) -> HistoryRecord {
        HistoryRecord {
            id: HistoryId(n),
            ..HistoryRecord::default()
        }
    }

    #[test]
    fn label_changes_fold_in_order() {
        let mut a = record(1);
        a.labels_removed.push(delta("m", &["STARRED"]));
        let mut b = record(2);
        b.labels_added.push(delta("m", &["STARRED", "IMPORTANT"]));
        let mut c = record(3);
        c.labels_removed.push(delta("m", &["IMPORTANT", "UNREAD"]));
        assert_eq!(
            plan(&[a, b, c]),
            [(
                "m".to_owned(),
                Change::Labels {
                    added: vec!["STARRED".into()],
                    removed: vec!["IMPORTANT".into(), "UNREAD".into()],
                }
            )]
        );
    }

    #[test]
    fn adds_deletes_and_trash_become_fetches_and_deletions() {
        let mut a = record(1);
        a.messages_added.push(delta("new", &["INBOX"]));
        a.messages_added.push(delta("short-lived", &["INBOX"]));
        a.labels_added.push(delta("trashed", &["TRASH"]));
        a.labels_added.push(delta("restored", &["TRASH"]));
        let mut b = record(2);
        b.messages_deleted.push(MessageRef {
            id: "short-lived".into(),
            thread_id: None,
        });
        b.labels_removed.push(delta("restored", &["TRASH"]));
        b.labels_added.push(delta("new", &["STARRED"]));
        let planned: HashMap<String, Change> = plan(&[a, b]).into_iter().collect();
        assert_eq!(planned["new"], Change::Fetch);
        assert_eq!(planned["short-lived"], Change::Delete);
        assert_eq!(planned["trashed"], Change::Delete);
        assert_eq!(planned["restored"], Change::Fetch);
    }
}
