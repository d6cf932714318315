//! Reconciliation: Gmail's full id set (SPAM and TRASH excluded) against the ledger.
//! *Missing* ids are in Gmail without an imported, filtered or failed ledger row (they
//! were lost); *extra* ids are imported but no longer in Gmail and not marked deleted.
//! Both should be zero after a sync; the report is kept in `sync_state.reconcile` and
//! published as a `sync.reconcile` event.

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::progress::Reporter;
use super::state::Stage;
use super::{GmailSync, SyncError};
use crate::UserId;
use crate::db::scopes::SyncScope;
use crate::events::{Event, SyncReconcilePayload};
use crate::gmail::{GmailApi, ListQuery, QuotaClient};

/// How many ids of each kind a report lists (the counts are always complete).
const SAMPLE: i64 = 100;

/// Shared with the `sync.reconcile` event.
pub use api::events::ReconcileReport;

impl<A: GmailApi> GmailSync<A> {
    pub(super) async fn reconcile_with(
        &self,
        user: UserId,
        client: &Arc<QuotaClient<A>>,
        reporter: &mut Reporter,
    ) -> Result<ReconcileReport, SyncError> {
        reporter.stage(Stage::Reconciling).await?;
        let mut ids = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = client
                .list_messages(&ListQuery::default(), token.as_deref())
                .await?;
            ids.extend(page.messages.into_iter().map(|m| m.id));
            match page.next_page_token {
                Some(next) => token = Some(next),
                None => break,
            }
        }
        ids.sort_unstable();
        ids.dedup();
        let scope = self.db.for_user(user);
        let report = scope
            .sync()
            .compare_with_ledger(client.account(), &ids)
            .await?;
        scope
            .sync()
            .save_reconcile_report(client.account(), &report)
            .await?;
        Ok(report)
    }
}

impl SyncScope<'_> {
    /// Compares Gmail's ids with the account's ledger, in the database.
    pub(crate) async fn compare_with_ledger(
        self,
        account: Uuid,
        gmail_ids: &[String],
    ) -> Result<ReconcileReport, SyncError> {
        let counts = sqlx::query!(
            r#"select
                 count(*) filter (where l.outcome = 'imported') as "imported!",
                 count(*) filter (where l.outcome = 'filtered') as "filtered!",
                 count(*) filter (where l.outcome = 'failed') as "failed!",
                 count(*) filter (where l.outcome is null
                   or l.outcome not in ('imported', 'filtered', 'failed')) as "missing!"
               from unnest($3::text[]) as g(id)
               left join sync_ledger l
                 on l.user_id = $1 and l.account_id = $2 and l.external_id = g.id"#,
            self.user.0,
            account,
            gmail_ids,
        )
        .fetch_one(self.pool)
        .await?;
        let missing_ids = sqlx::query_scalar!(
            r#"select g.id as "id!"
               from unnest($3::text[]) as g(id)
               left join sync_ledger l
                 on l.user_id = $1 and l.account_id = $2 and l.external_id = g.id
               where l.outcome is null or l.outcome not in ('imported', 'filtered', 'failed')
               order by g.id limit $4"#,
            self.user.0,
            account,
            gmail_ids,
            SAMPLE,
        )
        .fetch_all(self.pool)
        .await?;
        let extra = sqlx::query!(
            // `not exists` over a materialized set plans as a hash anti join; a left
            // join against the bare unnest was planned as a nested loop (3 s at 10k ids).
            r#"with gmail as materialized (select id from unnest($3::text[]) as g(id))
               select count(*) over () as "total!", l.external_id
               from sync_ledger l
               where l.user_id = $1 and l.account_id = $2 and l.outcome = 'imported'
                 and not exists (select 1 from gmail where gmail.id = l.external_id)
               order by l.external_id limit $4"#,
            self.user.0,
            account,
            gmail_ids,
            SAMPLE,
        )
        .fetch_all(self.pool)
        .await?;
        let as_u64 = |n: i64| u64::try_from(n).unwrap_or_default();
        Ok(ReconcileReport {
            checked_at: Utc::now(),
            gmail_messages: gmail_ids.len() as u64,
            imported: as_u64(counts.imported),
            filtered: as_u64(counts.filtered),
            failed: as_u64(counts.failed),
            missing: as_u64(counts.missing),
            extra: extra.first().map_or(0, |r| as_u64(r.total)),
            missing_ids,
            extra_ids: extra.into_iter().map(|r| r.external_id).collect(),
        })
    }

    async fn save_reconcile_report(
        self,
        account: Uuid,
        report: &ReconcileReport,
    ) -> Result<(), SyncError> {
        let value = serde_json::to_value(report).map_err(|e| SyncError::Encode(e.to_string()))?;
        let event = Event::SyncReconcile(SyncReconcilePayload {
            account_id: account,
            report: report.clone(),
        });
        self.store_sync_state_and_publish(account, "reconcile", value, &event)
            .await
    }
}
