//! Ledger queries the sync needs beyond storing: which listed ids this run already
//! stored (resume), recording fetch failures, and finding what Gmail no longer has.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::SyncError;
use crate::db::scopes::SyncScope;

impl SyncScope<'_> {
    /// Of `ids`, those stored (imported or filtered) since `since`: a resumed full sync
    /// skips them. Older rows are fetched again, which refreshes their labels after a
    /// history gap.
    pub(crate) async fn stored_since(
        self,
        account: Uuid,
        ids: &[String],
        since: DateTime<Utc>,
    ) -> Result<HashSet<String>, SyncError> {
        let rows = sqlx::query_scalar!(
            r#"select external_id from sync_ledger
               where user_id = $1 and account_id = $2 and external_id = any($3)
                 and outcome in ('imported', 'filtered') and updated_at >= $4"#,
            self.user.0,
            account,
            ids,
            since,
        )
        .fetch_all(self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// Records items that could not be fetched (after retries) so none is lost
    /// silently. An already imported message keeps its outcome; the error is noted.
    pub(crate) async fn record_fetch_failures(
        self,
        account: Uuid,
        failures: &[(String, String)],
    ) -> Result<(), SyncError> {
        if failures.is_empty() {
            return Ok(());
        }
        let (ids, errors): (Vec<String>, Vec<String>) = failures.iter().cloned().unzip();
        sqlx::query!(
            r#"insert into sync_ledger (user_id, account_id, external_id, outcome, error, attempts)
               select $1, $2, f.id, 'failed', f.error, 1
               from unnest($3::text[], $4::text[]) as f(id, error)
               on conflict (account_id, external_id) do update
                 set outcome = case when sync_ledger.outcome = 'imported' then 'imported'
                                    else 'failed' end,
                     error = excluded.error,
                     attempts = sync_ledger.attempts + 1"#,
            self.user.0,
            account,
            &ids,
            &errors,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Records items deliberately not imported, with the rule that skipped them.
    pub(crate) async fn record_filtered(
        self,
        account: Uuid,
        skipped: &[(String, String)],
    ) -> Result<(), SyncError> {
        if skipped.is_empty() {
            return Ok(());
        }
        let (ids, rules): (Vec<String>, Vec<String>) = skipped.iter().cloned().unzip();
        sqlx::query!(
            r#"insert into sync_ledger (user_id, account_id, external_id, outcome, rule)
               select $1, $2, s.id, 'filtered', s.rule
               from unnest($3::text[], $4::text[]) as s(id, rule)
               on conflict (account_id, external_id) do update
                 set outcome = 'filtered', rule = excluded.rule, error = null"#,
            self.user.0,
            account,
            &ids,
            &rules,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// Imported messages not touched since `since`. After a complete full sync, which
    /// touches every message Gmail listed, these are the ones Gmail no longer has.
    pub(crate) async fn imported_untouched_since(
        self,
        account: Uuid,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, SyncError> {
        Ok(sqlx::query_scalar!(
            r#"select external_id from sync_ledger
               where user_id = $1 and account_id = $2 and outcome = 'imported'
                 and updated_at < $3"#,
            self.user.0,
            account,
            since,
        )
        .fetch_all(self.pool)
        .await?)
    }
}
