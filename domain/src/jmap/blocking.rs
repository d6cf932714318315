//! The blocklist as the JMAP poll uses it: default name patterns seeded once per user,
//! and blocked messages recorded (ledger `filtered` with the rule) and counted.

use uuid::Uuid;

use super::DEFAULT_BLOCKED_NAMES;
use crate::DomainError;
use crate::db::scopes::ChannelsScope;

impl ChannelsScope<'_> {
    /// Adds [`DEFAULT_BLOCKED_NAMES`] to the user's blocklist the first time; a pattern
    /// the user deleted later is not added again.
    pub async fn seed_default_blocklist(self) -> Result<(), DomainError> {
        let mut tx = self.pool.begin().await?;
        let first = sqlx::query!(
            r#"update users set blocklist_seeded_at = now()
               where id = $1 and blocklist_seeded_at is null"#,
            self.user.0,
        )
        .execute(&mut *tx)
        .await?;
        if first.rows_affected() == 1 {
            let names: Vec<String> = DEFAULT_BLOCKED_NAMES
                .iter()
                .map(|n| (*n).to_owned())
                .collect();
            sqlx::query!(
                r#"insert into blocklist (user_id, kind, value)
                   select $1, 'name', n from unnest($2::text[]) as n
                   on conflict (user_id, kind, value) do nothing"#,
                self.user.0,
                &names,
            )
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Records blocked messages of `account` (`(external id, entry, rule)`): a
    /// `filtered` ledger row each, and one hit on the entry for every message not
    /// recorded as filtered before (a message fetched again is not counted twice).
    pub async fn record_blocked_mail(
        self,
        account: Uuid,
        blocked: &[(String, Uuid, String)],
    ) -> Result<(), DomainError> {
        if blocked.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = blocked.iter().map(|b| b.0.clone()).collect();
        let entries: Vec<Uuid> = blocked.iter().map(|b| b.1).collect();
        let rules: Vec<String> = blocked.iter().map(|b| b.2.clone()).collect();
        sqlx::query!(
            r#"with counted as (
                 update blocklist b set hits = b.hits + n.hits
                 from (select t.entry, count(*) as hits
                       from unnest($3::text[], $4::uuid[]) as t(external_id, entry)
                       where not exists (select 1 from sync_ledger l
                                         where l.account_id = $2 and l.external_id = t.external_id
                                           and l.outcome = 'filtered')
                       group by t.entry) n
                 where b.user_id = $1 and b.id = n.entry
                 returning b.id)
               insert into sync_ledger (user_id, account_id, external_id, outcome, rule)
               select $1, $2, t.external_id, 'filtered', t.rule
               from unnest($3::text[], $5::text[]) as t(external_id, rule)
               on conflict (account_id, external_id) do update
                 set outcome = excluded.outcome, rule = excluded.rule"#,
            self.user.0,
            account,
            &ids,
            &entries,
            &rules,
        )
        .execute(self.pool)
        .await?;
        Ok(())
    }
}
