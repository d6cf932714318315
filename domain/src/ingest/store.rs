//! The writes. A batch costs a handful of statements whatever its size: activities go
//! in through `jsonb_to_recordset` with their participants (`unnest`) and search
//! documents in the same statement, ledger rows through `unnest`, all in one
//! transaction so a batch is stored entirely or not at all.

use std::collections::HashMap;

use api::{Direction, LedgerOutcome};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::{Prepared, prepare};
use super::{IncomingEmail, IngestError, IngestFilter, LabelChange, StoreOutcome, StoredEmail};
use crate::EmailAddress;
use crate::db::scopes::MailScope;

/// Messages per statement: large enough to amortize round trips, small enough to keep
/// each statement's parameters and memory modest.
const CHUNK: usize = 500;

/// A stored email as the ingest layer sees it (for reconciliation and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailActivity {
    pub id: Uuid,
    pub external_id: String,
    pub direction: Option<Direction>,
    pub occurred_at: DateTime<Utc>,
    pub subject: Option<String>,
    pub labels: Vec<String>,
    pub deleted_at: Option<DateTime<Utc>>,
    pub parse_problems: Vec<String>,
    pub participants: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    pub external_id: String,
    pub outcome: LedgerOutcome,
    pub rule: Option<String>,
    pub error: Option<String>,
    pub activity_id: Option<Uuid>,
    pub attempts: i32,
}

