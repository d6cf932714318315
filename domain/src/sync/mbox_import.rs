//! Google Takeout import: an mbox file, read with the streaming reader on a blocking
//! thread, stored through the same ingest pipeline into an `mbox` account. Mail the
//! user already has from a Gmail sync (same Message-ID) is skipped and recorded in the
//! ledger as filtered by rule `duplicate-message-id`, so the report adds up. A message
//! past the reader's limits ([`MboxLimits`]) is skipped and recorded as filtered by rule
//! `message-too-large` or `line-too-long`; the import goes on with the next one.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, Utc};
use mail_parser::MessageParser;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::SyncError;
use crate::db::scopes::SyncScope;
use crate::events::{Event, ImportFinishedPayload};
use crate::ingest::{IncomingEmail, IngestFilter, StoreOutcome};
use crate::mail::mbox::{MboxItem, MboxLimits, MboxMessage, MboxReader, OversizeReason};

/// The ledger rule of messages skipped because a Gmail sync already stored them.
const DUPLICATE_RULE: &str = "duplicate-message-id";

/// Messages handed from the reader thread to the storer at a time.
const BATCH: usize = 200;

/// Shared with the `import.finished` event.
pub use api::events::MboxImportReport;

/// One mbox message, prepared off the async executor.
struct Prepared {
    email: IncomingEmail,
    message_id: Option<String>,
    /// Past the reader's limits: recorded as filtered, not stored.
    oversize: Option<OversizeReason>,
}

