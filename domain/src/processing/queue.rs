//! Work stealing over `activities`. Each operation is one statement; lease checks live in
//! the `where` clauses, so a worker that lost its lease finds out on its next write and
//! nothing completes twice.
//!
//! Claims take the activities that have been due longest (`next_attempt_at`, then id):
//! new mail is due from its insert, a retry from the end of its backoff, so work is
//! served in the order it became possible, retries never starve fresh mail of a busy
//! user, and the `activities_claimable` index answers the query. Processing results do
//! not depend on the order (see the module docs), so nothing needs newest-first.

use std::time::Duration;

use api::ActivityState;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use super::state_events::StateChanges;
use super::{CHANNEL, ProcessingError};
use crate::jobs::lease::LEASE_EXPIRED;
use crate::jobs::lease::{claimed_row, config_in_field};
use crate::jobs::{Backoff, LeaseConfig, LeasedRows, LeasedTable, WorkerId};
use crate::{Db, UserId};

/// Claims after which a failing activity is given up as `dead` (its error is kept).
pub const MAX_ATTEMPTS: i32 = 6;

/// Handle to the processing columns of `activities`. Activities of every user are
/// claimed here (a worker serves everyone); the work on each goes through its user's
/// [`crate::UserScope`].
#[derive(Debug, Clone)]
pub struct ActivityQueue {
    config: LeaseConfig,
}

/// An activity held under this worker's lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedActivity {
    pub id: Uuid,
    pub user: UserId,
    pub account_id: Uuid,
    /// Claims so far, this one included.
    pub attempts: i32,
    /// When it became due: batches of one user are applied in the order of their
    /// first due activity (see [`earlier_claims_pending`]).
    pub due: DateTime<Utc>,
}

claimed_row!(ClaimedActivity, id: Uuid);

/// Waits between failed attempts: 30 s doubling to 6 h.
const BACKOFF: Backoff = Backoff::new(Duration::from_secs(30), Duration::from_secs(6 * 60 * 60));

impl Db {
    pub fn activity_queue(&self) -> ActivityQueue {
        let config = LeaseConfig::new(self.pool(), CHANNEL, BACKOFF, MAX_ATTEMPTS);
        ActivityQueue { config }
    }
}

impl ActivityQueue {
    /// Records the outcome of processing (`processed`: contacts matched and created,
    /// fields extracted) on `conn`, which should be the transaction that wrote those
    /// effects: if the lease was lost the caller rolls everything back.
    pub async fn mark_completed(
        conn: &mut PgConnection,
        id: Uuid,
        worker: &WorkerId,
        processed: &serde_json::Value,
    ) -> Result<(), ProcessingError> {
        let done = sqlx::query!(
            r#"update activities
               set state = 'completed', processed = $3, processed_at = now(), last_error = null,
                   claimed_by = null, lease_expires_at = null
               where id = $1 and state = 'processing' and claimed_by = $2"#,
            id,
            worker.as_str(),
            processed,
        )
        .execute(conn)
        .await?;
        if done.rows_affected() == 0 {
            return Err(ProcessingError::LeaseLost(id));
        }
        Ok(())
    }
}

impl ActivityQueue {
    /// [`Self::mark_completed`] for a batch (`processed`: each activity's outcome).
    /// Returns the activities completed: those whose lease `worker` still held.
    ///
    /// The rows are found by `id = any(...)` and each outcome looked up by id in one
    /// JSON object, not by joining the activities to an `unnest` of the outcomes: the
    /// planner estimated one row of the worker's live claims (the statistics are taken
    /// when few activities are being processed) and rescanned the 2,000 outcomes for
    /// each of 2,000 claimed rows, a second for a statement that takes 170 ms.
    pub async fn mark_batch_completed(
        conn: &mut PgConnection,
        worker: &WorkerId,
        processed: &[(Uuid, serde_json::Value)],
    ) -> Result<Vec<Uuid>, ProcessingError> {
        let ids: Vec<Uuid> = processed.iter().map(|(id, _)| *id).collect();
        let outcomes: serde_json::Map<String, serde_json::Value> = processed
            .iter()
            .map(|(id, value)| (id.to_string(), value.clone()))
            .collect();
        Ok(sqlx::query_scalar!(
            r#"update activities
               set state = 'completed', processed = $3::jsonb -> id::text, processed_at = now(),
                   last_error = null, claimed_by = null, lease_expires_at = null
               where id = any($2) and state = 'processing' and claimed_by = $1
               returning id"#,
            worker.as_str(),
            &ids,
            serde_json::Value::Object(outcomes),
        )
        .fetch_all(conn)
        .await?)
    }