impl MailScope<'_> {
    /// Stores one message; see [`MailScope::store_emails`](crate::db::scopes::MailScope).
    pub async fn store_email(
        self,
        account: Uuid,
        email: &IncomingEmail,
        filter: &IngestFilter,
    ) -> Result<StoredEmail, IngestError> {
        let mut stored = self
            .store_emails(account, std::slice::from_ref(email), filter)
            .await?;
        Ok(stored.remove(0))
    }

    /// Parses and stores messages of one of this user's accounts, in one transaction.
    /// Storing a message again never duplicates it: the existing activity gets the new
    /// labels and is un-deleted (the provider shows it again). Every message gets a
    /// ledger row: imported, filtered (with the rule) or failed (with the error).
    /// Results come back in input order; a repeated id within the batch counts once.
    pub async fn store_emails(
        self,
        account: Uuid,
        emails: &[IncomingEmail],
        filter: &IngestFilter,
    ) -> Result<Vec<StoredEmail>, IngestError> {
        let owner = self.owner_addresses(account).await?;
        let mut tx = self.pool.begin().await?;
        // This transaction writes its new activities' search documents itself, in the
        // statement that inserts them (migration 20261212000000).
        sqlx::query!("select set_config('rapport.search_docs_by_writer', 'on', true)")
            .fetch_one(&mut *tx)
            .await?;
        let mut outcomes: HashMap<String, StoreOutcome> = HashMap::with_capacity(emails.len());
        for chunk in emails.chunks(CHUNK) {
            let mut latest: HashMap<&str, &IncomingEmail> = HashMap::with_capacity(chunk.len());
            for email in chunk {
                latest.insert(&email.external_id, email);
            }
            let unique: Vec<&IncomingEmail> = chunk
                .iter()
                .filter(|e| std::ptr::eq(latest[e.external_id.as_str()], *e))
                .collect();
            let mut activities = Vec::new();
            let mut participants = Vec::new();
            for email in unique {
                match prepare(email, filter, &owner) {
                    Prepared::Store(row, people) => {
                        activities.push(*row);
                        participants.extend(people);
                    }
                    Prepared::Filtered { external_id, rule } => {
                        outcomes.insert(external_id, StoreOutcome::Filtered { rule });
                    }
                    Prepared::Failed { external_id, error } => {
                        outcomes.insert(external_id, StoreOutcome::Failed { error });
                    }
                }
            }

            if filter.skip_duplicates {
                let duplicates = self.held_elsewhere(&mut tx, account, &activities).await?;
                activities.retain(|row| match duplicates.get(&row.external_id) {
                    Some(existing) => {
                        outcomes
                            .insert(row.external_id.clone(), StoreOutcome::Duplicate(*existing));
                        false
                    }
                    None => true,
                });
            }

            // Participants are written with a new activity only: a message's headers
            // never change, so an update has nothing to add. The search documents of the
            // new activities are built here, from what this statement wrote, instead of
            // by the triggers in two steps (see the transaction's setting above).
            let written = sqlx::query!(
                r#"with written as (
                     insert into activities (user_id, account_id, external_id, channel, direction,
                       occurred_at, thread_key, subject, snippet, body_text, body_html, labels,
                       headers, attachments, content_sha256, size_bytes, parse_problems)
                     select $1, $2, r.external_id, 'email', r.direction, r.occurred_at,
                            r.thread_key, r.subject, r.snippet, r.body_text, r.body_html,
                            r.labels, r.headers, r.attachments, decode(r.content_sha256, 'hex'),
                            r.size_bytes, r.parse_problems
                     from jsonb_to_recordset($3::jsonb) as r(
                       external_id text, direction text, occurred_at timestamptz,
                       thread_key text, subject text, snippet text, body_text text,
                       body_html text, labels text[], headers jsonb, attachments jsonb,
                       content_sha256 text, size_bytes bigint, parse_problems text[])
                     on conflict (account_id, external_id) do update
                       set labels = excluded.labels, deleted_at = null
                     returning id, external_id, (xmax = 0) as inserted, channel, subject,
                               snippet, body_text, attachments, occurred_at
                   ),
                   people as (
                     insert into activity_participants
                       (user_id, activity_id, role, address_kind, address, display_name, occurred_at)
                     select $1, w.id, p.role, 'email', p.address, p.display_name, p.occurred_at
                     from unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
                         with ordinality as p(external_id, role, address, display_name, occurred_at, n)
                       join written w on w.external_id = p.external_id and w.inserted
                     order by p.n
                     on conflict do nothing
                     returning activity_id, role, display_name, address
                   ),
                   documents as (
                     insert into activity_search (activity_id, user_id, occurred_at, doc)
                     select w.id, $1, w.occurred_at,
                            search_content_doc(w.channel, w.subject,
                                               coalesce(w.body_text, w.snippet), w.attachments)
                              || coalesce(d.doc, '')
                     from written w
                       left join (
                         select activity_id,
                                search_people_doc(array_agg(role), array_agg(display_name),
                                                  array_agg(address)) as doc
                         from people group by activity_id
                       ) d on d.activity_id = w.id
                     where w.inserted
                   )
                   select id, external_id, inserted as "inserted!" from written"#,
                self.user.0,
                account,
                serde_json::to_value(&activities)?,
                &participants
                    .iter()
                    .map(|p| p.external_id.clone())
                    .collect::<Vec<_>>(),
                &participants
                    .iter()
                    .map(|p| p.role.to_owned())
                    .collect::<Vec<_>>(),
                &participants
                    .iter()
                    .map(|p| p.address.clone())
                    .collect::<Vec<_>>(),
                &participants
                    .iter()
                    .map(|p| p.display_name.clone())
                    .collect::<Vec<_>>() as &[Option<String>],
                &participants.iter().map(|p| p.occurred_at).collect::<Vec<_>>(),
            )
            .fetch_all(&mut *tx)
            .await?;

            for row in &written {
                let outcome = if row.inserted {
                    StoreOutcome::Imported(row.id)
                } else {
                    StoreOutcome::Updated(row.id)
                };
                outcomes.insert(row.external_id.clone(), outcome);
            }

            let ledger: Vec<(&String, &StoreOutcome)> = chunk
                .iter()
                .filter_map(|e| outcomes.get_key_value(&e.external_id))
                .collect::<HashMap<_, _>>()
                .into_iter()
                .collect();
            write_ledger(&mut tx, self.user.0, account, &ledger).await?;
        }
        tx.commit().await?;
        Ok(emails
            .iter()
            .map(|e| StoredEmail {
                external_id: e.external_id.clone(),
                outcome: outcomes[&e.external_id].clone(),
            })
            .collect())
    }

    /// Of `rows`, those whose Message-ID the user already has through another account:
    /// external id -> that activity.
    async fn held_elsewhere(
        self,
        tx: &mut sqlx::PgConnection,
        account: Uuid,
        rows: &[super::rows::ActivityRow],
    ) -> Result<HashMap<String, Uuid>, IngestError> {
        let ids: Vec<String> = rows.iter().filter_map(|r| r.message_id.clone()).collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let held: HashMap<String, Uuid> = sqlx::query!(
            r#"select distinct on (headers ->> 'message_id')
                      headers ->> 'message_id' as "message_id!", id
               from activities
               where user_id = $1 and account_id <> $2 and headers ->> 'message_id' = any($3)
               order by headers ->> 'message_id', occurred_at, id"#,
            self.user.0,
            account,
            &ids,
        )
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|r| (r.message_id, r.id))
        .collect();
        Ok(rows
            .iter()
            .filter_map(|r| {
                let existing = held.get(r.message_id.as_deref()?)?;
                Some((r.external_id.clone(), *existing))
            })
            .collect())
    }

    /// Marks messages deleted at the provider. The activity stays (notes and history
    /// may point at it) with `deleted_at` set; the ledger says `deleted`. Returns how
    /// many activities were newly marked.
    pub async fn mark_emails_deleted(
        self,
        account: Uuid,
        external_ids: &[String],
    ) -> Result<u64, IngestError> {
        let mut tx = self.pool.begin().await?;
        let marked = sqlx::query!(
            r#"update activities set deleted_at = now()
               where user_id = $1 and account_id = $2 and external_id = any($3)
                 and deleted_at is null"#,
            self.user.0,
            account,
            external_ids,
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query!(
            r#"update sync_ledger set outcome = 'deleted'
               where user_id = $1 and account_id = $2 and external_id = any($3)
                 and outcome = 'imported'"#,
            self.user.0,
            account,
            external_ids,
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(marked.rows_affected())
    }

    /// Applies label additions and removals (Gmail history) in one statement. Returns
    /// how many activities changed.
    pub async fn apply_label_changes(
        self,
        account: Uuid,
        changes: &[LabelChange],
    ) -> Result<u64, IngestError> {
        let done = sqlx::query!(
            r#"update activities a set labels = (
                 select coalesce(array_agg(l order by l), '{}')
                 from (select unnest(a.labels || c.added) except select unnest(c.removed)) s(l))
               from jsonb_to_recordset($3::jsonb) as c(external_id text, added text[], removed text[])
               where a.user_id = $1 and a.account_id = $2 and a.external_id = c.external_id"#,
            self.user.0,
            account,
            serde_json::to_value(changes)?,
        )
        .execute(self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// One stored email by provider id.
    pub async fn email_activity(
        self,
        account: Uuid,
        external_id: &str,
    ) -> Result<Option<EmailActivity>, IngestError> {
        Ok(sqlx::query_as!(
            EmailActivity,
            r#"select a.id, a.external_id, a.direction as "direction: Direction", a.occurred_at,
                      a.subject, a.labels,
                      a.deleted_at, a.parse_problems,
                      (select count(*) from activity_participants p
                        where p.activity_id = a.id) as "participants!"
               from activities a
               where a.user_id = $1 and a.account_id = $2 and a.external_id = $3
                 and a.channel = 'email'"#,
            self.user.0,
            account,
            external_id,
        )
        .fetch_optional(self.pool)
        .await?)
    }

    /// The ledger of one account, for reconciliation reports.
    pub async fn sync_ledger(self, account: Uuid) -> Result<Vec<LedgerEntry>, IngestError> {
        Ok(sqlx::query_as!(
            LedgerEntry,
            r#"select external_id, outcome as "outcome: LedgerOutcome", rule, error, activity_id,
                      attempts
               from sync_ledger where user_id = $1 and account_id = $2
               order by external_id"#,
            self.user.0,
            account,
        )
        .fetch_all(self.pool)
        .await?)
    }

    /// The owner's addresses for this account: the user's email, the account's own
    /// address, and any send-as aliases recorded in `sync_state.aliases`.
    async fn owner_addresses(self, account: Uuid) -> Result<Vec<EmailAddress>, IngestError> {
        let row = sqlx::query!(
            r#"select u.email, a.external_id,
                      coalesce(array(select jsonb_array_elements_text(
                        case when jsonb_typeof(a.sync_state -> 'aliases') = 'array'
                             then a.sync_state -> 'aliases' else '[]'::jsonb end)), '{}')
                        as "aliases!"
               from accounts a join users u on u.id = a.user_id
               where a.user_id = $1 and a.id = $2"#,
            self.user.0,
            account,
        )
        .fetch_optional(self.pool)
        .await?
        .ok_or(IngestError::AccountNotFound)?;
        let mut owner: Vec<EmailAddress> = [row.email, row.external_id]
            .into_iter()
            .chain(row.aliases)
            .filter_map(|a| EmailAddress::parse(&a).ok())
            .collect();
        owner.sort();
        owner.dedup();
        Ok(owner)
    }
}

async fn write_ledger(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    user: Uuid,
    account: Uuid,
    entries: &[(&String, &StoreOutcome)],
) -> Result<(), IngestError> {
    let mut external_ids = Vec::with_capacity(entries.len());
    let mut kinds = Vec::with_capacity(entries.len());
    let mut rules: Vec<Option<String>> = Vec::with_capacity(entries.len());
    let mut errors: Vec<Option<String>> = Vec::with_capacity(entries.len());
    let mut activities: Vec<Option<Uuid>> = Vec::with_capacity(entries.len());
    for (external_id, outcome) in entries {
        external_ids.push((*external_id).clone());
        let (kind, rule, error, activity) = match outcome {
            StoreOutcome::Imported(id) | StoreOutcome::Updated(id) => {
                (LedgerOutcome::Imported, None, None, Some(*id))
            }
            StoreOutcome::Filtered { rule } => {
                (LedgerOutcome::Filtered, Some(rule.clone()), None, None)
            }
            StoreOutcome::Failed { error } => {
                (LedgerOutcome::Failed, None, Some(error.clone()), None)
            }
            StoreOutcome::Duplicate(existing) => {
                (LedgerOutcome::Duplicate, None, None, Some(*existing))
            }
        };
        kinds.push(kind.as_str().to_owned());
        rules.push(rule);
        errors.push(error);
        activities.push(activity);
    }
    sqlx::query!(
        r#"insert into sync_ledger (user_id, account_id, external_id, outcome, rule, error,
                                    activity_id, attempts)
           select $1, $2, l.external_id, l.outcome, l.rule, l.error, l.activity_id,
                  (l.outcome = 'failed')::int
           from unnest($3::text[], $4::text[], $5::text[], $6::text[], $7::uuid[])
             as l(external_id, outcome, rule, error, activity_id)
           on conflict (account_id, external_id) do update
             set outcome = excluded.outcome, rule = excluded.rule, error = excluded.error,
                 activity_id = coalesce(excluded.activity_id, sync_ledger.activity_id),
                 attempts = sync_ledger.attempts + excluded.attempts"#,
        user,
        account,
        &external_ids,
        &kinds,
        &rules as &[Option<String>],
        &errors as &[Option<String>],
        &activities as &[Option<Uuid>],
    )
    .execute(&mut **tx)
    .await?;
    Ok(())
}