impl SyncScope<'_> {
    /// Imports `path` into this user's `mbox` account named `name` (created if new).
    /// Re-importing the same file changes nothing: ids come from Message-IDs.
    pub async fn import_mbox(
        self,
        path: &Path,
        name: &str,
        limits: MboxLimits,
    ) -> Result<MboxImportReport, SyncError> {
        let account = self.mbox_account(name).await?;
        let mut report = MboxImportReport {
            account,
            ..MboxImportReport::default()
        };
        let filter = IngestFilter {
            skip_labels: ["SPAM", "DRAFT", "TRASH"].map(str::to_owned).to_vec(),
            skip_duplicates: false,
        };
        let file = File::open(path)?;
        let (tx, mut rx) = mpsc::channel::<std::io::Result<Vec<Prepared>>>(2);
        let reader = tokio::task::spawn_blocking(move || read_batches(file, limits, tx));
        while let Some(batch) = rx.recv().await {
            let batch = batch?;
            report.read += batch.len() as u64;
            let (oversize, batch): (Vec<Prepared>, Vec<Prepared>) =
                batch.into_iter().partition(|p| p.oversize.is_some());
            let oversize: Vec<(String, String)> = oversize
                .into_iter()
                .filter_map(|p| Some((p.email.external_id, p.oversize?.rule().to_owned())))
                .collect();
            self.record_filtered(account, &oversize).await?;
            report.filtered += oversize.len() as u64;
            let ids: Vec<String> = batch.iter().filter_map(|p| p.message_id.clone()).collect();
            let synced = self.message_ids_from_gmail(&ids).await?;
            let (dupes, fresh): (Vec<Prepared>, Vec<Prepared>) = batch
                .into_iter()
                .partition(|p| p.message_id.as_ref().is_some_and(|id| synced.contains(id)));
            let skipped: Vec<(String, String)> = dupes
                .into_iter()
                .map(|p| (p.email.external_id, DUPLICATE_RULE.to_owned()))
                .collect();
            self.record_filtered(account, &skipped).await?;
            report.duplicates += skipped.len() as u64;
            let emails: Vec<IncomingEmail> = fresh.into_iter().map(|p| p.email).collect();
            for stored in self.mail().store_emails(account, &emails, &filter).await? {
                match stored.outcome {
                    StoreOutcome::Imported(_) => report.imported += 1,
                    StoreOutcome::Updated(_) => report.updated += 1,
                    StoreOutcome::Filtered { .. } => report.filtered += 1,
                    StoreOutcome::Failed { .. } => report.failed += 1,
                    StoreOutcome::Duplicate(_) => report.duplicates += 1,
                }
            }
        }
        reader.await.map_err(|e| SyncError::Task(e.to_string()))?;
        Ok(report)
    }

    /// Tells the user's open pages that an import finished, with its counts.
    pub(crate) async fn announce_mbox_import(
        self,
        name: &str,
        report: &MboxImportReport,
    ) -> Result<(), SyncError> {
        let mut tx = self.pool.begin().await?;
        let event = Event::ImportFinished(ImportFinishedPayload {
            name: name.to_owned(),
            report: report.clone(),
        });
        self.events().record(&mut tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mbox_account(self, name: &str) -> Result<Uuid, SyncError> {
        Ok(sqlx::query_scalar!(
            r#"insert into accounts (user_id, provider, external_id, display_name)
               values ($1, 'mbox', $2, $2)
               on conflict (user_id, provider, external_id)
                 do update set display_name = excluded.display_name
               returning id"#,
            self.user.0,
            name,
        )
        .fetch_one(self.pool)
        .await?)
    }

    /// Of `message_ids`, those this user already has from a Gmail account.
    async fn message_ids_from_gmail(
        self,
        message_ids: &[String],
    ) -> Result<HashSet<String>, SyncError> {
        let rows = sqlx::query_scalar!(
            r#"select distinct a.headers ->> 'message_id' as "message_id!"
               from activities a
               join accounts ac on ac.user_id = a.user_id and ac.id = a.account_id
               where a.user_id = $1 and ac.provider = 'google'
                 and (a.headers ->> 'message_id') = any($2)"#,
            self.user.0,
            message_ids,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}

/// Runs on a blocking thread: reads the file and sends prepared batches.
fn read_batches(file: File, limits: MboxLimits, tx: mpsc::Sender<std::io::Result<Vec<Prepared>>>) {
    let mut batch = Vec::with_capacity(BATCH);
    for item in MboxReader::with_limits(BufReader::new(file), limits) {
        match item {
            Ok(MboxItem::Message(m)) => batch.push(prepare(m)),
            Ok(MboxItem::Skipped {
                envelope,
                head,
                reason,
            }) => {
                let mut prepared = prepare(MboxMessage {
                    envelope,
                    raw: head,
                });
                prepared.oversize = Some(reason);
                batch.push(prepared);
            }
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        }
        if batch.len() == BATCH && tx.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Ok(batch));
    }
}

/// Reads the few headers the import needs: Message-ID (identity and dedup), Takeout's
/// `X-GM-THRID` (thread) and `X-Gmail-Labels` (label names, mapped to Gmail's system
/// label ids so the same filters apply).
fn prepare(message: MboxMessage) -> Prepared {
    let headers = MessageParser::new().parse_headers(&message.raw[..]);
    let header = |name: &str| {
        headers
            .as_ref()
            .and_then(|h| h.header_raw(name))
            .map(|v| v.trim().to_owned())
    };
    let message_id = headers
        .as_ref()
        .and_then(|h| h.message_id())
        .map(|id| {
            id.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
        .filter(|id| !id.is_empty());
    let labels = header("X-Gmail-Labels")
        .map(|v| v.split(',').filter_map(label_id).collect())
        .unwrap_or_default();
    let external_id = message_id.clone().unwrap_or_else(|| {
        let digest = Sha256::digest(&message.raw);
        format!(
            "sha256:{}",
            digest
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
    });
    Prepared {
        email: IncomingEmail {
            external_id,
            thread_id: header("X-GM-THRID"),
            labels,
            received_at: envelope_date(&message.envelope).unwrap_or_else(Utc::now),
            content: message.raw.into(),
        },
        message_id,
        oversize: None,
    }
}

fn label_id(name: &str) -> Option<String> {
    let name = name.trim();
    let system = match name.to_ascii_lowercase().as_str() {
        "" | "opened" => return None,
        "inbox" => "INBOX",
        "sent" => "SENT",
        "spam" => "SPAM",
        "trash" => "TRASH",
        "draft" | "drafts" => "DRAFT",
        "starred" => "STARRED",
        "important" => "IMPORTANT",
        "unread" => "UNREAD",
        _ => return Some(name.to_owned()),
    };
    Some(system.to_owned())
}

/// The date in an envelope line such as `1234@xxx Thu Jan 02 03:04:05 +0000 2025`
/// (Takeout) or `sender@host Thu Jan  2 03:04:05 2025` (asctime, taken as UTC).
fn envelope_date(envelope: &str) -> Option<DateTime<Utc>> {
    let rest = envelope.split_once(char::is_whitespace)?.1;
    let words: Vec<&str> = rest.split_whitespace().collect();
    let with_zone = words.join(" ");
    DateTime::parse_from_str(&with_zone, "%a %b %d %H:%M:%S %z %Y")
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(&with_zone, "%a %b %d %H:%M:%S %Y")
                .ok()
                .map(|d| d.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takeout_headers_become_ids_threads_and_labels() {
        let prepared = prepare(MboxMessage {
            envelope: "1789@xxx Thu Jan 02 03:04:05 +0000 2025".into(),
            raw: b"X-GM-THRID: 1789\r\nX-Gmail-Labels: Inbox,Opened,Category Updates,Spam\r\nMessage-ID: <a@b.c>\r\nSubject: x\r\n\r\nbody\r\n".to_vec(),
        });
        assert_eq!(prepared.message_id.as_deref(), Some("a@b.c"));
        assert_eq!(prepared.email.external_id, "a@b.c");
        assert_eq!(prepared.email.thread_id.as_deref(), Some("1789"));
        assert_eq!(prepared.email.labels, ["INBOX", "Category Updates", "SPAM"]);
        assert_eq!(
            prepared.email.received_at.to_rfc3339(),
            "2025-01-02T03:04:05+00:00"
        );
    }

    #[test]
    fn messages_without_an_id_are_named_by_content() {
        let prepared = prepare(MboxMessage {
            envelope: "someone@example.com Thu Jan  2 03:04:05 2025".into(),
            raw: b"Subject: x\r\n\r\nbody\r\n".to_vec(),
        });
        assert!(prepared.message_id.is_none());
        assert!(prepared.email.external_id.starts_with("sha256:"));
        assert_eq!(
            prepared.email.received_at.to_rfc3339(),
            "2025-01-02T03:04:05+00:00"
        );
    }
}