    /// Queues completed activities again, due now (see
    /// [`crate::processing::apply::Applied::requeue`]).
    pub(crate) async fn requeue(
        conn: &mut PgConnection,
        ids: &[Uuid],
    ) -> Result<(), ProcessingError> {
        if ids.is_empty() {
            return Ok(());
        }
        sqlx::query!(
            r#"update activities
               set state = 'raw', attempts = 0, next_attempt_at = now(), last_error = null
               where id = any($1) and state = 'completed'"#,
            ids,
        )
        .execute(&mut *conn)
        .await?;
        notify_claimable(&mut *conn).await
    }
}

/// Workers that may hold claims of one user's activities at once: one applying its
/// batch, the next with its batch claimed, waiting to apply right after (see
/// [`lock_user_for_applying`]). The second overlaps its claim (writing every claimed
/// row) with the first's batch: 2,000 claims take about 150 ms of the 1.1 s a batch
/// takes, and a user's mail is otherwise applied one batch after another.
pub(crate) const HOLDERS_PER_USER: i64 = 2;

/// Takes `user` for `worker` for the rest of the transaction on `conn`, unless more than
/// `others` other workers hold live claims of the user's activities or another worker is
/// taking the user right now (then `false`, without waiting).
pub(crate) async fn hold_user(
    conn: &mut PgConnection,
    worker: &WorkerId,
    user: UserId,
    others: i64,
) -> Result<bool, ProcessingError> {
    Ok(sqlx::query_scalar!(
        r#"select pg_try_advisory_xact_lock(hashtextextended('processing:' || $2::uuid::text, 0))
                  and (select count(distinct p.claimed_by) from activities p
                       where p.state = 'processing' and p.user_id = $2::uuid
                         and p.claimed_by <> $1 and p.lease_expires_at > now()) <= $3
             as "free!""#,
        worker.as_str(),
        user.0,
        others,
    )
    .fetch_one(conn)
    .await?)
}

/// Waits, for the rest of the transaction on `conn`, until no other transaction applies
/// a batch of `user`'s (or refreshes their stats): batches of one user are applied one
/// after another, each seeing everything the previous one wrote, exactly as one worker
/// would apply them; writers never interleave, so they never wait on each other's row
/// locks or deadlock. Taken first in the transaction, before any row is written.
pub(crate) async fn lock_user_for_applying(
    conn: &mut PgConnection,
    user: UserId,
) -> Result<(), ProcessingError> {
    sqlx::query!(
        "select pg_advisory_xact_lock(hashtextextended('applying:' || $1::uuid::text, 0))",
        user.0,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Whether another worker holds live claims of `user`'s activities that became due
/// before `first` (due time, id): a batch claimed earlier, which must be applied first.
pub(crate) async fn earlier_claims_pending(
    conn: &mut PgConnection,
    user: UserId,
    worker: &WorkerId,
    first: (DateTime<Utc>, Uuid),
) -> Result<bool, ProcessingError> {
    Ok(sqlx::query_scalar!(
        r#"select exists (select 1 from activities
                          where state = 'processing' and lease_expires_at > now()
                            and user_id = $1 and claimed_by <> $2
                            and (next_attempt_at, id) < ($3, $4)) as "pending!""#,
        user.0,
        worker.as_str(),
        first.0,
        first.1,
    )
    .fetch_one(conn)
    .await?)
}

impl LeasedTable for ActivityQueue {
    type Item = ClaimedActivity;
    type Error = ProcessingError;
    const ROWS: LeasedRows = LeasedRows::claimed_by(
        "activities",
        "id",
        "processing",
        "state in ('raw', 'failed')",
    );
    config_in_field!();

    const NAME: &'static str = "activity";

    /// Claims up to `batch` due activities (raw, or failed and past their backoff) for
    /// `worker` until now + `lease`, all of one user: the user of the activity due
    /// longest among the users no other worker holds live claims of, or else among those
    /// one other worker holds (its next batch, applied after the holder's, see
    /// [`HOLDERS_PER_USER`]). Everything processing writes (contacts, companies,
    /// identities, stats) belongs to one user, so workers share the load by taking
    /// different users first, and the batches of one user are applied one at a time.
    /// Claims of one user are serialized by a transaction advisory lock on the user,
    /// taken without waiting: a worker that finds it taken claims nothing this time.
    /// Each claim counts as an attempt, so an activity that crashes its worker every
    /// time still ends up dead.
    async fn claim(
        &self,
        worker: &WorkerId,
        batch: i64,
        lease: Duration,
    ) -> Result<Vec<ClaimedActivity>, ProcessingError> {
        let mut tx = self.config.pool.begin().await?;
        // The users with due activities are listed by skipping through the per-user
        // index (`activity_waiting_users`, one probe each), those another worker holds
        // are set aside, and of the rest the one whose due activity is oldest is taken.
        // Walking the due activities themselves instead read all of a held user's
        // (20 ms at 20,000) every time an idle worker looked, ten times a second.
        let Some(user) = sqlx::query_scalar!(
            r#"with holders as (
                 select user_id, count(distinct claimed_by) as n from activities
                 where state = 'processing' and claimed_by <> $1 and lease_expires_at > now()
                 group by user_id)
               select d.user_id as "user_id!" from activity_waiting_users d
               cross join lateral (
                 select a.next_attempt_at, a.id from activities a
                 where a.user_id = d.user_id and a.state in ('raw', 'failed')
                   and a.next_attempt_at <= now()
                 order by a.next_attempt_at, a.id limit 1) oldest
               left join holders h on h.user_id = d.user_id
               where coalesce(h.n, 0) < $2
               order by coalesce(h.n, 0), oldest.next_attempt_at, oldest.id
               limit 1"#,
            worker.as_str(),
            HOLDERS_PER_USER,
        )
        .fetch_optional(&mut *tx)
        .await?
        else {
            return Ok(Vec::new());
        };
        // Another worker claiming this user's mail right now: it takes this round.
        if !hold_user(&mut tx, worker, UserId(user), HOLDERS_PER_USER - 1).await? {
            return Ok(Vec::new());
        }
        let rows = sqlx::query!(
            r#"update activities a
               set state = 'processing', claimed_by = $1, attempts = a.attempts + 1,
                   lease_expires_at = now() + make_interval(secs => $2)
               from (select id from activities
                     where user_id = $4 and state in ('raw', 'failed') and next_attempt_at <= now()
                     order by next_attempt_at, id
                     limit $3
                     for update skip locked) due
               where a.id = due.id
               returning a.id, a.user_id, a.account_id, a.attempts, a.next_attempt_at"#,
            worker.as_str(),
            lease.as_secs_f64(),
            batch,
            user,
        )
        .fetch_all(&mut *tx)
        .await?;
        let mut processing = StateChanges::default();
        for row in &rows {
            processing.add(UserId(row.user_id), row.id);
        }
        processing
            .publish(&mut tx, ActivityState::Processing)
            .await?;
        tx.commit().await?;
        let mut claimed: Vec<ClaimedActivity> = rows
            .into_iter()
            .map(|r| ClaimedActivity {
                id: r.id,
                user: UserId(r.user_id),
                account_id: r.account_id,
                attempts: r.attempts,
                due: r.next_attempt_at,
            })
            .collect();
        claimed.sort_by_key(|c| c.id);
        Ok(claimed)
    }

    /// Failed and due now, or dead when out of attempts; announced as state events.
    async fn release_expired(&self) -> Result<u64, ProcessingError> {
        let mut tx = self.config.pool.begin().await?;
        let released = sqlx::query!(
            r#"update activities
               set state = case when attempts >= $1 then 'dead' else 'failed' end,
                   last_error = $2,
                   claimed_by = null, lease_expires_at = null, next_attempt_at = now()
               where state = 'processing' and lease_expires_at < now()
               returning id, user_id, attempts >= $1 as "dead!""#,
            self.config.max_attempts,
            LEASE_EXPIRED,
        )
        .fetch_all(&mut *tx)
        .await?;
        if released.is_empty() {
            return Ok(0);
        }
        let (mut failed, mut dead) = (StateChanges::default(), StateChanges::default());
        for row in &released {
            let changes = if row.dead { &mut dead } else { &mut failed };
            changes.add(UserId(row.user_id), row.id);
        }
        failed.publish(&mut tx, ActivityState::Failed).await?;
        dead.publish(&mut tx, ActivityState::Dead).await?;
        notify_claimable(&mut *tx).await?;
        tx.commit().await?;
        Ok(released.len() as u64)
    }

    /// When an activity of a user a claim could take becomes due: users
    /// [`HOLDERS_PER_USER`] workers hold are left out, so the workers beyond those sleep
    /// until new mail or a re-queue wakes them (or `idle_wait`) instead of looking ten
    /// times a second while the holders work through the user's mail (with four
    /// processors on one user's import, the two spare ones' looks took 7 ms of Postgres
    /// time each, 210 of them in a 12 s run). The users with due activities are listed
    /// as the claim lists them, each user's earliest by its index: the minimum over
    /// every waiting activity read a held user's import at each look (31 ms at 20,000,
    /// 2.4 s of a 12 s run with four processors).
    async fn next_due(&self) -> Result<Option<DateTime<Utc>>, ProcessingError> {
        Ok(sqlx::query_scalar!(
            r#"with full_users as (
                 select user_id from activities
                 where state = 'processing' and lease_expires_at > now()
                 group by user_id having count(distinct claimed_by) >= $1)
               select min(oldest.next_attempt_at) from activity_waiting_users d
               cross join lateral (
                 select a.next_attempt_at from activities a
                 where a.user_id = d.user_id and a.state in ('raw', 'failed')
                 order by a.next_attempt_at, a.id limit 1) oldest
               where d.user_id not in (select user_id from full_users)"#,
            HOLDERS_PER_USER,
        )
        .fetch_one(&self.config.pool)
        .await?)
    }

    fn lease_lost(id: Uuid) -> ProcessingError {
        ProcessingError::LeaseLost(id)
    }
}

/// Wakes idle processors, and the live views of `users`, after a commit, for a
/// transaction that stored activities with `rapport.wake_later` set (webhooks): its
/// triggers recorded the events but sent no NOTIFY. A NOTIFY in a transaction holds
/// Postgres's database-wide notify lock until its commit is flushed, which serialized
/// every webhook group's flush; this one is a statement of its own whose commit is not
/// waited for (it writes nothing worth a flush), so the lock is held for microseconds. A
/// notification lost in a crash costs nothing: processors also look every `idle_wait`,
/// and live views catch up from the events table on their next notification.
pub(crate) async fn wake_after_commit(
    pool: &sqlx::PgPool,
    users: &[uuid::Uuid],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        r#"select set_config('synchronous_commit', 'off', true) as "synchronous_commit",
                  pg_notify('rapport_activities', '') as "processors",
                  count(pg_notify($2, u::text)::text) as "live_views"
           from unnest($1::uuid[]) u"#,
        users,
        crate::events::EVENTS_CHANNEL,
    )
    .fetch_one(pool)
    .await?;
    Ok(())
}

/// Wakes idle processors (the insert trigger covers new mail; this covers activities
/// put back in line).
pub(crate) async fn notify_claimable(
    conn: impl sqlx::PgExecutor<'_>,
) -> Result<(), ProcessingError> {
    sqlx::query!("select pg_notify('rapport_activities', '')")
        .execute(conn)
        .await?;
    Ok(())
}
